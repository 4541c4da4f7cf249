"""Embedded APK job records survive a restart (SQLite in the data directory).

The real app through httpx's ASGI transport with its lifespan entered, the
real process pool and the committed fixtures (tests/fixtures/apk); a
"restart" is closing the app and opening a new one on the same data dir.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.jobs import SAMPLE_GONE, JobManager
from api.main import create_app
from api.samples import SampleStore
from tests.test_api_apk import APK_TYPE, FIXTURES, UPLOAD, apk_settings, running, sha256_of

pytestmark = pytest.mark.anyio



def db_path(data_dir: Path) -> Path:
    return data_dir / "jobs.sqlite3"


def stored_status(data_dir: Path, scan_id: str) -> tuple[str, str | None]:
    with sqlite3.connect(db_path(data_dir)) as db:
        row = db.execute("SELECT status, reason FROM jobs WHERE scan_id = ?",
                         (scan_id,)).fetchone()
    assert row is not None, scan_id
    return row[0], row[1]


def insert_record(data_dir: Path, *, path: Path, sha256: str, name: str, size: int,
                  status: str = "queued", created: datetime | None = None,
                  finished: datetime | None = None) -> str:
    """A job record as a previous process would have left it."""
    scan_id = uuid.uuid4().hex

    def us(t: datetime) -> int:
        return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)

    created = created or datetime.now(UTC)
    with sqlite3.connect(db_path(data_dir)) as db:
        db.execute(
            "INSERT INTO jobs (scan_id, kind, status, sha256, input, size, path, owner, "
            "deduplicated, leader, lists_version, reason, error_kind, created_us, started_us, "
            "finished_us) VALUES (?, 'apk', ?, ?, ?, ?, ?, NULL, 0, NULL, '', NULL, NULL, ?, "
            "NULL, ?)",
            (scan_id, status, sha256, name, size, str(path), us(created),
             us(finished) if finished else None))
    return scan_id


async def test_the_history_is_a_versioned_wal_database(tmp_path: Path) -> None:
    async with running(create_app(apk_settings(tmp_path))):
        pass
    with sqlite3.connect(db_path(tmp_path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.slow
async def test_finished_scans_are_answered_after_a_restart(tmp_path: Path) -> None:
    async with running(create_app(apk_settings(tmp_path))) as client:
        done = (await client.post(UPLOAD, params={"wait": 60, "lang": "en"}, files={
            "file": ("dvc.apk", (FIXTURES / "fake_dichvucong.apk").read_bytes(), APK_TYPE)}))
        assert done.status_code == 200 and done.json()["status"] == "done", done.text
        failed = (await client.post(UPLOAD, params={"wait": 60}, files={
            "file": ("nz.apk", (FIXTURES / "not_zip.apk").read_bytes(), APK_TYPE)}))
        assert failed.json()["status"] == "failed", failed.text
    first, refused = done.json(), failed.json()
    assert stored_status(tmp_path, first["scan_id"]) == ("done", None)
    assert stored_status(tmp_path, refused["scan_id"]) == ("failed", refused["reason"])

    app = create_app(apk_settings(tmp_path))
    async with running(app) as client:
        jobs: JobManager = app.state.services.jobs
        assert first["scan_id"] not in jobs._jobs  # from SQLite, not memory
        again = await client.get(first["status_url"], params={"lang": "en"})
        assert again.status_code == 200, again.text
        body = again.json()
        assert body["status"] == "done"
        assert body["report"] == first["report"]
        for k in ("scan_id", "sha256", "input", "size", "created", "started", "finished",
                  "deduplicated"):
            assert body[k] == first[k], k
        assert body["sha256"] == sha256_of("fake_dichvucong.apk")
        gone = (await client.get(refused["status_url"])).json()
        assert gone["status"] == "failed"
        assert gone["reason"] == refused["reason"]
        assert gone["error_kind"] == refused["error_kind"]
        assert jobs.scans_started == 0
        unknown = await client.get(f"/v1/scans/{uuid.uuid4().hex}")
        assert unknown.status_code == 404


@pytest.mark.slow
async def test_unfinished_records_are_resumed_or_failed_on_start(tmp_path: Path) -> None:
    async with running(create_app(apk_settings(tmp_path))):
        pass  # makes the data dir and the database, as a previous run would have
    data = (FIXTURES / "fake_vneid.apk").read_bytes()
    samples = SampleStore(tmp_path / "samples", max_bytes=len(data))
    samples.open()
    sample = await samples.put_bytes(data, "vneid.apk")
    queued = insert_record(tmp_path, path=sample.path, sha256=sample.sha256,
                           name="vneid.apk", size=sample.size)
    running_ = insert_record(tmp_path, path=sample.path, sha256=sample.sha256,
                             name="again.apk", size=sample.size, status="running")
    missing_sha = "0" * 64
    lost = insert_record(tmp_path, path=tmp_path / "samples" / "00" / "00" / missing_sha,
                         sha256=missing_sha, name="lost.apk", size=123)

    app = create_app(apk_settings(tmp_path))
    async with running(app) as client:
        body = (await client.get(f"/v1/scans/{queued}", params={"wait": 60})).json()
        assert body["status"] == "done", body
        assert body["scan_id"] == queued and body["input"] == "vneid.apk"
        assert body["report"]["verdict"], body
        other = (await client.get(f"/v1/scans/{running_}", params={"wait": 60})).json()
        assert other["status"] == "done", other
        assert other["input"] == "again.apk" and other["deduplicated"]
        assert app.state.services.jobs.scans_started == 1  # one scan of the one sample
        failed = (await client.get(f"/v1/scans/{lost}")).json()
        assert failed["status"] == "failed"
        assert failed["reason"] == SAMPLE_GONE
        assert failed["error_kind"] == "sample-gone"
    assert stored_status(tmp_path, queued) == ("done", None)
    assert stored_status(tmp_path, running_) == ("done", None)
    assert stored_status(tmp_path, lost) == ("failed", SAMPLE_GONE)


@pytest.mark.slow
async def test_a_scan_in_flight_at_shutdown_is_resumed(tmp_path: Path) -> None:
    async with running(create_app(apk_settings(tmp_path))) as client:
        r = await client.post(UPLOAD, files={
            "file": ("vneid.apk", (FIXTURES / "fake_vneid.apk").read_bytes(), APK_TYPE)})
        assert r.status_code == 202, r.text
        scan_id: str = r.json()["scan_id"]
    # stopped before the scan ended: the record waits for the next start
    assert stored_status(tmp_path, scan_id)[0] in ("queued", "running")

    app = create_app(apk_settings(tmp_path))
    async with running(app) as client:
        body = (await client.get(f"/v1/scans/{scan_id}", params={"wait": 60})).json()
        assert body["status"] == "done", body
        assert body["input"] == "vneid.apk"
    assert stored_status(tmp_path, scan_id) == ("done", None)


async def test_old_history_is_pruned_when_asked(tmp_path: Path) -> None:
    async with running(create_app(apk_settings(tmp_path))):
        pass
    long_ago = datetime.now(UTC) - timedelta(days=40)
    old = insert_record(tmp_path, path=tmp_path / "x", sha256="1" * 64, name="old.apk",
                        size=1, status="failed", created=long_ago, finished=long_ago)
    recent = insert_record(tmp_path, path=tmp_path / "y", sha256="2" * 64, name="new.apk",
                           size=1, status="failed", finished=datetime.now(UTC))
    kwargs: dict[str, Any] = {"history_days": 30}
    jobs = JobManager(tmp_path / "reports", **kwargs)
    jobs.open()
    try:
        assert jobs.get(old) is None
        kept = jobs.get(recent)
        assert kept is not None and kept.status == "failed" and kept.input == "new.apk"
    finally:
        await jobs.aclose()
