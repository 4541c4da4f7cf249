"""The console's words in Vietnamese and English: one catalogue for the templates, the
route messages and the browser scripts.

The catalogue is ``messages.json`` next to this module: ``{key: {"vi": ..., "en": ...}}``,
keys grouped by page (``nav.``, ``sign_in.``, ``report.``...), values
:meth:`str.format` templates with named fields (``"{n} scans"``). Keys starting with
``js.`` are also handed to the page's scripts (:func:`script_catalogue`, a JSON
attribute of the page: the CSP forbids inline scripts).

Why a JSON dict rather than gettext ``.po``/``.mo`` files (Babel): there are two
languages and both are written here side by side, so a translator sees the pair;
the scripts need the same strings as JSON anyway; and it needs no compile step in
the build or the Docker image. Strings of other console features are merged by
adding keys to ``messages.json``; :func:`check` (run at import and by the tests)
refuses a key without both languages or whose two sides name different fields.

The language is chosen as for the reports (:func:`api.console.routes.page_lang`):
``?lang=``, then the ``scamscan_lang`` cookie, then ``SCAMSCAN_DEFAULT_LANG``
(Vietnamese unless set).
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
CATALOGUE_FILE = Path(__file__).parent / "messages.json"
SCRIPT_PREFIX = "js."
SCRIPT_KEYS = (SCRIPT_PREFIX, "job.error.")
"""Keys handed to the scripts: their own strings, and the job failure reasons."""


class CatalogueError(ValueError):
    """A catalogue entry without both languages, or whose two sides differ in fields."""


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def check(catalogue: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The catalogue, checked: every key has a non-empty ``vi`` and ``en`` string and
    nothing else, and both name the same format fields."""
    out: dict[str, dict[str, str]] = {}
    for key, entry in catalogue.items():
        if not isinstance(entry, Mapping) or set(entry) != set(LANGS):
            raise CatalogueError(f"{key}: needs exactly the languages {LANGS}")
        vi, en = entry["vi"], entry["en"]
        if not (isinstance(vi, str) and isinstance(en, str) and vi.strip() and en.strip()):
            raise CatalogueError(f"{key}: both languages need a non-empty text")
        if _fields(vi) != _fields(en):
            raise CatalogueError(f"{key}: vi names {sorted(_fields(vi))}, "
                                 f"en names {sorted(_fields(en))}")
        out[str(key)] = {"vi": vi, "en": en}
    return out


def load(path: Path = CATALOGUE_FILE) -> dict[str, dict[str, str]]:
    """Read and :func:`check` a catalogue file."""
    return check(json.loads(path.read_text("utf-8")))


CATALOGUE: dict[str, dict[str, str]] = load()


def lang_of(raw: object) -> Lang:
    """``raw`` if it is a language of the console, else Vietnamese."""
    return "en" if raw == "en" else "vi"


def text(key: str, lang: Lang, /, **params: Any) -> str:
    """The text of ``key`` in ``lang``, with ``params`` filled in. An unknown key is a
    programming error (KeyError), caught by the tests rather than shown as a key."""
    template = CATALOGUE[key][lang]
    return template.format(**params) if params else template


def has(key: str) -> bool:
    """Whether the catalogue has ``key`` (for codes from data: job errors, checks)."""
    return key in CATALOGUE


def script_catalogue(lang: Lang) -> dict[str, str]:
    """The scripts' strings in ``lang`` (``js.`` keys without the prefix, and the job
    failure reasons), for the page's scripts."""
    return {k.removeprefix(SCRIPT_PREFIX): v[lang] for k, v in CATALOGUE.items()
            if k.startswith(SCRIPT_KEYS)}


def job_failure(error_kind: str | None, reason: str | None, lang: Lang) -> str:
    """Why an APK scan failed, for the reader: the catalogue's text of its
    ``error_kind`` in Vietnamese; in English the scanner's own reason (more precise,
    and already English) when there is one."""
    if lang == "en" and reason:
        return reason
    key = f"job.error.{error_kind}"
    return text(key if key in CATALOGUE else "job.error.other", lang)


def error_title(status: int, lang: Lang) -> str:
    """The title of a console error page for an HTTP status."""
    key = f"error.title.{status}"
    return text(key if key in CATALOGUE else "error.title.other", lang)


def problem_text(status: int, detail: str, lang: Lang, *, title: str | None = None,
                 retry_after: str | None = None) -> str:
    """What a console page says of an error the API raised (its ``detail`` is English,
    written for API callers): in English the detail itself; in Vietnamese the
    catalogue's text for the status (and the CSRF and role refusals among 403s)."""
    if lang == "en" and detail:
        return detail
    key = f"error.detail.{status}"
    if status == 403 and title == "CSRF check failed":
        key = "error.detail.403_csrf"
    elif status == 403 and title == "Forbidden":
        key = "error.detail.403_role"
    if key not in CATALOGUE:
        key = "error.detail.other"
    if status == 429:
        return text(key, lang, retry=retry_after or "60")
    return text(key, lang)


def english_only() -> set[str]:
    """English texts that differ from their Vietnamese side (a page in ``vi`` must
    show none of them)."""
    return {v["en"] for v in CATALOGUE.values() if v["en"] != v["vi"]}
