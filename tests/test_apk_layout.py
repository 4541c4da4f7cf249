"""The APK pipeline's shape: one job per module, the child side apart from the parent side.

Read from the source (``ast``), so that a function-level import counts as much as
a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCANNERS = Path(__file__).resolve().parent.parent / "scanners"
APK_MODULES = [*sorted(p.stem for p in SCANNERS.glob("apk*.py")), "_apk_worker"]
CHILD_SIDE = ("_apk_worker", "apk_parse", "apk_manifest", "apk_resources", "apk_certs",
              "apk_files", "apk_dex")
PARENT_SIDE = frozenset({"apk_facts", "apk_supervisor", "apk_zipcheck"})
MAX_LINES = 900


def _tree(module: str) -> ast.Module:
    return ast.parse((SCANNERS / f"{module}.py").read_text(encoding="utf-8"))


def _imports(module: str) -> set[str]:
    """The ``scanners.*`` modules that ``module`` imports, anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "scanners":
                found.update(a.name for a in node.names)
            elif node.module.startswith("scanners."):
                found.add(node.module.removeprefix("scanners."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("scanners.") for a in node.names
                         if a.name.startswith("scanners."))
    return {m for m in found if (SCANNERS / f"{m}.py").is_file()}


def _closure(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        for dep in _imports(todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_the_layout_lists_real_modules() -> None:
    assert {"apk_facts", "apk_supervisor", "apk_fact_types", "apk_parse"} <= set(APK_MODULES)
    assert all((SCANNERS / f"{m}.py").is_file() for m in CHILD_SIDE)
    assert _imports("apk_facts") >= {"apk_supervisor", "apk_zipcheck", "apk_fact_types"}


@pytest.mark.parametrize("module", APK_MODULES)
def test_no_apk_module_imports_itself_back(module: str) -> None:
    assert module not in _closure(module)


@pytest.mark.parametrize("module", CHILD_SIDE)
def test_the_child_side_never_imports_the_parent_side(module: str) -> None:
    """The fork server preloads the child side: the supervisor's state stays out of it."""
    assert not (_closure(module) & PARENT_SIDE)


@pytest.mark.parametrize("module", [*APK_MODULES, "message", "message_view", "message_links"])
def test_modules_stay_small(module: str) -> None:
    lines = (SCANNERS / f"{module}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES


@pytest.mark.parametrize("module", APK_MODULES)
def test_no_global_statements(module: str) -> None:
    """State lives on objects (the supervisor), not in rebound module globals."""
    assert not [n for n in ast.walk(_tree(module)) if isinstance(n, ast.Global)]
