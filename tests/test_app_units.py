"""The Dash app without a browser: URL state, metrics, classes, the map spec, tiles, the
read-only data layer, downloads and the callbacks (through Dash's own HTTP endpoint).

The browser tests are in test_app.py.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from placeportrait.cli import main
from placeportrait.store import open_store
from placeportrait_app import downloads, metrics, routes
from placeportrait_app import map as map_lib
from placeportrait_app.data import ReadOnlyStore, Repository
from placeportrait_app.dashcall import CallbackClient

from conftest import DATA, build_demo, demo_in_fresh_home, map_start, page_map

SET = "trafford-wards-2023"
ALTRINCHAM, OLD_TRAFFORD, TRAFFORD = "E05015239", "E05015253", "E08000009"
DEMO_WARDS = DATA.parent.parent / "src" / "placeportrait" / "data" / "demo" / "trafford_wards_dec2023_bsc.geojson"


def cli(*args) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return exit_info.value.code


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """One demo GeoPackage store for the module's read-only tests."""
    return demo_in_fresh_home(tmp_path_factory)


@pytest.fixture(scope="module")
def app(demo_url):
    from placeportrait_app import create_app

    return create_app(demo_url, warm=False)


@pytest.fixture(scope="module")
def client(app):
    return CallbackClient(app)


@pytest.fixture(scope="module")
def repo(app):
    return app.placeportrait


def route(client, path, search="", **inputs):
    changed = [f"{k.replace('_', '-')}.value" for k in inputs] or []
    values = {"url.pathname": path, "url.search": search}
    values.update({f"{k}.value": v for k, v in inputs.items()})
    return client.call("url.pathname", values, changed=changed or [])


# -- URL state --------------------------------------------------------------------------
def known():
    catalog = routes.SetCatalog(name=SET, metrics={"fuel_poverty": "Fuel", "dimension:energy": "E"},
                                wards={ALTRINCHAM: "Altrincham", OLD_TRAFFORD: "Old Trafford"},
                                authorities={TRAFFORD: TRAFFORD},
                                periods={"latest": "Latest", "2019": "As of 2019"})
    other = routes.SetCatalog(name="other", metrics={}, wards={}, authorities={})
    return routes.Known(sets=(SET, "other"), default_set=SET,
                        catalog=lambda name: catalog if name == SET else other)


def test_urls_round_trip():
    state = routes.ViewState(view="ward", set=SET, indicator="dimension:energy", la=TRAFFORD,
                             ward=OLD_TRAFFORD)
    path, search = routes.to_url(state)
    assert path == f"/ward/{OLD_TRAFFORD}"
    assert search == f"?set={SET}&indicator=dimension:energy&la={TRAFFORD}"
    back = routes.parse(path, search, known())
    assert back.as_dict() == state.as_dict() and back.messages == []
    compare = routes.parse("/compare", f"?wards={ALTRINCHAM},{OLD_TRAFFORD},{ALTRINCHAM}", known())
    assert compare.view == "compare" and compare.wards == [ALTRINCHAM, OLD_TRAFFORD]
    assert routes.to_url(compare)[1].endswith(f"wards={ALTRINCHAM},{OLD_TRAFFORD}")


def test_defaults_fill_a_bare_url():
    state = routes.parse("/", "", known())
    assert (state.view, state.set, state.indicator, state.ward) == ("map", SET, "fuel_poverty", None)
    assert state.messages == []


@pytest.mark.parametrize("path, search, expected", [
    ("/ward/E05999999", "", "no ward with code 'E05999999'"),
    ("/", "?indicator=nope", "no indicator 'nope'"),
    ("/", "?set=nope", "no boundary set 'nope'"),
    ("/", "?la=E0899", "no local authority 'E0899'"),
    ("/", "?period=2099", "no period '2099'"),
    ("/nowhere/at/all", "", "no page '/nowhere/at/all'"),
    ("/compare", "?wards=E05015239,BAD", "no ward with code 'BAD'"),
    ("/", "?indicator=" + "x" * 500, "too long"),
    ("/ward/<script>alert(1)</script>", "", "no page '/ward/<script>alert(1)</script>'"),
])
def test_unknown_values_give_a_clear_message(path, search, expected):
    state = routes.parse(path, search, known())
    assert any(expected in m.lower() or expected in m for m in state.messages), state.messages
    assert state.set == SET and state.indicator == "fuel_poverty"  # a sensible view remains


def test_comparison_is_capped_and_toggled():
    many = ",".join(f"E0501{i:04d}" for i in range(10))
    wards = {f"E0501{i:04d}": "w" for i in range(10)}
    cat = routes.SetCatalog(name=SET, metrics={"a": "A"}, wards=wards, authorities={})
    state = routes.parse("/compare", f"?wards={many}",
                         routes.Known(sets=(SET,), default_set=SET, catalog=lambda n: cat))
    assert len(state.wards) == routes.MAX_COMPARE and "At most" in state.messages[0]
    routes.toggle_compare(state, state.wards[0])
    assert len(state.wards) == routes.MAX_COMPARE - 1
    routes.toggle_compare(state, "E05019999")
    assert state.wards[-1] == "E05019999"


def test_a_period_rides_in_the_url_and_is_checked():
    state = routes.parse(f"/ward/{ALTRINCHAM}", "?period=2019", known())
    assert state.period == "2019" and state.messages == []
    assert routes.to_url(state)[1].endswith("&period=2019")
    assert "period" not in routes.to_url(routes.parse("/", "", known()))[1]  # latest: no noise
    checked = routes.check_state({"set": SET, "period": "2019"}, known())
    assert checked["period"] == "2019"
    assert routes.check_state({"set": SET}, known())["period"] == "latest"
    with pytest.raises(routes.InvalidStateError):
        routes.check_state({"set": SET, "period": "1066"}, known())


def test_empty_store_message():
    state = routes.parse("/", "", routes.Known(sets=(), default_set=None, catalog=None))
    assert state.set is None and "no boundary sets" in state.messages[0]


