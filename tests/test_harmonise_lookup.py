"""Lookup aggregation (LSOA 2011 -> ward) and apportioning (local authority -> ward).

Real data: ONS LSOA11 -> WD19 lookup rows for Trafford (WD19 codes are Trafford's
2004-2022 wards), IoD 2019 File 6 population, BEIS fuel poverty 2017, BEIS CO2 2019,
DESNZ greenhouse gas per capita, Trafford ward population mid-2022.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise import RESULT_COLUMNS, apportion, lookup_aggregate

TRAFFORD = Path(__file__).parent / "data" / "trafford"
BOWDON = "E05000821"  # 2022 ward with five LSOAs, the fewest in Trafford
LOOKUP_COLS = dict(lookup_source_col="LSOA11CD", lookup_target_col="WD19CD")


def wards22() -> gpd.GeoDataFrame:
    g = gpd.read_file(TRAFFORD / "ward_2022_trafford_ward_generalised.geojson")
    g = g.rename(columns={"area_code": "code", "area_name": "name"})
    g["parent_code"] = "E08000009"
    return g[["code", "name", "parent_code", "geometry"]]


def wards23() -> gpd.GeoDataFrame:
    g = gpd.read_file(TRAFFORD / "ward_2023_trafford_ward_generalised.geojson")
    g = g.rename(columns={"area_code": "code", "area_name": "name"})
    g["parent_code"] = "E08000009"
    return g[["code", "name", "parent_code", "geometry"]]


def lookup() -> pd.DataFrame:
    return pd.read_csv(TRAFFORD / "lsoa11_wd19_lad19_lookup_trafford.csv")


def population() -> pd.Series:
    df = pd.read_csv(
        TRAFFORD / "iod2019_file6_population_trafford.csv", encoding="utf-8-sig", thousands=","
    )
    return df.set_index("LSOA code (2011)")["Total population: mid 2015 (excluding prisoners)"]


def fuel_poverty() -> pd.DataFrame:
    return pd.read_csv(TRAFFORD / "fuel_poverty_trafford_2017.csv")[["lsoa11cd", "value"]]


def by_code(result):
    return result.set_index("area_code")


# --- lookup ------------------------------------------------------------------


def test_bowdon_fuel_poverty_by_hand():
    """Population-weighted mean of Bowdon's five LSOAs, figures read from the files.

    LSOA       fuel poverty %  population
    E01006081   9.3            1,387
    E01006082  12.5            1,634
    E01006085   8.0            1,628
    E01006086  10.4            1,676
    E01006087  13.0            1,518
    sum v*p = 12,899.1 + 20,425 + 13,024 + 17,430.4 + 19,734 = 83,512.5
    sum p   = 7,843;  83,512.5 / 7,843 = 10.64803
    """
    with open(TRAFFORD / "lsoa11_wd19_lad19_lookup_trafford.csv", newline="") as f:
        members = sorted(r["LSOA11CD"] for r in csv.DictReader(f) if r["WD19CD"] == BOWDON)
    assert members == ["E01006081", "E01006082", "E01006085", "E01006086", "E01006087"]
    pop = population()
    assert [pop[c] for c in members] == [1387, 1634, 1628, 1676, 1518]

    r = lookup_aggregate(
        fuel_poverty(), lookup(), wards22(), kind="intensive", weights=pop,
        code_col="lsoa11cd", **LOOKUP_COLS,
    )
    assert list(r.columns) == RESULT_COLUMNS and len(r) == 21
    row = by_code(r).loc[BOWDON]
    assert row["value"] == pytest.approx(83512.5 / 7843, rel=1e-12)
    assert row["value"] == pytest.approx(10.64803, abs=1e-5)
    assert row["coverage"] == 1.0 and row["source_rows"] == 5
    assert row["denominator"] == 7843 and row["method"] == "lookup"


def test_counts_are_summed_and_the_total_preserved():
    pop = population()
    r = lookup_aggregate(pop, lookup(), wards22(), kind="extensive", **LOOKUP_COLS)
    assert r["value"].sum() == pop.sum() == 232975
    assert by_code(r).loc[BOWDON, "value"] == 7843
    assert (r["coverage"] == 1).all()


def test_lsoa_without_data_lowers_coverage_and_is_not_zero():
    fp = fuel_poverty()
    fp.loc[fp["lsoa11cd"] == "E01006085", "value"] = np.nan
    kwargs = dict(kind="intensive", weights=population(), code_col="lsoa11cd", **LOOKUP_COLS)
    row = by_code(lookup_aggregate(fp, lookup(), wards22(), min_coverage=0.5, **kwargs)).loc[BOWDON]
    # coverage = (7,843 - 1,628) / 7,843; value = (83,512.5 - 13,024) / 6,215
    assert row["coverage"] == pytest.approx(6215 / 7843, rel=1e-12)
    assert row["value"] == pytest.approx(70488.5 / 6215, rel=1e-12)
    assert row["source_rows"] == 4 and row["denominator"] == 6215

    strict = by_code(lookup_aggregate(fp, lookup(), wards22(), min_coverage=0.8, **kwargs))
    assert np.isnan(strict.loc[BOWDON, "value"])  # 0.792 < 0.8
    assert strict.loc[BOWDON, "coverage"] == pytest.approx(6215 / 7843)


def test_extensive_without_weights_measures_coverage_in_units():
    pop = population().astype(float)
    pop["E01006085"] = np.nan
    r = lookup_aggregate(pop, lookup(), wards22(), kind="extensive", **LOOKUP_COLS)
    row = by_code(r).loc[BOWDON]
    assert row["value"] == 7843 - 1628 and row["coverage"] == pytest.approx(4 / 5)


def test_ward_with_no_data_at_all_is_nan():
    fp = fuel_poverty()
    members = lookup().loc[lookup()["WD19CD"] == BOWDON, "LSOA11CD"]
    fp.loc[fp["lsoa11cd"].isin(members), "value"] = np.nan
    r = by_code(lookup_aggregate(
        fp, lookup(), wards22(), kind="intensive", weights=population(),
        code_col="lsoa11cd", min_coverage=0, **LOOKUP_COLS,
    ))
    assert np.isnan(r.loc[BOWDON, "value"]) and r.loc[BOWDON, "coverage"] == 0


def test_unmatched_source_codes_are_reported():
    pop = pd.concat([population(), pd.Series({"E01005000": 1500})])  # a Manchester LSOA
    r = lookup_aggregate(pop, lookup(), wards22(), kind="extensive", **LOOKUP_COLS)
    assert r.attrs["unmatched_source_codes"] == ["E01005000"]
    assert r["value"].sum() == 232975


def test_weights_may_be_a_column_of_the_values():
    fp = fuel_poverty().set_index("lsoa11cd")
    fp["pop"] = population()
    r = lookup_aggregate(
        fp.reset_index(), lookup(), wards22(), kind="intensive", weights="pop",
        code_col="lsoa11cd", **LOOKUP_COLS,
    )
    assert by_code(r).loc[BOWDON, "value"] == pytest.approx(83512.5 / 7843)


def test_lookup_guards():
    fp, lk, w = fuel_poverty(), lookup(), wards22()
    with pytest.raises(HarmoniseError, match="needs weights"):
        lookup_aggregate(fp, lk, w, kind="intensive", code_col="lsoa11cd", **LOOKUP_COLS)
    split = pd.concat([lk, lk.iloc[[0]].assign(WD19CD="E05000820")])
    with pytest.raises(HarmoniseError, match="more than one target"):
        lookup_aggregate(fp, split, w, kind="extensive", code_col="lsoa11cd", **LOOKUP_COLS)
    short = population().drop("E01006085")
    with pytest.raises(HarmoniseError, match="missing or negative weight.*E01006085"):
        lookup_aggregate(
            fp, lk, w, kind="intensive", weights=short, code_col="lsoa11cd", **LOOKUP_COLS
        )
    with pytest.raises(HarmoniseError, match="no column 'LSOA21CD'"):
        lookup_aggregate(fp, lk, w, kind="extensive", code_col="lsoa11cd",
                         lookup_source_col="LSOA21CD", lookup_target_col="WD19CD")


def test_units_outside_the_source_make_their_ward_no_data():
    """An England-only source through an England and Wales lookup: the units of a ward
    that have neither a value nor a weight leave it as no data, coverage 0; so does a
    single such unit among weighted ones, since the ward's total is then unknown."""
    fp, lk, w, pop = fuel_poverty().set_index("lsoa11cd")["value"], lookup(), wards22(), population()
    bowdon = list(lk.loc[lk["WD19CD"] == BOWDON, "LSOA11CD"])
    full = by_code(lookup_aggregate(fp, lk, w, kind="intensive", weights=pop, **LOOKUP_COLS))
    cut = by_code(lookup_aggregate(fp.drop(bowdon), lk, w, kind="intensive",
                                   weights=pop.drop(bowdon), **LOOKUP_COLS))
    assert np.isnan(cut.loc[BOWDON, "value"]) and cut.loc[BOWDON, "coverage"] == 0
    others = full.index != BOWDON
    assert np.allclose(cut.loc[others, "value"], full.loc[others, "value"])
    partial = lookup_aggregate(fp.drop(bowdon[0]), lk, w, kind="intensive",
                               weights=pop.drop(bowdon[0]), **LOOKUP_COLS)
    assert np.isnan(by_code(partial).loc[BOWDON, "value"])
    assert partial.attrs["targets_with_unknown_total"] == [BOWDON]
    assert cut.attrs["targets_with_unknown_total"] == []


