"""Shared fixtures: one suite, parametrised over both stores.

PostGIS tests need a server: set PLACEPORTRAIT_TEST_DATABASE_URL (``.ci/run`` does).
Each test gets its own PostgreSQL schema, dropped afterwards. Outside CI a missing
server skips those tests; with CI=true any skip fails the run.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
TEST_DB_ENV = "PLACEPORTRAIT_TEST_DATABASE_URL"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def build_demo(url: str) -> str:
    """``placeportrait demo --no-serve`` into the store at ``url``."""
    from placeportrait.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--database-url", url, "demo", "--no-serve"])
    assert exit_info.value.code == 0
    return url


def demo_in_fresh_home(tmp_path_factory, url: str | None = None) -> str:
    """A demo store (by default a GeoPackage) built from a home of its own, for a module's
    (scope="module") fixture."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLACEPORTRAIT_HOME", str(home))
        mp.delenv("PLACEPORTRAIT_DATABASE_URL", raising=False)
        return build_demo(url or str(home / "demo.gpkg"))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """No test touches the user's real store, cache or configuration."""
    monkeypatch.setenv("PLACEPORTRAIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PLACEPORTRAIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLACEPORTRAIT_CACHE", raising=False)


def _postgis_url(request) -> str:
    url = os.environ.get(TEST_DB_ENV)
    if not url:
        message = f"{TEST_DB_ENV} is not set: no PostGIS server to test against"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


@contextlib.contextmanager
def postgis_schema(request):
    """A URL to a fresh, empty schema on the test PostGIS server, dropped afterwards."""
    import sqlalchemy as sa

    base = _postgis_url(request)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{name},public"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgis_url(request):
    """A URL to a fresh, empty schema on the test PostGIS server."""
    with postgis_schema(request) as url:
        yield url


@pytest.fixture
def gpkg_url(tmp_path):
    return str(tmp_path / "store" / "placeportrait.gpkg")


@pytest.fixture(params=["geopackage", "postgis"])
def store_url(request):
    """The store under test: every test using it runs on both backends."""
    if request.param == "postgis":
        return request.getfixturevalue("postgis_url")
    return request.getfixturevalue("gpkg_url")


@pytest.fixture
def store(store_url):
    from placeportrait.store import open_store

    s = open_store(store_url)
    s.init()
    yield s
    if s.kind == "postgis":
        s.engine().dispose()


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failed test: PostGIS and browser tests must run."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} tests skipped; a skip is a failure in CI",
                            red=True)
        session.exitstatus = 1
