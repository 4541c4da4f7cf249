"""Store failures: one exception tree (api.storage.errors), one 503 handler (api.problems).

Each store's failure must keep the answer it had before the stores were moved
out of HTTP: a 503 problem+json with the store's own type, title, detail and
Retry-After, never the internal reason (a Redis address, a file path).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from api.problems import EXCEPTION_HANDLERS, PROBLEM_JSON
from api.settings import Settings
from api.storage import errors
from tests.asgi import running

pytestmark = pytest.mark.anyio

SECRET = "redis://10.1.2.3:6379 and /srv/data/keys.sqlite3"

EXPECTED = [
    (errors.KeyStoreUnavailable, "tag:scamscan,2025:problems/auth-unavailable",
     "Authentication unavailable", "API keys cannot be checked right now", "5"),
    (errors.SessionStoreUnavailable, "tag:scamscan,2025:problems/auth-unavailable",
     "Sessions unavailable", "Console sessions cannot be checked right now", "5"),
    (errors.ListStoreUnavailable, "tag:scamscan,2025:problems/lists-unavailable",
     "Lists unavailable", "The list store is unavailable right now", "5"),
    (errors.HistoryUnavailable, "tag:scamscan,2025:problems/busy",
     "History unavailable", "The scan history is unavailable right now", "10"),
    (errors.QueueUnavailable, "tag:scamscan,2025:problems/busy",
     "Scan queue unavailable", "The APK scan queue is unavailable right now", "10"),
    (errors.FeedbackStoreUnavailable, "tag:scamscan,2025:problems/busy",
     "Feedback unavailable", "The feedback store is unavailable right now", "10"),
    (errors.ShareStoreUnavailable, "tag:scamscan,2025:problems/busy",
     "Share links unavailable", "The share link store is unavailable right now", "10"),
    (errors.WebhookStoreUnavailable, "tag:scamscan,2025:problems/busy",
     "Webhooks unavailable", "The webhook store is unavailable right now", "10"),
    (errors.StorageUnavailable, "tag:scamscan,2025:problems/busy",
     "Storage unavailable", "A store this service needs is unavailable", "10"),
]


def _failing_app(exc: errors.StorageUnavailable) -> FastAPI:
    app = FastAPI(exception_handlers=EXCEPTION_HANDLERS)

    async def fail() -> None:
        raise exc

    app.add_api_route("/fail", fail, methods=["GET"])
    return app


@pytest.mark.parametrize(("cls", "type_", "title", "detail", "retry"), EXPECTED,
                         ids=[e[0].__name__ for e in EXPECTED])
async def test_each_store_failure_is_its_503_problem(
        cls: type[errors.StorageUnavailable], type_: str, title: str, detail: str,
        retry: str) -> None:
    transport = httpx.ASGITransport(app=_failing_app(cls(SECRET)))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
        r = await c.get("/fail")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.headers["retry-after"] == retry
    body = r.json()
    assert (body["type"], body["title"], body["status"]) == (type_, title, 503)
    assert body["detail"].startswith(detail)
    assert body["instance"] == "/fail"
    assert "10.1.2.3" not in r.text and "/srv/data" not in r.text


def test_every_store_error_has_its_answer() -> None:
    """A new subclass must get its own row (else it answers as the root)."""
    subclasses = {c for c in vars(errors).values()
                  if isinstance(c, type) and issubclass(c, errors.StorageUnavailable)}
    assert subclasses == {e[0] for e in EXPECTED}


async def test_a_broken_list_store_answers_503_through_the_app(tmp_path: Path) -> None:
    """The whole chain: a SQLite list store that cannot be opened (its file is a
    directory) raises ListStoreUnavailable in the route, answered by the handler."""
    data = tmp_path / "data"
    (data / "lists.sqlite3").mkdir(parents=True)
    settings = Settings(data_dir=data, host="127.0.0.1", redis_url=None, require_keys=False,
                        rate_limit_keyless="1000/minute", feeds="")
    async with running(create_app(settings)) as c:
        r = await c.post("/v1/lists/entries", json={"kind": "domain", "value": "vneid-capnhat.top"})
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        body = r.json()
        assert body["type"] == "tag:scamscan,2025:problems/lists-unavailable"
        assert "lists.sqlite3" not in r.text
        # The rest of the service still answers (the bundled lists are in use).
        assert (await c.post("/v1/url-scans", json={"url": "example.vn"})).status_code == 200
