"""The store's schema and migrations, on both backends."""

import geopandas as gpd
import pyogrio
import pytest

from placeportrait import boundaries
from placeportrait.errors import StoreError, UnknownNameError
from placeportrait.store import migrations, open_store


DEMO = "tests/data/boundaries/greater_manchester_wards_dec2023_bsc.geojson"


def _prepared(name="gm", path=None):
    from pathlib import Path

    path = path or Path(__file__).parents[1] / DEMO
    gdf = boundaries.read_source(str(path))
    return boundaries.prepare(gdf, name=name, level="ward", source=str(path))


def test_init_creates_latest_schema_and_is_idempotent(store):
    assert store.schema_version() == migrations.LATEST
    assert store.init() == []
    status = store.status()
    assert status["pending"] == []
    assert set(status["counts"]) >= {"boundary_sets", "areas", "runs", "indicator_values", "scores"}


def test_existing_store_upgrades_in_place(store_url):
    old = open_store(store_url)
    old.init(target=1)
    assert old.schema_version() == 1
    with pytest.raises(StoreError, match="db init"):
        old.boundary_sets()
    p = _prepared()
    # write at v1 via the backend hook, as an old release would have
    old._write_boundary_set({**p.meta, "loaded_at": "2024-01-01T00:00:00+00:00",
                             "area_count": len(p.areas)}, p.areas)
    applied = old.init()
    assert [m.version for m in applied] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert old.boundary_set("gm")["area_count"] == 215
    assert len(old.read_areas("gm")) == 215


def test_thresholds_move_out_of_the_score_rows(store_url):
    """Migration 9: a store whose score rows each carry their threshold, baseline,
    citation and time keeps one row of them per indicator and period, and reads back the
    same scores."""
    import sqlalchemy as sa

    old = open_store(store_url)
    old.init(target=8)
    with old._write() as conn:
        for column, kind in (("threshold", "FLOAT"), ("baseline", "FLOAT"),
                             ("threshold_source", "TEXT"), ("scored_at", "TEXT")):
            conn.exec_driver_sql(f"ALTER TABLE scores ADD COLUMN {column} {kind}")
        conn.execute(sa.text(
            "INSERT INTO scores (boundary_set, area_code, indicator, period, ring, dimension, "
            "value, threshold, baseline, threshold_source, ratio, shortfall, overshoot, status, "
            "scored_at) VALUES (:s, :a, :i, :p, 'social', 'income', :v, 0.0, 100.0, :c, :r, "
            ":r, 0.0, 'shortfall', '2026-01-01T00:00:00+00:00')"),
            [{"s": "gm", "a": a, "i": i, "p": p, "v": v, "c": f"cited for {i}", "r": v / 100}
             for a, v in (("E05000001", 12.0), ("E05000002", 7.5))
             for i in ("income", "employment") for p in ("2019", "2025")])
        p = _prepared()
        old._insert_set_rows(conn, {**p.meta, "loaded_at": "2024-01-01T00:00:00+00:00",
                                    "area_count": len(p.areas)}, None)
    assert [m.version for m in old.init()] == [9]
    scores = old.read_scores("gm")
    assert len(scores) == 8 and set(scores["threshold_source"]) == {"cited for income",
                                                                    "cited for employment"}
    assert (scores["baseline"] == 100.0).all() and (scores["threshold"] == 0.0).all()
    assert set(scores["scored_at"]) == {"2026-01-01T00:00:00+00:00"}
    assert old.score_thresholds("gm", "income") == (0.0, 100.0, "cited for income")
    assert old.status()["counts"]["score_thresholds"] == 4
    with old.engine().connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("scores")}
    assert not columns & {"threshold", "baseline", "threshold_source", "scored_at"}


def test_roundtrip_areas(store):
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    got = store.read_areas("gm")
    assert len(got) == 215 and got.crs.to_epsg() == 4326
    assert set(got.geom_type) == {"MultiPolygon"}
    assert got["parent_code"].str.match(r"^E0800000\d|E08000010$").all()
    row = store.boundary_set("gm")
    assert row["code_field"] == "WD23CD" and row["vintage"] == "2023" and row["area_count"] == 215
    table = store.read_area_table("gm")
    assert table["area_m2"].sum() == pytest.approx(got["area_m2"].sum())


def test_tiles_are_kept_only_for_the_load_they_were_built_for(store):
    """Tiles built alongside a refresh (vector_tiles.BuiltAlongside) are attached to the
    load they describe; a set reloaded meanwhile keeps none of them."""
    p = _prepared()
    first = store.replace_boundary_set(p.meta, p.areas, tiles=False)
    assert store.read_tiles("gm") is None  # until attached, the app builds its own
    assert store.attach_tiles("gm", first, b"PMTiles of the first load")
    assert store.read_tiles("gm")["tiles"] == b"PMTiles of the first load"
    second = store.replace_boundary_set(p.meta, p.areas, tiles=False)
    assert second != first and store.read_tiles("gm") is None
    assert not store.attach_tiles("gm", first, b"PMTiles of the first load")
    assert store.read_tiles("gm") is None
    assert not store.attach_tiles("nope", first, b"x")


