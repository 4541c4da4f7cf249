"""APK uploads end to end: the real app through httpx's ASGI transport, its
lifespan entered, the real process pool and androguard on the committed
fixtures (tests/fixtures/apk). No mocks; every data directory is a tmp dir.

A file that is not an Android app ends ``failed`` with ``reason`` and
``error_kind`` (there is no verdict to give); every bad request is a
problem+json, never a 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.jobs import JobManager
from api.main import create_app
from api.problems import PROBLEM_JSON
from api.settings import Settings
from tests.asgi import running as _running

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures" / "apk"
UPLOAD = "/v1/apk-scans"
APK_TYPE = "application/vnd.android.package-archive"


def running(app: FastAPI) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    # APK scans in the real process pool can take a while: a longer client timeout.
    return _running(app, client_timeout=90)



def apk_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings independent of the environment's SCAMSCAN_* values."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 8000,
        "max_body_bytes": 65536,
        "default_lang": "vi",
        "log_level": "INFO",
        "redis_url": None,
        "data_dir": data_dir,
        "max_apk_bytes": 4 * 1024 * 1024,
        "apk_workers": 2,
        "apk_job_timeout": 60.0,
    }
    values.update(overrides)
    return Settings(**values)



class Api:
    """A running app and its client."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, data_dir: Path) -> None:
        self.app = app
        self.client = client
        self.data_dir = data_dir

    @property
    def jobs(self) -> JobManager:
        jobs: JobManager = self.app.state.services.jobs
        return jobs

    async def upload(self, fixture: str, *, wait: float | None = None, lang: str | None = None,
                     filename: str | None = None) -> httpx.Response:
        params: dict[str, Any] = {}
        if wait is not None:
            params["wait"] = wait
        if lang is not None:
            params["lang"] = lang
        data = (FIXTURES / fixture).read_bytes()
        files = {"file": (filename or fixture, data, APK_TYPE)}
        return await self.client.post(UPLOAD, params=params, files=files)


@pytest.fixture(scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """One app (and so one process pool) shared by the module's scans."""
    data_dir = tmp_path_factory.mktemp("scamscan-data")
    app = create_app(apk_settings(data_dir))
    async with running(app) as client:
        yield Api(app, client, data_dir)


def sha256_of(fixture: str) -> str:
    return hashlib.sha256((FIXTURES / fixture).read_bytes()).hexdigest()


def assert_problem(r: httpx.Response, status: int, *detail_words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    for w in detail_words:
        assert w.lower() in body["detail"].lower(), body["detail"]
    return body


def rule_ids(body: dict[str, Any]) -> list[str]:
    return [f["rule_id"] for f in body["report"]["findings"]]


def named(root: Path, name: str) -> list[Path]:
    return list(root.rglob(name))


def stored_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "samples").rglob("*") if p.is_file())


# --- scans ------------------------------------------------------------------------


@pytest.mark.slow
async def test_scam_app_scanned_with_wait(api: Api) -> None:
    r = await api.upload("fake_dichvucong.apk", wait=60, lang="en")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["status"] == "done" and body["kind"] == "apk"
    assert body["deduplicated"] is False
    assert body["status_url"] == f"/v1/scans/{body['scan_id']}"
    report = body["report"]
    assert report["verdict"] == "dangerous"
    assert {"APK-IMP-003", "APK-CAP-020"} <= set(rule_ids(body))
    digest = sha256_of("fake_dichvucong.apk")
    assert report["sha256"] == body["sha256"] == digest
    assert report["package"] == "vn.gov.dichvucong.app"
    assert report["input"] == body["input"] == "fake_dichvucong.apk"
    # stored by content address, not by the client's name
    stored = api.data_dir / "samples" / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == (FIXTURES / "fake_dichvucong.apk").read_bytes()
    assert not named(api.data_dir, "fake_dichvucong*")

    # The status route answers JSON only; no route serves the sample's bytes.
    g = await api.client.get(body["status_url"])
    assert g.status_code == 200 and g.headers["content-type"] == "application/json"
    assert g.json()["report"]["risk_score"] == report["risk_score"]
    for path in (f"/v1/samples/{digest}", f"/v1/apk-scans/{digest}",
                 f"/v1/scans/{body['scan_id']}/sample"):
        assert_problem(await api.client.get(path), 404)
    paths = set((await api.client.get("/openapi.json")).json()["paths"])
    assert {p for p in paths if "apk" in p or "scans/" in p} == {
        UPLOAD, "/v1/scans/{scan_id}", "/v1/scans/{scan_id}/export", "/v1/url-scans/batch",
        "/v1/scans/{scan_id}/share", "/v1/scans/{scan_id}/shares",
        "/v1/scans/{scan_id}/shares/{share_id}"}
    # the export route gives the report (JSON or STIX), never the file itself
    export = await api.client.get(f"/v1/scans/{body['scan_id']}/export")
    assert export.status_code == 200
    assert export.content != (FIXTURES / "fake_dichvucong.apk").read_bytes()
    assert export.json()["report"]["sha256"] == digest