# -- metrics ---------------------------------------------------------------------------------
def test_which_end_is_worse():
    assert metrics.higher_is_worse("social", 0, 100)       # % deprived: more is worse
    assert not metrics.higher_is_worse("social", 100, 0)   # % with broadband: more is better
    assert metrics.higher_is_worse("ecological", 2.3, 0)   # CO2 per person
    assert not metrics.higher_is_worse("ecological", 47.9, 63.87)  # forest area (b < a)
    assert not metrics.higher_is_worse("social", float("nan"), None, "higher_is_better")


def test_catalogue_and_values(repo):
    catalogue = repo.metrics(SET)
    table = repo.table(SET)
    rings = dict(zip(table["indicator"], table["ring"]))
    indicators = [m for m in catalogue.values() if m.kind == "indicator"]
    assert {m.id for m in indicators} == set(rings)
    order = [rings[m.id] for m in indicators]
    assert order == sorted(order, reverse=True)  # the social foundation first
    assert {"fuel_poverty", "gigabit_broadband", "dimension:energy", "dimension:networks",
            "summary:mean_shortfall"} <= set(catalogue)
    assert ("summary:mean_overshoot" in catalogue) == ("ecological" in set(rings.values()))
    gigabit = repo.metric_values(SET, "gigabit_broadband")
    assert len(gigabit) == 21 and (gigabit["value"] == 94.0).all()
    assert set(gigabit["display"]) == {"94.0 % of premises"}
    fuel = repo.metric_values(SET, "fuel_poverty")
    assert fuel.at[OLD_TRAFFORD, "value"] == pytest.approx(19.0153, abs=1e-4)  # as overlay_mean gives it
    energy = repo.metric_values(SET, "dimension:energy")
    rows = repo.ward_rows(SET, OLD_TRAFFORD)
    expected = rows.loc[(rows["dimension"] == "energy") & (rows["status"] != "no data"), "shortfall"]
    assert energy.at[OLD_TRAFFORD, "value"] == pytest.approx(100 * expected.mean())  # shortfall %
    assert energy.at[OLD_TRAFFORD, "status"] == "shortfall"
    summary = repo.metric_values(SET, "summary:mean_shortfall")
    social = rows.loc[(rows["ring"] == "social") & (rows["status"] != "no data"), "shortfall"]
    assert summary.at[OLD_TRAFFORD, "value"] == pytest.approx(100 * social.mean())


def test_missing_values_stay_no_data(repo):
    table = repo.table(SET).copy()
    gone = (table["indicator"] == "fuel_poverty") & (table["area_code"] == ALTRINCHAM)
    table.loc[gone, ["value", "ratio", "shortfall"]] = np.nan
    table.loc[gone, "status"] = "no data"
    catalogue = metrics.catalogue(table)
    codes = repo.areas(SET)["code"]
    values = metrics.values(catalogue["fuel_poverty"], table, None, None, codes)
    assert math.isnan(values.at[ALTRINCHAM, "value"])
    assert values.at[ALTRINCHAM, "display"] == "no data" and values.at[ALTRINCHAM, "status"] == "no data"
    # a dimension with none of its indicators is no data too
    energy_rows = (table["dimension"] == "energy") & (table["area_code"] == ALTRINCHAM)
    table.loc[energy_rows, ["value", "ratio", "shortfall"]] = np.nan
    table.loc[energy_rows, "status"] = "no data"
    dims = metrics.dimension_table(table)
    energy = metrics.values(catalogue["dimension:energy"], table, dims, None, codes)
    assert math.isnan(energy.at[ALTRINCHAM, "value"]) and energy.at[ALTRINCHAM, "status"] == "no data"


# -- classes and the map spec -----------------------------------------------------------------
def test_classes_are_natural_breaks_with_no_data_apart():
    # near-equal values share a class; quantiles would have split them (issue 16)
    close = map_lib.classify(np.array([2, 2.5, 3, 10.1, 10.2, 10.3, 10.4, 10.5, 20, 21, 22.0]))
    assert len(set(close.yb[3:8])) == 1 and close.lower[1] == 10.1 and close.upper[1] == 10.5
    values = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan])
    classes = map_lib.classify(values, k=5)
    assert classes.yb[-1] == -1 and classes.k == 5
    assert list(classes.yb[:10]) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert classes.lower[0] == 1 and classes.upper[-1] == 10
    same = map_lib.classify(np.full(21, 94.0))
    assert same.k == 1 and (same.yb == 0).all() and same.scheme == "unique values"
    assert map_lib.classify(np.full(3, np.nan)).k == 0
    ties = map_lib.classify(np.r_[np.zeros(15), np.arange(1, 7) * 5.0])
    assert ties.k >= 2 and sorted(set(ties.yb)) == list(range(ties.k))  # no empty class
    # more distinct values than classes, but the evenly spaced sample holds only three:
    # mostly zero, as an indicator with data in few of the UK's wards
    sparse = np.r_[np.zeros(8000), 50.0, 60.0, 70.0, 80.0, 90.0, np.full(400, 100.0)]
    drawn = map_lib.classify(sparse, k=5)
    assert 2 <= drawn.k <= 3 and drawn.lower[0] == 0 and drawn.upper[-1] == 100
    assert sorted(set(drawn.yb)) == list(range(drawn.k))


def test_palette_is_viridis_with_the_worse_end_dark():
    dark = "rgb(68, 1, 84)"
    assert map_lib.palette(5, higher_is_worse=True)[-1] == dark
    assert map_lib.palette(5, higher_is_worse=False)[0] == dark