# --- apportion ---------------------------------------------------------------


def co2_domestic_2019() -> float:
    """BEIS CO2 (kt), Trafford, 2019, Domestic Total: 350.6 as published."""
    df = pd.read_csv(TRAFFORD / "co2_emissions_2005-19_trafford.csv", skiprows=1, thousands=",")
    return float(df.loc[df["Year"] == 2019, "Domestic Total"].iloc[0])


def ward_population_2023() -> pd.Series:
    df = pd.read_csv(TRAFFORD / "ward_2023_total_resident_population.csv")
    return df.set_index("area_code")["value"]


def test_extensive_split_by_population_sums_to_the_la_total():
    total = co2_domestic_2019()
    assert total == 350.6
    pop = ward_population_2023()
    r = apportion({"E08000009": total}, wards23(), kind="extensive", weights=pop)
    assert list(r.columns) == RESULT_COLUMNS and len(r) == 21
    assert r["apportioned"].all() and (r["method"] == "apportion").all()
    assert r["value"].sum() == pytest.approx(350.6, rel=1e-12)
    # Altrincham: 350.6 kt x 10,972 / (Trafford's mid-2022 population)
    row = by_code(r).loc["E05015239"]
    assert row["value"] == pytest.approx(350.6 * 10972 / pop.sum(), rel=1e-12)
    assert row["coverage"] == 1 and row["source_rows"] == 1