@pytest.mark.slow
async def test_upload_without_wait_then_poll(api: Api) -> None:
    r = await api.upload("fake_vneid.apk")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] in ("queued", "running")
    assert r.headers["location"] == body["status_url"] == f"/v1/scans/{body['scan_id']}"
    assert "report" not in body
    g = await api.client.get(body["status_url"], params={"wait": 60})
    assert g.status_code == 200
    done = g.json()
    assert done["status"] == "done", done
    assert done["started"] and done["finished"] and done["created"] <= done["finished"]
    assert done["report"]["verdict"] == "dangerous"
    assert done["report"]["package"] == "com.vnid"


async def test_same_file_again_is_answered_from_the_stored_report(api: Api) -> None:
    first = await api.upload("debug_signed.apk", wait=60)
    assert first.status_code == 200 and first.json()["status"] == "done"
    started = api.jobs.scans_started
    t0 = time.monotonic()
    again = await api.upload("debug_signed.apk", filename="other-name.apk")
    assert time.monotonic() - t0 < 2
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["status"] == "done" and body["deduplicated"] is True
    assert api.jobs.scans_started == started  # no new scan ran
    # the same report, but the second uploader sees its own file name
    report, first_report = body["report"], first.json()["report"]
    assert report["input"] == "other-name.apk"
    assert {**report, "input": None} == {**first_report, "input": None}


async def test_uploads_of_a_file_in_flight_share_one_scan(api: Api) -> None:
    started = api.jobs.scans_started
    a, b = await asyncio.gather(api.upload("hidden_launcher.apk"),
                                api.upload("hidden_launcher.apk", filename="b.apk"))
    assert {a.status_code, b.status_code} <= {200, 202}
    assert sorted([a.json()["deduplicated"], b.json()["deduplicated"]]) == [False, True]
    done = [
        (await api.client.get(r.json()["status_url"], params={"wait": 60})).json()
        for r in (a, b)
    ]
    assert [d["status"] for d in done] == ["done", "done"]
    assert done[0]["report"]["risk_score"] == done[1]["report"]["risk_score"]
    assert done[1]["report"]["input"] == "b.apk"
    assert api.jobs.scans_started == started + 1


async def test_benign_app_is_not_dangerous(api: Api) -> None:
    r = await api.upload("benign_notes.apk", wait=60)
    body = r.json()
    assert body["status"] == "done", body
    assert body["report"]["verdict"] != "dangerous"
    # Fresh throw-away key, and the fixture is assembled with smali (dexlib).
    assert set(rule_ids(body)) <= {"APK-CERT-004", "APK-PACK-003"}


async def test_titles_follow_lang(api: Api) -> None:
    r = await api.upload("bad_dex.apk", wait=60, lang="en")
    body = r.json()
    assert body["status"] == "done", body
    assert "APK-ANTI-001" in rule_ids(body)
    vi = (await api.client.get(body["status_url"], params={"lang": "vi"})).json()
    en_titles = {f["rule_id"]: f["title"] for f in body["report"]["findings"]}
    vi_titles = {f["rule_id"]: f["title"] for f in vi["report"]["findings"]}
    assert en_titles.keys() == vi_titles.keys()
    assert en_titles["APK-IMP-003"] != vi_titles["APK-IMP-003"]
    assert en_titles["APK-ANTI-001"] == "Code is malformed to resist analysis"


