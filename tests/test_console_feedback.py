"""The console's feedback queue and share buttons (httpx against the real app: cookies,
CSRF, escaping, both languages, both session stores)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.live_servers_age import RedisServer
from tests.test_console import _token, console, signed_in

pytestmark = pytest.mark.anyio

SCAM = "hxxps://dichvucong[.]hgov[.]cc/dang-nhap"


async def _scan(c: httpx.AsyncClient, key: str, url: str = "https://example.com/tin-tuc"
                ) -> dict[str, object]:
    r = await c.post("/v1/url-scans", json={"url": url, "offline": True},
                     headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


async def _feedback_round(c: httpx.AsyncClient, keys: dict[str, str]) -> None:
    scan = await _scan(c, keys["client"])
    for _ in range(2):
        r = await c.post("/v1/feedback", headers={"X-API-Key": keys["client"]}, json={
            "kind": "scam", "target": "https://example.com/tin-tuc",
            "note": "<script>alert(1)</script> giả danh", "scan_id": scan["scan_id"]})
        assert r.status_code == 202
    csrf = await signed_in(c, keys["analyst"])
    page = await c.get("/console/feedback")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    # Vietnamese by default; the target defanged, never a link; the note escaped.
    assert "Phản ánh từ người dùng" in html and "Lừa đảo" in html
    assert "hxxps://example[.]com/tin-tuc" in html and 'href="https://example' not in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "Chưa thấy rủi ro" in html  # the linked scan's verdict
    row = re.search(r'<tr data-feedback="(fb_[0-9a-f]{16})">(.*?)</tr>', html, re.S)
    assert row is not None and '<td class="num">2</td>' in row.group(2)
    fid = row.group(1)
    # A write without the session's CSRF token is refused (an HTML page, not JSON).
    refused = await c.post(f"/console/feedback/{fid}/resolve", data={"action": "block"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(
        "text/html")
    # One click: block.
    done = await c.post(f"/console/feedback/{fid}/resolve",
                        data={"action": "block", "csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/console/feedback?done=block"
    after = await c.get(done.headers["location"])
    assert "Đã thêm vào danh sách chặn" in after.text and fid not in after.text
    resolved = await c.get("/console/feedback", params={"status": "resolved", "lang": "en"})
    assert fid in resolved.text and "Blocked by t-analyst" in resolved.text
    entries = await c.get("/v1/lists/entries", headers={"X-API-Key": keys["analyst"]})
    assert [(e["kind"], e["value"]) for e in entries.json()["entries"]] == [
        ("domain", "example.com")]
    # The next scan of the link is blocked: the analyst acted.
    assert (await _scan(c, keys["client"]))["verdict"] == "dangerous"
    # A bad action and an unknown entry are pages, not traces.
    bad = await c.post(f"/console/feedback/{fid}/resolve",
                       data={"action": "nuke", "csrf_token": csrf})
    assert bad.status_code == 422
    gone = await c.post("/console/feedback/fb_0000000000000000/resolve",
                        data={"action": "dismiss", "csrf_token": csrf})
    assert gone.status_code == 404 and "text/html" in gone.headers["content-type"]


async def test_feedback_page_and_one_click_block(tmp_path: Path) -> None:
    async with console(tmp_path, default_lang="vi") as (_, c, keys):
        await _feedback_round(c, keys)


async def test_feedback_page_with_redis(redis_server: RedisServer, tmp_path: Path) -> None:
    async with console(tmp_path, default_lang="vi", redis_url=redis_server.url) as (_, c, keys):
        await _feedback_round(c, keys)


async def test_feedback_page_needs_a_session(tmp_path: Path) -> None:
    async with console(tmp_path, default_lang="vi") as (_, c, keys):
        r = await c.get("/console/feedback")
        assert r.status_code == 303 and "/console/sign-in" in r.headers["location"]
        r = await c.get("/console/feedback", headers={"X-API-Key": keys["client"]})
        assert r.status_code == 403


async def test_share_from_the_report_page_and_revoke(tmp_path: Path) -> None:
    async with console(tmp_path, default_lang="vi") as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        scan = await _scan(c, keys["client"], SCAM)
        report = await c.get(f"/console/scans/{scan['scan_id']}")
        assert report.status_code == 200
        assert f'action="/console/scans/{scan["scan_id"]}/share"' in report.text
        assert "Tạo đường dẫn chia sẻ" in report.text
        english = await c.get(f"/console/scans/{scan['scan_id']}", params={"lang": "en"})
        assert "Make a share link" in english.text
        refused = await c.post(f"/console/scans/{scan['scan_id']}/share", data={"days": "3"})
        assert refused.status_code == 403
        made = await c.post(f"/console/scans/{scan['scan_id']}/share",
                            data={"days": "3", "csrf_token": csrf})
        assert made.status_code == 201, made.text
        m = re.search(r'value="(http://127\.0\.0\.1/s/([A-Za-z0-9_-]{43}))"', made.text)
        assert m is not None
        token = m.group(2)
        public = await c.get(f"/s/{token}")
        assert public.status_code == 200 and 'data-verdict="dangerous"' in public.text
        # The shares page lists it (by id, never by token) with a revoke button.
        listing = await c.get(f"/console/scans/{scan['scan_id']}/shares")
        share_id = re.search(r'data-share="(sh_[0-9a-f]{16})"', listing.text)
        assert share_id is not None and token not in listing.text
        revoked = await c.post(f"/console/shares/{share_id.group(1)}/revoke",
                               data={"csrf_token": _token(listing.text)})
        assert revoked.status_code == 303
        assert "Link revoked." in (await c.get(revoked.headers["location"])).text  # lang cookie: en
        assert (await c.get(f"/s/{token}")).status_code == 404
        again = await c.post(f"/console/shares/{share_id.group(1)}/revoke",
                             data={"csrf_token": csrf})
        assert again.status_code == 404
