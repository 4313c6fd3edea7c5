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


def _run_demo(url: str) -> str:
    """``placeportrait demo --no-serve`` into the store at ``url``."""
    from placeportrait.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--database-url", url, "demo", "--no-serve"])
    assert exit_info.value.code == 0
    return url


class DemoTemplates:
    """The demo is built once per session and store kind (about 20 s each); tests get
    copies: a file copy of the GeoPackage, a ``CREATE DATABASE … TEMPLATE`` on PostGIS.
    ``tests/test_cli.py`` still builds it from scratch, as a user would."""

    def __init__(self):
        self._gpkg: Path | None = None
        self._database: str | None = None
        self._copies: list[str] = []

    def geopackage(self, dest: Path) -> str:
        import shutil
        import tempfile

        if self._gpkg is None:
            home = Path(tempfile.mkdtemp(prefix="placeportrait-demo-"))
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("PLACEPORTRAIT_HOME", str(home))
                mp.delenv("PLACEPORTRAIT_DATABASE_URL", raising=False)
                self._gpkg = Path(_run_demo(str(home / "demo.gpkg")))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._gpkg, dest)
        return str(dest)

    def _admin(self, request):
        import sqlalchemy as sa

        return sa.create_engine(_postgis_url(request), isolation_level="AUTOCOMMIT")

    @staticmethod
    def _url(request, database: str) -> str:
        import sqlalchemy as sa

        url = sa.engine.make_url(_postgis_url(request)).set(database=database)
        return url.render_as_string(hide_password=False)

    @staticmethod
    def _disconnect(conn, database: str) -> None:
        import sqlalchemy as sa

        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database})

    def postgis(self, request) -> str:
        """A URL to a new database holding the demo (dropped at the end of the session)."""
        import sqlalchemy as sa

        admin = self._admin(request)
        try:
            with admin.connect() as conn:
                if self._database is None:
                    self._database = f"pp_demo_{uuid.uuid4().hex[:10]}"
                    conn.execute(sa.text(f'CREATE DATABASE "{self._database}"'))
                    self._copies.append(self._database)
                    template = self._url(request, self._database)
                    build = sa.create_engine(template)
                    with build.begin() as c:
                        c.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
                    build.dispose()
                    _run_demo(template)
                name = f"pp_t_{uuid.uuid4().hex[:10]}"
                self._disconnect(conn, self._database)
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self._database}"'))
                self._copies.append(name)
        finally:
            admin.dispose()
        return self._url(request, name)

    def drop(self, url: str) -> None:
        """Drop one copy now (its connections closed first)."""
        import sqlalchemy as sa

        name = sa.engine.make_url(url).database
        admin = sa.create_engine(os.environ[TEST_DB_ENV], isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            self._disconnect(conn, name)
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
        self._copies.remove(name)

    def drop_all(self) -> None:
        import sqlalchemy as sa

        url = os.environ.get(TEST_DB_ENV)
        if not url or not self._copies:
            return
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in reversed(self._copies):
                self._disconnect(conn, name)
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


DEMOS = DemoTemplates()


def build_demo(url: str) -> str:
    """A copy of the session's demo at ``url`` (a GeoPackage path)."""
    return DEMOS.geopackage(Path(url))


def demo_in_fresh_home(tmp_path_factory) -> str:
    """A copy of the demo GeoPackage in a home of its own, for a module's fixture."""
    return DEMOS.geopackage(tmp_path_factory.mktemp("home") / "demo.gpkg")


@pytest.fixture(params=["geopackage", "postgis"])
def demo_store_url(request, tmp_path):
    """A copy of the demo in the store under test, on both backends."""
    if request.param == "postgis":
        url = DEMOS.postgis(request)
        yield url
        DEMOS.drop(url)
    else:
        yield DEMOS.geopackage(tmp_path / "store" / "placeportrait.gpkg")


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
    DEMOS.drop_all()
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} tests skipped; a skip is a failure in CI",
                            red=True)
        session.exitstatus = 1


def page_map(page_response) -> dict | None:
    """The first map the page (Dash's index HTML) carries: spec, state and shown."""
    from placeportrait_app import page_map as carried

    return carried(page_response.get_data(as_text=True))


def map_start(page_response) -> dict | None:
    """The spec of the map the page starts with."""
    first = page_map(page_response)
    return first["spec"] if first else None
