"""Indicator runs end to end through the CLI, on both stores."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from placeportrait.store import open_store

from conftest import DATA
from test_boundaries import run
from test_builtin_support import overlay_mean

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "src" / "placeportrait" / "data" / "demo"
IND = DATA / "indicators"
WARDS = "trafford-wards-2023"


def cli(capsys, url, *args):
    return run(capsys, "--database-url", url, *args)


@pytest.fixture
def trafford(store_url, capsys):
    """Trafford wards 2023 and LSOAs 2011 loaded into the store under test."""
    return load_trafford(store_url, capsys)


def load_trafford(store_url, capsys):
    assert cli(capsys, store_url, "boundaries", "load", DEMO / "trafford_wards_dec2023_bsc.geojson",
               "--set", WARDS, "--level", "ward")[0] == 0
    assert cli(capsys, store_url, "boundaries", "load", DEMO / "trafford_lsoa_2011.geojson",
               "--set", "lsoa-2011", "--level", "lsoa", "--code-field", "area_code",
               "--name-field", "area_name")[0] == 0
    return store_url


def run_fuel_poverty(capsys, url, path=IND / "fuel_poverty_trafford_2017.csv", boundary_set=WARDS):
    return cli(capsys, url, "indicators", "run", "fuel_poverty", "--boundary-set", boundary_set,
               "--input", f"fuel_poverty={path}")


def test_area_weighted_run_matches_an_independent_overlay(trafford, capsys):
    code, out, err = run_fuel_poverty(capsys, trafford)
    assert code == 0, err
    assert "21 of 21 areas have data" in out and "area_weighted" in out
    store = open_store(trafford)
    values = store.read_values(WARDS, ["fuel_poverty"]).set_index("area_code")
    # Independent check: geopandas overlay in EPSG:27700, area-weighted mean of the
    # pieces that are not slivers.
    lsoa = gpd.read_file(DEMO / "trafford_lsoa_2011.geojson")
    wards = gpd.read_file(DEMO / "trafford_wards_dec2023_bsc.geojson").rename(
        columns={"WD23CD": "code"})
    fp = pd.read_csv(IND / "fuel_poverty_trafford_2017.csv")
    expected = overlay_mean(lsoa, "area_code", dict(zip(fp["lsoa11cd"], fp["value"])), wards)
    got = values.loc[expected.index, "value"]
    assert np.allclose(got, expected, rtol=1e-6)
    assert (values["method"] == "area_weighted").all() and (values["unit"] == "% of households").all()
    assert values["coverage"].between(0.5, 1.0).all()
    runs = store.runs("fuel_poverty")
    assert runs.iloc[0]["status"] == "succeeded" and len(runs.iloc[0]["source_checksum"]) == 64


def test_second_indicator_on_the_same_geography_reuses_the_crosswalk(trafford, capsys):
    store = open_store(trafford)
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    fresh = store.read_values(WARDS, ["fuel_poverty"])
    before = store.status()["counts"]["crosswalks"]
    # The same indicator through the cached crosswalk gives the same values.
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    cached = store.read_values(WARDS, ["fuel_poverty"])
    pd.testing.assert_frame_equal(fresh.drop(columns="run_id"), cached.drop(columns="run_id"))
    code, _, err = cli(capsys, trafford, "indicators", "run", "imd_most_deprived", "--boundary-set", WARDS,
                       "--input", f"imd_most_deprived={IND / 'iod2019_file1_trafford.csv'}",
                       "--input", f"imd_most_deprived.population={IND / 'iod2019_file6_trafford.csv'}")
    assert code == 0, err
    assert store.status()["counts"]["crosswalks"] == before > 0
    imd = store.read_values(WARDS, ["imd_most_deprived"])
    assert imd["value"].between(0, 100).all()
    # Trafford has LSOAs in decile 1 (Bucklow-St Martins), so some ward is above 0 %.
    assert imd["value"].max() > 10


def test_a_reloaded_source_set_gets_a_new_crosswalk_in_the_same_process(trafford, capsys, tmp_path):
    """The crosswalk's cache key (the source set's geometry fingerprint) is computed once
    per load of the set; a reload with moved boundaries must not reuse the old one."""
    store = open_store(trafford)
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    before = store.read_values(WARDS, ["fuel_poverty"]).set_index("area_code")["value"]
    crosswalks = store.status()["counts"]["crosswalks"]
    lsoa = gpd.read_file(DEMO / "trafford_lsoa_2011.geojson")
    lsoa["geometry"] = lsoa.geometry.translate(xoff=0.01)  # about 660 m east
    lsoa.to_file(tmp_path / "moved.geojson")
    assert cli(capsys, trafford, "boundaries", "load", tmp_path / "moved.geojson",
               "--set", "lsoa-2011", "--level", "lsoa", "--code-field", "area_code",
               "--name-field", "area_name")[0] == 0
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    after = store.read_values(WARDS, ["fuel_poverty"]).set_index("area_code")["value"]
    assert store.status()["counts"]["crosswalks"] > crosswalks
    assert not np.allclose(after.sort_index(), before.sort_index(), equal_nan=True)


def test_apportioned_local_authority_value_is_flagged(trafford, capsys):
    code, out, err = cli(capsys, trafford, "indicators", "run", "gigabit_broadband", "--boundary-set", WARDS,
                         "--input", f"gigabit_broadband={IND / 'gigabit-capable-broadband.csv'}")
    assert code == 0, err
    values = open_store(trafford).read_values(WARDS, ["gigabit_broadband"])
    assert (values["value"] == 94.0).all()  # Trafford's published figure, Jan 2026
    assert values["flags"].str.contains("apportioned").all()


def test_bad_source_fails_the_run_and_keeps_old_values(trafford, capsys, tmp_path):
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    store = open_store(trafford)
    before = store.read_values(WARDS, ["fuel_poverty"])
    bad = tmp_path / "bad.csv"
    text = (IND / "fuel_poverty_trafford_2017.csv").read_text().replace(",2017,Proportion,Households,9.", ",2017,Proportion,Households,nine")
    bad.write_text(text)
    code, _, err = run_fuel_poverty(capsys, trafford, bad)
    assert code == 1 and "column 'value'" in err and "bad.csv" in err
    assert len(err.strip().splitlines()) == 1
    pd.testing.assert_frame_equal(store.read_values(WARDS, ["fuel_poverty"]), before)
    runs = store.runs("fuel_poverty")
    assert runs.iloc[0]["status"] == "failed" and "not a number" in runs.iloc[0]["messages"]


def test_codes_of_another_geography_fail_above_threshold(trafford, capsys, tmp_path):
    frame = pd.read_csv(IND / "fuel_poverty_trafford_2017.csv", dtype=str)
    frame["lsoa11cd"] = frame["lsoa11cd"].str.replace("E01", "W01")
    wrong = tmp_path / "wales.csv"
    frame.to_csv(wrong, index=False)
    code, _, err = run_fuel_poverty(capsys, trafford, wrong)
    assert code == 1 and "138 source codes match no area of 'lsoa-2011'" in err and "W0100" in err


def test_unknown_boundary_set_and_missing_source_geometry(store_url, capsys):
    code, _, err = cli(capsys, store_url, "indicators", "run", "fuel_poverty", "--boundary-set", "x")
    assert code == 1 and "is empty" in err
    assert cli(capsys, store_url, "db", "init")[0] == 0
    code, _, err = cli(capsys, store_url, "indicators", "run", "fuel_poverty", "--boundary-set", "nope",
                       "--input", f"fuel_poverty={IND / 'fuel_poverty_trafford_2017.csv'}")
    assert code == 1 and "no boundary set 'nope'" in err


def test_england_only_source_leaves_other_nations_as_no_data(gpkg_url, capsys):
    uk = DATA / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip"
    assert cli(capsys, gpkg_url, "boundaries", "load", uk, "--set", "uk", "--level", "ward")[0] == 0
    assert cli(capsys, gpkg_url, "boundaries", "load", DEMO / "trafford_lsoa_2011.geojson",
               "--set", "lsoa-2011", "--level", "lsoa", "--code-field", "area_code")[0] == 0
    code, out, err = cli(capsys, gpkg_url, "indicators", "run", "gigabit_broadband", "--boundary-set", "uk",
                         "--input", f"gigabit_broadband={IND / 'gigabit-capable-broadband.csv'}")
    assert code == 0, err
    values = open_store(gpkg_url).read_values("uk", ["gigabit_broadband"]).set_index("area_code")
    assert len(values) == 8441
    assert values.loc["E05015239", "value"] == 94.0  # Altrincham, Trafford
    # Every ward is a row; wards of authorities without a published row are NaN, never 0.
    assert (values["value"].fillna(-1) != 0).all()
    code, out, err = run_fuel_poverty(capsys, gpkg_url, boundary_set="uk")
    assert code == 0, err
    fp = open_store(gpkg_url).read_values("uk", ["fuel_poverty"]).set_index("area_code")
    assert fp["value"].notna().sum() == 21  # only Trafford's wards are covered by the extract
    assert fp.loc[fp.index.str.startswith(("W", "S", "N")), "value"].isna().all()
    assert (fp["value"].fillna(-1) != 0).all()


SLOW_PLUGIN = '''
import time
from pathlib import Path
import pandas as pd
from placeportrait.plugins import IndicatorPlugin

class Slow(IndicatorPlugin):
    metadata = {
        "id": "slow_ward_share", "title": "Slow", "description": "Sleeps mid-run.",
        "ring": "social", "dimension": "housing", "lens": "local-social", "unit": "%",
        "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": "test"},
        "source": {"publisher": "test", "url": "https://example.org/x.csv",
                   "licence": "OGL", "attribution": "test"},
        "geography": "ward", "measure": {"kind": "intensive"}, "periods": ["2021"],
    }

    def read(self, path):
        frame = pd.read_csv(path, dtype={"code": str})
        marker = Path(path).with_suffix(".reading")
        marker.write_text("x")
        if frame["value"].iloc[0] < 0:
            time.sleep(60)  # killed here
        return frame.assign(period="2021")
'''


def test_kill_9_mid_run_keeps_values_and_next_run_succeeds(trafford, capsys, tmp_path):
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "slow.py").write_text(SLOW_PLUGIN)
    codes = gpd.read_file(DEMO / "trafford_wards_dec2023_bsc.geojson")["WD23CD"]
    good = tmp_path / "good.csv"
    pd.DataFrame({"code": codes, "value": np.arange(len(codes), dtype=float)}).to_csv(good, index=False)
    slow = tmp_path / "slow.csv"
    pd.DataFrame({"code": codes, "value": -1.0}).to_csv(slow, index=False)
    env = {**os.environ, "PLACEPORTRAIT_INDICATORS_PATH": str(plugins_dir)}
    command = [sys.executable, "-m", "placeportrait.cli", "--database-url", trafford, "indicators",
               "run", "slow_ward_share", "--boundary-set", WARDS]
    first = subprocess.run(command + ["--input", f"slow_ward_share={good}"], env=env,
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    store = open_store(trafford)
    before = store.read_values(WARDS, ["slow_ward_share"])
    assert before["value"].sum() == sum(range(len(codes)))

    proc = subprocess.Popen(command + ["--input", f"slow_ward_share={slow}"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marker = slow.with_suffix(".reading")
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), "the run never reached read()"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    pd.testing.assert_frame_equal(store.read_values(WARDS, ["slow_ward_share"]), before)
    assert store.runs("slow_ward_share").iloc[0]["status"] == "running"

    again = subprocess.run(command + ["--input", f"slow_ward_share={good}"], env=env,
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    statuses = store.runs("slow_ward_share")["status"].tolist()
    assert statuses[0] == "succeeded" and statuses.count("failed") == 1
    failed = store.runs("slow_ward_share").query("status == 'failed'").iloc[0]
    assert "interrupted" in failed["messages"]


GRID_PLUGIN = '''
from pathlib import Path
import geopandas as gpd
from placeportrait import readers
from placeportrait.plugins import IndicatorPlugin

class Pm25Test(IndicatorPlugin):
    metadata = {
        "id": "pm25_test", "title": "PM2.5 (test copy)", "description": "Defra 1 km grid.",
        "ring": "ecological", "dimension": "air_pollution", "lens": "local-ecological",
        "unit": "µg/m³", "polarity": "lower_is_better",
        "threshold": {"value": 5, "citation": "WHO 2021 Air Quality Guidelines"},
        "source": {"publisher": "Defra", "url": "https://example.org/pm25.geojson",
                   "licence": "OGL v3.0", "attribution": "Defra"},
        "geography": "grid", "measure": {"kind": "intensive"}, "periods": ["2017"],
    }

    def read(self, path):
        readers.sniff(Path(path))
        grid = gpd.read_file(path)
        grid["code"] = grid["id"].astype(str)
        grid["period"] = "2017"
        return grid[["code", "period", "value", "geometry"]]
'''
GRID = DATA / "grid" / "background_air_pollution.geojson"


@pytest.fixture
def grid_plugin(tmp_path, monkeypatch):
    folder = tmp_path / "grid_plugins"
    folder.mkdir()
    (folder / "pm25_test.py").write_text(GRID_PLUGIN)
    monkeypatch.setenv("PLACEPORTRAIT_INDICATORS_PATH", str(folder))


def run_grid(capsys, url, path=GRID):
    return cli(capsys, url, "indicators", "run", "pm25_test", "--boundary-set", WARDS,
               "--input", f"pm25_test={path}")


def test_grid_to_wards_matches_shapely_by_hand(trafford, grid_plugin, capsys):
    code, out, err = run_grid(capsys, trafford)
    assert code == 0, err
    assert "zonal_grid" in out
    values = open_store(trafford).read_values(WARDS, ["pm25_test"]).set_index("area_code")
    grid = gpd.read_file(GRID).to_crs(27700)
    ward = gpd.read_file(DEMO / "trafford_wards_dec2023_bsc.geojson").to_crs(27700)
    ward = ward.set_index("WD23CD").geometry
    for code_ in ("E05015244", "E05015249"):  # two wards, by hand with shapely
        shares = grid.geometry.intersection(ward[code_]).area
        expected = (grid["value"] * shares).sum() / shares.sum()
        assert values.loc[code_, "value"] == pytest.approx(expected, rel=1e-9)
        assert values.loc[code_, "coverage"] == pytest.approx(min(shares.sum() / ward[code_].area, 1), rel=1e-6)


def test_grid_with_no_crs_is_a_clear_error(trafford, grid_plugin, capsys, tmp_path):
    doc = json.loads(GRID.read_text())
    doc.pop("crs", None)
    bare = tmp_path / "nocrs.json"
    bare.write_text(json.dumps(doc))
    # GeoJSON without "crs" is defined as WGS84, so strip the CRS after reading instead:
    frame = gpd.read_file(GRID).to_crs(27700)
    frame = frame.set_crs(None, allow_override=True)
    shp = tmp_path / "grid.shp"
    frame.to_file(shp)
    shp.with_suffix(".prj").unlink(missing_ok=True)
    code, _, err = run_grid(capsys, trafford, shp)
    assert code == 1 and "CRS" in err and len(err.strip().splitlines()) == 1


def test_grid_in_the_wrong_crs_is_caught(trafford, grid_plugin, capsys, tmp_path):
    mislabelled = gpd.read_file(GRID).to_crs(27700).set_crs(4326, allow_override=True)
    path = tmp_path / "wrong.gpkg"
    mislabelled.to_file(path)
    code, _, err = run_grid(capsys, trafford, path)
    assert code == 1 and len(err.strip().splitlines()) == 1
    before = open_store(trafford).read_values(WARDS, ["pm25_test"])
    assert before.empty


def test_invalid_grid_geometry_is_repaired_not_fatal(trafford, grid_plugin, capsys, tmp_path):
    from shapely.geometry import Polygon

    frame = gpd.read_file(GRID)
    x0, y0, x1, y1 = frame.geometry.iloc[0].bounds
    frame.loc[frame.index[0], "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # bow-tie
    path = tmp_path / "bowtie.geojson"
    frame.to_file(path)
    code, _, err = run_grid(capsys, trafford, path)
    assert code == 0, err


POINTS_PLUGIN = '''
import geopandas as gpd
from placeportrait.plugins import IndicatorPlugin

class LabelPoints(IndicatorPlugin):
    metadata = {
        "id": "label_points", "title": "Ward label points", "description": "ONS LONG/LAT.",
        "ring": "social", "dimension": "networks", "lens": "local-social", "unit": "points",
        "polarity": "higher_is_better",
        "threshold": {"value": 1, "citation": "test"},
        "source": {"publisher": "ONS", "url": "https://example.org/w.gpkg",
                   "licence": "OGL v3.0", "attribution": "ONS"},
        "geography": "points", "measure": {"kind": "extensive"}, "periods": ["2023"],
        "min_coverage": 0,
    }

    def read(self, path):
        wards = gpd.read_file(path, ignore_geometry=True)
        pts = gpd.GeoDataFrame(
            {"code": "pt-" + wards["WD23CD"], "period": "2023", "value": 1.0},
            geometry=gpd.points_from_xy(wards["LONG"], wards["LAT"]), crs=4326)
        return pts
'''


def test_points_are_counted_in_the_ward_that_contains_them(trafford, capsys, tmp_path, monkeypatch):
    folder = tmp_path / "point_plugins"
    folder.mkdir()
    (folder / "label_points.py").write_text(POINTS_PLUGIN)
    monkeypatch.setenv("PLACEPORTRAIT_INDICATORS_PATH", str(folder))
    # ONS publishes a label point (LONG, LAT) inside every ward: one per ward, UK-wide file.
    uk = DATA / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip"
    code, out, err = cli(capsys, trafford, "indicators", "run", "label_points", "--boundary-set", WARDS,
                         "--input", f"label_points={uk}")
    assert code == 0, err
    values = open_store(trafford).read_values(WARDS, ["label_points"])
    assert len(values) == 21 and (values["value"] == 1.0).all()
    assert (values["method"] == "points").all()
