"""Share links (issue 16, item 5): ``POST /v1/scans/{id}/share``, ``DELETE /v1/shares/{token}``
and the public page ``GET /s/<token>``.

The real app through httpx's ASGI transport with its lifespan entered, in both
modes (SQLite files in tmp_path; a real ``redis-server``), the real process pool
for the APK scan. No mocks.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI

from api.problems import PROBLEM_JSON
from api.storage.shares import Share
from tests.asgi import API_KEYS, api_in_mode
from tests.live_servers_age import RedisServer

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures" / "apk"
APK_TYPE = "application/vnd.android.package-archive"
MODES = [pytest.param("sqlite", id="sqlite"),
         pytest.param("redis", id="redis", marks=pytest.mark.redis)]
SCAM = "hxxps://dichvucong[.]hgov[.]cc/dang-nhap"
MESSAGE = ("Cán bộ công an thông báo tài khoản định danh của bạn chưa kích hoạt, gọi "
           "0912 345 678 hoặc chuyển phí vào tài khoản 1903 6789 1234 56 tại "
           "dichvucong-gov[.]com, mã bí mật QUYTDX77")


def api(tmp_path: Path, mode: str, request: pytest.FixtureRequest, **kw: Any
        ) -> AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient,
                                               dict[str, dict[str, str]]]]:
    """The app (embedded or on the run's redis-server) with two client keys and an
    analyst's; headers by name."""
    return api_in_mode(tmp_path, mode, request, keys=API_KEYS[:3], client_timeout=60, **kw)


async def _link_scan(c: httpx.AsyncClient, head: dict[str, str], url: str = SCAM) -> str:
    r = await c.post("/v1/url-scans", json={"url": url, "offline": True}, headers=head)
    assert r.status_code == 200, r.text
    return str(r.json()["scan_id"])


async def _share(c: httpx.AsyncClient, head: dict[str, str], scan_id: str,
                 body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await c.post(f"/v1/scans/{scan_id}/share", json=body, headers=head)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _token(url: str) -> str:
    m = re.fullmatch(r"http://127\.0\.0\.1/s/([A-Za-z0-9_-]+)", url)
    assert m, url
    return m.group(1)


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = r.json()
    return body


def _assert_public_headers(r: httpx.Response) -> None:
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in r.headers["x-robots-tag"]
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp
    assert "script-src" not in csp and "unsafe" not in csp
    assert r.headers["content-type"].startswith("text/html")


def _hrefs(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action)="([^"]*)"', html)


