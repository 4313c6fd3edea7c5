"""Authority and nation reference values (#15): true figures from the source, never the
mean of the loaded wards. Checked against aggregations done here, from the demo's own
shipped files, on both stores."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DEMOS, demo_in_fresh_home
from placeportrait import export, references
from placeportrait.store import open_store

DEMO = Path(__file__).parents[1] / "src" / "placeportrait" / "data" / "demo"
SET = "trafford-wards-2023"
TRAFFORD = "E08000009"
LSOA = "LSOA code (2011)"


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def demo_store(request, tmp_path_factory):
    """The demo, built once per store for the module."""
    if request.param == "geopackage":
        yield open_store(demo_in_fresh_home(tmp_path_factory))
        return
    url = DEMOS.postgis(request)
    store = open_store(url)
    yield store
    store.engine().dispose()
    DEMOS.drop(url)


def _iod_income_shares() -> tuple[pd.Series, pd.Series, pd.Series]:
    """Share of each LSOA's residents in England's most income-deprived decile (0 or 100),
    its mid-2015 population and its authority, read straight from the IoD 2019 files."""
    f2 = pd.read_csv(DEMO / "iod2019_file2_england.csv.gz", encoding="utf-8-sig", dtype=str)
    f6 = pd.read_csv(DEMO / "iod2019_file6_england.csv.gz", encoding="utf-8-sig", dtype=str)
    decile = f2.set_index(LSOA)["Income Decile (where 1 is most deprived 10% of LSOAs)"].astype(float)
    people = (f6.set_index(LSOA)["Total population: mid 2015 (excluding prisoners)"]
              .str.replace(",", "").astype(float)).reindex(decile.index)
    authority = f2.set_index(LSOA)["Local Authority District code (2019)"]
    return (decile == 1) * 100.0, people, authority


def _reference(store, indicator, level, period=None) -> pd.Series:
    refs = store.read_references(SET)
    rows = refs[(refs["indicator"] == indicator) & (refs["level"] == level)]
    if period is not None:
        rows = rows[rows["period"] == period]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_england_value_is_the_population_weighted_share_of_the_whole_source(demo_store):
    share, people, _ = _iod_income_shares()
    england = (share * people).sum() / people.sum()
    row = _reference(demo_store, "iod_income_most_deprived", "nation")
    assert row["code"] == "E92000001" and row["name"] == "England"
    assert row["value"] == pytest.approx(england, rel=1e-9)
    assert "32,844 LSOAs (2011)" in row["method"] and "mid-2015" in row["method"]
    # not the mean of Trafford's wards, which is what "England" used to be
    wards = demo_store.read_values(SET)
    wards = wards[wards["indicator"] == "iod_income_most_deprived"]["value"]
    assert abs(row["value"] - wards.mean()) > 1


def test_authority_value_is_the_source_over_the_authority(demo_store):
    """Trafford's LSOAs aggregated here; the run's value shares them out by area between
    generalised boundaries, so the two differ only by boundary slivers."""
    share, people, authority = _iod_income_shares()
    mine = authority == TRAFFORD
    trafford = (share[mine] * people[mine]).sum() / people[mine].sum()
    row = _reference(demo_store, "iod_income_most_deprived", "authority")
    assert row["code"] == TRAFFORD
    assert row["value"] == pytest.approx(trafford, abs=0.05)
    assert "21 wards" in row["method"]


def test_published_rows_are_used_for_authority_sources(demo_store):
    ons = pd.read_csv(DEMO / "gigabit_broadband_greater_manchester.csv", dtype=str)
    published = ons.set_index("areacd")["observation"].astype(float)
    authority = _reference(demo_store, "gigabit_broadband", "authority")
    nation = _reference(demo_store, "gigabit_broadband", "nation")
    assert authority["value"] == published[TRAFFORD]
    assert nation["value"] == published["E92000001"]
    assert nation["method"] == "published by the source"


def test_no_value_says_why(demo_store):
    # the 2017 fuel-poverty file gives shares without household counts, for Trafford only
    row = _reference(demo_store, "fuel_poverty", "authority")
    assert math.isnan(row["value"]) and row["method"].startswith("no data: ")
    assert "no weights" in row["method"]
    row = _reference(demo_store, "fuel_poverty", "nation")
    assert math.isnan(row["value"]) and "not the whole nation" in row["method"]


def test_export_carries_the_references_and_labels_the_set_mean(demo_store):
    table = export.tidy_scores(demo_store, SET)
    assert {"authority_value", "authority_method", "nation_value", "nation_method",
            "set_mean"} <= set(table.columns)
    assert not {"parent_value", "set_value"} & set(table.columns)
    income = table[table["indicator"] == "iod_income_most_deprived"]
    stored = _reference(demo_store, "iod_income_most_deprived", "nation")["value"]
    assert (income["nation_value"] == stored).all()
    # the set mean is the mean of the set's wards, under its own name
    assert income["set_mean"].iloc[0] == pytest.approx(income["value"].mean())


def test_nation_letter_reads_each_code():
    codes = pd.Series(["E05000001", " w05000002", "S13002516", "95AA01", "N21000001",
                       None, "X1"], index=range(10, 17))
    got = references.nation_letter(codes)
    assert list(got.index) == list(codes.index)
    assert got.tolist() == ["E", "W", "S", "N", "N", pd.NA, pd.NA]  # no code: no nation


def test_an_extract_never_passes_for_the_nation():
    table = pd.DataFrame({"code": [f"E01{n:06d}" for n in range(138)], "period": "2019",
                          "value": 10.0, "weight": 100.0})
    out = references.nation_values(table, table.iloc[:0], geography="lsoa2011",
                                   kind="intensive", denominator="residents", nations=["E"])
    assert np.isnan(out["value"].iloc[0])
    assert "138 of England's 32,844 LSOAs (2011)" in out["method"].iloc[0]


def test_a_count_with_suppressed_areas_is_not_summed():
    codes = [f"W01{n:06d}" for n in range(1_909)]
    table = pd.DataFrame({"code": codes, "period": "2020", "value": 5.0})
    table.loc[3, "value"] = np.nan
    out = references.nation_values(table, table.iloc[:0], geography="lsoa2011",
                                   kind="extensive", denominator=None, nations=["W"])
    assert np.isnan(out["value"].iloc[0]) and "suppressed" in out["method"].iloc[0]
    whole = references.nation_values(table.fillna(5.0), table.iloc[:0], geography="lsoa2011",
                                     kind="extensive", denominator=None, nations=["W"])
    assert whole["value"].iloc[0] == 5.0 * 1_909


@pytest.mark.parametrize("indicator, period, published", [
    ("census21_bad_health", None, 5.2),          # ONS, Census 2021: bad or very bad health, England
    ("census21_no_qualifications", None, 18.1),  # ONS, Census 2021: no qualifications, England
    ("fuel_poverty_lilee", "2019", 13.4),        # DESNZ, fuel poverty 2019 (LILEE), England
    ("fuel_poverty_lilee", "2020", 13.2),        # DESNZ, fuel poverty 2020 (LILEE), England
])
def test_england_values_match_the_published_headlines(demo_store, indicator, period, published):
    row = _reference(demo_store, indicator, "nation", period)
    assert round(row["value"], 1) == published


def test_home_energy_england_and_trafford_from_every_lsoa(demo_store):
    """CO2 from home gas and electricity per person: England over its LSOAs with published
    gas use, Trafford's LSOAs together being Trafford's published 343.3 kt (BEIS 2019)."""
    from test_home_energy import _by_hand

    lsoa = _by_hand().dropna(subset=["value"])
    england = lsoa[lsoa.index.str.startswith("E")]
    expected = (england["value"] * england["people"]).sum() / england["people"].sum()
    row = _reference(demo_store, "home_energy_co2", "nation")
    assert row["value"] == pytest.approx(expected, rel=1e-9)
    assert "32,049 LSOAs (2011) with data" in row["method"]
    trafford = lsoa[lsoa["authority"] == TRAFFORD]
    assert _reference(demo_store, "home_energy_co2", "authority")["value"] == pytest.approx(
        343_300 / trafford["people"].sum(), abs=0.01)


@pytest.mark.parametrize("indicator, score, census, total", [
    ("income_deprivation_rate_2025", "Income_score",
     "census21_ts037_general_health_lsoa21_from_oa.csv.gz", "ts0370001"),
    ("employment_deprivation_rate_2025", "Employment_score",
     "census21_ts067_highest_qualification_lsoa21_from_oa.csv.gz", "ts0670001"),
])
def test_iod_2025_rates_for_england_and_trafford(demo_store, indicator, score, census, total):
    """IoD 2025 income and employment deprivation rates weighted by Census 2021 totals:
    England over all its LSOAs, Trafford over the LSOAs the ONS best-fit lookup puts in
    its wards, and each ward over its own LSOAs, worked here."""
    rates = pd.read_csv(DEMO / "imd2025_england_lsoa21.csv.gz").set_index("lsoa21_code")[score]
    people = pd.read_csv(DEMO / census).set_index("lsoa21_code")[total].reindex(rates.index)
    england = 100 * (rates * people).sum() / people.sum()
    assert _reference(demo_store, indicator, "nation")["value"] == pytest.approx(england, rel=1e-9)
    lookup = pd.read_csv(DEMO / "lsoa21_ward24_trafford.csv").set_index("lsoa21_code")
    mine = rates.index.isin(lookup.index)
    trafford = 100 * (rates[mine] * people[mine]).sum() / people[mine].sum()
    assert _reference(demo_store, indicator, "authority")["value"] == pytest.approx(trafford)
    ward = lookup["ward24_code"].reindex(rates.index[mine])
    expected = (100 * (rates[mine] * people[mine]).groupby(ward).sum()
                / people[mine].groupby(ward).sum())
    values = demo_store.read_values(SET, [indicator]).set_index("area_code")["value"]
    assert len(values) == 21
    for code, value in expected.items():
        assert values[code] == pytest.approx(value)