def test_extensive_split_by_area_is_proportional_to_ward_area():
    r = by_code(apportion({"E08000009": 350.6}, wards23(), kind="extensive", weights="area"))
    assert r["value"].sum() == pytest.approx(350.6, rel=1e-12)
    published = gpd.read_file(TRAFFORD / "ward_2023_trafford_ward_generalised.geojson")
    area = published.set_index("area_code")["area"]  # the file's own square metres
    ratio = r["value"] / area.reindex(r.index)
    assert ratio.max() / ratio.min() == pytest.approx(1, abs=2e-3)


def test_intensive_gives_every_ward_the_la_rate():
    df = pd.read_csv(TRAFFORD / "greenhouse_gas_per_capita_trafford.csv", encoding="utf-8-sig")
    latest = df.sort_values("period").iloc[-1]
    values = pd.DataFrame({"area_code": [latest["areacd"]], "value": [latest["observation"]]})
    r = apportion(values, wards23(), kind="intensive")
    assert (r["value"] == latest["observation"]).all()
    assert r["apportioned"].all() and (r["method"] == "apportion").all()


def test_apportion_missing_parent_is_no_data_and_reported():
    w = wards23()
    w.loc[0, "parent_code"] = None
    w.loc[1, "parent_code"] = "E08000003"  # Manchester, no value given
    r = apportion({"E08000009": np.nan, "E08000001": 2.0}, w, kind="intensive")
    assert r["value"].isna().all() and (r["coverage"] == 0).all()
    assert r.attrs["targets_without_parent"] == [w.loc[0, "code"]]
    assert r.attrs["unmatched_source_codes"] == ["E08000001"]


def test_apportion_guards():
    with pytest.raises(HarmoniseError, match="needs weights"):
        apportion({"E08000009": 350.6}, wards23(), kind="extensive")
    short = ward_population_2023().drop("E05015239")
    with pytest.raises(HarmoniseError, match="missing or negative weight"):
        apportion({"E08000009": 350.6}, wards23(), kind="extensive", weights=short)
    with pytest.raises(HarmoniseError, match="parent_code"):
        apportion({"E08000009": 1.0}, wards23().drop(columns="parent_code"), kind="intensive")
