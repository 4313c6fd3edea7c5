"""Shared by the tests of the built-in indicator plugins: a Trafford store, runs, and an
independent areal-interpolation check written with geopandas only (no harmonise code)."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from placeportrait import boundaries, indicator_run, plugins
from placeportrait.store import open_store

from conftest import DATA

ROOT = Path(__file__).parents[1]
DEMO = ROOT / "src" / "placeportrait" / "data" / "demo"
IND = DATA / "indicators"
FIX = IND / "format_fixtures"
OFCOM_ZIP = FIX / "202507_fixed_broadband_coverage_r01_FORMAT_FIXTURE.zip"
WARDS_2023 = DEMO / "trafford_wards_dec2023_bsc.geojson"
LSOA_2011 = DEMO / "trafford_lsoa_2011.geojson"
LSOA_2021 = IND / "lsoa_2021_trafford.geojson"
UK_2019 = DATA / "boundaries" / "uk_wards_dec2019.gpkg.zip"
UK_2023 = DATA / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip"
TRAFFORD_LOOKUP = IND / "lsoa11_ward19_lookup_trafford_cardiff.csv"  # LSOA11 -> WD19


def builtin_inputs(census_tables: bool) -> dict[str, Path]:
    """A local file for every built-in plugin and extra source (``--input ID=PATH``):
    the national files the repo holds, Trafford extracts and format fixtures. The
    census tables are on the ward codes of 2019-2023, the ward profiles on 2023's."""
    pairs = {
        "fuel_poverty": IND / "fuel_poverty_trafford_2017.csv",
        "imd_most_deprived": IND / "iod2019_file1_trafford.csv",
        "imd_most_deprived.population": IND / "iod2019_file6_trafford.csv",
        "income_deprivation_rate": FIX / "File_7_IoD2019_trafford_FORMAT_FIXTURE.csv",
        "employment_deprivation_rate": FIX / "File_7_IoD2019_trafford_FORMAT_FIXTURE.csv",
        "income_deprivation_rate_2025": FIX / "File_7_IoD2025_trafford_FORMAT_FIXTURE.csv",
        "employment_deprivation_rate_2025": FIX / "File_7_IoD2025_trafford_FORMAT_FIXTURE.csv",
        "gigabit_broadband": IND / "gigabit-capable-broadband.csv",
        "broadband_below_superfast": IND / "premises-below-30.csv",
        "broadband_below_uso": OFCOM_ZIP,
        "broadband_no_gigabit": OFCOM_ZIP,
        "broadband_below_uso_postcode": OFCOM_ZIP,
        "broadband_below_uso_postcode.postcodes": FIX / "codepo_gb_FORMAT_FIXTURE.zip",
        "co2_per_capita": IND / "co2_emissions_2005-19_year2019.csv",
        "ghg_per_capita": IND / "greenhouse-gas-emissions_2019_2023.csv",
        "co2_emissions_grid": FIX / "naei_co2_total_2021_FORMAT_FIXTURE.asc",
        "child_poverty": IND / "children-in-relative-poverty_2024.csv",
        "healthy_life_expectancy": IND / "healthy-life-expectancy_2019_2020.csv",
        "epc_below_c": IND / "domestic_epcs_energy_efficiency.csv",
        "pm25_background": DEMO / "background_air_pollution_trafford.geojson",
        "greenspace_share": IND / "greenspaces_trafford.geojson",
        "nature_space_share": IND / "greenspaces_trafford.geojson",
        "housing_deprived_households": IND / "ward_profile_household_housing_deprived.csv",
        "election_non_turnout": IND / "ward_profile_local_election_turnout.csv",
    }
    # #15: whole-nation files (the demo's) and extracts of the Scottish and NI files
    for table, name in (("bad_health", "ts037_general_health"),
                        ("no_qualifications", "ts067_highest_qualification"),
                        ("no_central_heating", "ts046_central_heating")):
        pairs[f"census21_{table}"] = DEMO / f"census21_{name}_lsoa21_from_oa.csv.gz"
    pairs["census21_households_deprived"] = DEMO / "census21_ts011_household_deprivation_lsoa21.csv.gz"
    pairs["census21_overcrowded_households"] = DEMO / "census21_ts052_occupancy_rating_lsoa21.csv.gz"
    pairs["fuel_poverty_lilee"] = DEMO / "LSOA_Fuel_Poverty_2019.csv.gz"
    pairs["home_energy_co2"] = DEMO / "LSOA_GAS_2019.csv.gz"
    pairs["home_energy_co2.electricity"] = DEMO / "LSOA_ELEC_2019.csv.gz"
    pairs["home_energy_co2.co2"] = DEMO / "co2_emissions_2005-19_uk_2019.csv.gz"
    pairs["home_energy_co2.population"] = DEMO / "population_mid2019_lsoa11.csv.gz"
    pairs["home_energy_co2_scotland"] = IND / "LSOA_GAS_2019_clackmannanshire.csv"
    pairs["home_energy_co2_scotland.electricity"] = IND / "LSOA_ELEC_2019_clackmannanshire.csv"
    pairs["home_energy_co2_scotland.co2"] = IND / "co2_emissions_2005-19_year2019.csv"
    pairs["home_energy_co2_scotland.population"] = (
        IND / "simd2020v2_scotland_dz11_indicators_clackmannanshire.csv")
    for pid in ("no2_limit_ratio", "particulates_limit_ratio"):
        pairs[pid] = DEMO / "imd2019_england_lsoa11_air_quality_indicators.csv.gz"
        pairs[f"{pid}.population"] = DEMO / "iod2019_file6_england.csv.gz"
    for pid in ("income_deprivation_rate_scotland", "employment_deprivation_rate_scotland",
                "overcrowded_scotland", "no_central_heating_scotland"):
        pairs[pid] = IND / "simd2020v2_scotland_dz11_indicators_first40.csv"
    for pid in ("low_income_rate_ni", "employment_deprivation_rate_ni"):
        pairs[pid] = IND / "nimdm2017_ni_soa01_indicators_first40.csv"
    pairs["ni_households_deprived"] = IND / "ni_census21_household_deprivation21_sdz21_first40.csv"
    pairs["ni_overcrowded_households"] = IND / "ni_census21_household_overcrowding21_sdz21_first40.csv"
    pairs["scotland_overcrowded_households"] = IND / "scotland_census22_UV415_dz11_first40.xlsx"
    for pid in ("wimd_most_deprived", "wimd_income_most_deprived", "wimd_employment_most_deprived",
                "wimd_health_most_deprived", "wimd_education_most_deprived",
                "wimd_housing_most_deprived", "wimd_access_most_deprived",
                "wimd_community_safety_most_deprived"):
        pairs[pid] = IND / "wimd2019_wales_lsoa11_cardiff.csv"
        pairs[f"{pid}.population"] = IND / "population_mid2019_lsoa11_cardiff.csv"
    for domain in ("income", "employment", "education", "health", "crime", "housing_barriers",
                   "living_environment"):
        pairs[f"iod_{domain}_most_deprived"] = IND / "iod2019_file2_trafford.csv"
        pairs[f"iod_{domain}_most_deprived.population"] = IND / "iod2019_file6_trafford.csv"
    if census_tables:  # the census tables are on the wards of 2019-2023
        pairs["bad_health"] = IND / "2021_general_health_ward_trafford.csv"
        pairs["no_qualifications"] = IND / "2021_highest_level_qualification_ward_trafford.csv"
    else:
        pairs["bad_health"] = IND / "ward_profile_general_health_bad_or_very_bad.csv"
        pairs["no_qualifications"] = IND / "ward_profile_residents_no_qualifications.csv"
    return pairs