def test_tiles_that_fail_to_build_leave_the_set_loaded_and_say_so(store):
    from concurrent.futures import Future

    from placeportrait import vector_tiles

    p = _prepared()
    lines = []
    with vector_tiles.BuiltAlongside(store, lines.append) as alongside:
        loaded_at = store.replace_boundary_set(p.meta, p.areas, tiles=False)
        failed = Future()
        failed.set_exception(RuntimeError("GDAL said no"))
        alongside.pending.append(("gm", loaded_at, failed))
    assert store.read_tiles("gm") is None and len(store.read_areas("gm")) == 215
    assert lines == ["source geometry: tiles of 'gm' not kept (GDAL said no); the app builds "
                     "them when it first shows the set"]


def test_unknown_set_names_the_known_ones(store):
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    with pytest.raises(UnknownNameError, match="gm"):
        store.read_areas("nope")
    with pytest.raises(UnknownNameError):
        store.read_areas("x'; DROP TABLE areas; --")


def test_delete_set(store):
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    store.delete_boundary_set("gm")
    assert store.boundary_sets().empty
    assert store.status()["counts"]["areas"] == 0


def test_newer_schema_is_refused(store):
    import sqlalchemy as sa

    from placeportrait.store import schema

    if store.kind == "postgis":
        with store.engine().begin() as conn:
            conn.execute(sa.insert(schema.schema_migrations),
                         [{"version": 99, "description": "future", "applied_at": "x"}])
    else:
        with store._writing() as work:
            eng = sa.create_engine(f"sqlite:///{work}")
            with eng.begin() as conn:
                conn.execute(sa.insert(schema.schema_migrations),
                             [{"version": 99, "description": "future", "applied_at": "x"}])
            eng.dispose()
    with pytest.raises(StoreError, match="newer than this placeportrait"):
        store.init()


def test_geopackage_opens_in_gdal_with_the_ward_layer(gpkg_url):
    store = open_store(gpkg_url)
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    layers = dict(pyogrio.list_layers(gpkg_url))
    assert layers["areas"] == "MultiPolygon"
    assert pyogrio.read_info(gpkg_url, layer="areas")["features"] == 215
    assert gpd.read_file(gpkg_url, layer="areas").crs.to_epsg() == 4326


def test_geopackage_write_failure_leaves_file_intact(gpkg_url, monkeypatch):
    from pathlib import Path

    from placeportrait.store import geopackage

    store = open_store(gpkg_url)
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    before = Path(gpkg_url).read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(geopackage.pyogrio, "write_dataframe", disk_full)
    with pytest.raises(StoreError, match="No space left on device.*unchanged"):
        store.replace_boundary_set({**p.meta, "name": "gm"}, p.areas.head(3))
    assert Path(gpkg_url).read_bytes() == before
    assert not list(Path(gpkg_url).parent.glob("*.tmp.gpkg"))
    assert store.boundary_set("gm")["area_count"] == 215


def test_geopackage_unwritable_directory_is_a_clear_error(tmp_path):
    store = open_store(str(tmp_path / "missing-parent-is-a-file" / "x.gpkg"))
    (tmp_path / "missing-parent-is-a-file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot write embedded store"):
        store.init()


def test_postgis_failure_mid_copy_leaves_old_set(postgis_url):
    store = open_store(postgis_url)
    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    broken = p.areas.copy()
    broken["code"] = broken["code"].astype(object)
    broken.loc[broken.index[-1], "code"] = None  # NOT NULL violated on the last COPY row
    with pytest.raises(Exception):
        store.replace_boundary_set(p.meta, broken)
    assert store.boundary_set("gm")["area_count"] == 215
    assert len(store.read_areas("gm")) == 215


def test_postgis_unreachable_is_a_clear_error():
    store = open_store("postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot connect"):
        store.init()


def test_postgis_has_spatial_index(postgis_url):
    import sqlalchemy as sa

    store = open_store(postgis_url)
    store.init()
    with store.engine().connect() as conn:
        indexes = conn.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'areas' AND schemaname = current_schema()"
        )).scalars().all()
    assert any("gist" in i.lower() for i in indexes)


