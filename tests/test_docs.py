"""``/docs`` and ``/redoc`` work without internet: their pages name only this origin's
assets, the bundled assets are served with the right types, and the pages carry a
Content-Security-Policy that allows no other host (the browser check is in
``tests/test_docs_e2e.py``)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from api.routes.docs import STATIC_DIR, STATIC_PREFIX
from api.settings import Settings
from tests.asgi import running

pytestmark = pytest.mark.anyio

# Every URL-bearing attribute or url() in a page: src=, href=, spec-url=, url: '...'.
_URLS = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, host="127.0.0.1", log_level="WARNING")
    async with running(create_app(settings)) as c:
        yield c


def _urls(html: str) -> list[str]:
    return [a or b for a, b in _URLS.findall(html)]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_page_names_only_local_assets(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    urls = _urls(r.text)
    assert "/openapi.json" in urls, urls
    assert any(u.startswith(STATIC_PREFIX + "/") and u.endswith(".js") for u in urls), urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
    # No other host anywhere in the page (Google fonts, a CDN, the validator badge).
    assert not re.search(r"(?:https?:)?//[a-z0-9]", r.text, re.IGNORECASE), r.text
    # Every asset the page names is served.
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_pages_allow_only_this_origin(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    policy = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    for name, sources in directives.items():
        for source in sources.split():
            # Only this origin, hashes, data: images and blob: workers: never a host.
            assert source in ("'self'", "'none'", "'unsafe-inline'") or source.startswith(
                "'sha256-") or (source, name) in (("data:", "img-src"),
                                                  ("blob:", "worker-src")), (name, source)
    assert "'unsafe-inline'" not in directives["script-src"]
    # The inline configuration of Swagger UI is allowed by its hash and nothing else is.
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
              for s in inline]
    assert sorted(directives["script-src"].split()) == sorted(["'self'", *hashes])
    assert len(inline) == (1 if path == "/docs" else 0)
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("name", "media_type"), sorted(_TYPES.items()))
async def test_each_asset_is_served_with_its_type(client: httpx.AsyncClient, name: str,
                                                  media_type: str) -> None:
    r = await client.get(f"{STATIC_PREFIX}/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert r.content == (STATIC_DIR / name).read_bytes()
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]


async def test_the_assets_ship_with_their_licences() -> None:
    names = {p.name for p in STATIC_DIR.iterdir()}
    assert set(_TYPES) <= names
    assert {"LICENSE.swagger-ui", "NOTICE.swagger-ui", "LICENSE.redoc", "README.md"} <= names
    readme = (STATIC_DIR / "README.md").read_text()
    for word in ("swagger-ui-dist", "redoc", "Apache-2.0", "MIT"):
        assert word in readme


async def test_an_unknown_asset_is_a_problem_not_a_page(client: httpx.AsyncClient) -> None:
    for path in (f"{STATIC_PREFIX}/nope.js", f"{STATIC_PREFIX}/../../main.py",
                 f"{STATIC_PREFIX}/%2e%2e/%2e%2e/main.py"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json"), path


async def test_the_docs_are_not_operations_of_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/docs" not in spec["paths"] and "/redoc" not in spec["paths"]
    assert "/v1/url-scans" in spec["paths"]


async def test_the_assets_are_package_data() -> None:
    """The container installs the wheel, not the tree: the assets must be in it."""
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    package_data = pyproject["tool"]["setuptools"]["package-data"]["api"]
    assert "static/docs/*" in package_data