def load_set(store, source, name, level, *, code_field=None, name_field=None, gdf=None):
    gdf = boundaries.read_source(str(source)) if gdf is None else gdf
    prepared = boundaries.prepare(gdf, name=name, level=level, source=str(source),
                                  code_field=code_field, name_field=name_field)
    store.replace_boundary_set(prepared.meta, prepared.areas)


def trafford_store(path: Path):
    """A GeoPackage store with Trafford's 2023 wards, its 2019 wards (from the UK file) and
    its LSOAs 2011 and 2021."""
    store = open_store(str(path))
    store.init()
    load_set(store, WARDS_2023, "trafford-wards-2023", "ward")
    uk19 = gpd.read_file(f"zip://{UK_2019}")
    load_set(store, UK_2019, "trafford-wards-2019", "ward",
             gdf=uk19[uk19["LAD19CD"] == "E08000009"].reset_index(drop=True))
    load_set(store, LSOA_2011, "lsoa-2011", "lsoa", code_field="area_code", name_field="area_name")
    load_set(store, LSOA_2021, "lsoa-2021", "lsoa", code_field="area_code", name_field="area_name")
    return store


def run(store, pid, boundary_set="trafford-wards-2023", **inputs):
    """Run a built-in plugin with local files: ``main=`` for the main source, other keywords
    for its extra sources. Returns (result, values indexed by area code)."""
    plugin = plugins.load(pid)
    given = {pid: str(inputs.pop("main"))}
    given.update({f"{pid}.{name}": str(path) for name, path in inputs.items()})
    result = indicator_run.run_indicator(store, plugin, boundary_set, inputs=given)
    values = store.read_values(boundary_set, [pid]).set_index("area_code")
    return result, values