def test_layer_legend_names_no_data(repo):
    values = repo.metric_values(SET, "fuel_poverty").copy()
    values.loc[ALTRINCHAM, ["value", "status", "display"]] = [np.nan, "no data", "no data"]
    layer = map_lib.build_layer(repo.areas(SET), values, repo.metrics(SET)["fuel_poverty"])
    assert layer.legend[-1]["label"] == "No data" and layer.legend[-1]["count"] == 1
    assert sum(item["count"] for item in layer.legend) == 21
    assert layer.z[layer.codes.index(ALTRINCHAM)] == 0  # grey
    assert layer.hover[layer.codes.index(OLD_TRAFFORD)] == ["19.0 % of households", "shortfall", ""]
    assert layer.legend[0]["label"].startswith("9.") and layer.legend[1]["label"].startswith("> ")
    one_la = map_lib.build_layer(repo.areas(SET), values, layer.metric, la="E08000001")
    assert one_la.codes == [] and one_la.legend[-1]["count"] == 0


def test_the_legend_counts_wards_only_on_a_ward_set(repo):
    """A map of LSOAs (a source set of the demo) must not call them wards."""
    assert repo.area_noun(SET) == ("a ward", "wards")
    assert repo.area_noun("lsoa-2011") == ("an area", "areas")
    # and so does the table of the map's areas (its text alternative)
    from placeportrait_app import tables

    layer = map_lib.build_layer(repo.areas(SET), repo.metric_values(SET, "fuel_poverty"),
                                repo.metrics(SET)["fuel_poverty"])
    for noun, caption, header in ((("a ward", "wards"), "Wards on the map", "Ward"),
                                  (("an area", "areas"), "Areas on the map", "Area")):
        listed = repr(tables.ward_list(layer, str, str, noun))
        assert f"{caption}: " in listed and f"children='{header}'" in listed
        assert f"21 {noun[1]}." in listed and f"{caption} (scrollable)" in listed


def test_map_spec_joins_values_to_tiles_by_code_and_patch_carries_values(repo):
    layer = map_lib.build_layer(repo.areas(SET), repo.metric_values(SET, "fuel_poverty"),
                                repo.metrics(SET)["fuel_poverty"])
    source = {"tiles": ["/t/{z}/{x}/{y}.mvt"], "minzoom": 0, "maxzoom": 10}
    spec = map_lib.spec(layer, source, [OLD_TRAFFORD], [-2.4, 53.3, -2.2, 53.5], f"{SET}|")
    assert spec["tiles"] == source and spec["layer"] == "areas"
    assert spec["style"] == "white-bg"  # no basemap tiles needed
    assert len(spec["codes"]) == len(spec["z"]) == len(spec["hover"]) == 21
    assert "geometry" not in json.dumps(spec)  # shapes come from the tiles only
    i = spec["codes"].index(OLD_TRAFFORD)
    assert spec["colours"][spec["z"][i] - 1] in map_lib.palette(5, True)
    from dash import Patch

    ops = map_lib.patch(Patch(), layer, areas=False, selected=None, extent=None,
                        view_key=None).to_plotly_json()["operations"]
    assert {tuple(op["location"]) for op in ops} == {("z",), ("hover",), ("colours",)}
    ops = map_lib.patch(Patch(), layer, areas=True, selected=[ALTRINCHAM], extent=[0, 0, 1, 1],
                        view_key="x").to_plotly_json()["operations"]
    assert {("codes",), ("selected",), ("extent",), ("view_key",)} <= {
        tuple(op["location"]) for op in ops}


# -- the doughnut -------------------------------------------------------------------------------
def test_doughnut_wedges(repo):
    from placeportrait_app import panels

    wedges = repo.ward_wedges(SET, OLD_TRAFFORD)
    assert [w["ring"] for w in wedges] == ["social"] * 12 + ["ecological"] * 9  # Raworth's
    by_id = {w["dimension"]: w for w in wedges}
    assert by_id["energy"]["status"] == "shortfall" and by_id["energy"]["gap"] > 0
    assert not by_id["energy"]["copied"]  # fuel poverty and census heating are ward-level
    assert by_id["networks"]["copied"]  # broadband is Trafford's value given to every ward
    figure = panels.doughnut_block(wedges, "Old Trafford", block_id="doughnut")
    svg = figure.children[0].html
    assert svg.startswith("<svg") and "Old Trafford" in svg and "url(#doughnut-stripes)" in svg
    assert "Networks (social foundation): shortfall of" in svg  # a wedge's tooltip
    assert "no data for Food" in figure.children[1].children  # the text alternative


def test_doughnut_wedges_agree_with_score_dimensions_and_the_report(repo, demo_url):
    from placeportrait import doughnut
    from placeportrait.report import content

    rows = repo.ward_rows(SET, ALTRINCHAM)
    wedges = {w["dimension"]: w for w in repo.ward_wedges(SET, ALTRINCHAM)}
    expected = doughnut.score_dimensions(rows[["area_code", "indicator", "ring", "dimension",
                                               "status", "shortfall", "overshoot"]])
    for r in expected.itertuples():
        gap = r.shortfall if r.ring == "social" else r.overshoot
        assert wedges[r.dimension]["status"] == r.status
        assert wedges[r.dimension]["gap"] == pytest.approx(gap, nan_ok=True)
    assert len(expected) >= 3
    # The report draws the same wedges.
    report = content.gather(content.load_set(open_store(demo_url), SET), ALTRINCHAM)
    for mine, theirs in zip(repo.ward_wedges(SET, ALTRINCHAM), report["wedges"]):
        assert (mine["dimension"], mine["status"], mine["copied"]) == \
            (theirs["dimension"], theirs["status"], theirs["copied"])
        assert mine["gap"] == pytest.approx(theirs["gap"], nan_ok=True)