@pytest.mark.parametrize("mode", MODES)
async def test_share_link_of_a_link_scan(tmp_path: Path, mode: str,
                                         request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (_, c, h):
        scan_id = await _link_scan(c, h["client"])
        made = await _share(c, h["client"], scan_id, {"expires_in": 3600})
        token = _token(made["url"])
        assert len(token) >= 32 and made["id"].startswith("sh_") and made["scan_id"] == scan_id
        expires = datetime.fromisoformat(made["expires_at"]).timestamp()
        assert abs(expires - (time.time() + 3600)) < 60
        # The public page: no key, Vietnamese by default.
        page = await c.get(f"/s/{token}")
        assert page.status_code == 200
        _assert_public_headers(page)
        html = page.text
        assert '<html lang="vi">' in html and "Kết quả kiểm tra lừa đảo" in html
        assert 'data-verdict="dangerous"' in html and ">100<" in html
        assert "hxxps://dichvucong[.]hgov[.]cc/dang-nhap" in html
        assert "https://dichvucong" not in html and "dichvucong.hgov.cc" not in html
        # Reasons are there, evidence and rule ids are not; nothing else is reachable.
        assert '<ul class="reasons"' in html and "URL-GOV-001" not in html
        assert "/console" not in html and "/v1/" not in html and scan_id not in html
        assert set(_hrefs(html)) == {"?lang=en", "/s/-/share.css"}
        english = await c.get(f"/s/{token}", params={"lang": "en"})
        assert '<html lang="en">' in english.text and "Scam check result" in english.text
        css = await c.get("/s/-/share.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("mode", MODES)
async def test_message_check_page_hides_the_text(tmp_path: Path, mode: str,
                                                 request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (_, c, h):
        r = await c.post("/v1/message-checks", json={"text": MESSAGE}, headers=h["client"])
        assert r.status_code == 200, r.text
        made = await _share(c, h["client"], r.json()["check_id"])
        # The default lifetime: seven days.
        expires = datetime.fromisoformat(made["expires_at"]).timestamp()
        assert abs(expires - (time.time() + 7 * 86400)) < 60
        html = (await c.get(f"/s/{_token(made['url'])}")).text
        assert 'data-verdict="dangerous"' in html
        for private in ("QUYTDX77", "0912", "345 678", "1903", "Cán bộ công an thông báo"):
            assert private not in html, private
        assert "Nội dung tin nhắn không được hiển thị" in html
        assert "hxxp" in html and "dichvucong-gov[.]com" in html


@pytest.mark.slow
async def test_apk_scan_share_page(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, "sqlite", request) as (_, c, h):
        data = (FIXTURES / "fake_vneid.apk").read_bytes()
        r = await c.post("/v1/apk-scans", params={"wait": 60}, headers=h["client"],
                         files={"file": ("vneid.apk", data, APK_TYPE)})
        assert r.status_code in (200, 202), r.text
        job = r.json()
        assert job["status"] == "done", job
        made = await _share(c, h["client"], job["scan_id"])
        html = (await c.get(f"/s/{_token(made['url'])}")).text
        report = job["report"]
        assert f'data-verdict="{report["verdict"]}"' in html
        assert hashlib.sha256(data).hexdigest() in html
        assert str(report["package"]) in html and "Ứng dụng Android" in html
        assert "/console" not in html and job["scan_id"] not in html
        # Feedback on the app's scan resolves into its SHA-256 on the block list.
        fb = await c.post("/v1/feedback", json={"kind": "scam", "target": job["scan_id"]},
                          headers=h["client"])
        assert fb.status_code == 202 and fb.json()["target_type"] == "scan"
        done = await c.post(f"/v1/feedback/{fb.json()['id']}/resolve",
                            json={"action": "block"}, headers=h["analyst"])
        assert done.status_code == 200, done.text
        assert (done.json()["list_entry"]["kind"], done.json()["list_entry"]["value"]) == (
            "apk_sha256", hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("mode", MODES)
async def test_share_errors(tmp_path: Path, mode: str, request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request, share_max_ttl=86400,
                   share_max_per_scan=2) as (_, c, h):
        scan_id = await _link_scan(c, h["client"])
        path = f"/v1/scans/{scan_id}/share"
        _problem(await c.post(path, json={}, headers={"X-API-Key": "ss_nope"}), 401)
        _problem(await c.post(path, json={}, headers=h["client2"]), 404)  # not theirs
        _problem(await c.post("/v1/scans/" + "0" * 32 + "/share", json={},
                              headers=h["client"]), 404)
        for bad in ({"expires_in": 59}, {"expires_in": 86401}, {"expires_in": "1d"},
                    {"expires_in": 600, "extra": True}):
            _problem(await c.post(path, json=bad, headers=h["client"]), 422)
        # No body at all is the default lifetime; an analyst may share any scan.
        assert (await c.post(path, headers=h["client"])).status_code == 201
        assert (await c.post(path, json={}, headers=h["analyst"])).status_code == 201
        r = await c.post(path, json={}, headers=h["client"])
        _problem(r, 429)
        _problem(await c.delete("/v1/shares/not-a-token", headers=h["client"]), 404)


@pytest.mark.parametrize("mode", MODES)
async def test_revoked_unknown_and_expired_tokens_look_alike(
        tmp_path: Path, mode: str, request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (app, c, h):
        scan_id = await _link_scan(c, h["client"])
        token = _token((await _share(c, h["client"], scan_id))["url"])
        other = _token((await _share(c, h["client"], scan_id))["url"])
        # Only its creator (or an analyst) revokes it; anyone else gets 404.
        _problem(await c.delete(f"/v1/shares/{token}", headers=h["client2"]), 404)
        assert (await c.get(f"/s/{token}")).status_code == 200
        r = await c.delete(f"/v1/shares/{token}", headers=h["client"])
        assert r.status_code == 204 and r.content == b""
        _problem(await c.delete(f"/v1/shares/{token}", headers=h["client"]), 404)
        # Analysts list a scan's live links (no token in them) and revoke one by id.
        listed = await c.get(f"/v1/scans/{scan_id}/shares", headers=h["analyst"])
        assert listed.status_code == 200 and other not in listed.text
        [info] = listed.json()["items"]
        assert set(info) == {"id", "scan_id", "created_by", "created", "expires_at"}
        _problem(await c.get(f"/v1/scans/{scan_id}/shares", headers=h["client"]), 403)
        _problem(await c.delete(f"/v1/scans/{'0' * 32}/shares/{info['id']}",
                                headers=h["analyst"]), 404)
        by_id = await c.delete(f"/v1/scans/{scan_id}/shares/{info['id']}", headers=h["analyst"])
        assert by_id.status_code == 204
        _problem(await c.delete(f"/v1/scans/{scan_id}/shares/{info['id']}",
                                headers=h["analyst"]), 404)
        assert (await c.get(f"/v1/scans/{scan_id}/shares", headers=h["analyst"])
                ).json()["items"] == []
        # An expired share, written as the store would hold it.
        expired = "expired-token-0123456789abcdefghijklmnopqrstuv"
        now = time.time()
        await app.state.services.shares.create(Share(
            id="sh_expired00000000", token_hash=hashlib.sha256(expired.encode()).hexdigest(),
            scan_id=scan_id, owner="", created_by="t", created="2026-01-01T00:00:00+00:00",
            expires="2026-01-01T00:01:00+00:00", expires_at=now - 1), 20, 20)
        pages = [await c.get(f"/s/{t}") for t in
                 (token, other, expired, "never-existed-" + "x" * 30, "x" * 300)]
        assert {p.status_code for p in pages} == {404}
        assert len({p.text for p in pages}) == 1  # nothing tells them apart
        _assert_public_headers(pages[0])
        assert "Không tìm thấy trang" in pages[0].text and "/console" not in pages[0].text


@pytest.mark.parametrize("mode", MODES)
async def test_tokens_are_stored_hashed(tmp_path: Path, mode: str,
                                        request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request) as (_, c, h):
        scan_id = await _link_scan(c, h["client"])
        token = _token((await _share(c, h["client"], scan_id))["url"])
        digest = hashlib.sha256(token.encode()).hexdigest()
        if mode == "sqlite":
            with sqlite3.connect(tmp_path / "data" / "shares.sqlite3") as db:
                dump = "\n".join(db.iterdump())
        else:
            server: RedisServer = request.getfixturevalue("redis_server")
            client = redis.Redis.from_url(server.url)
            try:
                keys = [k.decode() if isinstance(k, bytes) else str(k)
                        for k in client.keys("scamscan:share:*")]
                dump = "\n".join(k + "=" + repr(client.dump(k)) for k in keys)
                assert keys and all(k.startswith("scamscan:share:") for k in keys)
            finally:
                client.close()
        assert token not in dump and digest in dump


@pytest.mark.parametrize("mode", MODES)
async def test_public_page_is_rate_limited_per_address(
        tmp_path: Path, mode: str, request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, mode, request, share_rate_limit="3/minute") as (app, c, h):
        scan_id = await _link_scan(c, h["client"])
        token = _token((await _share(c, h["client"], scan_id))["url"])
        codes = [(await c.get(f"/s/{token}")).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = await c.get("/s/unknown-" + "y" * 30)  # unknown tokens count too
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "Quá nhiều yêu cầu" in r.text
        _assert_public_headers(r)
        # Another address is not affected.
        transport = httpx.ASGITransport(app=app, client=("127.0.0.2", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c2:
            assert (await c2.get(f"/s/{token}")).status_code == 200


async def test_public_base_url_names_the_link(tmp_path: Path,
                                              request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, "sqlite", request,
                   public_base_url="https://scamscan.example/") as (_, c, h):
        made = await _share(c, h["client"], await _link_scan(c, h["client"]))
        assert re.fullmatch(r"https://scamscan\.example/s/[A-Za-z0-9_-]{43}", made["url"])


async def test_openapi_describes_sharing(tmp_path: Path,
                                         request: pytest.FixtureRequest) -> None:
    async with api(tmp_path, "sqlite", request) as (_, c, _h):
        doc = (await c.get("/openapi.json")).json()
        post = doc["paths"]["/v1/scans/{scan_id}/share"]["post"]
        assert set(post["responses"]) >= {"201", "404", "409", "422", "401"}
        assert set(doc["paths"]["/v1/shares/{token}"]["delete"]["responses"]) >= {"204", "404"}
        assert "get" in doc["paths"]["/v1/scans/{scan_id}/shares"]
        assert "delete" in doc["paths"]["/v1/scans/{scan_id}/shares/{share_id}"]
        props = doc["components"]["schemas"]["ShareOut"]["properties"]
        assert {"id", "url", "scan_id", "created", "expires_at"} <= set(props)
        assert "description" in doc["components"]["schemas"]["ShareCreate"]["properties"][
            "expires_in"]
        assert not any(p.startswith("/s/") for p in doc["paths"])


async def test_a_failing_share_store_raises_its_own_error(tmp_path: Path) -> None:
    from api.storage.errors import ShareStoreUnavailable
    from api.storage.shares import RedisShareStore, ShareStore, SqliteShareStore

    (tmp_path / "shares.sqlite3").mkdir()
    stores: list[ShareStore] = [SqliteShareStore(tmp_path / "shares.sqlite3"),
                                RedisShareStore("redis://127.0.0.1:1", timeout=0.5)]
    for store in stores:
        try:
            with pytest.raises(ShareStoreUnavailable):
                await store.by_token_hash("0" * 64)
            with pytest.raises(ShareStoreUnavailable):
                await store.revoke(share_id="sh_x")
        finally:
            await store.close()


async def test_tokens_never_reach_the_log(tmp_path: Path, request: pytest.FixtureRequest,
                                          json_log: Any) -> None:
    """The access log names the route template (``/s/{token}``), never a live token."""
    async with api(tmp_path, "sqlite", request, log_level="INFO") as (_, c, h):
        token = _token((await _share(c, h["client"], await _link_scan(c, h["client"])))["url"])
        assert (await c.get(f"/s/{token}")).status_code == 200
        assert (await c.delete(f"/v1/shares/{token}", headers=h["client"])).status_code == 204
        text = json_log.getvalue()
        assert "/s/{token}" in text and "/v1/shares/{token}" in text
        assert token not in text