def csv_rows(path, *, skip=0):
    """Rows of a CSV (gzipped or not) as dicts, read with the standard library (BOM
    stripped)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        for _ in range(skip):
            next(fh)
        return list(csv.DictReader(fh))


def number(text: str) -> float:
    return float(text.replace(",", ""))


def overlay_mean(sources: gpd.GeoDataFrame, code_col: str, values: dict, wards: gpd.GeoDataFrame,
                 weights: dict | None = None, sliver_share: float = 0.01) -> pd.Series:
    """Independent areal interpolation of an intensive value: geopandas overlay in EPSG:27700.

    Pieces under ``sliver_share`` of both their source's and their ward's area are
    dropped (unless they are all the source has), as docs/harmonisation.md says.
    Without weights: sum(v a) / sum(a) over the kept pieces with a value. With weights
    (a population p_i spread evenly over source i's kept pieces, in proportion to the
    source's area inside the wards): sum(v p a S/(|i| K)) / sum(p a S/(|i| K)).
    """
    src = sources.to_crs(27700)
    src["geometry"] = src.geometry.make_valid()
    src["src_area"] = src.geometry.area
    src["v"] = src[code_col].map(values)
    src["p"] = src[code_col].map(weights) if weights is not None else 1.0
    src = src[src["v"].notna()]
    tw = wards.to_crs(27700)[["code", "geometry"]]
    tw["ward_area"] = tw.geometry.area
    pieces = gpd.overlay(src[[code_col, "v", "p", "src_area", "geometry"]], tw,
                         how="intersection", keep_geom_type=True)
    pieces["a"] = pieces.geometry.area
    small = (pieces["a"] < sliver_share * pieces["src_area"]) & (
        pieces["a"] < sliver_share * pieces["ward_area"])
    inside = pieces.groupby(code_col)["a"].transform("sum")
    kept_area = pieces["a"].where(~small, 0).groupby(pieces[code_col]).transform("sum")
    small &= kept_area > 0
    pieces = pieces[~small]
    a = pieces["a"]
    scale = (inside / kept_area)[~small]
    w = pieces["p"] * a / pieces["src_area"] * scale if weights is not None else a
    num = (pieces["v"] * w).groupby(pieces["code"]).sum()
    den = w.groupby(pieces["code"]).sum()
    return num / den


def ward_areas(path=WARDS_2023) -> gpd.GeoDataFrame:
    wards = gpd.read_file(path)
    code = "WD23CD" if "WD23CD" in wards else "code"
    return wards.rename(columns={code: "code"})


def close(a, b, tol=1e-9):
    return bool(np.isclose(a, b, rtol=tol, atol=tol))
