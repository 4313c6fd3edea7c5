"""Every built-in indicator plugin on a small real extract of its source (or, where no copy
of the real file exists, a format fixture in its published layout), with ward values
checked against numbers computed independently: the standard library's csv module,
pandas and geopandas overlays, never the plugin or harmonise code under test."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeportrait import dimensions, harmonise, plugins
from placeportrait.errors import InputError, PlacePortraitError

from test_builtin_support import (DEMO, FIX, IND, LSOA_2011, LSOA_2021, OFCOM_ZIP, ROOT, close,
                                  csv_rows, number, overlay_mean, run, trafford_store, ward_areas)

TRAFFORD = "E08000009"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return trafford_store(tmp_path_factory.mktemp("builtin") / "store.gpkg")


@pytest.fixture(scope="module")
def wards():
    return ward_areas()


# -- metadata --------------------------------------------------------------------------------
def test_every_builtin_is_complete_and_documented():
    registry = plugins.discover()
    assert registry.errors == []
    assert len(registry.plugins) >= 30
    doc = (ROOT / "docs" / "indicators.md").read_text()
    table = (ROOT / "indicators" / "README.md").read_text()
    social, ecological = set(), set()
    for pid, plugin in registry.plugins.items():
        m = plugin.meta
        assert f"`{pid}`" in doc and f"`{pid}`" in table, pid
        assert m.url.startswith("https://"), pid
        assert len(m.threshold_citation) > 40 and m.licence and m.attribution, pid
        assert dimensions.get_lens(m.lens).ring == m.ring, pid
        if m.unit.startswith("%") and m.ring == "social" and m.polarity == "lower_is_better":
            # share of people deprived: baseline 100, threshold 0 (Fanning & Raworth 2025)
            assert (m.baseline, m.threshold) == (100.0, 0.0), pid
        (social if m.ring == "social" else ecological).add(m.dimension)
    assert len(social) >= 7 and len(ecological) >= 4, (social, ecological)


def test_demo_manifest_names_only_shipped_files():
    import yaml

    manifest = yaml.safe_load((DEMO / "demo.yaml").read_text())
    registry = plugins.discover()
    runs = [(pid, inputs) for pid, releases in manifest["indicators"].items()
            for inputs in (releases if isinstance(releases, list) else [releases])]
    attribution = (DEMO / "ATTRIBUTION.md").read_text()
    for pid, inputs in runs:
        assert pid in registry.plugins
        for key, name in inputs.items():
            assert key.split(".")[0] == pid and (DEMO / name).is_file(), name
            assert f"`{name}`" in attribution, name
    assert len(manifest["indicators"]) == 32
    assert len(runs) == 33  # fuel poverty (LILEE) has two releases


# -- deprivation ------------------------------------------------------------------------------
DOMAINS = {
    "iod_income_most_deprived": "Income Decile (where 1 is most deprived 10% of LSOAs)",
    "iod_employment_most_deprived": "Employment Decile (where 1 is most deprived 10% of LSOAs)",
    "iod_education_most_deprived":
        "Education, Skills and Training Decile (where 1 is most deprived 10% of LSOAs)",
    "iod_health_most_deprived":
        "Health Deprivation and Disability Decile (where 1 is most deprived 10% of LSOAs)",
    "iod_crime_most_deprived": "Crime Decile (where 1 is most deprived 10% of LSOAs)",
    "iod_housing_barriers_most_deprived":
        "Barriers to Housing and Services Decile (where 1 is most deprived 10% of LSOAs)",
    "iod_living_environment_most_deprived":
        "Living Environment Decile (where 1 is most deprived 10% of LSOAs)",
}


def _population():
    rows = csv_rows(IND / "iod2019_file6_trafford.csv")
    return {r["LSOA code (2011)"]: number(r["Total population: mid 2015 (excluding prisoners)"])
            for r in rows}


@pytest.mark.parametrize("pid", sorted(DOMAINS))
def test_iod_domain_share_matches_an_independent_overlay(store, wards, pid):
    result, values = run(store, pid, main=IND / "iod2019_file2_trafford.csv",
                         population=IND / "iod2019_file6_trafford.csv")
    assert result.method == "area_weighted" and result.areas_with_data == 21
    deciles = {r["LSOA code (2011)"]: 100.0 * (int(r[DOMAINS[pid]]) == 1)
               for r in csv_rows(IND / "iod2019_file2_trafford.csv")}
    expected = overlay_mean(gpd.read_file(LSOA_2011), "area_code", deciles, wards, _population())
    for code, value in expected.items():
        assert close(values.loc[code, "value"], value), (pid, code)


def test_iod_income_by_hand_for_old_trafford(store):
    # Old Trafford (E05015253): the population-weighted share of residents in income
    # decile 1, from the LSOAs that overlap the ward (independent overlay above); here
    # the LSOA-level input read straight from the published rows.
    rows = {r["LSOA code (2011)"]: r for r in csv_rows(IND / "iod2019_file2_trafford.csv")}
    first_decile = sorted(c for c, r in rows.items()
                          if r["Income Decile (where 1 is most deprived 10% of LSOAs)"] == "1")
    assert first_decile == ["E01006105", "E01006108", "E01006109", "E01006111", "E01006112",
                            "E01006144", "E01006167", "E01006168", "E01006175", "E01006207"]
    _, values = run(store, "iod_income_most_deprived", main=IND / "iod2019_file2_trafford.csv",
                    population=IND / "iod2019_file6_trafford.csv")
    # 43.498 with every overlay piece; 43.565 once pieces under 1 % of both their LSOA
    # and the ward are dropped as boundary noise (docs/harmonisation.md, "Slivers").
    assert values.loc["E05015253", "value"] == pytest.approx(43.565, abs=5e-3)
    assert values.loc["E05015248", "value"] == 0.0  # Hale: no LSOA in decile 1, a real 0


def test_iod_domains_read_file_7_with_its_own_population():
    plugin = plugins.load("iod_income_most_deprived")
    table = plugin.load(FIX / "File_7_IoD2019_trafford_FORMAT_FIXTURE.csv",
                        population=Path("/nonexistent"))
    pop = _population()
    assert table.set_index("code")["weight"].to_dict() == pop  # real File 6 populations


@pytest.mark.parametrize("pid, boundary_set, score, weight", [
    ("income_deprivation_rate", "lsoa-2011", "Income Score (rate)",
     "Total population: mid 2015 (excluding prisoners)"),
    ("employment_deprivation_rate", "lsoa-2011", "Employment Score (rate)",
     "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)"),
    ("income_deprivation_rate_2025", "lsoa-2021", "Income Score (rate)", "Total population: mid 2022"),
    ("employment_deprivation_rate_2025", "lsoa-2021", "Employment Score (rate)",
     "Working age population 18-66: for use with Employment Deprivation Domain (excluding prisoners)"),
])
def test_iod_rates_weighted_by_their_denominator(store, wards, pid, boundary_set, score, weight):
    release = "2025" if pid.endswith("2025") else "2019"
    path = FIX / f"File_7_IoD{release}_trafford_FORMAT_FIXTURE.csv"
    result, values = run(store, pid, main=path)
    assert result.areas_with_data == 21 and set(values["period"]) == {release}
    rows = csv_rows(path)
    squash = lambda s: " ".join(s.split())  # noqa: E731 - IoD 2025 headers hold line breaks
    rows = [{squash(k): v for k, v in r.items()} for r in rows]
    code = f"LSOA code ({'2021' if release == '2025' else '2011'})"
    rate = {r[code]: 100 * float(r[score]) for r in rows}
    pop = {r[code]: number(r[weight]) for r in rows}
    lsoa = gpd.read_file(LSOA_2021 if release == "2025" else LSOA_2011)
    expected = overlay_mean(lsoa, "area_code", rate, wards, pop)
    for ward, value in expected.items():
        assert close(values.loc[ward, "value"], value), (pid, ward)


def test_iod_release_and_lsoa_vintage_must_agree():
    with pytest.raises(InputError, match=r"LSOA 2011: this looks like IoD 2025"):
        plugins.load("income_deprivation_rate").load(FIX / "File_7_IoD2025_trafford_FORMAT_FIXTURE.csv")
    with pytest.raises(InputError, match=r"LSOA 2021: this looks like IoD 2019"):
        plugins.load("income_deprivation_rate_2025").load(FIX / "File_7_IoD2019_trafford_FORMAT_FIXTURE.csv")


@pytest.mark.parametrize("pid, score, census, total", [
    ("income_deprivation_rate_2025", "Income_score",
     "census21_ts037_general_health_lsoa21_from_oa.csv.gz", "ts0370001"),
    ("employment_deprivation_rate_2025", "Employment_score",
     "census21_ts067_highest_qualification_lsoa21_from_oa.csv.gz", "ts0670001"),
])
def test_iod_2025_republished_copy_weighted_by_the_census(pid, score, census, total):
    """The IMD package's copy has rates but no denominators: each LSOA keeps its rate and
    is weighted by the Census 2021 total named in the description (csv module here)."""
    copy = DEMO / "imd2025_england_lsoa21.csv.gz"
    table = plugins.load(pid).load(copy, population=DEMO / census).set_index("code")
    rates = {r["lsoa21_code"]: 100 * float(r[score]) for r in csv_rows(copy)}
    people = {r["lsoa21_code"]: float(r[total]) for r in csv_rows(DEMO / census)}
    assert len(table) == len(rates) == 33_755 and set(table["period"]) == {"2025"}
    for code in ("E01000001", "E01006102", list(rates)[-1]):
        assert table.loc[code, "value"] == pytest.approx(rates[code])
        assert table.loc[code, "weight"] == people[code]
    with pytest.raises(InputError, match=r"no denominators; give Census 2021 table TS0"):
        plugins.load(pid).load(copy)
    with pytest.raises(InputError, match=r"this looks like IoD 2025"):
        plugins.load(pid.replace("_2025", "")).load(copy)


# -- emissions --------------------------------------------------------------------------------
def test_co2_per_capita_native_layout(store):
    path = IND / "co2_emissions_2005-19_year2019.csv"
    rows = csv_rows(path, skip=1)  # a title row above the header
    trafford = [r for r in rows if r["Code"] == TRAFFORD]
    assert len(trafford) == 1 and trafford[0]["Year"] == "2019"
    expected = float(trafford[0]["Per Capita Emissions (t)"])
    result, values = run(store, "co2_per_capita", main=path)
    assert result.method == "apportion" and result.areas_with_data == 21
    assert (values["value"] == expected).all() and expected == 4.9
    assert values["flags"].str.contains("apportioned").all()
    table = plugins.load("co2_per_capita").load(path)
    # Regional totals, "Unallocated" and the trailing blank row have no code: not areas.
    codes_in_file = {r["Code"] for r in rows if r["Code"]}
    assert set(table["code"]) == codes_in_file
    assert table["code"].str[0].value_counts().to_dict() == {"E": 314, "S": 32, "W": 22, "N": 11}


def test_ghg_per_capita_ons_tidy_layout(store):
    path = IND / "greenhouse-gas-emissions_2019_2023.csv"
    rows = [r for r in csv_rows(path) if r["areacd"] == TRAFFORD]
    expected = {r["period"][:4]: float(r["observation"]) for r in rows}
    assert expected == {"2019": 6.99, "2023": 5.87}
    _, values = run(store, "ghg_per_capita", main=path)
    for period, value in expected.items():
        assert (values.loc[values["period"] == period, "value"] == value).all()
    table = plugins.load("ghg_per_capita").load(path)
    # Regions, combined authorities and counties are in the file, not kept; the nations
    # are, as the published reference values (placeportrait.references).
    lad = table["code"].str[:3].isin(["E06", "E07", "E08", "E09", "W06", "S12", "N09"])
    assert (lad | table["code"].isin(["E92000001", "W92000004", "S92000003", "N92000002"])).all()
    england = [float(r["observation"]) for r in csv_rows(path)
               if r["areacd"] == "E92000001" and r["period"].startswith("2023")]
    assert table.loc[(table["code"] == "E92000001") & (table["period"] == "2023"),
                     "value"].tolist() == england == [4.78]


def test_emission_files_are_not_mixed_up():
    with pytest.raises(InputError, match="not CO2 emissions"):
        plugins.load("co2_per_capita").load(IND / "greenhouse-gas-emissions_2019_2023.csv")
    with pytest.raises(InputError, match="use the co2_per_capita plugin"):
        plugins.load("ghg_per_capita").load(IND / "co2_emissions_2005-19_year2019.csv")


def _asc_cells(path):
    lines = Path(path).read_text().split("\n")
    head = {k.lower(): float(v) for k, v in (l.split() for l in lines[:6])}
    grid = np.array([[float(x) for x in l.split()] for l in lines[6:] if l.strip()])
    cells, vals = [], []
    size = head["cellsize"]
    top = head["yllcorner"] + size * head["nrows"]
    for r in range(int(head["nrows"])):
        for c in range(int(head["ncols"])):
            v = grid[r, c]
            if v == head["nodata_value"]:
                continue
            x0, y1 = head["xllcorner"] + c * size, top - r * size
            cells.append(shapely.box(x0, y1 - size, x0 + size, y1))
            vals.append(v)
    return gpd.GeoDataFrame({"cell": range(len(vals)), "v": vals}, geometry=cells, crs=27700)


def test_naei_grid_by_zonal_statistics(store, wards):
    path = FIX / "naei_co2_total_2021_FORMAT_FIXTURE.asc"
    result, values = run(store, "co2_emissions_grid", main=path)
    assert result.method == "zonal_raster" and result.periods == ["2021"]
    cells = _asc_cells(path)
    # Grid cells keep every piece: a cell's strip in a ward is real ground, not a sliver.
    expected = overlay_mean(cells, "cell", dict(zip(cells["cell"], cells["v"])), wards,
                            sliver_share=0)
    assert len(expected) == 21
    for ward, value in expected.items():
        assert close(values.loc[ward, "value"], value, tol=1e-6), ward


# -- air pollution ----------------------------------------------------------------------------
def test_pm25_grid_and_defra_csv_agree_with_an_overlay(store, wards):
    grid_path = IND.parent / "grid" / "background_air_pollution.geojson"
    _, from_grid = run(store, "pm25_background", main=grid_path)
    grid = gpd.read_file(grid_path)
    expected = overlay_mean(grid, "id", dict(zip(grid["id"], grid["value"])), wards,
                            sliver_share=0)
    for ward, value in expected.items():
        assert close(from_grid.loc[ward, "value"], value, tol=1e-6), ward
    # The same real values in Defra's CSV layout (title lines, square centres in EPSG:27700).
    _, from_csv = run(store, "pm25_background",
                      main=FIX / "defra_background_pm25_2017_trafford_FORMAT_FIXTURE.csv")
    assert set(from_csv["period"]) == {"2017"}
    assert np.allclose(from_csv["value"], from_grid.loc[from_csv.index, "value"], rtol=1e-4)
    assert (from_grid["value"] > 5).all()  # above the WHO 2021 guideline everywhere


# -- land conversion and biodiversity -------------------------------------------------------
@pytest.mark.parametrize("pid, functions", [
    ("greenspace_share", None),
    ("nature_space_share", {"Public Park Or Garden", "Allotments Or Community Growing Spaces",
                            "Religious Ground and Cemetries"}),
])
def test_green_share_of_ward_area(store, wards, pid, functions):
    path = IND / "greenspaces_trafford.geojson"
    result, values = run(store, pid, main=path)
    assert result.method == "zonal_grid" and result.areas_with_data == 21
    sites = gpd.read_file(path).to_crs(27700)
    if functions:
        sites = sites[sites["site_type"].isin(functions)]
    green = shapely.union_all(sites.geometry.make_valid().to_numpy())
    full = values[values["coverage"] > 0.999]
    assert len(full) >= 15  # wards inside the land the extract covers
    w = wards.to_crs(27700).set_index("code")
    for code in full.index:
        geom = w.loc[code, "geometry"]
        expected = 100 * shapely.intersection(geom, green).area / geom.area
        assert values.loc[code, "value"] == pytest.approx(expected, abs=0.02), code


# -- broadband --------------------------------------------------------------------------------
def test_gigabit_from_ofcom_laua_file_and_ons_fallback(store):
    _, ofcom = run(store, "gigabit_broadband", main=OFCOM_ZIP)
    ofcom = ofcom[ofcom["period"] == "2025-07"]  # the release month, from Ofcom's file name
    assert len(ofcom) == 21 and (ofcom["value"] == 93.1).all()
    ons = IND / "gigabit-capable-broadband.csv"
    _, fallback = run(store, "gigabit_broadband", main=ons)
    fallback = fallback[fallback["period"] == "2026-01-01"]
    expected = [float(r["observation"]) for r in csv_rows(ons) if r["areacd"] == TRAFFORD]
    assert expected == [94.0] and len(fallback) == 21 and (fallback["value"] == 94.0).all()
    # Unitary authorities are "County or Unitary Authority" rows in the ONS file: kept.
    table = plugins.load("gigabit_broadband").load(ons)
    unitary = [r for r in csv_rows(ons) if r["areacd"].startswith("E06")]
    assert len(unitary) == 63 and table["code"].str.startswith("E06").sum() == 63
    assert not table["code"].str.startswith(("E10", "E12", "E47", "K0")).any()


def test_below_superfast_from_ofcom_and_ons(store):
    _, ofcom = run(store, "broadband_below_superfast", main=OFCOM_ZIP)
    assert (ofcom.loc[ofcom["period"] == "2025-07", "value"] == 1.2).all()
    _, ons = run(store, "broadband_below_superfast", main=IND / "premises-below-30.csv")
    expected = [float(r["observation"]) for r in csv_rows(IND / "premises-below-30.csv")
                if r["areacd"] == TRAFFORD]
    assert expected == [0.9] and (ons.loc[ons["period"] == "2026-01-01", "value"] == 0.9).all()


def _oa_rows(name):
    with zipfile.ZipFile(OFCOM_ZIP) as z:
        text = z.read(f"202507_fixed_coverage_r01/{name}").decode("utf-8-sig")
    import csv
    import io
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("pid", ["broadband_below_uso", "broadband_no_gigabit"])
def test_output_area_file_premises_weighted(tmp_path, pid):
    rows = _oa_rows("202507_fixed_oa_coverage_r01.csv")  # all premises, not the _res_ file
    if pid == "broadband_below_uso":
        expected = {r["output_area"]: float(r["% of premises below the USO"]) for r in rows}
    else:
        expected = {r["output_area"]: 100 - float(r["Gigabit availability (% premises)"])
                    for r in rows}
    premises = {r["output_area"]: float(r["All Premises"]) for r in rows}
    plugin = plugins.load(pid)
    table = plugin.load(OFCOM_ZIP).set_index("code")
    assert table["value"].to_dict() == expected and table["weight"].to_dict() == premises
    # The CSV itself, outside the zip, reads the same.
    csv_path = tmp_path / "202507_fixed_oa_coverage_r01.csv"
    with zipfile.ZipFile(OFCOM_ZIP) as z:
        csv_path.write_bytes(z.read("202507_fixed_coverage_r01/202507_fixed_oa_coverage_r01.csv"))
    assert plugin.load(csv_path).set_index("code")["value"].to_dict() == expected
    # The table is fit for the engine: aggregated to wards (2022) through the real ONS
    # OA→LSOA and LSOA→ward best-fit lookups, it gives the premises-weighted mean.
    oa = pd.read_csv(IND / "oa21_lsoa21_lookup_trafford.csv", dtype=str)
    lw = pd.read_csv(IND / "lsoa21_ward22_best_fit_lookup_trafford.csv", dtype=str)
    lookup = oa.merge(lw[["lsoa21cd", "wd22cd"]], on="lsoa21cd")[["oa21cd", "wd22cd"]]
    lookup = lookup[lookup["oa21cd"].isin(table.index)]  # the fixture's output areas
    targets = pd.DataFrame({"code": sorted(lw["wd22cd"].unique())})
    got = harmonise.lookup_aggregate(table.reset_index(), lookup, targets, kind="intensive",
                                     weights="weight", code_col="code", min_coverage=0,
                                     lookup_source_col="oa21cd", lookup_target_col="wd22cd")
    got = got.set_index("area_code")["value"].dropna()
    frame = pd.DataFrame({"v": expected, "p": premises}).join(lookup.set_index("oa21cd"))
    frame = frame.dropna(subset=["wd22cd"])  # the Scottish output area is in no ward here
    by_hand = (frame["v"] * frame["p"]).groupby(frame["wd22cd"]).sum() / \
        frame["p"].groupby(frame["wd22cd"]).sum()
    assert set(got.index) == set(by_hand.index) and np.allclose(got, by_hand[got.index])


def test_output_area_plugins_need_output_area_boundaries(store):
    with pytest.raises(PlacePortraitError, match="load boundary set 'oa-2021'.*--lookup"):
        run(store, "broadband_below_uso", main=OFCOM_ZIP)


@pytest.mark.parametrize("locations", ["codepo_gb_FORMAT_FIXTURE.zip", "ONSPD_UK_FORMAT_FIXTURE.csv"])
def test_postcode_files_placed_by_centroid(store, locations):
    result, values = run(store, "broadband_below_uso_postcode", main=OFCOM_ZIP,
                         postcodes=FIX / locations)
    assert result.method == "points"
    v = values["value"]
    assert v["E05015239"] == 2.0   # Altrincham: (0 + 4) / 2
    assert v["E05015255"] == 5.0   # Sale Moor: (10 + 0 + 5) / 3; M33 2XD has no grid reference
    assert v["E05015253"] == 0.0   # Old Trafford: one postcode, truly 0
    assert v["E05015241"] == 30.0 and values.loc["E05015241", "coverage"] == 0.5  # Bowdon
    assert v.drop(["E05015239", "E05015255", "E05015253", "E05015241"]).isna().all()


# -- local authority social indicators ------------------------------------------------------
def test_child_poverty(store):
    path = IND / "children-in-relative-poverty_2024.csv"
    row = [r for r in csv_rows(path) if r["areacd"] == TRAFFORD and
           r["indicator"] == "Children in relative poverty before housing costs"]
    assert len(row) == 1 and row[0]["period"] == "2024-04-01/P1Y"
    _, values = run(store, "child_poverty", main=path)
    latest = values[values["period"] == "2024/25"]  # ONS interval read as a financial year
    assert len(latest) == 21 and (latest["value"] == float(row[0]["observation"])).all()
    # The extract also holds Barnsley's and Sheffield's obsolete codes for earlier years:
    # those periods exist, with no data for Trafford.
    assert values.loc[values["period"] != "2024/25", "value"].isna().all()


def test_healthy_life_expectancy_mean_of_sexes(store):
    path = IND / "healthy-life-expectancy_2019_2020.csv"
    rows = [r for r in csv_rows(path) if r["areacd"] == TRAFFORD]
    by = {(r["indicator"].split()[0], r["period"]): float(r["observation"]) for r in rows}
    _, values = run(store, "healthy_life_expectancy", main=path)
    for period, label in (("2019-01-01/P3Y", "2019-2021"), ("2020-01-01/P3Y", "2020-2022")):
        expected = (by[("Male", period)] + by[("Female", period)]) / 2
        assert (values.loc[values["period"] == label, "value"] == expected).all()


def test_epc_below_c_by_hand(store):
    path = IND / "domestic_epcs_energy_efficiency.csv"
    counts = {r["efficiency"]: int(r["value"]) for r in csv_rows(path) if r["area_code"] == TRAFFORD}
    expected = 100 * sum(counts[b] for b in "DEFG") / sum(counts.values())
    _, values = run(store, "epc_below_c", main=path)
    assert np.allclose(values["value"], expected)


# -- ward-level: census and elections ---------------------------------------------------------
def test_bad_health_from_the_census_table_on_2019_wards(store):
    path = IND / "2021_general_health_ward_trafford.csv"
    rows = csv_rows(path)
    alt = [r for r in rows if r["area_code"] == "E05000819"]  # Altrincham (pre-2023 ward)
    bad = sum(int(r["value"]) for r in alt if r["general_health"] in ("Bad health", "Very bad health"))
    total = sum(int(r["value"]) for r in alt)
    result, values = run(store, "bad_health", "trafford-wards-2019", main=path)
    assert result.method == "code_match" and result.areas_with_data == 21
    assert values.loc["E05000819", "value"] == pytest.approx(100 * bad / total)


def test_census_table_on_2023_wards_reports_the_vintage(store):
    with pytest.raises(InputError, match=r"no source code matches an area of 'trafford-wards-2023'"
                                         r" \(source codes like E05000819\); wrong boundary vintage"):
        run(store, "bad_health", main=IND / "2021_general_health_ward_trafford.csv")


@pytest.mark.parametrize("pid, path, transform", [
    ("bad_health", "ward_profile_general_health_bad_or_very_bad.csv", lambda v: v),
    ("no_qualifications", "ward_profile_residents_no_qualifications.csv", lambda v: v),
    ("housing_deprived_households", "ward_profile_household_housing_deprived.csv", lambda v: v),
    ("election_non_turnout", "ward_profile_local_election_turnout.csv", lambda v: 100 - v),
])
def test_ward_profiles_on_2023_wards(store, pid, path, transform):
    rows = [r for r in csv_rows(IND / path) if r["measure"] == "Percentage"]
    expected = {r["area_code"]: transform(float(r["value"])) for r in rows}
    result, values = run(store, pid, main=IND / path)
    assert result.areas_with_data == 21 and len(expected) == 21
    for code, value in expected.items():
        assert values.loc[code, "value"] == pytest.approx(value)


def test_no_qualifications_from_the_census_table(store):
    path = IND / "2021_highest_level_qualification_ward_trafford.csv"
    rows = [r for r in csv_rows(path) if r["area_code"] == "E05000824"]  # Bucklow-St Martins
    none = sum(int(r["value"]) for r in rows if r["highest_qualification"] == "No qualifications")
    total = sum(int(r["value"]) for r in rows)
    _, values = run(store, "no_qualifications", "trafford-wards-2019", main=path)
    assert values.loc["E05000824", "value"] == pytest.approx(100 * none / total)
