"""Inside a ward: small areas kept as published, and which of them lie in a ward.

Checked against the ONS's best-fit LSOA 2021 → ward lookup shipped with the demo (an
independent assignment of each LSOA to one ward) and against the shipped Census table,
read by the test itself.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeportrait import inside_ward
from placeportrait.store import open_store


DEMO = Path(__file__).resolve().parents[1] / "src" / "placeportrait" / "data" / "demo"
SET = "trafford-wards-2023"
OLD_TRAFFORD = "E05015253"


def _lookup() -> pd.DataFrame:
    return pd.read_csv(DEMO / "lsoa21_ward24_trafford.csv")


def _bad_health_by_lsoa() -> dict[str, float]:
    """TS037 (Nomis column order: 0001 all usual residents, 0002 very good, 0003 good,
    0004 fair, 0005 bad, 0006 very bad health): bad + very bad as a share of all, by LSOA."""
    with gzip.open(DEMO / "census21_ts037_general_health_lsoa21_from_oa.csv.gz", "rt",
                   encoding="utf-8-sig") as fh:
        return {r["lsoa21_code"]: 100 * (float(r["ts0370005"]) + float(r["ts0370006"]))
                / float(r["ts0370001"]) for r in csv.DictReader(fh)}


def test_small_area_geographies():
    assert inside_ward.is_small_area("lsoa2021") and inside_ward.is_small_area("dz2011")
    assert inside_ward.is_small_area("sdz2021") and inside_ward.is_small_area("oa2021")
    assert not inside_ward.is_small_area("ward") and not inside_ward.is_small_area("lad")
    assert not inside_ward.is_small_area("points")


def test_source_level_keeps_missing_values_missing():
    table = pd.DataFrame({"code": ["E1", "E2", "E3"], "period": "2021",
                          "value": [1.5, np.nan, 0.0], "weight": [10, 20, 30]})
    kept = inside_ward.source_level(table, "lsoa2021")
    assert kept["value"].isna().tolist() == [False, True, False]
    assert kept.loc[kept["source_code"] == "E3", "value"].item() == 0.0  # a real zero
    assert inside_ward.source_level(table, "lad") is None


def test_the_source_set_is_the_one_of_its_kind():
    sets = {"wards": frozenset({"W1", "W2"}), "lsoa-local": frozenset({"E1", "E2", "E3"})}
    national = {f"E{i}" for i in range(1, 1000)}
    assert inside_ward.source_set(sets, national) == "lsoa-local"  # a local set of a national file
    assert inside_ward.source_set(sets, {"E1", "X9"}) == "lsoa-local"
    assert inside_ward.source_set(sets, {"Z1", "Z2"}) is None
    assert inside_ward.source_set({}, {"E1"}) is None


def test_pieces_agree_with_the_best_fit_lookup():
    """Every LSOA the ONS's best-fit lookup (by population-weighted centroid) puts in Old
    Trafford has ground in it, every LSOA almost wholly inside it is put in it, and the
    pieces cover the ward."""
    wards = gpd.read_file(DEMO / "trafford_wards_dec2023_bsc.geojson")
    ward = wards.loc[wards["WD23CD"] == OLD_TRAFFORD].geometry
    lsoas = gpd.read_file(DEMO / "trafford_lsoa_2021.geojson").rename(columns={"area_code": "code"})
    inside = inside_ward.pieces(ward, lsoas[["code", "geometry"]])
    best_fit = set(_lookup().query("ward24_code == @OLD_TRAFFORD")["lsoa21_code"])
    found = inside.set_index("code")
    assert best_fit <= set(found.index)
    assert set(found.index[found["share_of_area"] > 0.9]) <= best_fit
    # the small areas' pieces tile the ward (generalised boundaries of two sources differ
    # by a few per cent along the edges)
    assert found["share_of_ward"].sum() == pytest.approx(1.0, abs=0.05)
    assert (found["share_of_area"] <= 1 + 1e-9).all()


def test_a_sliver_is_boundary_noise_but_a_small_ward_in_a_big_area_is_not():
    """Squares in metres (EPSG:27700): a neighbour overlapping the ward by 0.5 % of both
    is left out; a ward wholly inside a large area keeps it (most of the ward)."""
    box = shapely.box
    ward = gpd.GeoSeries([box(0, 0, 1000, 1000)], crs=27700)
    sources = gpd.GeoDataFrame({"code": ["in", "sliver", "edge"]}, geometry=[
        box(0, 0, 1000, 500), box(995, 0, 1995, 1000), box(0, 500, 1000, 1500)], crs=27700)
    got = inside_ward.pieces(ward, sources).set_index("code")
    assert set(got.index) == {"in", "edge"}
    assert got.loc["in", "share_of_area"] == pytest.approx(1.0)
    assert got.loc["edge", "share_of_ward"] == pytest.approx(0.5)
    big = gpd.GeoDataFrame({"code": ["big"]}, geometry=[box(-50_000, -50_000, 50_000, 50_000)],
                           crs=27700)
    small_ward = inside_ward.pieces(gpd.GeoSeries([box(0, 0, 100, 100)], crs=27700),
                                    big).set_index("code")
    assert small_ward.loc["big", "share_of_ward"] == pytest.approx(1.0)
    assert small_ward.loc["big", "share_of_area"] < 0.01


def test_runs_keep_the_published_values_for_the_set_of_small_areas(demo_store_url):
    """The demo's Census run keeps Trafford's 139 LSOAs with the table's own shares (worked
    here from the shipped file), on both stores; a rerun replaces them, and deleting the
    ward set deletes them."""
    store = open_store(demo_store_url)
    kept = store.read_source_values(SET, "census21_bad_health")
    assert set(kept["source_set"]) == {"lsoa-2021"} and set(kept["period"]) == {"2021"}
    assert len(kept) == 139 == kept["source_code"].nunique()
    expected = _bad_health_by_lsoa()
    got = kept.set_index("source_code")["value"]
    for code in got.index:
        assert got[code] == pytest.approx(expected[code], rel=1e-9)
    fuel = store.read_source_values(SET, "fuel_poverty_lilee")
    assert set(fuel["source_set"]) == {"lsoa-2011"} and set(fuel["period"]) == {"2019", "2020"}
    # an authority-level source keeps nothing
    assert store.read_source_values(SET, "gigabit_broadband").empty
    store.delete_boundary_set(SET)
    assert store.read_source_values(SET, "census21_bad_health").empty
    if store.kind == "postgis":
        store.engine().dispose()