@pytest.mark.parametrize(
    ("fixture", "kind", "words"),
    [
        ("not_zip.apk", "not-zip", "not a zip"),
        ("windows.apk", "windows-executable", "windows"),
        ("truncated.apk", "truncated", "truncated"),
        ("zip_bomb.apk", "zip-bomb", "expands"),
        ("no_manifest.apk", "no-manifest", "androidmanifest"),
        ("many_entries.apk", "zip-bomb", "entries"),
    ],
)
async def test_hostile_files_end_failed_with_a_reason(
    api: Api, fixture: str, kind: str, words: str
) -> None:
    r = await api.upload(fixture, wait=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "failed", body
    assert body["error_kind"] == kind
    assert words in body["reason"].lower()
    assert "report" not in body
    assert body["sha256"] == sha256_of(fixture)
    # polling tells the same; uploading again scans again (failures are not reused)
    g = (await api.client.get(body["status_url"])).json()
    assert (g["status"], g["reason"]) == ("failed", body["reason"])


async def test_code_strings_that_are_not_unicode_do_not_blind_the_code_analysis(
        api: Api) -> None:
    # MUTF-8 encodes lone UTF-16 surrogates; one such string made the parse child fail
    # as it sent its facts, and every code finding was lost behind an `incomplete`.
    body = (await api.upload("odd_strings.apk", wait=60, lang="en")).json()
    assert body["status"] == "done", body
    report = body["report"]
    assert report["incomplete"] == []
    assert {"APK-URL-002", "APK-URL-003"} <= set(rule_ids(body))
    urls = report["app"]["urls"]
    assert "https://login-verify.example/account\ufffd/update" in urls
    assert "https://example.org/ok\U0001f600" in urls  # a valid pair stays as it is
    assert all("\ud800" not in u and "\udc00" not in u for u in urls)


async def test_traversal_entry_is_flagged(api: Api) -> None:
    body = (await api.upload("traversal.apk", wait=60, filename="../../x/../evil.apk")).json()
    assert body["status"] == "done", body
    assert "APK-ZIP-001" in rule_ids(body)
    assert body["input"] == "evil.apk"  # the client's name is only a display name
    assert not (api.data_dir.parent / "evil.txt").exists()


@pytest.mark.parametrize("fixture", ["bundle.xapk", "bundle.apks"])
async def test_bundles_list_inner_apks(api: Api, fixture: str) -> None:
    body = (await api.upload(fixture, wait=60)).json()
    assert body["status"] == "done", body
    inner = body["report"]["app"]["inner"]
    assert len(inner) == 2
    assert {i["package"] for i in inner} == {"org.scamscan.fixture.bundle"}
    # RECEIVE_SMS/READ_SMS of the base APK, which has a launcher and nothing else:
    # read for a visible feature (APK-CAP-023).
    assert {"APK-CAP-023"} <= set(rule_ids(body))


# --- bad requests ------------------------------------------------------------------


async def test_no_file_field(api: Api) -> None:
    r = await api.client.post(UPLOAD, files={"other": ("a.apk", b"PK\x03\x04", APK_TYPE)})
    body = assert_problem(r, 422, "file")
    assert body["errors"][0]["field"] == "file"


async def test_empty_file(api: Api) -> None:
    r = await api.client.post(UPLOAD, files={"file": ("empty.apk", b"", APK_TYPE)})
    assert_problem(r, 422, "empty")


async def test_json_body_is_unsupported(api: Api) -> None:
    r = await api.client.post(UPLOAD, json={"url": "https://example.org/app.apk"})
    assert_problem(r, 415, "multipart/form-data")
    r = await api.client.post(UPLOAD, content=b"PK\x03\x04",
                              headers={"content-type": APK_TYPE})
    assert_problem(r, 415)


async def test_malformed_multipart(api: Api) -> None:
    r = await api.client.post(UPLOAD, content=b"hello",
                              headers={"content-type": "multipart/form-data"})
    assert_problem(r, 400, "boundary")
    head = (b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.apk"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\nPK\x03\x04 partial")
    r = await api.client.post(UPLOAD, content=head,
                              headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert_problem(r, 400, "ended before")
    r = await api.client.post(UPLOAD, content=b"garbage without any boundary line\r\n",
                              headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert_problem(r, 400)
    assert not list((api.data_dir / "samples" / "tmp").iterdir())


async def test_two_file_parts(api: Api) -> None:
    data = (FIXTURES / "unsigned.apk").read_bytes()
    r = await api.client.post(UPLOAD, files=[("file", ("a.apk", data, APK_TYPE)),
                                             ("file", ("b.apk", data, APK_TYPE))])
    assert_problem(r, 422, "one file")


async def test_unknown_scan_and_bad_wait(api: Api) -> None:
    assert_problem(await api.client.get("/v1/scans/" + "0" * 32), 404, "no scan")
    assert_problem(await api.client.get("/v1/scans/nope", params={"wait": 999}), 422, "wait")
    r = await api.client.post(UPLOAD, params={"wait": 999},
                              files={"file": ("a.apk", b"PK", APK_TYPE)})
    assert_problem(r, 422, "wait")
    r = await api.client.post(UPLOAD, params={"lang": "fr"},
                              files={"file": ("a.apk", b"PK", APK_TYPE)})
    assert_problem(r, 422, "lang")


async def test_json_routes_keep_their_own_limit(api: Api) -> None:
    r = await api.client.post("/v1/url-scans", content=b"x" * 70_000,
                              headers={"content-type": "application/json"})
    assert_problem(r, 413, "65536")


# --- limits -------------------------------------------------------------------------


@pytest.mark.slow
async def test_upload_over_the_size_limit(tmp_path: Path) -> None:
    limit = 64 * 1024
    app = create_app(apk_settings(tmp_path, max_apk_bytes=limit))
    big = os.urandom(200 * 1024)
    boundary = b"b0undary"
    head = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
            b'filename="big.apk"\r\nContent-Type: ' + APK_TYPE.encode() + b"\r\n\r\n")
    sent = 0

    async def stream() -> AsyncIterator[bytes]:  # chunked: no Content-Length
        nonlocal sent
        yield head
        for i in range(0, len(big), 8192):
            sent += 8192
            yield big[i:i + 8192]
        yield b"\r\n--" + boundary + b"--\r\n"

    async with running(app) as client:
        ctype = {"content-type": "multipart/form-data; boundary=b0undary"}
        r = await client.post(UPLOAD, content=stream(), headers=ctype)
        assert_problem(r, 413, str(limit))
        assert sent < len(big)  # refused while streaming, not after
        # a declared Content-Length over the bound is refused before reading
        r = await client.post(UPLOAD, files={"file": ("big.apk", big, APK_TYPE)})
        assert_problem(r, 413)
        # just under the limit is accepted
        r = await client.post(UPLOAD, files={"file": ("ok.apk", big[:limit], APK_TYPE)},
                              params={"wait": 60})
        assert r.status_code == 200 and r.json()["error_kind"] == "not-zip", r.text
        assert r.json()["size"] == limit
    # only the accepted sample is stored: nothing of the refused ones, not even a temp file
    ok = hashlib.sha256(big[:limit]).hexdigest()
    assert stored_files(tmp_path) == [tmp_path / "samples" / ok[:2] / ok[2:4] / ok]
    assert not named(tmp_path, hashlib.sha256(big).hexdigest())
    assert not list((tmp_path / "samples" / "tmp").iterdir())


@pytest.mark.slow
async def test_job_time_limit(tmp_path: Path) -> None:
    app = create_app(apk_settings(tmp_path, apk_job_timeout=0.01, apk_workers=1))
    async with running(app) as client:
        files = {"file": ("slow.apk", (FIXTURES / "fake_vneid.apk").read_bytes(), APK_TYPE)}
        r = await client.post(UPLOAD, files=files, params={"wait": 60})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "failed" and body["error_kind"] == "timeout", body
        assert "time limit" in body["reason"] and "0.01" in body["reason"]
    assert not list((tmp_path / "reports").rglob("*.json"))


@pytest.mark.slow
async def test_killed_worker_fails_the_job_and_the_pool_recovers(tmp_path: Path) -> None:
    app = create_app(apk_settings(tmp_path, apk_workers=1))
    async with running(app) as client:
        jobs: JobManager = app.state.services.jobs
        r = await client.post(UPLOAD, files={
            "file": ("a.apk", (FIXTURES / "fake_vneid.apk").read_bytes(), APK_TYPE)})
        assert r.status_code == 202, r.text
        for _ in range(100):  # the pool spawns its worker on the first submit
            pool = jobs._pool
            if pool is not None and pool._processes:
                break
            await asyncio.sleep(0.02)
        assert pool is not None
        for pid in list(pool._processes):
            os.kill(pid, signal.SIGKILL)
        body = (await client.get(r.json()["status_url"], params={"wait": 60})).json()
        assert body["status"] == "failed" and body["error_kind"] == "worker-lost", body
        assert "worker stopped" in body["reason"]
        # a new pool takes the next scan; the same file is scanned again
        again = await client.post(UPLOAD, params={"wait": 60}, files={
            "file": ("a.apk", (FIXTURES / "fake_vneid.apk").read_bytes(), APK_TYPE)})
        assert again.json()["status"] == "done", again.text
        assert jobs._pool is not pool
