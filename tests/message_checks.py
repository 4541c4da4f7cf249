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
