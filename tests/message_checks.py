"""One offline message check for the message-family tests (rounds, families, model).

``check`` runs :func:`scanners.message.check_message` with the bundled link scanner;
``forms`` gives a Vietnamese text with and without its diacritics (an English text as
it is), because scam texts arrive both ways.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scanners.message import check_message
from scanners.registry import fold_vietnamese
from scanners.url_offline import default_scanner

FLAGGED = {"suspicious", "dangerous"}


def check(text: str, lang: str = "vi", use_model: bool = True) -> dict[str, Any]:
    """The report of one offline message check."""
    return asyncio.run(check_message(text, default_scanner(), lang=lang, use_model=use_model))


def forms(text: str, lang: str) -> list[str]:
    """The text, and for Vietnamese also its unaccented form."""
    return [text, fold_vietnamese(text)] if lang == "vi" else [text]


def assert_fires(text: str, lang: str, scam_type: str | None, *,
                 dangerous: bool = False) -> None:
    """Every form of ``text`` is flagged by the rules alone (no model), as ``scam_type``
    when one is given, and ``dangerous`` when asked."""
    for form in forms(text, lang):
        r = check(form, lang, use_model=False)
        assert r["verdict"] in FLAGGED, (form, r["findings"])
        if scam_type is not None:
            assert r["scam_type"] == scam_type, (form, r["findings"])
        if dangerous:
            assert r["verdict"] == "dangerous", (form, r["risk_score"], r["findings"])


def assert_quiet(text: str, lang: str, *, untyped: bool = False) -> None:
    """No form of ``text`` is flagged (model included); with ``untyped``, none is given a
    scam type either."""
    for form in forms(text, lang):
        r = check(form, lang)
        assert r["verdict"] not in FLAGGED, (form, r["findings"])
        if untyped:
            assert r["scam_type"] is None, (form, r["findings"])
