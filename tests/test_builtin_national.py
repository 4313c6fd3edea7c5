"""National scale: `indicators run --all` on the UK ward sets of December 2023 and 2019.

The project holds national files for the local-authority indicators only; the LSOA,
ward, grid and point sources are Trafford extracts (no national LSOA or output-area
geometry exists in the project). Every run must complete, report its coverage, and
leave wards the source does not cover as no data, never 0. Expected counts are computed
here from the files with the csv module and the ward files' own parent codes.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pytest

from placeportrait import plugins
from placeportrait.store import open_store

from test_boundaries import run as cli_run
from test_builtin_support import (DEMO, IND, LSOA_2011, LSOA_2021, TRAFFORD_LOOKUP, UK_2019,
                                  UK_2023, builtin_inputs, csv_rows, load_set)

pytestmark = pytest.mark.slow

LAD_PREFIXES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")


@pytest.fixture(scope="module")
def uk(tmp_path_factory):
    """One GeoPackage store per UK ward set (a smaller file to rewrite on each run), each
    with Trafford's LSOAs 2011 and 2021 as source geometry and Trafford's wards of the
    other vintage, for ward sources on the other vintage's codes."""
    stores = {}
    uk19 = gpd.read_file(f"zip://{UK_2019}")
    trafford_2019 = uk19[uk19["LAD19CD"] == "E08000009"].reset_index(drop=True)
    for name, path in (("uk-wards-2023", UK_2023), ("uk-wards-2019", UK_2019)):
        url = str(tmp_path_factory.mktemp("national") / f"{name}.gpkg")
        store = open_store(url)
        store.init()
        load_set(store, path, name, "ward")
        load_set(store, LSOA_2011, "lsoa-2011", "lsoa", code_field="area_code",
                 name_field="area_name")
        load_set(store, LSOA_2021, "lsoa-2021", "lsoa", code_field="area_code",
                 name_field="area_name")
        if name == "uk-wards-2023":
            load_set(store, UK_2019, "trafford-wards-2019", "ward", gdf=trafford_2019)
        else:
            load_set(store, DEMO / "trafford_wards_dec2023_bsc.geojson", "trafford-wards-2023",
                     "ward")
        stores[name] = url
    return stores


def inputs(census_tables: bool) -> list[str]:
    args = []
    for key, path in builtin_inputs(census_tables).items():
        args += ["--input", f"{key}={path}"]
    return args


def coverage_lines(out: str) -> dict[str, int]:
    found = re.findall(r"^(\w+): ([\d,]+) of ([\d,]+) areas have data", out, re.M)
    return {pid: int(n.replace(",", "")) for pid, n, _ in found}


def wards_with_parent_data(ward_file, parent_col, path, *, lad_column="areacd",
                           value_column="observation", skip=0, keep=lambda r: True):
    """Wards whose local authority has at least one value in the file (csv module)."""
    rows = csv_rows(path, skip=skip)
    with_data = {r[lad_column] for r in rows
                 if r.get(lad_column, "").startswith(LAD_PREFIXES) and r[value_column].strip()
                 and keep(r)}
    wards = gpd.read_file(f"zip://{ward_file}", ignore_geometry=True)
    return int(wards[parent_col].isin(with_data).sum())


LA_FILES = {  # plugin: (file, options for wards_with_parent_data)
    "gigabit_broadband": (IND / "gigabit-capable-broadband.csv", {}),
    "broadband_below_superfast": (IND / "premises-below-30.csv", {}),
    "ghg_per_capita": (IND / "greenhouse-gas-emissions_2019_2023.csv", {}),
    "child_poverty": (IND / "children-in-relative-poverty_2024.csv",
                      {"keep": lambda r: "before housing costs" in r["indicator"]}),
    "healthy_life_expectancy": (IND / "healthy-life-expectancy_2019_2020.csv", {}),
    "co2_per_capita": (IND / "co2_emissions_2005-19_year2019.csv",
                       {"lad_column": "Code", "value_column": "Per Capita Emissions (t)", "skip": 1}),
    "epc_below_c": (IND / "domestic_epcs_energy_efficiency.csv",
                    {"lad_column": "area_code", "value_column": "value"}),
}


# Authorities created since the CO2 file's 2020 codes, with their predecessors (the
# statutory reorganisations): their wards are reached through the code chain when every
# predecessor has a value.
CO2_SUCCESSORS = {
    "E06000061": ("E07000150", "E07000152", "E07000153", "E07000156"),  # North Northants
    "E06000062": ("E07000151", "E07000154", "E07000155"),  # West Northamptonshire
    "E06000063": ("E07000026", "E07000028", "E07000029"),  # Cumberland
    "E06000064": ("E07000027", "E07000030", "E07000031"),  # Westmorland and Furness
    "E06000065": tuple(f"E0700016{i}" for i in range(3, 10)),  # North Yorkshire
    "E06000066": ("E07000187", "E07000188", "E07000189", "E07000246"),  # Somerset
}


def wards_of_successors(ward_file, parent_col, path) -> int:
    rows = csv_rows(path, skip=1)
    with_data = {r["Code"] for r in rows if r["Per Capita Emissions (t)"].strip()}
    reached = {new for new, olds in CO2_SUCCESSORS.items() if set(olds) <= with_data}
    wards = gpd.read_file(f"zip://{ward_file}", ignore_geometry=True)
    return int(wards[parent_col].isin(reached).sum())


