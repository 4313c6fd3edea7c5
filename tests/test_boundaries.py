"""Loading boundary sets through the CLI, as a user would, on both stores."""

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from placeportrait.cli import main
from placeportrait.store import open_store

from conftest import DATA

ROOT = Path(__file__).parents[1]
DEMO = DATA / "boundaries" / "greater_manchester_wards_dec2023_bsc.geojson"
UK_2023 = DATA / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip"
UK_2019 = DATA / "boundaries" / "uk_wards_dec2019.gpkg.zip"
TRAFFORD_2013 = DATA / "boundaries" / "trafford_wards_2013_ons.json"


def run(capsys, *args):
    """Run the CLI; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def load(capsys, url, source, name="wards", *extra):
    return run(capsys, "--database-url", url, "boundaries", "load", source, "--set", name,
               "--level", "ward", *extra)


def test_ons_fields_detected_without_flags(store_url, capsys):
    code, out, err = load(capsys, store_url, TRAFFORD_2013, "trafford-2013")
    assert code == 0, err
    store = open_store(store_url)
    meta = store.boundary_set("trafford-2013")
    assert (meta["code_field"], meta["name_field"], meta["vintage"]) == ("WD13CD", "WD13NM", "2013")
    areas = store.read_areas("trafford-2013")
    assert len(areas) == 21
    assert "Altrincham" in set(areas["name"])


@pytest.mark.slow
def test_uk_wards_2023_all_8441_with_lad_parents(store_url, capsys):
    code, out, err = load(capsys, store_url, UK_2023, "uk-2023")
    assert code == 0, err
    store = open_store(store_url)
    areas = store.read_area_table("uk-2023")
    assert len(areas) == 8441
    assert store.boundary_set("uk-2023")["parent_field"] == "LAD23CD"
    assert areas["parent_code"].notna().all() and areas["parent_code"].nunique() == 361
    # Areas in EPSG:27700 agree with ONS's published Shape__Area for every ward.
    published = gpd.read_file(UK_2023, ignore_geometry=True).set_index("WD23CD")["Shape__Area"]
    ratio = areas.set_index("code")["area_m2"] / published
    assert ratio.between(0.9995, 1.0005).all()
    code, out, _ = run(capsys, "--database-url", store_url, "boundaries", "list")
    assert "uk-2023" in out and "8,441" in out


@pytest.mark.slow
def test_uk_wards_2019_repairs_the_one_invalid_geometry(store_url, capsys):
    code, out, err = load(capsys, store_url, UK_2019, "uk-2019")
    assert code == 0, err
    assert "repaired 1 invalid geometries" in err and "E05012462" in err
    store = open_store(store_url)
    assert store.boundary_set("uk-2019")["repaired_geometries"] == 1
    areas = store.read_areas("uk-2019", codes=["E05012462"])
    assert shapely.is_valid(areas.geometry.values).all()
    assert store.boundary_set("uk-2019")["area_count"] == 8887


def _write_geojson(path, features, crs=True):
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    path.write_text(json.dumps(doc))
    return path


def _features(n=3, code="WD23CD"):
    gdf = gpd.read_file(DEMO).head(n)
    return [
        {"type": "Feature", "properties": {code: r.WD23CD, "WD23NM": r.WD23NM},
         "geometry": shapely.geometry.mapping(r.geometry)}
        for r in gdf.itertuples()
    ]


def _bad_sources(tmp_path):
    feats = _features()
    dup = _features()
    dup[1]["properties"]["WD23CD"] = dup[0]["properties"]["WD23CD"]
    no_geom = [{**f, "geometry": None} for f in _features()]
    html = tmp_path / "page.geojson"
    html.write_text("<!DOCTYPE html><html><body>Not found</body></html>")
    bng = gpd.read_file(DEMO).head(3).to_crs(27700).set_crs(4326, allow_override=True)
    mislabelled = tmp_path / "metres_as_degrees.gpkg"
    bng.to_file(mislabelled)
    no_crs_dir = tmp_path / "nocrs"
    gpd.read_file(DEMO).head(3).to_file(no_crs_dir / "w.shp" if no_crs_dir.mkdir() is None else None)
    (no_crs_dir / "w.prj").unlink()
    truncated = tmp_path / "truncated.geojson"
    truncated.write_text(DEMO.read_text()[:5000])
    return {
        "missing code column": (_write_geojson(tmp_path / "nocode.geojson", _features(code="CODE_X")),
                                "no code column"),
        "duplicate codes": (_write_geojson(tmp_path / "dup.geojson", dup), "duplicate codes"),
        "empty file": (_write_geojson(tmp_path / "empty.geojson", []), "no features"),
        "no geometry": (_write_geojson(tmp_path / "nogeom.geojson", no_geom), "no geometry"),
        "html saved as geojson": (html, "cannot read"),
        "truncated": (truncated, "cannot read"),
        "no crs": (no_crs_dir / "w.shp", "no coordinate reference system"),
        "wrong crs": (mislabelled, "outside the UK"),
        "missing file": (tmp_path / "nope.geojson", "no such file"),
    }, feats


BAD = ["missing code column", "duplicate codes", "empty file", "no geometry",
       "html saved as geojson", "truncated", "no crs", "wrong crs", "missing file"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_and_leaves_old_set(store_url, capsys, tmp_path, case):
    code, _, err = load(capsys, store_url, DEMO, "wards")
    assert code == 0, err
    sources, _ = _bad_sources(tmp_path)
    path, message = sources[case]
    code, out, err = load(capsys, store_url, path, "wards")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0] and path.name in lines[0]
    assert "Traceback" not in err
    assert open_store(store_url).boundary_set("wards")["area_count"] == 215


def test_zipped_shapefile_with_explicit_fields(store_url, capsys, tmp_path):
    gdf = gpd.read_file(DEMO).rename(columns={"WD23CD": "ward_id", "WD23NM": "label",
                                               "LAD23CD": "council"})
    gdf.to_crs(27700).to_file(tmp_path / "w.shp")
    archive = tmp_path / "w.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in tmp_path.glob("w.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    code, _, err = load(capsys, store_url, archive, "shp")
    assert code == 1 and "--code-field" in err
    code, _, err = load(capsys, store_url, archive, "shp", "--code-field", "ward_id",
                        "--name-field", "label", "--parent-field", "council")
    assert code == 0, err
    areas = open_store(store_url).read_areas("shp")
    assert len(areas) == 215 and areas.crs.to_epsg() == 4326
    # reprojected from EPSG:27700 back to lon/lat
    assert -3 < areas.total_bounds[0] < -2


def test_reload_replaces_atomically(store_url, capsys, tmp_path):
    assert load(capsys, store_url, DEMO, "wards")[0] == 0
    subset = tmp_path / "subset.geojson"
    gpd.read_file(DEMO).head(10).to_file(subset)
    assert load(capsys, store_url, subset, "wards")[0] == 0
    assert len(open_store(store_url).read_areas("wards")) == 10


def test_unknown_catalogue_name(capsys, gpkg_url):
    code, _, err = run(capsys, "--database-url", gpkg_url, "boundaries", "load", "wards-1999")
    assert code == 1 and "catalogue" in err and "wards-2024" in err


def test_catalogue_lists_ons_sets(capsys):
    code, out, _ = run(capsys, "boundaries", "catalogue")
    assert code == 0
    for name in ("wards-2019", "wards-2020", "wards-2021", "wards-2022", "wards-2023",
                 "wards-2024", "lsoa-2011", "lsoa-2021"):
        assert name in out


def test_catalogue_download_failure_names_url(capsys, gpkg_url, monkeypatch):
    # No internet here: the real download is attempted and fails with the URL named.
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "3")
    code, _, err = run(capsys, "--database-url", gpkg_url, "boundaries", "load", "wards-2024")
    assert code == 1
    assert "cannot download https://services1.arcgis.com/" in err