def test_doughnut_overshoot_capped_and_copied_values_marked():
    from placeportrait import doughnut

    rows = pd.DataFrame({
        "area_code": "X", "indicator": ["co2", "no2", "fuel"], "title": ["CO2", "NO2", "Fuel"],
        "ring": ["ecological", "ecological", "social"],
        "dimension": ["climate_change", "air_pollution", "energy"],
        "lens": ["global-ecological", "local-ecological", "local-social"],
        "status": ["overshoot", "within", "no data"],
        "shortfall": [np.nan, np.nan, np.nan], "overshoot": [2.5, 0.0, np.nan],
        "flags": ["apportioned from local authority", None, None]})
    wedges = {w["dimension"]: w for w in doughnut.wedge_records(rows)}
    assert wedges["climate_change"]["copied"] and not wedges["air_pollution"]["copied"]
    assert wedges["energy"]["status"] == "no data" and not wedges["energy"]["copied"]
    from placeportrait.report import doughnut_svg

    svg = doughnut_svg.render(list(wedges.values()), "X")
    assert "+250%" in svg  # the capped wedge says how far it really goes


# -- geometry ------------------------------------------------------------------------------------
def test_tiles_hold_every_area_by_code():
    """GDAL's PMTiles archive of the demo wards: every ward's code is in the tiles that
    cover it (read back through GDAL's own PMTiles reader), and nothing else is."""
    import pyogrio

    from placeportrait import vector_tiles

    areas = gpd.read_file(DEMO_WARDS).rename(columns={"WD23CD": "code"})
    archive = vector_tiles.build(areas)
    assert archive[:7] == b"PMTiles"
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.pmtiles"
        path.write_bytes(archive)
        got = pyogrio.read_dataframe(path, layer=vector_tiles.LAYER, ZOOM_LEVEL=10)
    assert set(got["code"]) == set(areas["code"])
    assert set(got.columns) == {"mvt_id", "code", "geometry"}  # GDAL's feature id + the code


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator (XYZ) tile holding a point, by the usual formula."""
    n = 2 ** z
    lat_r = math.radians(lat)
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n))


def test_each_tile_is_served_from_the_stored_archive(app, repo):
    from pmtiles.reader import MemorySource, Reader, all_tiles

    from placeportrait_app.tiles import ROUTE

    archive = repo.store.read_tiles(SET)["tiles"]
    assert repo.tiles(SET).archive == archive
    # every tile of the archive, as the pmtiles package's own reader finds it
    expected = dict(all_tiles(MemorySource(archive)))
    assert {zxy: repo.tiles(SET).tile(*zxy) for zxy in expected} == expected

    http = app.server.test_client()
    base = f"/{ROUTE}{SET}/{repo.geometry_version(SET)}"
    point = repo.store.read_areas(SET, codes=[OLD_TRAFFORD]).to_crs(4326).representative_point()
    x, y = tile_of(point.x.iloc[0], point.y.iloc[0], 10)
    tile = http.get(f"{base}/10/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
    assert tile.status_code == 200 and tile.mimetype == "application/vnd.mapbox-vector-tile"
    assert tile.data == Reader(MemorySource(archive)).get(10, x, y)
    assert tile.headers["Content-Encoding"] == "gzip"
    assert OLD_TRAFFORD.encode() in gzip.decompress(tile.data)  # the code joins the values
    assert "immutable" in tile.headers["Cache-Control"]
    plain = http.get(f"{base}/10/{x}/{y}.mvt", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == gzip.decompress(tile.data)
    for empty in ("10/0/0", "11/0/0", f"11/{2 * x}/{2 * y}", "40/1/1", "3/9/1"):
        assert http.get(f"{base}/{empty}.mvt").status_code == 204, empty  # nothing to draw
    assert http.get(f"/{ROUTE}{SET}/stale/10/{x}/{y}.mvt").status_code == 404
    assert http.get(f"/{ROUTE}nope/{repo.geometry_version(SET)}/0/0/0.mvt").status_code == 404
    extent = repo.tiles(SET).extent([OLD_TRAFFORD])
    minx, miny, maxx, maxy = repo.store.read_areas(SET, codes=[OLD_TRAFFORD]).total_bounds
    assert extent == pytest.approx([minx, miny, maxx, maxy], abs=1e-5)


# -- the data layer is read-only and notices new loads -----------------------------------------
def test_the_app_cannot_write(repo):
    assert isinstance(repo.store, ReadOnlyStore)
    for name in ("replace_scores", "commit_values", "delete_boundary_set", "init", "_write"):
        with pytest.raises(AttributeError, match="read-only"):
            getattr(repo.store, name)


def test_postgis_sessions_are_read_only(postgis_url):
    import sqlalchemy as sa

    assert cli("--database-url", postgis_url, "db", "init") == 0
    repo = Repository(open_store(postgis_url))
    with repo.store.engine().connect() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.execute(sa.text("CREATE TABLE intruder (x int)"))
    repo.store.engine().dispose()


def test_cache_follows_the_store_version(tmp_path):
    url = build_demo(str(tmp_path / "v.gpkg"))
    repo = Repository(open_store(url), ttl=0)
    before = repo.version(SET)
    table = repo.table(SET)
    assert repo.table(SET) is table  # cached
    assert cli("--database-url", url, "score", "--boundary-set", SET) == 0
    assert repo.version(SET) != before and repo.table(SET) is not table
    assert repo.geometry_version(SET) is not None


def test_callbacks_asking_together_compute_a_value_once():
    """The map and the panel ask for a new view's layer at once: one computes, the other
    waits for its answer (or its error)."""
    import threading

    from placeportrait_app.data import _Memo

    memo, calls, started, release = _Memo(4), [], threading.Event(), threading.Event()

    def compute():
        calls.append(1)
        started.set()
        release.wait(5)
        if len(calls) == 1 and memo.size == 0:
            raise ValueError("store says no")
        return object()

    def ask(out):
        try:
            out.append(memo.get("layer", compute))
        except ValueError as exc:
            out.append(exc)

    for size in (4, 0):  # 0: the computation fails, and both see it
        memo.size, calls[:], answers = size, [], []
        memo.clear()
        first = threading.Thread(target=ask, args=(answers,))
        first.start()
        started.wait(5)
        second = threading.Thread(target=ask, args=(answers,))
        second.start()
        second.join(0.2)
        assert second.is_alive()  # waiting for the first, not computing
        release.set()
        first.join(5), second.join(5)
        release.clear(), started.clear()
        assert len(calls) == 1 and len(answers) == 2 and answers[0] is answers[1]


def test_authority_names_come_from_an_authority_set(tmp_path):
    url = build_demo(str(tmp_path / "la.gpkg"))
    # ONS's name, shipped with the reports, until the store has an authority set...
    assert Repository(open_store(url), ttl=0).authority_label(SET, TRAFFORD) == \
        "Trafford (E08000009)"
    wards = gpd.read_file(DEMO_WARDS)
    lad = gpd.GeoDataFrame({"code": [TRAFFORD], "name": ["Trafford Council"]},
                           geometry=[wards.union_all()], crs=wards.crs)
    lad.to_file(tmp_path / "lad.geojson", driver="GeoJSON")
    assert cli("--database-url", url, "boundaries", "load", tmp_path / "lad.geojson", "--set",
               "lad-2023", "--level", "lad", "--code-field", "code", "--name-field", "name") == 0
    repo = Repository(open_store(url), ttl=0)  # ...whose names come first
    assert repo.authority_label(SET, TRAFFORD) == "Trafford Council (E08000009)"
    assert repo.default_set() == SET  # the scored ward set, not the authorities


# -- callbacks over HTTP, on both stores -----------------------------------------------------------
def test_callbacks_on_both_stores(demo_store_url):
    from placeportrait_app import create_app

    store_url = demo_store_url
    app = create_app(store_url, warm=False)
    client = CallbackClient(app)
    r = route(client, f"/ward/{OLD_TRAFFORD}", "?indicator=fuel_poverty")
    assert r.status == 200 and r.output("messages.children") is None
    map_state, panel_state = r.output("map-state.data"), r.output("panel-state.data")
    assert map_state["highlight"] == [OLD_TRAFFORD] and panel_state["view"] == "ward"
    m = client.call("map-spec.data", {"map-state.data": map_state}, {"map-shown.data": None})
    spec = m.output("map-spec.data")
    i = spec["codes"].index(OLD_TRAFFORD)
    assert spec["hover"][i][:2] == ["19.0 % of households", "shortfall"]
    assert spec["selected"] == [OLD_TRAFFORD]
    p = client.call("panel-title.children", {"panel-state.data": panel_state})
    assert p.output("panel-title.children") == "Ward portrait: Old Trafford"
    # inside the ward: the 2017 fuel poverty LSOAs (2011), as published, on the map's scale
    inside_spec = p.output("inside-spec.data")
    assert inside_spec["tiles"]["tiles"][0].split("/")[3] == "lsoa-2011"
    assert inside_spec["ward"] == OLD_TRAFFORD
    assert len(inside_spec["codes"]) >= 5 and set(inside_spec["z"]) <= set(range(1, 6))
    body = json.dumps(p.output("panel-body.children"))
    assert "Inside the ward: Households in fuel poverty" in body
    assert "19.0 % of households" in body and "Open Government Licence v3.0" in body
    assert "What matters most in Old Trafford, among measures of the ward itself" in body
    assert "The doughnut by City Portrait lens" in body and "Global ecological" in body
    # its similar wards, each a link, one link comparing it with the nearest five, and
    # their median beside each value
    assert "The 10 wards most like Old Trafford in context, among the set's 21" in body
    assert body.count("similar-list") == 1 and body.count(", Trafford</a> (E050") == 10
    assert re.search(rf'compare-similar[^>]*href=\\"/compare\?[^"]*wards={OLD_TRAFFORD}(%2C|,)', body) \
        or re.search(rf'href=\\"/compare\?[^"]*wards={OLD_TRAFFORD}(%2C|,)[^"]*\\"[^>]*compare-similar', body)
    assert "Similar wards" in body and "of 10" in body
    assert p.output("attribution-shown.data") == [SET, panel_state["version"]]
    assert "Sources and licences" in json.dumps(p.output("attribution.children"))
    # each source names the file its run read, as well as the publisher's address
    assert "Read from gigabit_broadband_greater_manchester.csv." in json.dumps(
        p.output("attribution.children"))
    # another ward of the same set and version leaves the footer alone
    again = client.call("panel-title.children", {"panel-state.data": {**panel_state, "ward": ALTRINCHAM}},
                        {"attribution-shown.data": p.output("attribution-shown.data")})
    assert again.output("panel-title.children") == "Ward portrait: Altrincham"
    assert "attribution" not in again.response["response"]
    if app.placeportrait.store.kind == "postgis":
        app.placeportrait.store.engine().dispose()


def test_switching_indicator_sends_only_values(client):
    r = route(client, "/", "?indicator=fuel_poverty")
    state = r.output("map-state.data")
    first = client.call("map-spec.data", {"map-state.data": state}, {"map-shown.data": None})
    shown = first.output("map-shown.data")
    switched = client.call("url.pathname", {
        "url.pathname": "/", "url.search": "?indicator=fuel_poverty", "set.value": SET,
        "indicator.value": "gigabit_broadband"}, {"map-state.data": state},
        changed=["indicator.value"])
    assert switched.output("url.search") == f"?set={SET}&indicator=gigabit_broadband"
    new_state = switched.output("map-state.data")
    patch = client.call("map-spec.data", {"map-state.data": new_state}, {"map-shown.data": shown})
    spec = patch.output("map-spec.data")
    assert spec["__dash_patch_update"] == "__dash_patch_update"
    ops = {tuple(op["location"]): op["params"]["value"] for op in spec["operations"]}
    assert set(ops) == {("z",), ("hover",), ("colours",)}  # no codes, names or tiles
    assert set(c[0] for c in ops[("hover",)]) == {"94.0 % of premises"}
    assert patch.raw_bytes < first.raw_bytes


@pytest.mark.parametrize("address", ["/", "/?indicator=gigabit_broadband",
                                     f"/ward/{OLD_TRAFFORD}?indicator=fuel_poverty&la={TRAFFORD}"])
def test_the_page_carries_the_map_its_first_callbacks_send(app, client, address):
    """The page itself holds the first map (tiles, view and values), so the browser draws
    it before Dash has drawn the page; the router and the map callback then send the same."""
    first = page_map(app.server.test_client().get(address))
    path, _, search = address.partition("?")
    state = route(client, path, f"?{search}" if search else "").output("map-state.data")
    assert first["state"] == state
    answer = client.call("map-spec.data", {"map-state.data": state}, {"map-shown.data": None})
    assert first["spec"] == answer.output("map-spec.data")
    assert first["shown"] == answer.output("map-shown.data")
    # told that the page's map is shown (placeportrait_map.js's request_pre hook), the map
    # callback sends no second copy of it
    again = client.call("map-spec.data", {"map-state.data": state},
                        {"map-shown.data": first["shown"]})
    assert "map-spec" not in again.response["response"]
    assert again.output("map-shown.data") == first["shown"]


def test_the_page_starts_the_map_of_the_set_its_address_names(app):
    http = app.server.test_client()
    default = map_start(http.get("/"))
    assert default["view_key"] == f"{SET}|"
    lsoa = next(s for s in app.placeportrait.known().sets if s != SET)
    assert map_start(http.get(f"/?set={lsoa}"))["view_key"] == f"{lsoa}|"
    for unknown in ("no-such-set", "</script><script>alert(1)</script>"):
        page = http.get("/", query_string={"set": unknown})
        assert map_start(page) == default  # a set the app does not show: the default's map
        assert "alert(1)" not in page.get_data(as_text=True)


def test_router_validates_every_input(client):
    r = route(client, "/ward/E05999999", "?indicator=nope&set=nope")
    text = json.dumps(r.output("messages.children"))
    assert "no boundary set 'nope'" in text and "no indicator 'nope'" in text
    assert "no ward with code 'E05999999'" in text
    r = client.call("url.pathname", {"url.pathname": "/", "url.search": "",
                                     "search.value": "NOT-A-WARD"}, changed=["search.value"])
    assert r.output("url.pathname") is None  # nothing navigates to an unknown ward
    r = client.call("url.pathname", {"url.pathname": "/", "url.search": "",
                                     "map-click.data": {"code": ALTRINCHAM, "at": 1}},
                    changed=["map-click.data"])
    assert r.output("url.pathname") == f"/ward/{ALTRINCHAM}"
    for forged in ({"code": "NOT-A-WARD"}, {"code": [ALTRINCHAM]}, "E05015239", None):
        r = client.call("url.pathname", {"url.pathname": "/", "url.search": "",
                                         "map-click.data": forged}, changed=["map-click.data"])
        assert r.status == 200 and r.output("url.pathname") is None, forged


def test_search_finds_wards_by_name_or_code(repo, client):
    assert [o["value"] for o in repo.search(SET, "old traf")] == [OLD_TRAFFORD]
    assert [o["value"] for o in repo.search(SET, "e0501523")] == [ALTRINCHAM]
    assert repo.search(SET, "a") == []  # too short
    r = client.call("search.options", {"search.search_value": "altr"}, {"map-state.data": {"set": SET}})
    assert r.output("search.options")[0]["value"] == ALTRINCHAM


def test_compare_sets_wards_beside_their_authority(client):
    r = route(client, "/compare", f"?indicator=fuel_poverty&wards={ALTRINCHAM},{OLD_TRAFFORD}")
    p = client.call("panel-title.children", {"panel-state.data": r.output("panel-state.data")})
    assert p.output("panel-title.children") == "Compare 2 wards"
    body = json.dumps(p.output("panel-body.children"))
    assert "Trafford (E08000009): whole authority" in body and "mean of" not in body
    assert ">9.1<" in body and ">19.0<" in body  # the wards' cells
    # the 2017 fuel-poverty file has no household counts: no authority figure, not the
    # mean of the wards (11.2); England's income deprivation comes from the whole source
    def cell(indicator, area):
        attrs = (rf'data-indicator=\\"{indicator}\\" data-area=\\"{area}\\"|'
                 rf'data-area=\\"{area}\\" data-indicator=\\"{indicator}\\"')
        return re.search(rf'(?:{attrs})>([^<]*)<', body)[1]

    assert cell("fuel_poverty", "E08000009") == "no data"
    assert "similar wards " in body and "the median of the wards most like it" in body
    assert cell("iod_income_most_deprived", "nation-England") == "9.9"


def count_components(node) -> int:
    """Dash components in a callback's JSON output (each one a React wrapper in the page)."""
    if isinstance(node, list):
        return sum(count_components(n) for n in node)
    if isinstance(node, dict) and "namespace" in node and "props" in node:
        return 1 + sum(count_components(v) for v in node["props"].values())
    return 0


