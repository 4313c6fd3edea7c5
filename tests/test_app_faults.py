"""The app while its store goes away and comes back, on the real stores.

PostgreSQL is "restarted" without touching the shared server: the app reaches it through a
small TCP proxy in this file. ``stop()`` closes the proxy's listener and every connection
through it (new connections are refused, open ones are cut mid-session, as when the server
goes down); ``start()`` listens again on the same port. The GeoPackage store is taken away
by renaming its file and brought back by renaming it again.

While the store is away, every callback shows one plain-English line and every Flask
route answers 503 with Retry-After and plain text (never a 500 or a traceback); once it is
back, the same app object serves the same requests again, with no restart.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import threading

import pytest
import sqlalchemy as sa
from conftest import DATA, map_start
from placeportrait_app.dashcall import CallbackClient

from placeportrait.cli import main

SET = "trafford-wards-2023"
ALTRINCHAM = "E05015239"
DEMO = DATA.parent.parent / "src" / "placeportrait" / "data" / "demo"
DOWN = "The database is not reachable just now; the page will work again when it is back. " \
       "Try again in a moment."
FILE_GONE = "The store file is missing or cannot be read just now"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``; stop() and start() are a server restart."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    assert exit_info.value.code == 0


def load_small_portrait(url: str) -> None:
    """Trafford's 21 wards, one indicator, scored: real data, quick to load."""
    cli("--database-url", url, "boundaries", "load", DEMO / "trafford_wards_dec2023_bsc.geojson",
        "--set", SET, "--level", "ward")
    cli("--database-url", url, "indicators", "run", "gigabit_broadband", "--boundary-set", SET,
        "--input", f"gigabit_broadband={DATA / 'indicators' / 'gigabit-capable-broadband.csv'}")
    cli("--database-url", url, "score", "--boundary-set", SET)


@pytest.fixture
def proxied_url(postgis_url):
    """The scored store in its own PostGIS schema, and a URL to it through the proxy."""
    load_small_portrait(postgis_url)
    real = sa.engine.make_url(postgis_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    proxy.start()
    yield real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    if proxy._listener is not None:
        proxy.stop()


def route(client, path, search=""):
    return client.call("url.pathname", {"url.pathname": path, "url.search": search}, changed=[])


MAP_STATE = {"set": SET, "version": None, "indicator": "gigabit_broadband", "la": None,
             "highlight": [ALTRINCHAM]}
PANEL_STATE = {"view": "ward", "set": SET, "ward": ALTRINCHAM, "wards": [],
               "indicator": "gigabit_broadband", "la": None, "version": None}


def page(client, http, tiles_url):
    """Everything a visit to Altrincham's portrait asks of the server, as responses."""
    return {
        "route": route(client, f"/ward/{ALTRINCHAM}"),
        "map": client.call("map-spec.data", {"map-state.data": MAP_STATE}, {"map-shown.data": None}),
        "panel": client.call("panel-title.children", {"panel-state.data": PANEL_STATE}),
        "list": client.call("ward-list.children", {"map-shown.data": {}},
                            {"map-state.data": MAP_STATE}),
        "search": client.call("search.options", {"search.search_value": "altr"},
                              {"map-state.data": MAP_STATE}),
        "tiles": http.get(tiles_url),
        "layout": http.get("/_dash-layout"),
        "page": http.get(f"/ward/{ALTRINCHAM}"),
        "report": http.get(f"/report/{SET}/{ALTRINCHAM}.html"),
    }


def open_app(url):
    """The app on ``url`` (ttl=0: every request asks the store), a callback client, a
    plain HTTP client and the URL of the set's vector tiles."""
    from placeportrait_app import create_app

    app = create_app(url, ttl=0, warm=False)
    tiles_url = f"/_placeportrait/tiles/{SET}/{app.placeportrait.geometry_version(SET)}/0/0/0.mvt"
    return app, CallbackClient(app), app.server.test_client(), tiles_url


def text(component) -> str:
    return component["props"]["children"]


def assert_working(out):
    assert out["route"].status == 200 and out["route"].output("messages.children") is None
    assert out["route"].output("map-state.data")["set"] == SET
    assert len(out["map"].output("map-spec.data")["codes"]) == 21
    assert out["panel"].output("panel-title.children") == "Ward portrait: Altrincham"
    assert "Gigabit" in json.dumps(out["panel"].output("panel-body.children"))
    assert "Altrincham" in json.dumps(out["list"].output("ward-list.children"))
    assert out["search"].output("search.options")[0]["value"] == ALTRINCHAM
    assert out["tiles"].status_code == 200
    template = map_start(out["page"])["tiles"]["tiles"][0]
    assert template.replace("{z}/{x}/{y}", "0/0/0") == out["tiles"].request.path
    assert out["report"].status_code == 200 and b"Altrincham" in out["report"].get_data()


def assert_down(out, message, client):
    for name in ("route", "map", "panel", "list", "search"):
        assert out[name].status == 200, name  # the callbacks answer; the page says why
    assert [text(p) for p in out["route"].output("messages.children")] == [message]
    down_state = out["route"].output("map-state.data")
    assert down_state == {"set": None, "unavailable": message}
    assert out["route"].output("panel-state.data") == down_state
    assert out["map"].output("map-caption.children") == message
    assert text(out["panel"].output("panel-body.children")) == message
    assert text(out["list"].output("ward-list.children")) == message
    assert text(out["search"].response["sideUpdate"]["messages"]["children"][0]) == message
    # the states the router sets while down draw the message, not "no boundary set"
    m = client.call("map-spec.data", {"map-state.data": down_state}, {"map-shown.data": None})
    assert m.output("map-caption.children") == message
    p = client.call("panel-title.children", {"panel-state.data": down_state})
    assert text(p.output("panel-body.children")) == message
    # the page itself still comes, starting the map only when values come
    assert out["layout"].status_code == 200
    assert out["page"].status_code == 200 and map_start(out["page"]) is None
    for name in ("tiles", "report"):
        response = out[name]
        assert response.status_code == 503, name
        assert response.headers["Retry-After"] == "5"
        assert response.mimetype == "text/plain"
        assert response.get_data(as_text=True) == message + "\n"


def no_tracebacks(caplog):
    return [r.getMessage() for r in caplog.records if r.exc_info]


def test_postgres_restart_shows_a_temporary_message_then_recovers(proxied_url, caplog):
    url, proxy = proxied_url
    app, client, http, tiles_url = open_app(url)
    assert_working(page(client, http, tiles_url))

    proxy.stop()  # the server goes away: pooled connections are cut, new ones refused
    with caplog.at_level(logging.WARNING, logger="placeportrait.app"):
        down = page(client, http, tiles_url)
        assert_down(down, DOWN, client)
        assert_down(page(client, http, tiles_url), DOWN, client)  # still down, same answer
    assert no_tracebacks(caplog) == []
    assert any("store unavailable" in r.getMessage() for r in caplog.records)

    proxy.start()  # back, on the same address: the same app object works again
    assert_working(page(client, http, tiles_url))
    # the router leaves the "unavailable" state behind, so the page redraws the view
    r = client.call("url.pathname", {"url.pathname": f"/ward/{ALTRINCHAM}", "url.search": ""},
                    {"map-state.data": down["route"].output("map-state.data"),
                     "panel-state.data": down["route"].output("panel-state.data")}, changed=[])
    assert r.output("map-state.data")["set"] == SET and r.output("messages.children") is None
    assert r.output("panel-state.data")["ward"] == ALTRINCHAM
    app.placeportrait.store.engine().dispose()


def test_postgres_down_at_start_is_one_line_naming_the_store(proxied_url):
    from placeportrait_app import create_app

    from placeportrait.errors import StoreError

    url, proxy = proxied_url
    proxy.stop()
    with pytest.raises(StoreError, match=r"^cannot connect to postgis store at .*"):
        create_app(url, warm=False)


def test_geopackage_file_gone_then_back(tmp_path, caplog):
    url = str(tmp_path / "store.gpkg")
    load_small_portrait(url)
    _, client, http, tiles_url = open_app(url)
    assert_working(page(client, http, tiles_url))

    os.replace(url, tmp_path / "elsewhere.gpkg")  # e.g. a volume unmounted
    with caplog.at_level(logging.WARNING, logger="placeportrait.app"):
        down = page(client, http, tiles_url)
        message = text(down["route"].output("messages.children")[0])
        assert message.startswith(FILE_GONE)
        assert_down(down, message, client)
        (tmp_path / "store.gpkg").write_bytes(b"not a GeoPackage at all" * 100)  # unreadable
        assert_down(page(client, http, tiles_url), message, client)
    assert no_tracebacks(caplog) == []

    os.replace(tmp_path / "elsewhere.gpkg", url)
    assert_working(page(client, http, tiles_url))


# -- in a real browser ------------------------------------------------------------------------
browser = pytest.mark.skipif(
    not (shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("google-chrome"))),
    reason="the browser test needs chromium and chromedriver")


