"""CO2 from home gas and electricity per person (``home_energy_co2``), on the demo's
whole-nation extracts: each authority's LSOAs add up to its published domestic gas and
electricity CO2, ward values match an independent overlay, and bad files are refused in
one line. Everything expected is computed here with pandas and geopandas from the shipped
files, never with the plugin's own output."""

from __future__ import annotations

import gzip
import zipfile

import geopandas as gpd
import pandas as pd
import pytest

from placeportrait import plugins
from placeportrait.errors import InputError

from test_builtin_support import (DEMO, IND, LSOA_2011, overlay_mean, run, trafford_store,
                                  ward_areas)

PID = "home_energy_co2"
GAS, ELEC = DEMO / "LSOA_GAS_2019.csv.gz", DEMO / "LSOA_ELEC_2019.csv.gz"
CO2, PEOPLE = DEMO / "co2_emissions_2005-19_uk_2019.csv.gz", DEMO / "population_mid2019_lsoa11.csv.gz"
LSOA_CODE, LA_CODE = "Lower Layer Super Output Area (LSOA) Code", "Local Authority Code"
TRAFFORD = "E08000009"


def _inputs(gas=GAS, electricity=ELEC):
    return {"electricity": electricity, "co2": CO2, "population": PEOPLE}, gas


def _published_kt() -> pd.DataFrame:
    """Domestic gas and electricity CO2 (kt) of 2019 by authority, as published."""
    table = pd.read_csv(CO2, skiprows=1, encoding="utf-8-sig", thousands=",")
    table.columns = [c.strip() for c in table.columns]
    return table[table["Year"] == 2019].dropna(subset=["Code"]).set_index("Code")[
        ["Domestic Gas", "Domestic Electricity"]].astype(float)


def _by_hand() -> pd.DataFrame:
    """Each LSOA's authority, kWh of each fuel, residents, and t CO2 per person by the
    documented method: its share of its authority's published CO2 by metered kWh."""
    gas = pd.read_csv(GAS).set_index(LSOA_CODE)
    elec = pd.read_csv(ELEC).set_index(LSOA_CODE)
    people = pd.read_csv(PEOPLE).set_index("lsoa11_code")["total_population"]
    kt = _published_kt()
    out = pd.DataFrame({"authority": elec[LA_CODE], "elec": elec.iloc[:, -1]})
    out["gas"] = gas.iloc[:, -1].reindex(out.index)
    out["people"] = people.reindex(out.index)
    tonnes = 0.0
    for fuel, column in (("gas", "Domestic Gas"), ("elec", "Domestic Electricity")):
        metered = out.groupby("authority")[fuel].transform("sum")
        tonnes = tonnes + out[fuel] / metered * out["authority"].map(kt[column]) * 1000
    out["value"] = tonnes / out["people"]
    return out


@pytest.fixture(scope="module")
def table():
    extra, gas = _inputs()
    return plugins.load(PID).load(gas, **extra).set_index("code")


def test_each_authority_adds_up_to_its_published_home_co2(table):
    """Where every LSOA of an authority has published gas use, its LSOAs' CO2 (value times
    residents) is the authority's published domestic gas plus electricity CO2."""
    elec = pd.read_csv(ELEC)
    gas_codes = set(pd.read_csv(GAS)[LSOA_CODE])
    whole = elec.groupby(LA_CODE)[LSOA_CODE].apply(lambda c: set(c) <= gas_codes)
    kt = _published_kt()
    checked = 0
    for authority in whole[whole].index:
        codes = elec.loc[elec[LA_CODE] == authority, LSOA_CODE]
        rows = table.loc[codes]
        tonnes = (rows["value"] * rows["weight"]).sum()
        expected = kt.loc[authority].sum() * 1000
        assert tonnes == pytest.approx(expected, rel=1e-9), authority
        checked += 1
    assert whole[TRAFFORD] and checked > 200
    trafford = table.loc[elec.loc[elec[LA_CODE] == TRAFFORD, LSOA_CODE]]
    # 266.9 kt from gas and 76.4 kt from electricity, BEIS 2019
    assert (trafford["value"] * trafford["weight"]).sum() == pytest.approx(343_300, rel=1e-9)


def test_lsoa_values_follow_the_documented_method(table):
    expected = _by_hand()
    assert len(table) == len(expected) == 34_753
    pd.testing.assert_series_equal(table["value"].reindex(expected.index), expected["value"],
                                   check_names=False, rtol=1e-9)
    # an LSOA without published gas use is no data, not electricity alone
    no_gas = expected["gas"].isna()
    assert no_gas.sum() == 942 and table.loc[no_gas[no_gas].index, "value"].isna().all()
    assert table["weight"].notna().all()