SHOWN = {"map-shown.data": {}}  # the table is asked for when the map has answered


def test_warming_builds_the_map_layers_a_switch_of_indicator_asks_for(demo_url, monkeypatch):
    from placeportrait_app import create_app
    from placeportrait_app import map as map_lib

    app = create_app(demo_url, warm=False)
    app.placeportrait.warm(SET, background=False)
    client = CallbackClient(app)
    state = route(client, "/").output("map-state.data")
    built = []
    monkeypatch.setattr(map_lib, "build_layer", lambda *a, **k: built.append(a) or 1 / 0)
    for indicator in ("fuel_poverty", "gigabit_broadband", "dimension:energy"):
        r = client.call("map-spec.data", {"map-state.data": {**state, "indicator": indicator}},
                        {"map-shown.data": None})
        assert r.status == 200 and r.output("map-spec.data")["codes"]
    assert built == []  # every layer came from the warming


def test_a_ward_click_does_not_send_the_table_of_wards_again(client):
    state = route(client, "/", "?indicator=fuel_poverty").output("map-state.data")
    first = client.call("ward-list.children", SHOWN,
                        {"map-state.data": state, "ward-list-shown.data": None})
    shown = first.output("ward-list-shown.data")
    assert "Old Trafford" in json.dumps(first.output("ward-list.children"))
    assert first.output("ward-list-summary.children") == "Table of the wards on the map"
    clicked = {**state, "highlight": [OLD_TRAFFORD]}
    again = client.call("ward-list.children", SHOWN,
                        {"map-state.data": clicked, "ward-list-shown.data": shown})
    assert again.response["response"] == {}  # nothing sent: the same wards, values, order
    switched = client.call("ward-list.children", SHOWN,
                           {"map-state.data": {**clicked, "indicator": "gigabit_broadband"},
                            "ward-list-shown.data": shown})
    assert "94.0 % of premises" in json.dumps(switched.output("ward-list.children"))