@pytest.fixture
def dash_duo(request, dash_thread_server, tmp_path):
    """dash[testing]'s dash_duo, always headless (as in test_app.py)."""
    from dash.testing.composite import DashComposite

    with DashComposite(dash_thread_server, browser="Chrome", headless=True,
                       download_path=str(tmp_path), wait_timeout=20) as dc:
        dc.driver.set_window_size(1400, 1000)
        yield dc


@browser
def test_browser_shows_the_message_while_down_and_the_page_after(dash_duo, proxied_url):
    from placeportrait_app import create_app

    url, proxy = proxied_url
    app = create_app(url, ttl=0, warm=False)
    dash_duo.start_server(app, port=_free_port())
    ward = f"{dash_duo.server_url}/ward/{ALTRINCHAM}"
    dash_duo.driver.get(ward)
    dash_duo.wait_for_contains_text("#panel-title", "Ward portrait: Altrincham", timeout=20)

    proxy.stop()
    dash_duo.driver.get(ward)
    dash_duo.wait_for_contains_text("#messages", "The database is not reachable just now",
                                    timeout=20)
    dash_duo.wait_for_contains_text("#panel-body", "Try again in a moment", timeout=20)
    assert "Traceback" not in dash_duo.driver.page_source

    proxy.start()
    dash_duo.driver.get(ward)
    dash_duo.wait_for_contains_text("#panel-title", "Ward portrait: Altrincham", timeout=20)
    dash_duo.wait_for_element("#map canvas", timeout=20)
    assert dash_duo.find_element("#messages").text == ""
    app.placeportrait.store.engine().dispose()


def test_postgres_connection_cut_mid_session(postgis_url):
    """A connection the server drops while the app holds it (as in a restart or failover):
    the read fails with the temporary message, and the next read opens a new connection."""
    from placeportrait_app.data import Repository

    from placeportrait.errors import StoreUnavailableError

    load_small_portrait(postgis_url)
    repo = Repository.open(postgis_url, ttl=0)
    admin = sa.create_engine(postgis_url)
    with pytest.raises(StoreUnavailableError, match=f"^{re.escape(DOWN)}$"), \
            repo.store.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.begin() as other:
            assert other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
                                 ).scalar_one()
        conn.execute(sa.text("SELECT 1"))
    assert repo.version(SET) is not None and len(repo.table(SET)) == 21
    repo.store.engine().dispose()
    admin.dispose()
