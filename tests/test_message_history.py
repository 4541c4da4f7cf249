"""Message checks remembered: lists of phone numbers and accounts through the API, the
history (SQLite and a real Redis) with masking and retention, ``GET /v1/scans/{id}``,
metrics and the console pages.

Real apps through httpx's ASGI transport with their lifespan entered; the Redis
tests start a throw-away Debian ``redis-server``. The retention tests inject a
clock into :class:`api.services.history.ScanHistory`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from api.auth import Principal
from api.services.history import ScanHistory
from api.storage.files import HISTORY_FILE
from api.storage.history import PREFIX, RedisHistory, SqliteHistory
from scanners import identifiers
from tests.live_servers_age import RedisServer
from tests.test_api_apk import assert_problem
from tests.test_auth import make_key
from tests.test_console import console, signed_in
from tests.test_history import app_client, as_key, ids, search, settings_for

pytestmark = pytest.mark.anyio

CHECKS = "/v1/message-checks"
ENTRIES = "/v1/lists/entries"
PHONE, PHONE_E164, PHONE_MASKED = "0912 345 678", "+84912345678", "091*****78"
ACCOUNT, ACCOUNT_MASKED = "19036789123456", "190*********56"
SCAM = (f"Cán bộ công an phường thông báo tài khoản định danh mức 2 của bạn chưa được cập "
        f"nhật. Gọi {PHONE} hoặc nộp phí vào STK {ACCOUNT} Techcombank, tải ứng dụng tại "
        f"dichvucong-gov[.]com, nhóm zalo.me/g/abcdef123")
SECRETS = (PHONE, PHONE_E164, "0912345678", "912345678", ACCOUNT)


async def check(c: httpx.AsyncClient, text: str = SCAM, lang: str = "vi") -> dict[str, Any]:
    r = await c.post(CHECKS, json={"text": text, "lang": lang})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def rule_ids(report: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in report["findings"]}


def assert_masked(blob: str) -> None:
    for secret in SECRETS:
        assert secret not in blob, secret


# --- lists through the API ---------------------------------------------------------------


async def test_phone_and_account_entries_add_note_remove(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    _, analyst = await make_key(settings, "analyst", "alice")
    _, client = await make_key(settings, "client", "bot")
    async with app_client(settings, analyst) as a, as_key(a, client) as bot:
        before = await check(bot)
        assert not {"MSG-ID-001", "MSG-ID-002"} & rule_ids(before)
        (phone,) = [i for i in before["items"] if i["kind"] == "phone"]
        assert phone["number"] == PHONE_E164 and phone["listed"] is False

        r = await a.post(ENTRIES, json={"kind": "phone", "value": "+84 912-345-678",
                                        "note": "fake police caller"})
        assert r.status_code == 201, r.text
        phone_entry = r.json()
        assert phone_entry["value"] == PHONE_E164 and phone_entry["added_by"] == "alice"
        r = await a.post(ENTRIES, json={"kind": "bank_account", "value": "1903 6789 1234 56",
                                        "note": "mule account"})
        assert r.status_code == 201, r.text
        account_entry = r.json()
        assert account_entry["value"] == ACCOUNT
        assert_problem(await a.post(ENTRIES, json={"kind": "phone", "value": PHONE}), 409)
        assert_problem(await a.post(ENTRIES, json={"kind": "phone", "value": "12345"}), 422,
                       "phone")
        assert_problem(await a.post(ENTRIES, json={"kind": "bank_account",
                                                   "value": "12ab34"}), 422)
        assert_problem(await bot.post(ENTRIES, json={"kind": "phone", "value": PHONE}), 403)
        listed = (await a.get(ENTRIES, params={"kind": "phone"})).json()
        assert [e["id"] for e in listed["entries"]] == [phone_entry["id"]]
        sources = (await a.get("/v1/lists/sources")).json()
        assert sources["analyst"]["by_kind"]["bank_account"] == {"block": 1, "allow": 0}

        after = await check(bot, lang="en")
        assert after["verdict"] == "dangerous"
        (f1,) = [f for f in after["findings"] if f["rule_id"] == "MSG-ID-001"]
        assert f1["title"] == "Phone number on the scam list"
        assert f1["evidence"]["entries"] == [{"value": PHONE_E164, "id": phone_entry["id"],
                                              "action": "block", "note": "fake police caller",
                                              "added_by": "alice"}]
        (f2,) = [f for f in after["findings"] if f["rule_id"] == "MSG-ID-002"]
        assert f2["evidence"]["entries"][0]["note"] == "mule account"
        (acct,) = [i for i in after["items"] if i["kind"] == "bank_account"]
        assert acct["listed"] is True and acct["number"] == ACCOUNT  # the live answer: whole
        assert acct["bank"] == "Techcombank"

        r = await a.delete(f"{ENTRIES}/{phone_entry['id']}")
        assert r.status_code == 200 and r.json()["kind"] == "phone"
        assert_problem(await a.delete(f"{ENTRIES}/{phone_entry['id']}"), 404)
        gone = await check(bot)
        assert "MSG-ID-001" not in rule_ids(gone) and "MSG-ID-002" in rule_ids(gone)


# --- the history: SQLite -----------------------------------------------------------------


async def test_message_check_is_remembered_masked_sqlite(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    a_id, a_key = await make_key(settings, "client", "a")
    _, b_key = await make_key(settings, "client", "b")
    _, analyst = await make_key(settings, "analyst", "alice")
    async with app_client(settings, a_key) as a, as_key(a, b_key) as b, \
            as_key(a, analyst) as an:
        await an.post(ENTRIES, json={"kind": "phone", "value": PHONE, "note": "caller"})
        body = await check(a)
        assert body["verdict"] == "dangerous" and PHONE in SCAM
        link = await a.post("/v1/url-scans", json={"url": "example.org"})
        assert link.status_code == 200

        r = await a.get(f"/v1/scans/{body['check_id']}", params={"lang": "en"})
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["kind"] == "message" and got["status"] == "done"
        assert got["status_url"] == f"/v1/scans/{body['check_id']}"
        stored = got["report"]
        assert_masked(r.text)
        assert stored["verdict"] == body["verdict"]
        assert stored["risk_score"] == body["risk_score"]
        assert len(stored["text"]) == len(SCAM) and PHONE_MASKED[:3] in stored["text"]
        assert "dichvucong-gov[.]com" in stored["text"]
        (phone,) = [i for i in stored["items"] if i["kind"] == "phone"]
        assert phone["number"] == PHONE_MASKED and phone["listed"] is True
        assert SCAM[phone["start"]:phone["end"]] == PHONE  # offsets still point at it
        (acct,) = [i for i in stored["items"] if i["kind"] == "bank_account"]
        assert acct["number"] == ACCOUNT_MASKED
        (f,) = [f for f in stored["findings"] if f["rule_id"] == "MSG-ID-001"]
        assert f["title"] == "Phone number on the scam list"  # re-titled in en
        assert f["evidence"]["values"] == [PHONE_MASKED]
        assert stored["reply"] == body["reply"]  # the reply stays as it was made

        listed = await search(a, kind="message")
        assert ids(listed) == [body["check_id"]] and listed["total"] == 1
        item = listed["items"][0]
        assert item["kind"] == "message" and item["verdict"] == "dangerous"
        assert item["input"].startswith("Cán bộ công an") and PHONE not in item["input"]
        assert ids(await search(a, q="dichvucong-gov.com")) == [body["check_id"]]
        assert ids(await search(a, q="091")) == [body["check_id"]]  # masked text searchable
        assert ids(await search(a, q="0912 345")) == []  # the number itself is not kept
        assert (await search(a))["total"] == 2

        # another client: not found; an analyst: found
        assert_problem(await b.get(f"/v1/scans/{body['check_id']}"), 404)
        assert (await search(b, kind="message"))["total"] == 0
        assert (await an.get(f"/v1/scans/{body['check_id']}")).status_code == 200

        exported = await a.get(f"/v1/scans/{body['check_id']}/export",
                               params={"format": "json"})
        assert exported.status_code == 200 and exported.json()["kind"] == "message"
        assert_masked(exported.text)
        assert_problem(await a.get(f"/v1/scans/{body['check_id']}/export",
                                   params={"format": "stix"}), 422, "JSON")

        metrics = (await a.get("/metrics")).text
        assert re.search(r'scamscan_scans_total\{kind="message",verdict="dangerous"\} 1\.0',
                         metrics), metrics

    raw = (tmp_path / "data" / HISTORY_FILE).read_bytes()
    wal = tmp_path / "data" / (HISTORY_FILE + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    assert_masked(raw.decode("utf-8", "replace"))
    assert a_id.encode() in raw


async def test_message_kind_is_validated_and_unknown_ids_are_404(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path / "data")) as c:
        assert_problem(await c.get("/v1/scans", params={"kind": "sms"}), 422)
        assert_problem(await c.get("/v1/scans/" + "0" * 32), 404)
        assert (await search(c, kind="message"))["total"] == 0


# --- retention ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def stored(check_id: str, text: str = "STK 19036789123456 Techcombank") -> dict[str, Any]:
    found = identifiers.extract(text)
    items: list[dict[str, Any]] = []
    identifiers.merge_items(items, found, {}, "en")
    report = {"check_id": check_id, "characters": len(text), "risk_score": 0,
              "verdict": "no_known_risk", "reply": "ok", "reasons": [], "findings": [],
              "items": items, "script_signals": [], "incomplete": []}
    return identifiers.stored_report(report, text, found)


async def _retention(history: ScanHistory, clock: Clock) -> None:
    history.record_message(stored("old"), owner=None, lang="en")
    history.record_url({"scan_id": "link", "input": "example.org", "verdict": "no_known_risk",
                        "reasons": [], "findings": []}, owner=None, lang="en")
    await history.flush()
    clock.now += timedelta(days=29)
    history.record_message(stored("new"), owner=None, lang="en")
    await history.flush()
    old = await history.get("old")
    assert old is not None and old["report"]["text"] == "STK 190*********56 Techcombank"
    assert await history.prune_messages() == 0

    clock.now += timedelta(days=2)  # "old" is 31 days old, "new" 2 days
    assert await history.get("old") is None  # expired: never answered, pruned or not
    assert await history.prune_messages() == 1
    assert await history.get("old") is None
    assert await history.get("new") is not None
    assert await history.get("link") is not None  # links are not bound by this retention
    everyone = Principal(key_id=None, role="admin", name="local", client_addr="127.0.0.1")
    page = await history.search(everyone, None, "message", None, 1, 10)
    assert [i["scan_id"] for i in page["items"]] == ["new"] and page["total"] == 1


async def test_retention_sqlite_with_an_injected_clock(tmp_path: Path) -> None:
    clock = Clock()
    history = ScanHistory(SqliteHistory(tmp_path / HISTORY_FILE, 1000),
                          message_retention=timedelta(days=30), clock=clock)
    history.start()
    try:
        await _retention(history, clock)
    finally:
        await history.aclose()


async def test_retention_redis_ttl_and_prune(redis_server: RedisServer, rdb: redis.Redis
                                             ) -> None:
    clock = Clock()
    history = ScanHistory(RedisHistory(redis_server.url, 1000),
                          message_retention=timedelta(days=30), clock=clock)
    history.start()
    try:
        await _retention(history, clock)
        ttl = rdb.ttl(f"{PREFIX}rec:new")
        assert 29 * 86400 < ttl <= 30 * 86400
        assert rdb.ttl(f"{PREFIX}rec:link") == -1  # no TTL on link scans
        assert rdb.zrange(f"{PREFIX}messages", 0, -1) == [b"new"]
        assert rdb.zscore(f"{PREFIX}index", "old") is None
        assert rdb.hget(f"{PREFIX}lines", "old") is None
    finally:
        await history.aclose()


# --- the history: Redis, through the API ---------------------------------------------------


async def test_message_check_is_remembered_masked_redis(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "data", redis_url=redis_server.url,
                            message_retention_days=7)
    _, analyst = await make_key(settings, "analyst", "alice")
    async with app_client(settings, analyst) as one, app_client(settings, analyst) as two:
        await one.post(ENTRIES, json={"kind": "bank_account", "value": ACCOUNT})
        body = await check(one)
        assert "MSG-ID-002" in rule_ids(body)
        await search(one)  # this replica makes its queued writes
        r = await two.get(f"/v1/scans/{body['check_id']}")  # the other replica answers
        assert r.status_code == 200, r.text
        assert_masked(r.text)
        assert ACCOUNT_MASKED in r.json()["report"]["text"]
        assert ids(await search(two, kind="message")) == [body["check_id"]]
    key = f"{PREFIX}rec:{body['check_id']}"
    values = [*rdb.hgetall(key).values(), *rdb.hgetall(f"{PREFIX}lines").values()]
    assert_masked(" ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else v
                           for v in values))
    assert rdb.hget(key, "kind") == b"message"
    assert 6 * 86400 < rdb.ttl(key) <= 7 * 86400


# --- the console ------------------------------------------------------------------------


async def test_console_history_and_message_report(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                base_url="http://testserver", timeout=30,
                                headers={"X-API-Key": keys["analyst"]})
        async with api:
            r = await api.post(ENTRIES, json={"kind": "phone", "value": PHONE,
                                              "note": "caller <b>x</b>"})
            assert r.status_code == 201
            body = await check(api, SCAM + " <script>alert(1)</script> https://evil.example/x")
        await app.state.services.history.flush()
        # A check stored with the reply fields another version adds: shown when present.
        extra = {**stored("withreply"), "headline": "Lừa đảo giả danh công an",
                 "steps": ["Không bấm link", "Gọi 113"], "if_already": ["Khóa thẻ ngân hàng"],
                 "hotlines": [{"name": "Công an", "number": "113"}],
                 "scam_type": "police_impersonation"}
        app.state.services.history.record_message(extra, owner=None, lang="vi")
        await app.state.services.history.flush()

        await signed_in(c, keys["analyst"])
        page = await c.get("/console/history", params={"kind": "message"})
        assert page.status_code == 200
        assert f'data-scan="{body["check_id"]}"' in page.text and "message" in page.text
        assert 'value="message" selected' in page.text
        assert_masked(page.text)

        report = await c.get(f"/console/scans/{body['check_id']}")
        assert report.status_code == 200, report.text
        html = report.text
        assert_masked(html)
        assert 'data-rule="MSG-ID-001"' in html and 'data-item="bank_account"' in html
        assert 'data-item="zalo"' in html and 'data-testid="listed"' in html
        assert PHONE_MASKED in html and ACCOUNT_MASKED in html
        assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
        assert "caller &lt;b&gt;x&lt;/b&gt;" in html
        assert "hxxps://evil[.]example/x" in html and "https://evil.example" not in html
        assert "/export?format=json" in html and "format=stix" not in html
        assert body["reply"] in html.replace("&#39;", "'")
        # The reply's parts (scanners.message_reply) are shown with the report.
        assert 'data-testid="headline"' in html

        withreply = (await c.get("/console/scans/withreply")).text
        assert 'data-testid="headline"' in withreply and "Lừa đảo giả danh công an" in withreply
        assert "Khóa thẻ ngân hàng" in withreply and "<code>113</code>" in withreply
        assert "police_impersonation" in withreply and "190*********56" in withreply

        lists = await c.get("/console/lists", params={"kind": "phone"})
        assert lists.status_code == 200 and PHONE_E164 in lists.text
        assert '<option value="bank_account"' in lists.text


async def test_console_adds_a_phone_entry_through_the_form(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        r = await c.post("/console/lists/entries", data={
            "csrf_token": csrf, "kind": "phone", "action": "block", "value": "0912.345.678",
            "package": "", "note": "from the console"})
        assert r.status_code == 303, r.text
        page = await c.get("/console/lists", params={"kind": "phone"})
        assert PHONE_E164 in page.text and "from the console" in page.text
        bad = await c.post("/console/lists/entries", data={
            "csrf_token": csrf, "kind": "bank_account", "action": "block", "value": "12ab",
            "package": "", "note": ""})
        assert bad.status_code == 422 and "6 to 19 digits" in bad.text
        assert app.state.services.lists.dynamic.identifier_entry("phone", PHONE_E164) is not None