def test_portrait_and_lists_are_few_components(client):
    """Dash's renderer costs O(N²) in the components a callback adds (each new wrapper
    dispatches on mount and every wrapper re-selects): the ward portrait's tables were ~850
    components and took seconds of JavaScript per click. They are static HTML now."""
    r = route(client, f"/ward/{ALTRINCHAM}", "?indicator=fuel_poverty")
    p = client.call("panel-title.children", {"panel-state.data": r.output("panel-state.data")})
    body = p.output("panel-body.children")
    assert count_components(body) < 40, count_components(body)
    text = json.dumps(body)
    assert 'id=\\"portrait-table\\"' in text and 'scope=\\"row\\"' in text
    assert 'data-indicator=\\"gigabit_broadband\\"' in text
    assert count_components(p.output("attribution.children")) == 1
    w = client.call("ward-list.children", SHOWN, {"map-state.data": r.output("map-state.data")})
    assert count_components(w.output("ward-list.children")) == 1
    assert f'href=\\"/ward/{ALTRINCHAM}?set={SET}&amp;indicator=fuel_poverty\\" data-dash-link' \
        in json.dumps(w.output("ward-list.children"))


def test_static_html_is_escaped():
    from dash import dcc, html

    from placeportrait_app.rawhtml import RawHtml, freeze, to_html

    tree = html.Div([
        html.Table(html.Tr([html.Th(["<b>x</b> & y", html.Br(), html.Small("s")], scope="row",
                                    rowSpan=2),
                            html.Td(1.5, className="num", **{"data-indicator": 'a"b'}),
                            html.Td(dcc.Link("go", href="/ward/E1?a=1&b=2", title="Go"))])),
        html.A("bad", href="javascript:alert(1)"), html.A("ok", href="https://example.org/?q=1"),
    ], className="scroll", tabIndex=0, role="region", style={"maxHeight": "3em"},
        **{"aria-label": "Wards <all>"})
    assert to_html(tree) == (
        '<div class="scroll" role="region" style="max-height: 3em" tabindex="0" '
        'aria-label="Wards &lt;all&gt;"><table><tr><th rowspan="2" scope="row">'
        "&lt;b&gt;x&lt;/b&gt; &amp; y<br><small>s</small></th>"
        '<td class="num" data-indicator="a&quot;b">1.5</td>'
        '<td><a title="Go" href="/ward/E1?a=1&amp;b=2" data-dash-link>go</a></td></tr></table>'
        '<a>bad</a><a href="https://example.org/?q=1">ok</a></div>')
    frozen = freeze(tree, id="x").to_plotly_json()
    assert (frozen["namespace"], frozen["type"]) == ("placeportrait_app", "RawHtml")
    assert isinstance(RawHtml(html="<p>x</p>"), RawHtml)
    with pytest.raises(TypeError):
        to_html(html.Div(dcc.Graph(figure={})))


