"""The console's Jinja2 environment: autoescaping, the catalogue's ``t()`` and the
filters the templates use (defanging, file sizes, times in UTC).

Every value a template prints goes through :func:`visible_bidi` first: a
right-to-left override in an app label, a page title or a message
(``Vietcombank\u202ekpa.exe`` reads "Vietcombankexe.apk") is shown as
``[U+202E]`` instead of reordering the text around it.

Times are rendered as ``<time datetime="...Z">`` with a UTC text
(:func:`utc_text`, labelled "UTC" by the template); ``console.js`` rewrites them in
the reader's time zone, named, in the page's language.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates

from api.console import i18n, views

TEMPLATES_DIR = Path(__file__).parent / "templates"
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
"""Embeddings, overrides and isolates: invisible, and they reorder what follows."""


def visible_bidi(value: Any) -> Any:
    """``value`` with each bidi control shown as ``[U+202E]`` (strings and markup;
    anything else as it is). Jinja calls it on every printed expression."""
    if isinstance(value, str):
        # str.replace keeps the type: markup stays markup (the marks hold no HTML).
        for ch in set(_BIDI.findall(value)):
            value = value.replace(ch, f"[U+{ord(ch):04X}]")
    return value


def environment() -> jinja2.Environment:
    """The environment every console page is rendered with."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Everything from a report is attacker-controlled: escape by default, and
        # never mark report data |safe in a template.
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible_bidi,
    )
    env.filters["defang"] = views.defang
    env.filters["filesize"] = _filesize
    env.filters["utc_iso"] = utc_iso
    env.filters["utc_text"] = utc_text
    env.globals["t"] = _t
    env.globals["catalogue_keys"] = frozenset(i18n.CATALOGUE)
    return env


@jinja2.pass_context
def _t(ctx: jinja2.runtime.Context, key: str, **params: Any) -> str:
    """``{{ t('key', name=value) }}``: the catalogue's text in the page's language."""
    return i18n.text(key, i18n.lang_of(ctx.get("lang")), **params)


def as_utc(value: Any) -> datetime | None:
    """A datetime (naive ones are UTC), an ISO 8601 string or Unix seconds, in UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_iso(value: Any) -> str:
    """``2026-12-05T20:10:00Z`` for a ``<time datetime>``; "" when not a time."""
    moment = as_utc(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def utc_text(value: Any) -> str:
    """The server-side text of a time, before the page's script shows it in the
    reader's zone: ``2026-12-05 20:10`` (labelled UTC by the template)."""
    moment = as_utc(value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def filesize(n: Any, lang: i18n.Lang = "en") -> str:
    """``170 bytes`` / ``170 byte``, ``12.5 KB``, ``3.0 MB``: a size for people."""
    try:
        size = float(n)
    except (TypeError, ValueError):
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            if unit == "bytes":
                return i18n.text("apk.bytes", lang, n=int(size))
            return f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


@jinja2.pass_context
def _filesize(ctx: jinja2.runtime.Context, n: Any) -> str:
    return filesize(n, i18n.lang_of(ctx.get("lang")))


templates = Jinja2Templates(env=environment())
"""The console's templates (:func:`api.console.routes.render` renders them)."""
