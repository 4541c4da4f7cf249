"""How the app takes in the console: its static files, its pages and the public share page.

:func:`include_console` is the one thing :mod:`api.main` imports from the console
package (the API never imports the console; ``tests/test_structure.py``).
"""

from __future__ import annotations

from fastapi import FastAPI

from api.console.feedback import feedback_console_router
from api.console.public import public_router
from api.console.routes import console_router, console_static


def include_console(app: FastAPI) -> None:
    """Mount the console's static files and include its routers, in the order they
    must match: the static files and the feedback pages before the console's router
    (whose last route is a catch-all page), then the public page of share links
    (``/s/<token>``, :mod:`api.console.public`)."""
    app.mount("/console/static", console_static(), name="console-static")
    app.include_router(feedback_console_router())
    app.include_router(console_router())
    app.include_router(public_router())