def test_ward_values_match_an_independent_overlay(tmp_path):
    store = trafford_store(tmp_path / "store.gpkg")
    extra, gas = _inputs()
    result, values = run(store, PID, main=gas, **extra)
    assert result.areas_with_data == 21
    lsoa = _by_hand()
    expected = overlay_mean(gpd.read_file(LSOA_2011), "area_code", lsoa["value"].to_dict(),
                            ward_areas(), lsoa["people"].to_dict())
    for code, value in expected.items():
        assert values.loc[code, "value"] == pytest.approx(value, rel=1e-9), code
    # the wards differ: Trafford's homes do not share one value
    assert values["value"].max() - values["value"].min() > 0.3


def _write(path, frame):
    with gzip.open(path, "wt", newline="") as fh:
        frame.to_csv(fh, index=False)
    return path


def test_an_authority_only_partly_in_the_file_is_refused(tmp_path):
    gas = pd.read_csv(GAS)
    part = gas[gas[LA_CODE].isin([TRAFFORD, "E08000003", "E08000007"])]  # + Manchester, Stockport
    part = part.drop(part[part[LA_CODE] == TRAFFORD].index[::2])
    extra, _ = _inputs()
    with pytest.raises(InputError, match=f"authority {TRAFFORD}.*every area"):
        plugins.load(PID).load(_write(tmp_path / "LSOA_GAS_2019.csv.gz", part), **extra)


def test_energy_files_of_two_years_are_refused(tmp_path):
    elec = _write(tmp_path / "LSOA_ELEC_2018.csv.gz", pd.read_csv(ELEC))
    extra, gas = _inputs(electricity=elec)
    with pytest.raises(InputError, match="electricity for 2018, gas for 2019"):
        plugins.load(PID).load(gas, **extra)


def test_the_published_zip_is_read_for_its_2019_member(tmp_path, table):
    """The gas address is a zip of every year's CSV, in a folder, earliest first."""
    archive = tmp_path / "LSOA_Gas_csv.zip"
    gas = pd.read_csv(GAS)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("LSOA Gas csv/LSOA_GAS_2018.csv", gas.head(5).to_csv(index=False))
        zf.writestr("LSOA Gas csv/LSOA_GAS_2019.csv", gas.to_csv(index=False))
    extra, _ = _inputs()
    from_zip = plugins.load(PID).load(archive, **extra).set_index("code")
    pd.testing.assert_frame_equal(from_zip, table)


# -- Scotland: the same files' data-zone rows, over SIMD 2020's populations ---------------
CLACKS = "S12000005"
SCOTLAND = {name: IND / f"{name}_clackmannanshire.csv"
            for name in ("LSOA_GAS_2019", "LSOA_ELEC_2019", "simd2020v2_scotland_dz11_indicators")}


def test_scottish_data_zones_share_their_councils_published_co2():
    """Clackmannanshire's 72 data zones, by hand: each zone's share of the council's
    published domestic gas and electricity CO2 by metered kWh, over SIMD's population."""
    table = plugins.load("home_energy_co2_scotland").load(
        SCOTLAND["LSOA_GAS_2019"], electricity=SCOTLAND["LSOA_ELEC_2019"],
        co2=IND / "co2_emissions_2005-19_year2019.csv",
        population=SCOTLAND["simd2020v2_scotland_dz11_indicators"]).set_index("code")
    gas = pd.read_csv(SCOTLAND["LSOA_GAS_2019"]).set_index(LSOA_CODE)["Consumption (kWh)"]
    elec = pd.read_csv(SCOTLAND["LSOA_ELEC_2019"]).set_index(LSOA_CODE).iloc[:, 6]
    people = pd.read_csv(SCOTLAND["simd2020v2_scotland_dz11_indicators"]).set_index(
        "dz11_code")["Total_population"]
    published = pd.read_csv(IND / "co2_emissions_2005-19_year2019.csv", skiprows=1,
                            encoding="utf-8-sig", thousands=",").set_index("Code")
    council = published.loc[CLACKS]
    tonnes = (gas / gas.sum() * council["Domestic Gas"]
              + elec / elec.sum() * council["Domestic Electricity"]) * 1000
    expected = (tonnes / people).reindex(elec.index)
    assert len(table) == 72 and table.index.str.startswith("S01").all()
    pd.testing.assert_series_equal(table["value"].reindex(expected.index), expected,
                                   check_names=False, rtol=1e-9)
    # the zone with no published gas use is no data
    assert list(table.index[table["value"].isna()]) == ["S01007447"]
    # the same files give England and Wales nothing here, and Scotland nothing to the LSOA plugin
    with pytest.raises(InputError, match="no rows for this plugin's areas .codes E01… and W01…"):
        plugins.load(PID).load(SCOTLAND["LSOA_GAS_2019"], electricity=SCOTLAND["LSOA_ELEC_2019"],
                               co2=IND / "co2_emissions_2005-19_year2019.csv", population=PEOPLE)
