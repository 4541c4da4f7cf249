"""Exports of finished scans: GET /v1/scans/{id}/export?format=json|stix.

The STIX bundles are read back with the OASIS ``stix2`` library
(``allow_custom=False``: nothing outside STIX 2.1) and checked by the OASIS
``stix2-validator`` in strict mode. Real apps through httpx's ASGI transport,
the real process pool and androguard on the committed fixtures, the loopback
scam site of tests/live_servers.py for the live chain. No mocks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import stix2  # type: ignore[import-untyped]
from stix2validator import ValidationOptions, validate_string  # type: ignore[import-untyped]

from api.main import STIX_MEDIA_TYPE
from scanners import stix
from tests.live_servers import DictResolver, ScamSite
from tests.test_api_apk import APK_TYPE, assert_problem, sha256_of
from tests.test_auth import make_key
from tests.test_history import (
    DANGEROUS,
    OFFICIAL,
    app_client,
    as_key,
    scan_link,
    settings_for,
    upload,
)
from tests.test_live_e2e import FAKE_APP, serve_real_apk

pytestmark = pytest.mark.anyio


def export_path(scan_id: str) -> str:
    return f"/v1/scans/{scan_id}/export"


async def stix_of(c: httpx.AsyncClient, scan_id: str, **params: Any) -> tuple[Any, str]:
    """The bundle (parsed back by stix2) and its text; checks the answer's headers."""
    r = await c.get(export_path(scan_id), params={"format": "stix", **params})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == STIX_MEDIA_TYPE == stix.MEDIA_TYPE
    assert r.headers["content-disposition"] == (
        f'attachment; filename="scamscan-{scan_id}.stix.json"')
    return stix2.parse(r.text, allow_custom=False), r.text


def assert_valid(text: str) -> None:
    """The OASIS validator, strict (best-practice checks as errors), finds nothing."""
    result = validate_string(text, ValidationOptions(strict=True))
    assert result.is_valid, [str(e) for e in result.errors]
    assert result.warnings == []


def of_type(bundle: Any, kind: str) -> list[Any]:
    return [o for o in bundle.objects if o.type == kind]


def patterns(bundle: Any) -> set[str]:
    return {o.pattern for o in of_type(bundle, "indicator")}


def the_report(bundle: Any) -> Any:
    (report,) = of_type(bundle, "report")
    return report


# --- links --------------------------------------------------------------------------------