# -- downloads --------------------------------------------------------------------------------------
def test_map_csv_keeps_provenance(repo, client):
    r = client.call("download-map.data", {"dl-map-csv.n_clicks": 1, "dl-map-geojson.n_clicks": 0},
                    {"map-state.data": {"set": SET, "indicator": "gigabit_broadband", "la": None}},
                    changed=["dl-map-csv.n_clicks"])
    data = r.output("download-map.data")
    assert data["filename"] == f"{SET}_gigabit_broadband.csv"
    frame = pd.read_csv(io.StringIO(data["content"]))
    assert len(frame) == 21 and (frame["value"] == 94.0).all()
    assert {"source", "source_url", "source_file", "licence", "method", "coverage", "period",
            "loaded_at"} <= set(frame)
    assert frame["source_file"].str.startswith("gigabit").all()  # the file its run read
    assert (frame["licence"] == "Open Government Licence v3.0").all()


def test_map_geojson_and_panel_csv(client):
    state = {"set": SET, "indicator": "fuel_poverty", "la": TRAFFORD}
    r = client.call("download-map.data", {"dl-map-csv.n_clicks": 0, "dl-map-geojson.n_clicks": 1},
                    {"map-state.data": state}, changed=["dl-map-geojson.n_clicks"])
    collection = json.loads(r.output("download-map.data")["content"])
    assert len(collection["features"]) == 21
    old = next(f for f in collection["features"] if f["properties"]["area_code"] == OLD_TRAFFORD)
    assert old["properties"]["value"] == pytest.approx(19.0153, abs=1e-4)  # as overlay_mean gives it
    assert old["geometry"]["type"] == "MultiPolygon"
    r = client.call("download-panel.data", {"dl-panel-csv.n_clicks": 1},
                    {"panel-state.data": {"set": SET, "view": "ward", "ward": ALTRINCHAM}})
    frame = pd.read_csv(io.StringIO(r.output("download-panel.data")["content"]))
    assert set(frame["area_code"]) == {ALTRINCHAM}
    assert len(frame) == app_indicators(client)
    assert {"authority_value", "nation_value", "nation_method", "rank", "threshold_source",
            "attribution"} <= set(frame)


def app_indicators(client) -> int:
    return client.app.placeportrait.table(SET)["indicator"].nunique()


