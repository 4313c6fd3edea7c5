"""Choosing the route from a source's geography to the wards at run time.

`indicators run --lookup [FROM:TO=]PATH` aggregates through an ONS best-fit lookup;
`--source-boundaries SET` (repeatable) area-weights from a loaded set of the source's
geography or vintage. Expected values are computed here from the CSV files with the csv
module and, for areal steps, with geopandas overlay (test_builtin_support.overlay_mean),
never with the harmonise code.
"""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import numpy as np
import pytest

from placeportrait import plugins
from placeportrait.errors import InputError, MissingGeographyError
from placeportrait.indicator_run import RunLookup, run_indicator
from placeportrait.store import open_store

from test_boundaries import run as cli_run
from test_builtin_support import (IND, UK_2019, WARDS_2023, csv_rows, load_set, number,
                                  overlay_mean, ward_areas)

LOOKUP = IND / "lsoa11_ward19_lookup_trafford_cardiff.csv"  # Trafford and Cardiff rows
FILE_1 = IND / "iod2019_file1_trafford.csv"
FILE_6 = IND / "iod2019_file6_trafford.csv"
IMD_INPUTS = {"imd_most_deprived": str(FILE_1), "imd_most_deprived.population": str(FILE_6)}
TRAFFORD, CARDIFF = "E08000009", "W06000015"


@pytest.fixture(scope="module")
def wards_2019():
    uk = gpd.read_file(f"zip://{UK_2019}")
    return uk[uk["LAD19CD"].isin([TRAFFORD, CARDIFF])].reset_index(drop=True)


@pytest.fixture
def store(tmp_path, wards_2019):
    """Trafford's 2023 wards, and the 2019 wards of Trafford (England) and Cardiff (Wales)."""
    store = open_store(str(tmp_path / "geo.gpkg"))
    store.init()
    load_set(store, WARDS_2023, "trafford-wards-2023", "ward")
    load_set(store, UK_2019, "wards-2019", "ward", gdf=wards_2019)
    return store


def imd_by_hand():
    """IMD decile-1 share and population per 2019 ward, from the lookup (csv module)."""
    decile = {r["LSOA code (2011)"]: int(r["Index of Multiple Deprivation (IMD) Decile"])
              for r in csv_rows(FILE_1)}
    people = {}
    for r in csv_rows(FILE_6):
        column = next(c for c in r if c.startswith("Total population: mid 2015"))
        people[r["LSOA code (2011)"]] = number(r[column])
    deprived, total = defaultdict(float), defaultdict(float)
    for r in csv_rows(LOOKUP):
        lsoa, ward = r["LSOA11CD"], r["WD19CD"]
        if lsoa in decile:
            total[ward] += people[lsoa]
            deprived[ward] += people[lsoa] * (decile[lsoa] == 1)
    return {w: 100 * deprived[w] / total[w] for w in total}, dict(total)


def test_a_run_time_lookup_leaves_wards_outside_an_england_only_source_as_no_data(store, wards_2019):
    plugin = plugins.load("imd_most_deprived")
    result = run_indicator(store, plugin, "wards-2019", inputs=IMD_INPUTS,
                           lookups=[RunLookup(LOOKUP)])
    assert result.method.startswith("lookup") and "LSOA11CD to WD19CD" in result.method
    values = store.read_values("wards-2019", ["imd_most_deprived"]).set_index("area_code")["value"]
    expected, _ = imd_by_hand()
    trafford = set(wards_2019.loc[wards_2019["LAD19CD"] == TRAFFORD, "WD19CD"])
    cardiff = set(wards_2019.loc[wards_2019["LAD19CD"] == CARDIFF, "WD19CD"])
    assert set(expected) == trafford and len(trafford) == 21
    for ward, share in expected.items():
        assert values[ward] == pytest.approx(share, abs=1e-9), ward
    # Cardiff's LSOAs are in the lookup but not in the (England-only) IoD: no data, not 0.
    assert len(cardiff) > 20 and values[list(cardiff)].isna().all()
    assert 0 < sum(v > 0 for v in expected.values()) < 21  # some wards have deprived LSOAs


def test_lookup_columns_can_be_named_and_a_wrong_name_is_one_line(store, capsys):
    args = ["--database-url", store.location.display(), "indicators", "run", "imd_most_deprived",
            "--boundary-set", "wards-2019", "--input", f"imd_most_deprived={FILE_1}",
            "--input", f"imd_most_deprived.population={FILE_6}"]
    code, out, err = cli_run(capsys, *args, "--lookup", f"LSOA11CD:WD19CD={LOOKUP}")
    assert code in (0, None) and "21 of " in out and "by lookup" in out, err
    code, out, err = cli_run(capsys, *args, "--lookup", f"LSOA11CD:WARD={LOOKUP}")
    assert code == 1 and "no column 'WARD'" in err and LOOKUP.name in err
    assert len(err.strip().splitlines()) == 1


def test_a_lookup_to_older_wards_continues_by_area_onto_the_set(store, wards_2019):
    plugin = plugins.load("imd_most_deprived")
    result = run_indicator(store, plugin, "trafford-wards-2023", inputs=IMD_INPUTS,
                           lookups=[RunLookup(LOOKUP)], source_boundaries=["wards-2019"])
    assert "then area_weighted from wards-2019" in result.method
    got = store.read_values("trafford-wards-2023", ["imd_most_deprived"]).set_index("area_code")
    shares, people = imd_by_hand()
    expected = overlay_mean(wards_2019, "WD19CD", shares, ward_areas(), weights=people)
    assert len(expected) == 21 and got["value"].notna().sum() == 21
    for ward, value in expected.items():
        assert got.loc[ward, "value"] == pytest.approx(value, abs=1e-6), ward
    assert got["flags"].str.startswith("other vintage").all()


def test_ward_values_of_another_vintage_are_area_weighted_from_their_own_set(store, wards_2019):
    plugin = plugins.load("bad_health")  # census table on the 2019-2022 ward codes
    source = IND / "2021_general_health_ward_trafford.csv"
    with pytest.raises(InputError, match="wrong boundary vintage"):
        run_indicator(store, plugin, "trafford-wards-2023", inputs={"bad_health": str(source)})
    result = run_indicator(store, plugin, "trafford-wards-2023", inputs={"bad_health": str(source)},
                           source_boundaries=["wards-2019"])
    assert result.method == "area_weighted" and result.areas_with_data == 21
    table = plugin.load(source)
    got = store.read_values("trafford-wards-2023", ["bad_health"]).set_index("area_code")
    expected = overlay_mean(wards_2019, "WD19CD", dict(zip(table["code"], table["value"])),
                            ward_areas(), weights=dict(zip(table["code"], table["weight"])))
    for ward, value in expected.items():
        assert got.loc[ward, "value"] == pytest.approx(value, abs=1e-6), ward
    assert got["flags"].eq("other vintage: area-weighted from wards-2019").all()
    # The run's own summary says so, not only the export's flag column.
    assert "other vintage: area-weighted from wards-2019 (21 areas)" in result.summary()


def test_a_source_without_its_geometry_or_lookup_is_not_run(store, capsys):
    plugin = plugins.load("imd_most_deprived")
    with pytest.raises(MissingGeographyError, match="--lookup"):
        run_indicator(store, plugin, "wards-2019", inputs=IMD_INPUTS)
    before = store.read_values("wards-2019")
    assert before.empty or "imd_most_deprived" not in set(before["indicator"])
    runs = store.runs()
    assert runs.iloc[-1]["status"] == "failed"
    assert np.isin(["imd_most_deprived"], runs["plugin"]).all()