async def test_link_json_export_is_the_scan_as_a_download(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        report = await scan_link(c, DANGEROUS, lang="en")
        sid = report["scan_id"]
        r = await c.get(export_path(sid), params={"format": "json", "lang": "en"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.headers["content-disposition"] == (
            f'attachment; filename="scamscan-{sid}.json"')
        assert r.json() == (await c.get(f"/v1/scans/{sid}", params={"lang": "en"})).json()
        assert r.json()["report"] == report
        # json is the default format; lang re-titles it like GET /v1/scans/{id}
        vi = (await c.get(export_path(sid), params={"lang": "vi"})).json()
        assert vi["report"]["reasons"] != report["reasons"]
        assert vi["report"]["risk_score"] == report["risk_score"]


async def test_dangerous_link_stix_has_url_and_domain_indicators(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        report = await scan_link(c, f"https://{DANGEROUS}/dang-nhap", lang="en")
        bundle, text = await stix_of(c, report["scan_id"], lang="en")
        vi, _ = await stix_of(c, report["scan_id"])  # the server's default language
    assert_valid(text)
    assert report["verdict"] == "dangerous"
    assert patterns(bundle) == {
        f"[url:value = 'https://{DANGEROUS}/dang-nhap']",
        f"[domain-name:value = '{DANGEROUS}']",
    }
    (identity,) = of_type(bundle, "identity")
    assert identity.name == "scamscan" and identity.id == stix.IDENTITY_ID
    for ind in of_type(bundle, "indicator"):
        assert ind.pattern_type == "stix" and ind.indicator_types == ["malicious-activity"]
        assert ind.created_by_ref == identity.id
        assert ind.confidence == report["risk_score"]
    rep = the_report(bundle)
    counted = [f["rule_id"] for f in report["findings"] if "suppressed_by" not in f]
    assert rep.labels == ["scamscan", "verdict:dangerous", *counted]
    assert rep.report_types == ["threat-report"]
    assert f"risk score {report['risk_score']}/100" in rep.description
    assert all(rule in rep.description for rule in counted)
    assert report["reasons"][0] in rep.description
    assert report["reasons"][0] not in the_report(vi).description
    assert patterns(vi) == patterns(bundle)
    refs = set(rep.object_refs)
    assert {o.id for o in of_type(bundle, "indicator")} <= refs
    assert {o.value for o in of_type(bundle, "url")} == {f"https://{DANGEROUS}/dang-nhap"}
    assert {o.value for o in of_type(bundle, "domain-name")} == {DANGEROUS}


async def test_official_link_stix_has_no_indicators(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        report = await scan_link(c, OFFICIAL)
        bundle, text = await stix_of(c, report["scan_id"])
    assert_valid(text)
    assert report["verdict"] == "official"
    assert of_type(bundle, "indicator") == [] and of_type(bundle, "malware") == []
    rep = the_report(bundle)
    assert rep.report_types == ["observed-data"]
    assert "verdict:official" in rep.labels
    assert {o.value for o in of_type(bundle, "domain-name")} == {OFFICIAL}


@pytest.mark.slow
async def test_live_link_stix_covers_the_redirect_chain_and_the_download(
    tmp_path: Path,
) -> None:
    with ScamSite() as site:
        serve_real_apk(site)
        settings = settings_for(tmp_path, fetch_allow_networks="127.0.0.1/32")
        async with app_client(settings, resolver=DictResolver({})) as c:  # no system DNS
            r = await c.post("/v1/url-scans", json={"url": site.url("/short"),
                                                    "offline": False, "lang": "en"})
            assert r.status_code == 200, r.text
            report = r.json()
            bundle, text = await stix_of(c, report["scan_id"])

            # the downloaded app was recorded too, with the site it came from
            dl = next(f for f in report["findings"] if f["rule_id"] == "URL-DL-001")
            app_scan = dl["evidence"]["apk_scan"]
            assert (await c.get(app_scan["status_url"], params={"wait": 60})).json()[
                "status"] == "done"
            found = (await c.get("/v1/scans", params={"q": "127.0.0.1", "kind": "apk"})).json()
            assert [i["scan_id"] for i in found["items"]] == [app_scan["scan_id"]]
            assert found["items"][0]["verdict"] == "dangerous"
            assert found["items"][0]["host"] == "127.0.0.1"
    assert_valid(text)
    assert report["verdict"] == "dangerous"
    chain = next(f for f in report["findings"] if f["rule_id"] == "URL-NET-000")
    hops = [h["url"] for h in chain["evidence"]["chain"]]
    assert [h.rsplit("/", 1)[-1] for h in hops[:4]] == ["short", "r1", "r2", "page"]
    found_patterns = patterns(bundle)
    for hop in hops:
        assert f"[url:value = '{hop}']" in found_patterns
    assert f"[url:value = '{dl['evidence']['url']}']" in found_patterns
    sha = hashlib.sha256(FAKE_APP).hexdigest()
    assert f"[file:hashes.'SHA-256' = '{sha}']" in found_patterns
    # 127.0.0.1 is an address, not a domain name: no domain-name indicator for it
    assert not [p for p in found_patterns if p.startswith("[domain-name")]


# --- apps -----------------------------------------------------------------------------------


@pytest.mark.slow
async def test_apk_stix_has_file_signer_and_embedded_url_indicators(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        done = await upload(c, "fake_dichvucong.apk", wait=60, lang="en")
        assert done["status"] == "done", done
        bundle, text = await stix_of(c, done["scan_id"])
        as_json = await c.get(export_path(done["scan_id"]), params={"lang": "en"})
    assert_valid(text)
    report = done["report"]
    sha = sha256_of("fake_dichvucong.apk")
    (cert,) = report["app"]["certificates"]
    assert patterns(bundle) == {
        f"[file:hashes.'SHA-256' = '{sha}']",
        f"[x509-certificate:hashes.'SHA-256' = '{cert['sha256']}']",
        # APK-URL-001: the embedded links judged suspicious or dangerous
        "[url:value = 'http://203.0.113.7:8080/']",
        "[url:value = 'https://dichvucong-gov.com/api']",
        "[domain-name:value = 'dichvucong-gov.com']",
        # APK-URL-003: the WebSocket endpoint (and its host)
        "[url:value = 'wss://c2.example.top/ws']",
        "[domain-name:value = 'c2.example.top']",
    }
    (file_obj,) = of_type(bundle, "file")
    assert file_obj.hashes == {"SHA-256": sha} and file_obj.name == "fake_dichvucong.apk"
    (x509,) = of_type(bundle, "x509-certificate")
    assert x509.hashes == {"SHA-256": cert["sha256"]} and x509.subject == "CN=aaa"
    (malware,) = of_type(bundle, "malware")
    assert malware.name == "Dịch vụ công" and malware.is_family is False
    assert malware.sample_refs == [file_obj.id]
    indicates = {(r.source_ref, r.target_ref) for r in of_type(bundle, "relationship")
                 if r.relationship_type == "indicates"}
    assert indicates == {(i.id, malware.id) for i in of_type(bundle, "indicator")}
    rep = the_report(bundle)
    assert {"APK-IMP-003", "APK-CAP-020"} <= set(rep.labels)
    assert malware.id in rep.object_refs and file_obj.id in rep.object_refs
    assert as_json.status_code == 200 and as_json.json()["report"] == report


@pytest.mark.slow
async def test_benign_app_stix_has_no_indicators(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        done = await upload(c, "benign_notes.apk", wait=60)
        bundle, text = await stix_of(c, done["scan_id"])
    assert_valid(text)
    assert done["report"]["verdict"] in ("no_known_risk", "official")
    assert of_type(bundle, "indicator") == [] and of_type(bundle, "malware") == []
    (file_obj,) = of_type(bundle, "file")
    assert file_obj.hashes == {"SHA-256": sha256_of("benign_notes.apk")}


# --- errors and visibility ------------------------------------------------------------------


async def test_export_errors_are_problems(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        report = await scan_link(c, DANGEROUS)
        failed = await c.post("/v1/apk-scans", params={"wait": 30},
                              files={"file": ("x.apk", b"MZ not an app", APK_TYPE)})
        assert failed.json()["status"] == "failed"
        for fmt in ("json", "stix"):
            body = assert_problem(await c.get(export_path(failed.json()["scan_id"]),
                                              params={"format": fmt}), 409, "failed")
            assert body["type"].endswith("/not-finished")
        assert_problem(await c.get(export_path("feedface" * 4)), 404, "no scan")
        bad = assert_problem(await c.get(export_path(report["scan_id"]),
                                         params={"format": "xml"}), 422)
        assert [e["field"] for e in bad["errors"]] == ["format"]


@pytest.mark.slow
async def test_exports_follow_the_scan_visibility(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    _, a_key = await make_key(settings, "client", "a")
    _, b_key = await make_key(settings, "client", "b")
    _, analyst_key = await make_key(settings, "analyst", "analyst")
    async with app_client(settings, a_key) as a, as_key(a, b_key) as b, \
            as_key(a, analyst_key) as analyst:
        link = await scan_link(a, DANGEROUS)
        app = await upload(a, "fake_vneid.apk", wait=60)
        for sid in (link["scan_id"], app["scan_id"]):
            for fmt in ("json", "stix"):
                assert_problem(await b.get(export_path(sid), params={"format": fmt}), 404)
                assert (await a.get(export_path(sid), params={"format": fmt})
                        ).status_code == 200
                assert (await analyst.get(export_path(sid), params={"format": fmt})
                        ).status_code == 200


# --- the pure module ----------------------------------------------------------------------


def synthetic(url: str, *, verdict: str = "dangerous", chain: list[str] | None = None
              ) -> dict[str, Any]:
    findings: list[dict[str, Any]] = [{"rule_id": "URL-BL-001", "points": 90,
                                       "severity": "critical", "title": "Listed",
                                       "evidence": {}}]
    if chain:
        findings.append({"rule_id": "URL-NET-000", "points": 0, "severity": "info",
                         "title": "Chain", "evidence": {
                             "chain": [{"url": u} for u in chain], "final_url": chain[-1]}})
    return {"scan_id": "s1", "input": url, "url": url, "host": url.split("/")[2],
            "risk_score": 90, "verdict": verdict, "reasons": ["Listed"], "findings": findings}


@pytest.fixture
def created() -> Iterator[datetime]:
    yield datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_shortener_and_official_hosts_get_no_domain_indicator(created: datetime) -> None:
    report = synthetic("https://bit.ly/abc", chain=[
        "https://bit.ly/abc", "https://fake-dvc.example.top/login", "https://dichvucong.gov.vn/"])
    bundle = stix.url_bundle(report, scan_id="s1", created=created)
    assert patterns(bundle) == {
        "[url:value = 'https://bit.ly/abc']",  # the scanned link itself
        "[url:value = 'https://fake-dvc.example.top/login']",
        "[domain-name:value = 'fake-dvc.example.top']",
    }
    assert_valid(stix.bundle_json(bundle))


def test_quotes_and_backslashes_are_escaped_in_patterns(created: datetime) -> None:
    url = "https://evil.example.top/a'b\\c"
    assert stix.pattern_literal(url) == "'https://evil.example.top/a\\'b\\\\c'"
    report = synthetic(url)
    bundle = stix.url_bundle(report, scan_id="s1", created=created)
    back = stix2.parse(stix.bundle_json(bundle), allow_custom=False)
    (ind,) = [i for i in of_type(back, "indicator") if i.pattern.startswith("[url")]
    url_sco = of_type(back, "url")[0]
    assert ind.pattern == f"[url:value = {stix.pattern_literal(url_sco.value)}]"
    assert "\\'" in ind.pattern


def test_bundles_are_deterministic(created: datetime) -> None:
    scan = {"kind": "url", "scan_id": "s1", "created": created.isoformat(),
            "report": synthetic("https://fake-dvc.example.top/x")}
    one, two = stix.bundle_json(stix.scan_bundle(scan)), stix.bundle_json(stix.scan_bundle(scan))
    assert one == two
    assert json.loads(one)["objects"][-1]["published"] == "2026-01-02T03:04:05Z"
    with pytest.raises(ValueError, match="no report"):
        stix.scan_bundle({**scan, "report": None})