def test_postgis_store_ignores_another_store_on_the_search_path(postgis_url):
    """Two stores in one database, in two schemas: neither sees the other's tables."""
    import uuid

    import sqlalchemy as sa

    first = open_store(postgis_url)
    p = _prepared()
    first.replace_boundary_set(p.meta, p.areas)
    other = f"t_{uuid.uuid4().hex[:12]}"
    first_schema = postgis_url.split("search_path%3D")[1].split(",")[0]
    with first.engine().begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{other}"'))
    try:
        url = postgis_url.replace(f"search_path%3D{first_schema}",
                                  f"search_path%3D{other},{first_schema}")
        second = open_store(url)
        assert second.schema_version() == 0
        second.init()
        assert second.boundary_sets().empty and first.boundary_set("gm")["area_count"] == 215
        second.engine().dispose()
    finally:
        with first.engine().begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{other}" CASCADE'))


def test_a_load_leaves_exactly_its_own_rows(store):
    """A second load of an indicator, with one area fewer, changed values and another
    period, leaves exactly its rows for its periods (values, scores, reference and source
    values; the GeoPackage updates rows in place and deletes only those gone) and keeps
    the other period's rows."""
    import pandas as pd

    from test_concurrency import indicator_meta

    from placeportrait.scoring import score_new_values
    from placeportrait import plugins

    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    codes = sorted(store.read_area_table("gm")["code"])[:6]
    meta, plugin = indicator_meta(), plugins.load("gigabit_broadband")

    def load(codes, periods, shift):
        values = pd.DataFrame(
            [(c, per, float(i) + shift if i % 4 else None) for i, c in enumerate(codes)
             for per in periods], columns=["area_code", "period", "value"]).assign(
            unit="%", method="code_match", coverage=1.0, source_rows=1, flags=None)
        references = pd.DataFrame({"period": periods, "level": "nation", "code": "E92000001",
                                   "name": "England", "value": 50.0 + shift,
                                   "method": "source"})
        sources = pd.DataFrame([("lsoa", f"L{c}", per, 1.0 + shift) for c in codes
                                for per in periods],
                               columns=["source_set", "source_code", "period", "value"])
        run = store.start_run(plugin=meta["id"], plugin_version="1", boundary_set="gm",
                              source="t")
        store.commit_values(run, "gm", meta["id"], values, source_checksum=None, messages="{}",
                            indicator_meta=meta, references=references, source_values=sources,
                            scores=score_new_values(store, "gm", plugin.meta, values))
        return values

    load(codes, ["2020", "2021"], 0)
    second = load(codes[1:], ["2021"], 0.5)
    got = store.read_values("gm", [meta["id"]])
    assert sorted(zip(got["area_code"], got["period"])) == sorted(
        [(c, "2020") for c in codes] + [(c, "2021") for c in codes[1:]])
    new = got.loc[got["period"] == "2021"].set_index("area_code")["value"].sort_index()
    pd.testing.assert_series_equal(new, second.set_index("area_code")["value"].sort_index(),
                                   check_names=False)
    assert got.loc[got["period"] == "2021", "run_id"].nunique() == 1
    scores = store.read_scores("gm")
    assert sorted(zip(scores["area_code"], scores["period"])) == sorted(
        zip(got["area_code"], got["period"]))
    assert (scores.set_index(["area_code", "period"])["value"].sort_index()
            .equals(got.set_index(["area_code", "period"])["value"].sort_index()))
    refs = store.read_references("gm").set_index("period")["value"].sort_index()
    assert refs.to_dict() == {"2020": 50.0, "2021": 50.5}
    kept = store.read_source_values("gm", meta["id"])
    assert sorted(zip(kept["source_code"], kept["period"])) == sorted(
        [(f"L{c}", "2020") for c in codes] + [(f"L{c}", "2021") for c in codes[1:]])
    assert set(kept.loc[kept["period"] == "2021", "value"]) == {1.5}
    # one threshold row per period, each stamped by the write that scored it
    assert scores["threshold_source"].notna().all() and scores["scored_at"].notna().all()
    stamps = scores.groupby("period")["scored_at"].unique()
    assert len(stamps["2020"]) == 1 and len(stamps["2021"]) == 1
    assert stamps["2021"][0] > stamps["2020"][0]
    assert store.status()["counts"]["score_thresholds"] == 2


def test_a_period_scored_against_two_thresholds_is_refused(store):
    import pandas as pd

    p = _prepared()
    store.replace_boundary_set(p.meta, p.areas)
    codes = sorted(store.read_area_table("gm")["code"])[:2]
    scores = pd.DataFrame({
        "area_code": codes, "indicator": "income", "period": "2025", "ring": "social",
        "dimension": "income", "value": [5.0, 6.0], "threshold": [0.0, 1.0],
        "baseline": 100.0, "threshold_source": "cited", "ratio": 0.05, "shortfall": 0.05,
        "overshoot": 0.0, "status": "shortfall"})
    with pytest.raises(StoreError, match="income for 2025 use more than one threshold"):
        store.replace_scores("gm", scores)
    assert store.read_scores("gm").empty