def test_downloads_leave_no_data_empty(repo):
    values = repo.metric_values(SET, "fuel_poverty").copy()
    values.loc[ALTRINCHAM, ["value", "status", "display"]] = [np.nan, "no data", "no data"]
    layer = map_lib.build_layer(repo.areas(SET), values, repo.metrics(SET)["fuel_poverty"])
    frame = pd.read_csv(io.StringIO(downloads.map_csv(repo, SET, layer)["content"]))
    row = frame.set_index("area_code").loc[ALTRINCHAM]
    assert math.isnan(row["value"]) and math.isnan(row["class"]) and row["status"] == "no data"


# -- serving ------------------------------------------------------------------------------------------
def test_responses_are_gzipped_and_the_page_is_english(app):
    http = app.server.test_client()
    page = http.get("/ward/E05015239")
    assert page.status_code == 200 and b'<html lang="en">' in page.get_data()
    layout = http.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})
    assert layout.headers.get("Content-Encoding") == "gzip"
    assert "Sources and licences" not in gzip.decompress(layout.get_data()).decode()  # filled later
    assert http.get("/_dash-layout").headers.get("Content-Encoding") is None


def test_serve_binds_localhost_without_debug(demo_url, monkeypatch):
    import dash

    seen = {}
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: seen.update(kw))
    assert cli("--database-url", demo_url, "serve") == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8050 and seen["debug"] is False
    assert cli("--database-url", demo_url, "serve", "--boundary-set", "nope") == 1


def test_wsgi_reads_the_environment(demo_url, monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("PLACEPORTRAIT_DATABASE_URL", demo_url)
    sys.modules.pop("placeportrait_app.wsgi", None)
    wsgi = importlib.import_module("placeportrait_app.wsgi")
    assert wsgi.server.test_client().get("/").status_code == 200
    assert wsgi.app.placeportrait.store.location.url == demo_url


def test_reports_are_rendered_once_per_data_version(demo_url, tmp_path, monkeypatch):
    """The download is cached under the set's version, and a re-score renders afresh.
    (Counted, not compared: a new version may render the very same bytes.)"""
    import shutil

    import placeportrait.report as report
    from placeportrait_app import create_app

    renders = []
    real = report.render_ward_report
    monkeypatch.setattr(report, "render_ward_report",
                        lambda *args, **kwargs: renders.append(args[2]) or real(*args, **kwargs))
    url = str(tmp_path / "copy.gpkg")
    shutil.copy(demo_url, url)
    app = create_app(url, warm=False, ttl=0)
    http = app.server.test_client()
    path = f"/report/{SET}/E05015239.html"
    first = http.get(path)
    assert first.status_code == 200 and b"Altrincham" in first.get_data()
    assert http.get(path).get_data() == first.get_data()
    assert renders == ["E05015239"]  # the second answer was the cached render
    assert cli("--database-url", url, "score", "--boundary-set", SET) in (0, None)
    assert http.get(path).status_code == 200
    assert renders == ["E05015239", "E05015239"]  # new version: rendered afresh


# -- trends and periods ------------------------------------------------------------------------
def _trafford_source(name: str) -> dict[str, float]:
    """Trafford's rows of a shipped ONS Explore Local Statistics file, by period, with csv."""
    import csv

    with open(DEMO_WARDS.parent / name, encoding="utf-8-sig") as fh:
        return {r["period"][:4]: float(r["observation"]) for r in csv.DictReader(fh)
                if r["areacd"] == TRAFFORD}


def test_a_period_shows_the_map_and_portrait_as_they_stood(client, repo):
    r = route(client, f"/ward/{ALTRINCHAM}", "?indicator=ghg_per_capita&period=2019")
    assert r.output("period.value") == "2019"
    assert {"latest", "2019", "2005"} <= {o["value"] for o in r.output("period.options")}
    map_state, panel_state = r.output("map-state.data"), r.output("panel-state.data")
    assert map_state["period"] == panel_state["period"] == "2019"
    m = client.call("map-spec.data", {"map-state.data": map_state}, {"map-shown.data": None})
    assert "per person per year) as of 2019" in m.output("map-title.children")
    # every ward carries Trafford's 2019 figure from the source
    values = repo.at("2019").metric_values(SET, "ghg_per_capita")
    assert values.loc[ALTRINCHAM, "value"] == pytest.approx(
        _trafford_source("greenhouse_gas_per_capita_greater_manchester.csv")["2019"])
    assert values["value"].nunique() == 1
    # an indicator first published later (Census 2021) is no data as of 2019
    assert repo.at("2019").metric_values(SET, "census21_bad_health")["value"].isna().all()
    p = client.call("panel-title.children", {"panel-state.data": panel_state})
    assert p.output("panel-title.children") == "Ward portrait: Altrincham as of 2019"
    body = json.dumps(p.output("panel-body.children"))
    assert "The doughnut in 2019 and now" in body and "doughnut-now" in body
    # fuel poverty (LILEE) 2019 and 2020 are not a trend, and Census 2021 joins the health,
    # education and housing dimensions later: those are not compared
    assert "Gaps that shrank: Climate change" in body
    assert re.search(r"Not compared, because [^.]*: [^.]*Energy", body)
    # the latest view has no "as of" and one doughnut
    latest = route(client, f"/ward/{ALTRINCHAM}", "?period=latest")
    assert "period=" not in (latest.output("url.search") or "")


def test_the_portrait_shows_each_series_with_its_direction(client):
    r = route(client, f"/ward/{ALTRINCHAM}")
    p = client.call("panel-title.children", {"panel-state.data": r.output("panel-state.data")})
    body = json.dumps(p.output("panel-body.children"))
    assert 'id=\\"trends-heading\\"' in body or "trends-heading" in body
    assert "Households in fuel poverty (LILEE)" in body and "Series breaks at 2020: DESNZ" in body
    assert "least-squares trend over the last 5 periods (2019 to 2023)" in body
    assert body.count('class=\\"trend-chart\\"') == 5
