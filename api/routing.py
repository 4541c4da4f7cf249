""":class:`Router`: FastAPI's ``APIRouter``, passed over at once by a request whose path
none of its routes can match.

FastAPI (0.165) keeps each included router as one entry of the app's routes and, for
every request, asks them in turn whether one of their routes matches, each route
through its own checks (regular expression, scope bookkeeping): a request for a route
of the last routers (``/healthz``, ``/v1/rules``, the docs) went through every route
of the app first, a few microseconds each, more than a third of ``GET /healthz``'s
time in the app (docs/evaluation.md, "Service load"). A :class:`Router` first tries
one regular expression made of all its routes' paths; when it cannot match, no route
can, and the router answers "no match" as FastAPI would have. Otherwise FastAPI's own
matching runs, unchanged: which route answers, and how, does not change.

The expression is a superset of the routes' own: each route's path expression with
its groups unnamed and without its leading ``^`` (a router included under a prefix
still passes its paths through), searched in the path the routes match
(``get_route_path``). A router holding anything without a path expression (a nested
router, a ``Host``) is never passed over. Every router of :mod:`api.routes` and of the
console is one.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def paths_expression(routes: list[Any]) -> re.Pattern[str] | None:
    """One expression found in every path one of ``routes`` matches (see the module
    doc), or None when some route has no path expression (or there is no route)."""
    parts = []
    for route in routes:
        regex = getattr(route, "path_regex", None)
        if not isinstance(regex, re.Pattern):
            return None
        parts.append(_NAMED_GROUP.sub("(?:", regex.pattern.removeprefix("^")))
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


class Router(APIRouter):
    """An ``APIRouter`` that answers "no match" at once for a path none of its routes
    can match (see the module doc)."""

    _paths: tuple[int, re.Pattern[str] | None] | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            paths = self._paths
            if paths is None or paths[0] != len(self.routes):  # routes added since
                paths = self._paths = (len(self.routes), paths_expression(self.routes))
            if paths[1] is not None and paths[1].search(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)