@pytest.mark.parametrize("boundary_set, ward_file, parent_col, census_tables, other_wards", [
    ("uk-wards-2023", UK_2023, "LAD23CD", False, "trafford-wards-2019"),
    ("uk-wards-2019", UK_2019, "LAD19CD", True, "trafford-wards-2023"),
])
def test_run_all_on_a_uk_ward_set(uk, capsys, boundary_set, ward_file, parent_col,
                                  census_tables, other_wards):
    url = uk[boundary_set]
    code, out, err = cli_run(capsys, "--database-url", url, "indicators", "run", "--all",
                             "--boundary-set", boundary_set, *inputs(census_tables),
                             "--lookup", str(TRAFFORD_LOOKUP),
                             "--source-boundaries", other_wards)
    covered = coverage_lines(out)
    # It completes: every plugin reports its coverage, except the output-area plugins,
    # which need 2021 output-area boundaries or an OA lookup (the project has neither) and
    # are reported as not run; nothing fails. The ward sources on the other vintage's
    # codes are area-weighted from that vintage's wards.
    # The Scottish and Northern Irish plugins need data-zone and SOA boundaries (set
    # dz-2011, soa-2001, sdz-2021), which this store does not hold: not run either.
    oa = {"broadband_below_uso", "broadband_no_gigabit"}
    devolved = {"income_deprivation_rate_scotland", "employment_deprivation_rate_scotland",
                "overcrowded_scotland", "no_central_heating_scotland", "low_income_rate_ni",
                "employment_deprivation_rate_ni", "ni_households_deprived",
                "ni_overcrowded_households", "scotland_overcrowded_households",
                "home_energy_co2_scotland"}
    assert code in (0, None), err
    assert not [l for l in err.splitlines() if l.startswith("error:")], err
    lines = [l for l in err.splitlines() if l.startswith("not run:")]
    assert len(lines) == 12 and sum("oa-2021" in l for l in lines) == 2, err
    assert all("--lookup PATH" in l for l in lines), err
    total_plugins = len(plugins.discover().plugins)
    assert f"12 of {total_plugins} indicators not run" in err
    assert not set(covered) & (oa | devolved)
    assert len(covered) == total_plugins - 12
    total = 8441 if boundary_set == "uk-wards-2023" else 8887
    assert f"of {total:,} areas have data" in out
    # Local-authority sources: every ward of an authority with a value, no other.
    for pid, (path, options) in LA_FILES.items():
        expected = wards_with_parent_data(ward_file, parent_col, path, **options)
        if pid == "co2_per_capita" and boundary_set == "uk-wards-2023":
            expected += wards_of_successors(ward_file, parent_col, path)
        assert covered[pid] == expected, pid
    store = open_store(url)
    values = store.read_values(boundary_set)
    # Missing is no data, never 0: EPCs cover England and Wales only...
    epc = values[values["indicator"] == "epc_below_c"].set_index("area_code")["value"]
    assert epc[epc.index.str.startswith(("S", "N"))].isna().all()
    assert epc[epc.index.str.startswith(("E", "W"))].notna().mean() > 0.8
    # ...and the Trafford extracts of LSOA and ward sources cover Trafford's 21 wards only.
    trafford = set(gpd.read_file(f"zip://{ward_file}", ignore_geometry=True)
                   .query(f"{parent_col} == 'E08000009'")[parent_col.replace("LAD", "WD")])
    # Whole-England sources through Trafford's LSOA geometry reach Trafford's wards only.
    for pid in ("imd_most_deprived", "iod_health_most_deprived", "fuel_poverty", "bad_health",
                "election_non_turnout", "census21_bad_health", "fuel_poverty_lilee",
                "no2_limit_ratio"):
        got = values[(values["indicator"] == pid) & values["value"].notna()]
        assert covered[pid] == 21 and set(got["area_code"]) == trafford, pid
    # The IoD reaches the wards through the England and Wales LSOA 2011 -> ward 2019 lookup
    # (on the 2023 set by way of Trafford's 2019 wards); the lookup's Welsh wards stay no data.
    assert re.search(r"^imd_most_deprived: .* by lookup \(lsoa11_ward19", out, re.M)
    imd = values[values["indicator"] == "imd_most_deprived"].set_index("area_code")["value"]
    assert imd[imd.index.str.startswith("W")].isna().all()
    # Grid sources reach every Trafford ward (and neighbours the grid also covers).
    for pid in ("pm25_background", "greenspace_share", "nature_space_share"):
        got = values[(values["indicator"] == pid) & values["value"].notna()]
        assert trafford <= set(got["area_code"]) and covered[pid] < 40, pid
    # Healthy life expectancy is published for upper-tier authorities: wards of English
    # two-tier districts (E07) have no data rather than a guess.
    wards = gpd.read_file(f"zip://{ward_file}", ignore_geometry=True)
    e07 = set(wards.loc[wards[parent_col].str.startswith("E07"), parent_col.replace("LAD", "WD")])
    assert len(e07) > 1000
    hle = values[values["indicator"] == "healthy_life_expectancy"].set_index("area_code")
    assert hle.loc[hle.index.isin(e07), "value"].isna().all()
