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
    assert [m.version for m in applied] == [2, 3, 4, 5, 6, 7]
    assert old.boundary_set("gm")["area_count"] == 215
    assert len(old.read_areas("gm")) == 215


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
