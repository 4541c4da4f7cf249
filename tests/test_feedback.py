"""Feedback (issue 16, item 4): ``POST /v1/feedback``, the analysts' queue and its resolution.

The real app through httpx's ASGI transport with its lifespan entered, in both
modes: embedded (SQLite files in tmp_path) and Redis (a real ``redis-server``).
The stores are also driven directly (folding, bounds, pruning). No mocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.problems import PROBLEM_JSON
from api.settings import Settings
from api.storage.feedback import (
    Feedback,
    FeedbackStore,
    RedisFeedbackStore,
    SqliteFeedbackStore,
    TooManyPending,
)
from tests.asgi import api_in_mode
from tests.live_servers_age import RedisServer

pytestmark = pytest.mark.anyio

FEEDBACK = "/v1/feedback"
BENIGN = "example.com/news"
SHA = "AB:" + "cd" * 31  # an app SHA-256 as some tools print it (colons, upper case)
MODES = [pytest.param("sqlite", id="sqlite"),
         pytest.param("redis", id="redis", marks=pytest.mark.redis)]


api = api_in_mode
"""The app (embedded or on the run's redis-server) with keys of each role and a second
client key; headers by name."""


async def _scan(c: httpx.AsyncClient, head: dict[str, str], url: str = BENIGN
                ) -> dict[str, Any]:
    r = await c.post("/v1/url-scans", json={"url": url, "offline": True}, headers=head)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize("mode", MODES)
async def test_targets_are_detected_and_normalised(tmp_path: Path, mode: str,
                                                   request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (_, c, h):
        scan = await _scan(c, h["client"])
        cases = [
            ("hxxps://Dichvucong-GOV[.]top/kich-hoat", "url",
             "https://dichvucong-gov.top/kich-hoat"),
            (SHA, "apk_sha256", "ab" + "cd" * 31),
            ("0912 345 678", "phone", "+84912345678"),
            ("+84 912-345-679", "phone", "+84912345679"),
            (scan["scan_id"].upper(), "scan", scan["scan_id"]),
            ("203.113.1.9", "url", "http://203.113.1.9/"),  # a raw address, not a number
        ]
        for target, kind, value in cases:
            r = await c.post(FEEDBACK, json={"kind": "scam", "target": target,
                                             "note": "gọi giả danh công an"},
                             headers=h["client"])
            assert r.status_code == 202, r.text
            body = r.json()
            assert (body["target_type"], body["target"]) == (kind, value), target
            assert body["status"] == "pending" and body["count"] == 1 and not body["folded"]
            assert r.headers["location"] == body["status_url"] == f"{FEEDBACK}/{body['id']}"
            got = await c.get(body["status_url"], headers=h["client"])
            assert got.status_code == 200
            assert got.json()["note"] == "gọi giả danh công an"
        # A scan id as the target links the scan: analysts see its verdict.
        queue = (await c.get(FEEDBACK, headers=h["analyst"])).json()
        linked = [i for i in queue["items"] if i["target_type"] == "scan"]
        assert linked[0]["scan"] == {"scan_id": scan["scan_id"], "kind": "url",
                                     "verdict": scan["verdict"],
                                     "risk_score": scan["risk_score"]}


@pytest.mark.parametrize("mode", MODES)
async def test_bad_feedback_is_a_422_problem(tmp_path: Path, mode: str,
                                             request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request, feedback_max_note_chars=50) as (_, c, h):
        theirs = await _scan(c, h["client2"])
        bad: list[dict[str, Any]] = [
            {"kind": "maybe", "target": BENIGN},
            {"kind": "scam", "target": ""},
            {"kind": "scam", "target": "   "},
            {"kind": "scam", "target": "not a link at all"},
            {"kind": "scam", "target": "hello"},  # no registrable domain
            {"kind": "scam", "target": "12345678"},  # digits, not a Vietnamese number
            {"kind": "scam", "target": "0" * 32},  # a scan id that does not exist
            {"kind": "scam", "target": theirs["scan_id"]},  # another client's scan
            {"kind": "scam", "target": BENIGN, "scan_id": "f" * 32},
            {"kind": "scam", "target": BENIGN, "note": "x" * 51},
            {"kind": "scam", "target": BENIGN, "extra": 1},
            {"kind": "scam", "target": "x" * 2049},
            {"kind": "scam"},
        ]
        for body in bad:
            _problem(await c.post(FEEDBACK, json=body, headers=h["client"]), 422)
        _problem(await c.post(FEEDBACK, content=b"{", headers={
            **h["client"], "content-type": "application/json"}), 400)
        _problem(await c.post(FEEDBACK, content=b"kind=scam", headers={
            **h["client"], "content-type": "application/x-www-form-urlencoded"}), 415)
        # Nothing was stored by any of them.
        assert (await c.get(FEEDBACK, headers=h["analyst"])).json()["total"] == 0


@pytest.mark.parametrize("mode", MODES)
async def test_roles_and_visibility(tmp_path: Path, mode: str,
                                    request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (_, c, h):
        _problem(await c.post(FEEDBACK, json={"kind": "scam", "target": BENIGN},
                              headers={"X-API-Key": "ss_wrong"}), 401)
        r = await c.post(FEEDBACK, json={"kind": "scam", "target": BENIGN}, headers=h["client"])
        fid = r.json()["id"]
        _problem(await c.get(FEEDBACK, headers=h["client"]), 403)
        _problem(await c.post(f"{FEEDBACK}/{fid}/resolve", json={"action": "dismiss"},
                              headers=h["client"]), 403)
        assert (await c.get(f"{FEEDBACK}/{fid}", headers=h["client"])).status_code == 200
        _problem(await c.get(f"{FEEDBACK}/{fid}", headers=h["client2"]), 404)
        _problem(await c.get(f"{FEEDBACK}/fb_0000000000000000", headers=h["analyst"]), 404)
        assert (await c.get(f"{FEEDBACK}/{fid}", headers=h["analyst"])).status_code == 200
        _problem(await c.get(FEEDBACK, params={"status": "open"}, headers=h["analyst"]), 422)
        _problem(await c.get(FEEDBACK, params={"per_page": 101}, headers=h["analyst"]), 422)


@pytest.mark.parametrize("mode", MODES)
async def test_duplicates_are_folded_per_key_and_target(tmp_path: Path, mode: str,
                                                        request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (_, c, h):
        ids = set()
        for i, target in enumerate(("https://example.com/news", "https://EXAMPLE.com/news",
                                    "hxxps://example[.]com/news")):
            r = await c.post(FEEDBACK, json={"kind": "scam", "target": target,
                                             "note": f"lần {i}" if i < 2 else ""},
                             headers=h["client"])
            assert r.json()["count"] == i + 1 and r.json()["folded"] == (i > 0)
            ids.add(r.json()["id"])
        assert len(ids) == 1
        # Another key, or the other kind, is another entry.
        link = "https://example.com/news"
        other = await c.post(FEEDBACK, json={"kind": "scam", "target": link},
                             headers=h["client2"])
        fp = await c.post(FEEDBACK, json={"kind": "false_positive", "target": link},
                          headers=h["client"])
        assert len(ids | {other.json()["id"], fp.json()["id"]}) == 3
        queue = (await c.get(FEEDBACK, headers=h["analyst"])).json()
        assert queue["total"] == 3
        # Newest report first: the false positive, then client2's; the folded entry
        # kept its newest non-empty note.
        assert [i["id"] for i in queue["items"]][:2] == [fp.json()["id"], other.json()["id"]]
        folded = next(i for i in queue["items"] if i["id"] in ids)
        assert folded["count"] == 3 and folded["note"] == "lần 1"
        # Once resolved, the same report makes a new pending entry.
        await c.post(f"{FEEDBACK}/{folded['id']}/resolve", json={"action": "dismiss"},
                     headers=h["analyst"])
        again = await c.post(FEEDBACK, json={"kind": "scam", "target": link},
                             headers=h["client"])
        assert again.json()["id"] not in ids and again.json()["count"] == 1


@pytest.mark.parametrize("mode", MODES)
async def test_feedback_never_changes_a_verdict_until_an_analyst_acts(
        tmp_path: Path, mode: str, request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (app, c, h):
        before = await _scan(c, h["client"])
        assert before["verdict"] == "no_known_risk"
        for _ in range(15):
            for who in ("client", "client2"):
                r = await c.post(FEEDBACK, json={"kind": "scam", "target": BENIGN,
                                                 "scan_id": None}, headers=h[who])
                assert r.status_code == 202
        for _ in range(3):
            await c.post(FEEDBACK, json={"kind": "scam", "target": before["scan_id"]},
                         headers=h["client"])
        after = await _scan(c, h["client"])
        assert (after["verdict"], after["risk_score"]) == (before["verdict"],
                                                           before["risk_score"])
        assert not any(f["rule_id"] == "URL-BL-001" for f in after["findings"])
        assert app.state.services.lists.entries == {}
        # The analyst blocks one entry: now the lists (and the verdict) change.
        queue = (await c.get(FEEDBACK, headers=h["analyst"])).json()
        assert queue["total"] == 3
        entry = next(i for i in queue["items"] if i["target_type"] == "url")
        r = await c.post(f"{FEEDBACK}/{entry['id']}/resolve", json={"action": "block"},
                         headers=h["analyst"])
        assert r.status_code == 200, r.text
        blocked = await _scan(c, h["client"])
        assert blocked["verdict"] == "dangerous"
        assert any(f["rule_id"] == "URL-BL-001" for f in blocked["findings"])


@pytest.mark.parametrize("mode", MODES)
async def test_resolve_turns_each_target_into_its_list_entry(
        tmp_path: Path, mode: str, request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (app, c, h):
        scan = await _scan(c, h["client"], "https://scam-shop.example.net/pay")

        async def send(kind: str, target: str) -> str:
            r = await c.post(FEEDBACK, json={"kind": kind, "target": target,
                                             "note": "mule"}, headers=h["client"])
            assert r.status_code == 202, r.text
            return str(r.json()["id"])

        expected = [
            (await send("scam", "https://login.phish-vneid.top/otp"), "block",
             ("domain", "block", "phish-vneid.top")),
            (await send("false_positive", "https://shop.example.vn/"), "allow",
             ("host", "allow", "shop.example.vn")),
            (await send("scam", "0912 345 678"), "block", ("phone", "block", "+84912345678")),
            (await send("scam", SHA), "block", ("apk_sha256", "block", "ab" + "cd" * 31)),
            (await send("scam", scan["scan_id"]), "block",
             ("domain", "block", "example.net")),
            # A page of a shared platform: the page, never the whole platform.
            (await send("scam", "https://fake-vneid.github.io/kich-hoat"), "block",
             ("url", "block", "https://fake-vneid.github.io/kich-hoat")),
        ]
        entry_ids = []
        for fid, action, (kind, act, value) in expected:
            r = await c.post(f"{FEEDBACK}/{fid}/resolve", json={"action": action},
                             headers=h["analyst"])
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["list_entry"]["kind"], body["list_entry"]["action"],
                    body["list_entry"]["value"]) == (kind, act, value)
            assert body["status"] == "resolved" and body["resolution"] == action
            assert body["resolved_by"] == "t-analyst" and body["resolved_at"]
            assert body["list_entry_id"] == body["list_entry"]["id"]
            entry_ids.append(body["list_entry_id"])
            assert body["list_entry"]["note"].startswith(f"feedback {fid} ")
            assert body["list_entry"]["added_by"] == "t-analyst"
            # The same entry through the lists API: one flow, one audit.
            listed = await c.get("/v1/lists/entries", params={"q": value},
                                 headers=h["analyst"])
            assert any(e["id"] == body["list_entry_id"] for e in listed.json()["entries"])
        # Twice: 409; unknown: 404; a bad action: 422.
        _problem(await c.post(f"{FEEDBACK}/{expected[0][0]}/resolve",
                              json={"action": "dismiss"}, headers=h["analyst"]), 409)
        _problem(await c.post(f"{FEEDBACK}/fb_0000000000000000/resolve",
                              json={"action": "dismiss"}, headers=h["analyst"]), 404)
        fid = await send("scam", "https://another.example.org/")
        _problem(await c.post(f"{FEEDBACK}/{fid}/resolve", json={"action": "delete"},
                              headers=h["analyst"]), 422)
        # An entry whose list entry exists already is linked to it, not duplicated.
        dup = await send("scam", "https://www.phish-vneid.top/")
        r = await c.post(f"{FEEDBACK}/{dup}/resolve", json={"action": "block"},
                         headers=h["analyst"])
        assert r.status_code == 200, r.text
        assert r.json()["list_entry_id"] == entry_ids[0]
        assert r.json()["list_entry"]["value"] == "phish-vneid.top"
        # Dismiss: resolved, no list entry.
        before = len(app.state.services.lists.entries)
        r = await c.post(f"{FEEDBACK}/{fid}/resolve", json={"action": "dismiss"},
                         headers=h["analyst"])
        assert r.json()["list_entry"] is None and r.json()["resolution"] == "dismiss"
        assert len(app.state.services.lists.entries) == before
        resolved = (await c.get(FEEDBACK, params={"status": "resolved"},
                                headers=h["analyst"])).json()
        assert resolved["total"] == len(expected) + 2
        assert resolved["items"][0]["id"] == fid  # newest resolution first


@pytest.mark.parametrize("mode", MODES)
async def test_a_message_check_cannot_become_a_list_entry(
        tmp_path: Path, mode: str, request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (_, c, h):
        check = await c.post("/v1/message-checks", json={
            "text": "Cán bộ công an thông báo tài khoản định danh chưa kích hoạt"},
            headers=h["client"])
        r = await c.post(FEEDBACK, json={"kind": "scam", "target": check.json()["check_id"]},
                         headers=h["client"])
        assert r.status_code == 202
        body = _problem(await c.post(f"{FEEDBACK}/{r.json()['id']}/resolve",
                                     json={"action": "block"}, headers=h["analyst"]), 422)
        assert "dismiss" in body["detail"]
        ok = await c.post(f"{FEEDBACK}/{r.json()['id']}/resolve", json={"action": "dismiss"},
                          headers=h["analyst"])
        assert ok.status_code == 200


@pytest.mark.parametrize("mode", MODES)
async def test_pending_per_key_is_bounded(tmp_path: Path, mode: str,
                                          request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request, feedback_max_pending=2) as (_, c, h):
        for target in ("a.example.com", "b.example.com"):
            assert (await c.post(FEEDBACK, json={"kind": "scam", "target": target},
                                 headers=h["client"])).status_code == 202
        r = await c.post(FEEDBACK, json={"kind": "scam", "target": "c.example.com"},
                         headers=h["client"])
        _problem(r, 429)
        assert r.headers["retry-after"]
        # Folding into a pending entry, and another key, still work.
        assert (await c.post(FEEDBACK, json={"kind": "scam", "target": "a.example.com"},
                             headers=h["client"])).json()["count"] == 2
        assert (await c.post(FEEDBACK, json={"kind": "scam", "target": "c.example.com"},
                             headers=h["client2"])).status_code == 202


def _entry(i: int, owner: str = "k1", when: str | None = None) -> Feedback:
    at = when or f"2026-12-05T10:{i // 60:02d}:{i % 60:02d}+00:00"
    return Feedback(id=f"fb_{i:016x}", kind="scam", target_type="url",
                    target=f"https://t{i}.example.com/", owner=owner, reporter="r",
                    created=at, updated=at)


async def _store(mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> FeedbackStore:
    if mode == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        return RedisFeedbackStore(server.url)
    return SqliteFeedbackStore(tmp_path / "feedback.sqlite3")


@pytest.mark.parametrize("mode", MODES)
async def test_store_prunes_resolved_first(tmp_path: Path, mode: str,
                                           request: pytest.FixtureRequest) -> None:
    store = await _store(mode, tmp_path, request)
    try:
        for i in range(3):
            await store.submit(_entry(i), 100, 4)
        done, changed = await store.resolve(_entry(0).id, "dismiss", "a",
                                            "2026-12-05T11:00:00+00:00", None)
        assert changed and done is not None and done.status == "resolved"
        again, changed = await store.resolve(_entry(0).id, "block", "b",
                                             "2026-12-05T11:01:00+00:00", None)
        assert not changed and again is not None and again.resolution == "dismiss"
        assert await store.resolve("fb_unknown", "block", "b", "2026-12-05T11:01:00+00:00",
                                   None) == (None, False)
        await store.submit(_entry(3), 100, 4)  # 4 in all: nothing pruned
        assert await store.get(_entry(0).id) is not None
        await store.submit(_entry(4), 100, 4)  # 5: the resolved one goes first
        assert await store.get(_entry(0).id) is None
        assert (await store.page("pending", 0, 10))[1] == 4
        await store.submit(_entry(5), 100, 4)  # none resolved: the oldest pending goes
        pending, total = await store.page("pending", 0, 10)
        assert total == 4 and [e.id for e in pending] == [_entry(i).id for i in (5, 4, 3, 2)]
        assert await store.get(_entry(1).id) is None
        # The pruned entry's fold key is free again; the page is bounded.
        folded_new, folded = await store.submit(_entry(1, when="2026-12-05T12:00:00+00:00"),
                                                100, 4)
        assert not folded and folded_new.count == 1
        assert len((await store.page("pending", 1, 2))[0]) == 2
    finally:
        await store.close()


@pytest.mark.parametrize("mode", MODES)
async def test_store_folds_and_bounds_pending_per_owner(tmp_path: Path, mode: str,
                                                        request: pytest.FixtureRequest) -> None:
    store = await _store(mode, tmp_path, request)
    try:
        await store.submit(_entry(0), 2, 100)
        await store.submit(_entry(1), 2, 100)
        with pytest.raises(TooManyPending):
            await store.submit(_entry(2), 2, 100)
        await store.submit(_entry(2, owner="k2"), 2, 100)
        later = Feedback(**{**_entry(0).to_dict(), "id": "fb_other", "note": "mới",
                            "updated": "2026-12-05T12:00:00+00:00"})
        got, folded = await store.submit(later, 2, 100)
        assert folded and got.id == _entry(0).id and got.count == 2 and got.note == "mới"
        assert got.updated == "2026-12-05T12:00:00+00:00"
        # Resolving frees a pending slot of its owner.
        await store.resolve(_entry(1).id, "dismiss", "a", "2026-12-05T12:01:00+00:00", None)
        await store.submit(_entry(3), 2, 100)
    finally:
        await store.close()


async def test_redis_feedback_is_shared_between_instances(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    server: RedisServer = request.getfixturevalue("redis_server")
    async with api(tmp_path / "one", "redis", request) as (_, c1, h1):
        r = await c1.post(FEEDBACK, json={"kind": "scam", "target": BENIGN},
                          headers=h1["client"])
        fid = r.json()["id"]
        app2 = create_app(Settings(data_dir=tmp_path / "two", log_level="WARNING",
                                   apk_workers=1, redis_url=server.url))
        async with app2.router.lifespan_context(app2):
            transport = httpx.ASGITransport(app=app2, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://127.0.0.1") as c2:
                queue = await c2.get(FEEDBACK, headers=h1["analyst"])
                assert [i["id"] for i in queue.json()["items"]] == [fid]


async def test_openapi_describes_feedback(tmp_path: Path,
                                          request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, "sqlite", request) as (_, c, _h):
        doc = (await c.get("/openapi.json")).json()
        post = doc["paths"][FEEDBACK]["post"]
        assert "202" in post["responses"] and "422" in post["responses"]
        assert "Location" in post["responses"]["202"]["headers"]
        assert "FeedbackAccepted" in str(post["responses"]["202"]["content"])
        schemas = doc["components"]["schemas"]
        for name, fields in (("FeedbackCreate", ("kind", "target", "note", "scan_id")),
                             ("FeedbackOut", ("count", "target_type", "resolution",
                                              "resolved_by", "list_entry_id", "scan")),
                             ("ResolveRequest", ("action", "note"))):
            props = schemas[name]["properties"]
            assert set(fields) <= set(props), name
        assert "description" in schemas["FeedbackCreate"]["properties"]["target"]
        assert set(doc["paths"][f"{FEEDBACK}/{{feedback_id}}/resolve"]["post"]["responses"]
                   ) >= {"200", "404", "409", "422"}


async def test_a_failing_store_raises_its_own_error(tmp_path: Path) -> None:
    """Both backends raise FeedbackStoreUnavailable (answered 503 by api.problems)."""
    from api.storage.errors import FeedbackStoreUnavailable

    (tmp_path / "feedback.sqlite3").mkdir()  # a directory: the file cannot be opened
    stores: list[FeedbackStore] = [SqliteFeedbackStore(tmp_path / "feedback.sqlite3"),
                                   RedisFeedbackStore("redis://127.0.0.1:1", timeout=0.5)]
    for store in stores:
        try:
            with pytest.raises(FeedbackStoreUnavailable):
                await store.submit(_entry(0), 10, 100)
            with pytest.raises(FeedbackStoreUnavailable):
                await store.page("pending", 0, 10)
        finally:
            await store.close()
