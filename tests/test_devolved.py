"""Scotland and Northern Ireland: SIMD 2020, NIMDM 2017 and each nation's census, read in
their layouts and put on the December 2023 wards by area from data zones, SOAs and Super
Data Zones.

Expected ward values come from the extracts read with the csv module and an independent
geopandas overlay (``test_builtin_support.overlay_mean``), never from the plugins.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from placeportrait import plugins
from placeportrait.errors import InputError

from test_builtin_support import DATA, IND, UK_2023, csv_rows, load_set, number, overlay_mean, run

BOUNDARIES = DATA / "boundaries"
FORMATS = IND / "format_fixtures"
SETS = {  # boundary set: (file, code field, name field)
    "dz-2011": (BOUNDARIES / "dz11_scotland_first40.geojson", "dz11_code", "dz11_name"),
    "soa-2001": (BOUNDARIES / "soa01_ni_first40.geojson", "soa11_code", "soa11_name"),
    "sdz-2021": (BOUNDARIES / "sdz21_ni_first40.geojson", "sdz21_code", "sdz21_name"),
}
WARDS = "wards-near-the-extracts"


def _zones(set_name):
    return gpd.read_file(SETS[set_name][0])


def _wards():
    wards = gpd.read_file(f"zip://{UK_2023}")
    zones = [_zones(name).union_all() for name in SETS]
    near = np.logical_or.reduce([wards.intersects(z).to_numpy() for z in zones])
    return wards[near].reset_index(drop=True)


@pytest.fixture
def devolved_store(store):
    load_set(store, UK_2023, WARDS, "ward", gdf=_wards())
    for name, (path, code, label) in SETS.items():
        load_set(store, path, name, name.split("-")[0], code_field=code, name_field=label)
    return store


# -- expected values, from the extracts with the csv module ---------------------------------
def simd(column, weight):
    rows = csv_rows(IND / "simd2020v2_scotland_dz11_indicators_first40.csv")
    return ({r["dz11_code"]: 100 * number(r[column]) for r in rows},
            {r["dz11_code"]: number(r[weight]) for r in rows})


def nimdm(prefix):
    rows = csv_rows(IND / "nimdm2017_ni_soa01_indicators_first40.csv")
    column = next(c for c in rows[0] if c.startswith(prefix))
    # The header says "(%)", but this copy holds proportions (0.098): as per cent.
    assert max(number(r[column]) for r in rows) < 1
    return {r["soa01_code"]: 100 * number(r[column]) for r in rows}, None


def census_share(name, code, category, deprived):
    rows = csv_rows(IND / name)
    total, bad = {}, {}
    for r in rows:
        total.setdefault(r[code], 0.0)
        bad.setdefault(r[code], 0.0)
        n = number(r["n"])
        if code == "dz11_code":  # Scotland publishes the total of each data zone
            total[r[code]] = number(r["total_households"])
        else:
            total[r[code]] += n
        if r[category] in deprived:
            bad[r[code]] += n
    return {c: 100 * bad[c] / total[c] for c in total}, total


CASES = {
    "income_deprivation_rate_scotland": (
        "dz-2011", IND / "simd2020v2_scotland_dz11_indicators_first40.csv",
        lambda: simd("Income_rate", "Total_population")),
    "employment_deprivation_rate_scotland": (
        "dz-2011", IND / "simd2020v2_scotland_dz11_indicators_first40.csv",
        lambda: simd("Employment_rate", "Working_age_population")),
    "low_income_rate_ni": (
        "soa-2001", IND / "nimdm2017_ni_soa01_indicators_first40.csv",
        lambda: nimdm("Proportion of the population living in households whose equivalised")),
    "ni_households_deprived": (
        "sdz-2021", IND / "ni_census21_household_deprivation21_sdz21_first40.csv",
        lambda: census_share("ni_census21_household_deprivation21_sdz21_first40.csv",
                             "sdz21_code", "deprivation_dimensions",
                             {f"Household is deprived in {k} dimensions" for k in (2, 3, 4)})),
    "ni_overcrowded_households": (
        "sdz-2021", IND / "ni_census21_household_overcrowding21_sdz21_first40.csv",
        lambda: census_share("ni_census21_household_overcrowding21_sdz21_first40.csv",
                             "sdz21_code", "occupancy_rating",
                             {"-1 (overcrowded)", "-2 or less (overcrowded)"})),
    "scotland_overcrowded_households": (
        "dz-2011", IND / "scotland_census22_UV415_dz11_first40.xlsx",
        lambda: census_share("scotland_census22_household_overcrowding22_dz11_first40.csv",
                             "dz11_code", "occupancy_rating", {"-1 or less (overcrowded)"})),
}


@pytest.mark.parametrize("pid", sorted(CASES))
def test_devolved_indicator_on_wards_matches_an_independent_overlay(devolved_store, pid):
    set_name, path, expected_inputs = CASES[pid]
    values, weights = expected_inputs()
    result, got = run(devolved_store, pid, WARDS, main=path)
    assert result.method == "area_weighted"
    expected = overlay_mean(_zones(set_name), SETS[set_name][1], values, _wards().rename(
        columns={"WD23CD": "code"}), weights)
    have = got["value"].dropna()
    assert len(have) >= 2, pid  # 40 zones: two Aberdeen wards, more in Northern Ireland
    # Wards at the edge of the 40 zones are mostly outside them: no data, not a guess.
    assert (got.loc[got["value"].isna(), "coverage"].fillna(0) < 0.5).all()
    np.testing.assert_allclose(have, expected.reindex(have.index), rtol=1e-9, err_msg=pid)


def test_nisra_table_builder_csv_reads_like_the_long_copy():
    plugin = plugins.load("ni_households_deprived")
    builder = plugin.load(FORMATS / "ni_census21_HH_DEPRIVATION_sdz21_FORMAT_FIXTURE.csv")
    long = plugin.load(IND / "ni_census21_household_deprivation21_sdz21_first40.csv")
    assert builder.equals(long) and len(long) == 40


def test_scotland_table_builder_workbook_reads_like_the_long_copy():
    plugin = plugins.load("scotland_overcrowded_households")
    book = plugin.load(IND / "scotland_census22_UV415_dz11_first40.xlsx")
    long = plugin.load(IND / "scotland_census22_household_overcrowding22_dz11_first40.csv")
    assert book.equals(long) and len(book) == 40
    # S01006506: 7 of 491 households at -1 or less, as published
    row = book.set_index("code").loc["S01006506"]
    assert row["value"] == pytest.approx(100 * 7 / 491) and row["weight"] == 491


def test_another_census_table_is_refused_in_one_line():
    plugin = plugins.load("ni_overcrowded_households")
    with pytest.raises(InputError) as caught:
        plugin.load(IND / "ni_census21_household_deprivation21_sdz21_first40.csv")
    assert "occupancy_rating" in str(caught.value) and "\n" not in str(caught.value)
