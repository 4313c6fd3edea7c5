"""Attacks and faults that once got through (issue #17), each on the real store, CLI or app.

Each test fails on the code before its fix: the GeoPackage writer's leftovers and integrity
check, CSV formula injection, forged callback state, the static gzip cache, implausible
boundaries, downloads that never end, special files, concurrent PostGIS runs, links from
plugin metadata and area codes.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from placeportrait import boundaries, fetch, spreadsheet_safe
from placeportrait.cli import main
from placeportrait.errors import BoundaryError, FetchError, InputError, StoreError
from placeportrait.store import open_store

from conftest import demo_in_fresh_home

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "src" / "placeportrait" / "data" / "demo"
DEMO_WARDS = DEMO / "trafford_wards_dec2023_bsc.geojson"
SET = "trafford-wards-2023"
ALTRINCHAM = "E05015239"


def cli(*args) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return exit_info.value.code


def run_cli(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    """The CLI in its own process, so a hang is a failed test, not a hung suite."""
    return subprocess.run([sys.executable, "-m", "placeportrait.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """The Trafford demo, built once; tests that change it work on a copy."""
    return Path(demo_in_fresh_home(tmp_path_factory))


@pytest.fixture
def demo_copy(demo_store, tmp_path):
    copy = tmp_path / "copy" / "demo.gpkg"
    copy.parent.mkdir()
    copy.write_bytes(demo_store.read_bytes())
    return copy


def sql(path: Path, statement: str, params=()) -> None:
    """Change a copy of the store as an attacker with the file would (not through our code).
    GeoPackage's R-tree triggers call SpatiaLite functions plain SQLite lacks; the geometry
    does not change, so they are set aside for the statement and put back."""
    with sqlite3.connect(path) as conn:
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                "AND name LIKE 'rtree_%'").fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(statement, params)
        for _, text in triggers:
            conn.execute(text)


# -- 1. the GeoPackage writer ------------------------------------------------------------
def _prepared(name="w"):
    return boundaries.prepare(boundaries.read_source(str(DEMO_WARDS)), name=name, level="ward",
                              source=str(DEMO_WARDS))


KILLED_WRITER = """
import os, shutil, sqlite3, sys
store, work = sys.argv[1], sys.argv[2]
shutil.copyfile(store, work)
conn = sqlite3.connect(work)
conn.execute("PRAGMA cache_size=1")  # spill to the file, so the journal is hot
conn.execute("BEGIN")
conn.execute("DELETE FROM areas")
conn.execute("DELETE FROM boundary_sets")
os._exit(9)  # killed mid-transaction: copy and journal stay behind
"""


def test_a_killed_writers_copy_and_journal_never_reach_the_store(gpkg_url):
    store = open_store(gpkg_url)
    store.init()
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    path = Path(gpkg_url)
    # the old writer named its copy by PID, and PIDs repeat (in containers especially)
    work = path.parent / f".{path.name}.{os.getpid()}.tmp.gpkg"
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path), str(work)], check=False)
    assert Path(str(work) + "-journal").exists(), "the killed writer should leave a hot journal"

    q = _prepared("other")
    store.replace_boundary_set(q.meta, q.areas)

    assert sorted(p.name for p in path.parent.glob(f".{path.name}.*")) == [f".{path.name}.lock"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert set(store.boundary_sets()["name"]) == {"w", "other"}
    assert len(store.read_area_table("w")) == 21 and len(store.read_area_table("other")) == 21


def _store_with_a_set(gpkg_url):
    store = open_store(gpkg_url)
    store.init()
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    return store, Path(gpkg_url).read_bytes()


def test_a_copy_that_fails_the_quick_check_never_replaces_the_store(gpkg_url):
    store, before = _store_with_a_set(gpkg_url)
    with pytest.raises(StoreError, match="integrity check.*unchanged"):
        with store._writing() as work:
            # two tables on one b-tree: pages referenced twice, others lost
            with sqlite3.connect(work) as conn:
                root = conn.execute("SELECT rootpage FROM sqlite_master "
                                    "WHERE name = 'indicators'").fetchone()[0]
                conn.execute("PRAGMA writable_schema=ON")
                conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'runs'", (root,))
    assert Path(gpkg_url).read_bytes() == before
    assert not list(Path(gpkg_url).parent.glob("*.tmp.gpkg*"))


def test_after_a_killed_writer_the_full_check_refuses_a_mismatched_index(gpkg_url):
    store, before = _store_with_a_set(gpkg_url)
    path = Path(gpkg_url)
    (path.parent / f".{path.name}.1234.tmp.gpkg-journal").write_bytes(b"left by a killed writer")
    with pytest.raises(StoreError, match="integrity check.*unchanged"):
        with store._writing() as work:
            # an index that no longer matches its table, as a rolled-in stale journal left it
            with sqlite3.connect(work) as conn:
                conn.execute("PRAGMA writable_schema=ON")
                conn.execute("UPDATE sqlite_master SET sql = replace(sql, '(boundary_set, code)', "
                             "'(code, boundary_set)') WHERE name = 'areas_set_code_key'")
    assert Path(gpkg_url).read_bytes() == before
    assert not list(Path(gpkg_url).parent.glob("*.tmp.gpkg*"))


# -- 2. CSV formula injection --------------------------------------------------------------
def test_spreadsheet_safe_neutralises_text_and_keeps_numbers():
    frame = pd.DataFrame({"name": ["=1+2", "+SUM(A1)", "-cmd", "@x", "\t=1", "Altrincham", None],
                          "value": [-1.5, 2.0, None, 3.0, 4.0, 5.0, 6.0]})
    out = spreadsheet_safe.neutralise_formulas(frame)
    assert list(out["name"][:6]) == ["'=1+2", "'+SUM(A1)", "'-cmd", "'@x", "'\t=1", "Altrincham"]
    assert pd.isna(out["name"].iloc[6])
    assert out["value"].iloc[0] == -1.5
    assert list(frame["name"][:1]) == ["=1+2"]  # the caller's frame is untouched


def test_export_and_app_downloads_neutralise_formulas_in_area_names(demo_copy, tmp_path):
    evil = '=HYPERLINK("http://example.invalid","Altrincham")'
    sql(demo_copy, "UPDATE areas SET name = ? WHERE code = ?", (evil, ALTRINCHAM))
    out = tmp_path / "scores.csv"
    assert cli("--database-url", demo_copy, "export", "--boundary-set", SET, "--format", "csv",
               "--out", out) == 0
    names = set(pd.read_csv(out, dtype=str)["area_name"])
    assert "'" + evil in names and evil not in names

    from placeportrait_app import create_app, downloads

    app = create_app(str(demo_copy), warm=False)
    repo = app.placeportrait
    from placeportrait_app.callbacks import _layer

    layer = _layer(repo, {"set": SET, "indicator": "fuel_poverty", "la": None})
    for content in (downloads.map_csv(repo, SET, layer)["content"],
                    downloads.panel_csv(repo, SET, {"view": "ward", "ward": ALTRINCHAM})["content"]):
        assert "'" + evil.replace('"', '""') in content
        assert "\n" + evil not in content and "," + evil not in content


# -- 3. forged callback state --------------------------------------------------------------
@pytest.fixture(scope="module")
def client(demo_store):
    from placeportrait_app import create_app
    from placeportrait_app.dashcall import CallbackClient

    return CallbackClient(create_app(str(demo_store), warm=False))


def _wards(client) -> list[str]:
    return list(client.app.placeportrait.areas(SET)["code"])


def test_forged_compare_state_cannot_pass_the_limit(client, caplog):
    wards = _wards(client) * 50  # 1,050 wards, as an attacker would send
    state = {"view": "compare", "set": SET, "indicator": "fuel_poverty", "la": None,
             "ward": None, "wards": wards, "version": None}
    with caplog.at_level(logging.WARNING, logger="placeportrait.app"):
        r = client.call("panel-title.children", {"panel-state.data": state},
                        {"attribution-shown.data": None})
    assert r.status == 200 and r.raw_bytes < 5_000
    assert "was not recognised" in json.dumps(r.output("panel-body.children"))
    assert not any(rec.exc_info for rec in caplog.records)


FORGED = [
    ("map-spec.data", {"map-state.data": {"set": {"a": 1}, "indicator": "fuel_poverty"}},
     {"map-shown.data": None}, "map-caption.children"),
    ("map-spec.data", {"map-state.data": {"set": [SET], "indicator": "fuel_poverty"}},
     {"map-shown.data": None}, "map-caption.children"),
    ("map-spec.data", {"map-state.data": {"set": "../../etc/passwd", "indicator": "x"}},
     {"map-shown.data": None}, "map-caption.children"),
    ("map-spec.data", {"map-state.data": {"set": SET, "indicator": ["fuel_poverty"]}},
     {"map-shown.data": None}, "map-caption.children"),
    ("ward-list.children", {"map-shown.data": {}},
     {"map-state.data": {"set": SET, "la": {"x": 1}}}, "ward-list.children"),
    ("panel-title.children", {"panel-state.data": {"view": "ward", "set": SET,
                                                   "ward": {"code": ALTRINCHAM}}},
     {"attribution-shown.data": None}, "panel-body.children"),
    ("panel-title.children", {"panel-state.data": [SET]}, {"attribution-shown.data": None},
     "panel-body.children"),
    ("search.options", {"search.search_value": {"term": "Alt"}},
     {"map-state.data": {"set": SET}}, "messages.children"),
]


@pytest.mark.parametrize("output, inputs, state, where", FORGED)
def test_malformed_callback_state_gets_the_apps_message(client, caplog, output, inputs, state,
                                                        where):
    with caplog.at_level(logging.WARNING, logger="placeportrait.app"):
        r = client.call(output, inputs, state)
    assert r.status == 200
    shown = json.dumps(r.response)  # set_props answers come as "sideUpdate"
    assert "was not recognised" in shown, shown[:300]
    assert not any(rec.exc_info for rec in caplog.records)


def test_malformed_router_inputs_get_the_apps_message(client, caplog):
    with caplog.at_level(logging.WARNING, logger="placeportrait.app"):
        r = client.call("url.pathname", {"url.pathname": "/", "url.search": "",
                                         "set.value": {"x": 1}}, changed=["set.value"])
    assert r.status == 200
    assert "was not recognised" in json.dumps(r.output("messages.children"))
    assert not any(rec.exc_info for rec in caplog.records)


# -- 4. the static gzip cache --------------------------------------------------------------
def test_static_gzip_cache_is_keyed_by_asset_and_bounded(client):
    from placeportrait_app import compress

    server = client.app.server
    http_client = server.test_client()
    page = http_client.get("/", headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
    script = next(part.split('"')[0] for part in page.split('src="')[1:]
                  if part.startswith("/_dash-component-suites/"))
    cache = server.extensions["gzip_cache"]
    for i in range(300):
        r = http_client.get(f"{script}?junk={i}", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert sum(1 for key in cache if key[0] == script) == 1
    assert len(cache) <= compress.MAX_CACHED


# -- 5. implausible boundaries ---------------------------------------------------------------
def test_degrees_labelled_as_british_national_grid_are_refused(tmp_path, gpkg_url, capsys):
    wards = gpd.read_file(DEMO_WARDS)
    mislabelled = tmp_path / "wards.gpkg"
    wards.set_crs(27700, allow_override=True).to_file(mislabelled)
    assert cli("--database-url", gpkg_url, "boundaries", "load", mislabelled,
               "--set", "w", "--level", "ward") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "m²" in err and "EPSG:27700" in err
    with pytest.raises(BoundaryError, match="no UK area is that small"):
        boundaries.prepare(wards.set_crs(27700, allow_override=True), name="w", level="ward",
                           source="x")


# -- 6. downloads that never end --------------------------------------------------------------
@pytest.fixture
def endless_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            try:
                if self.path.startswith("/trickle"):
                    for _ in range(200):  # a byte every 0.1 s: each read succeeds
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.1)
                else:
                    for _ in range(4096):  # 64 MiB, far past the test's cap
                        self.wfile.write(b"y" * 16384)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _cached_files(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []


def test_a_trickling_download_stops_at_its_deadline(endless_server, tmp_path, monkeypatch):
    monkeypatch.setenv(fetch.DEADLINE_ENV, "1")
    start = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        fetch.fetch(f"{endless_server}/trickle.csv", cache=tmp_path / "c", show_progress=False)
    assert time.monotonic() - start < 10
    assert _cached_files(tmp_path / "c") == []


def test_an_endless_download_stops_at_its_size_cap(endless_server, tmp_path, monkeypatch):
    monkeypatch.setenv(fetch.MAX_BYTES_ENV, str(1 << 20))
    with pytest.raises(FetchError, match="cap"):
        fetch.fetch(f"{endless_server}/endless.csv", cache=tmp_path / "c", show_progress=False)
    assert _cached_files(tmp_path / "c") == []


def test_download_limits_must_be_positive_numbers(monkeypatch):
    monkeypatch.setenv(fetch.MAX_BYTES_ENV, "lots")
    with pytest.raises(FetchError, match=fetch.MAX_BYTES_ENV):
        fetch.limits()


# -- 7. special files -----------------------------------------------------------------------
@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_reading_a_fifo_or_a_device_is_refused_not_hung(fifo, demo_copy):
    for args in (("boundaries", "load", fifo, "--set", "w", "--level", "ward"),
                 ("boundaries", "load", "/dev/zero", "--set", "w", "--level", "ward"),
                 ("score", "--boundary-set", SET, "--thresholds", fifo),
                 ("score", "--boundary-set", SET, "--thresholds", "/dev/zero")):
        result = run_cli("--database-url", demo_copy, *args, timeout=60)
        assert result.returncode == 1, (args, result.stderr[-500:])
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "not a regular file" in lines[0], (args, lines)


def test_export_never_replaces_a_fifo_or_a_symlink(demo_store, fifo, tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    for out in (fifo, link):
        assert cli("--database-url", demo_store, "export", "--boundary-set", SET,
                   "--format", "csv", "--out", out) == 1
        assert "replaces only regular files" in capsys.readouterr().err
    assert fifo.is_fifo() and link.is_symlink() and target.read_text() == "keep me"


def test_readers_refuse_special_files(fifo):
    from placeportrait import readers

    with pytest.raises(InputError, match="FIFO"):
        readers.read_csv(fifo)


# -- 8. concurrent runs on PostGIS ----------------------------------------------------------
def test_concurrent_runs_of_one_indicator_all_succeed(postgis_url):
    from test_concurrency import indicator_meta, value_sets

    store = open_store(postgis_url)
    store.init()
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    codes = list(store.read_area_table("w")["code"])
    sets, meta = value_sets(codes), indicator_meta()
    barrier, errors = threading.Barrier(6), []

    def one_run(i):
        try:
            run_id = store.start_run(plugin=meta["id"], plugin_version=meta["version"],
                                     boundary_set="w", source="race")
            barrier.wait()
            store.commit_values(run_id, "w", meta["id"], sets[i % 2], source_checksum=None,
                                messages="{}", indicator_meta=meta)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))

    threads = [threading.Thread(target=one_run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    runs = store.runs(meta["id"])
    assert (runs["status"] == "succeeded").sum() == 6
    values = store.read_values("w", [meta["id"]])
    assert len(values) == len(sets[0])  # one run's rows, not two runs' rows
    assert values["run_id"].nunique() == 1
    store.engine().dispose()


# -- 9. links from plugin metadata ----------------------------------------------------------
def test_only_web_addresses_become_links():
    from placeportrait.links import web_link

    assert web_link("https://www.ons.gov.uk/x") == "https://www.ons.gov.uk/x"
    for bad in ("javascript:alert(1)", "JavaScript:alert(1)", " javascript:x", "data:text/html,x",
                "http:/no-host", "vbscript:x", "/relative", None, float("nan")):
        assert web_link(bad) is None, bad


def test_a_javascript_source_url_is_never_a_link_in_reports_or_the_app(demo_copy):
    sql(demo_copy, "UPDATE indicators SET url = 'javascript:alert(document.domain)'")
    from placeportrait.report import render_ward_report

    html = render_ward_report(open_store(str(demo_copy)), SET, ALTRINCHAM, "html")
    html = html.decode() if isinstance(html, bytes) else html
    assert 'href="javascript' not in html.lower()
    assert "javascript:alert(document.domain)" in html  # still shown, as text

    from placeportrait_app import create_app
    from placeportrait_app.dashcall import CallbackClient

    client = CallbackClient(create_app(str(demo_copy), warm=False))
    state = {"view": "ward", "set": SET, "indicator": "fuel_poverty", "ward": ALTRINCHAM}
    r = client.call("panel-title.children", {"panel-state.data": state},
                    {"attribution-shown.data": None})
    assert "javascript:" not in json.dumps(r.response).lower().replace(
        "javascript:alert(document.domain)\"", "")  # as text it may appear; never as an href
    assert '"href": "javascript' not in json.dumps(r.response).lower()


# -- 10. area codes ----------------------------------------------------------------------------
def _wards_with_codes(codes: list[str]) -> gpd.GeoDataFrame:
    wards = gpd.read_file(DEMO_WARDS).iloc[:len(codes)].copy()
    wards["WD23CD"] = codes
    return wards


@pytest.mark.parametrize("codes, message", [
    (["E05015239", "e05015239"], "differ only by case"),
    (["E05015239", "E05015239\u200b"], "duplicate codes"),
    (["E05015239", "\uff25\uff10\uff15\uff10\uff11\uff15\uff12\uff13\uff19"], "duplicate codes"),
    (["E05015239", "E05/15240"], "not letters, digits"),
    (["E05015239", "E05015240?x"], "not letters, digits"),
    (["E05015239", "E05015240#a"], "not letters, digits"),
])
def test_codes_are_normalised_and_checked_at_load(codes, message):
    with pytest.raises(BoundaryError, match=message):
        boundaries.prepare(_wards_with_codes(codes), name="w", level="ward", source="wards.gpkg")


def test_fullwidth_and_zero_width_codes_load_as_plain_codes():
    prepared = boundaries.prepare(
        _wards_with_codes(["\uff25\uff10\uff15\uff10\uff11\uff15\uff12\uff13\uff19",
                           "E05015240\u200b"]), name="w", level="ward", source="wards.gpkg")
    assert list(prepared.areas["code"]) == ["E05015239", "E05015240"]


def test_reports_refuse_two_wards_that_share_a_file_name(gpkg_url, tmp_path):
    """A store loaded before codes were checked may hold codes that clash as file names."""
    store = open_store(gpkg_url)
    store.init()
    p = _prepared()
    areas = p.areas.iloc[:2].copy()
    areas["code"] = ["A/1", "A?1"]
    areas["name"] = ["Same", "Same"]
    store._write_boundary_set({**p.meta, "loaded_at": "2026-01-01", "area_count": 2}, areas)
    from placeportrait.report import write_reports

    with pytest.raises(InputError, match="would both be written to"):
        write_reports(store, "w", ["A/1", "A?1"], "html", tmp_path / "out")
    assert not (tmp_path / "out").exists()
