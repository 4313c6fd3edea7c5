"""Authority sources on older codes reach the authorities that succeeded them.

The predecessors below are the statutory reorganisations, as ONS announced them (not read
from the chain file under test); values are worked from the published CO2 rows with the
csv module.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from placeportrait import references
from placeportrait.harmonise.successors import carry, succession

from test_builtin_support import IND, UK_2023, csv_rows, load_set, number, run

CO2_2019 = IND / "co2_emissions_2005-19_year2019.csv"  # BEIS, 2019 rows, 2020 authorities

CUMBERLAND = ("E06000063", {"E07000026": "Allerdale", "E07000028": "Carlisle",
                            "E07000029": "Copeland"})
WESTMORLAND_FURNESS = ("E06000064", {"E07000027": "Barrow-in-Furness", "E07000030": "Eden",
                                     "E07000031": "South Lakeland"})
SOMERSET_2019_CODES = {"E07000187": "Mendip", "E07000188": "Sedgemoor",
                       "E07000189": "South Somerset", "E07000246": "Somerset West and Taunton"}


def test_merged_authorities_need_every_predecessor_of_the_source_vintage():
    on_2019_codes = set(CUMBERLAND[1]) | set(SOMERSET_2019_CODES) | {"E08000009"}
    plan = succession(on_2019_codes, {"E06000063", "E06000066", "E08000009"})
    assert plan.predecessors["E06000063"] == set(CUMBERLAND[1])
    assert plan.predecessors["E06000066"] == set(SOMERSET_2019_CODES)
    assert "E08000009" not in plan.successor  # Trafford's code never changed
    # A source on 2018 codes has Taunton Deane and West Somerset, merged in 2019.
    on_2018_codes = (set(SOMERSET_2019_CODES) - {"E07000246"}) | {"E07000190", "E07000191"}
    plan = succession(on_2018_codes, {"E06000066"})
    assert plan.predecessors["E06000066"] == on_2018_codes


def test_a_boundary_transfer_is_not_a_merger():
    # Fife and Perth and Kinross took new codes in 2018 after a small transfer of land.
    plan = succession({"S12000015", "S12000024"}, {"S12000047", "S12000048"})
    assert plan.successor == {"S12000015": "S12000047", "S12000024": "S12000048"}
    assert plan.predecessors == {"S12000047": {"S12000015"}, "S12000048": {"S12000024"}}


def _table(rows, weight=True):
    frame = pd.DataFrame(rows, columns=["code", "period", "value", "weight"])
    return frame if weight else frame.drop(columns="weight")


def test_rates_combine_by_weight_counts_add_and_gaps_are_said():
    code, olds = CUMBERLAND
    plan = succession(olds, {code})
    rows = [("E07000026", "2019", 6.0, 100.0), ("E07000028", "2019", 4.0, 300.0),
            ("E07000029", "2019", 8.0, 100.0), ("E07000026", "2018", 6.0, 100.0),
            ("E07000028", "2018", np.nan, 300.0), ("E07000029", "2018", 8.0, 100.0)]
    rates, notes = carry(_table(rows), plan, "intensive")
    got = rates.set_index(["code", "period"])
    assert got.loc[(code, "2019"), "value"] == pytest.approx((600 + 1200 + 800) / 500)
    assert got.loc[(code, "2019"), "weight"] == 500
    assert (code, "2018") not in got.index  # Carlisle suppressed: no data, not a partial mean
    assert notes == [f"{code} (2018): no data, the source has no value for its predecessor "
                     "E07000028"]
    counts, _ = carry(_table(rows, weight=False), plan, "extensive")
    assert counts.set_index(["code", "period"]).loc[(code, "2019"), "value"] == 18
    no_weights, notes = carry(_table(rows, weight=False), plan, "intensive")
    assert code not in set(no_weights["code"])
    assert notes[-1].startswith(f"{code} (2019)") and "no weights to combine their rates" in notes[-1]
    # An authority the source publishes itself keeps its own row.
    own, _ = carry(_table(rows + [(code, "2019", 5.5, 500.0)]), plan, "intensive")
    assert own.set_index(["code", "period"]).loc[(code, "2019"), "value"] == 5.5


def _published_2019():
    rows = csv_rows(CO2_2019, skip=1)
    pop_col = next(c for c in rows[0] if c.startswith("Population"))
    return {r["Code"]: (number(r["Per Capita Emissions (t)"]), number(r[pop_col]))
            for r in rows if r["Code"]}


def test_cumbria_wards_get_their_new_authorities_co2(store):
    """CO2 per person (2019, on the 2020 authorities) onto the December 2023 wards of
    Cumberland and Westmorland and Furness: each new authority's value is its three
    districts' per-person emissions weighted by the file's own populations, and the
    authority figure says where it came from."""
    wards = gpd.read_file(f"zip://{UK_2023}")
    cumbria = wards[wards["LAD23CD"].isin([CUMBERLAND[0], WESTMORLAND_FURNESS[0]])]
    load_set(store, UK_2023, "cumbria-2023", "ward", gdf=cumbria.reset_index(drop=True))
    result, values = run(store, "co2_per_capita", "cumbria-2023", main=CO2_2019)
    assert "successor authorities" in result.method
    published = _published_2019()
    for code, olds in (CUMBERLAND, WESTMORLAND_FURNESS):
        assert code not in published
        expected = (sum(published[c][0] * published[c][1] for c in olds)
                    / sum(published[c][1] for c in olds))
        mine = cumbria.loc[cumbria["LAD23CD"] == code, "WD23CD"]
        got = values.loc[mine, "value"]
        assert got.notna().all() and np.allclose(got, expected, rtol=1e-9), code
    refs = store.read_references("cumbria-2023")
    authority = refs[(refs["level"] == "authority") & (refs["indicator"] == "co2_per_capita")
                     & (refs["period"].astype(str) == "2019")].set_index("code")
    first_ward = cumbria.loc[cumbria["LAD23CD"] == CUMBERLAND[0], "WD23CD"].iloc[0]
    assert authority.loc[CUMBERLAND[0], "value"] == pytest.approx(values.loc[first_ward, "value"])
    assert "predecessor authorities E07000026, E07000028, E07000029" in \
        authority.loc[CUMBERLAND[0], "method"]


def test_references_use_the_same_successor_rows():
    table = pd.DataFrame({"code": list(CUMBERLAND[1]), "period": "2019",
                          "value": [6.0, 4.0, 8.0], "weight": [100.0, 300.0, 100.0]})
    targets = pd.DataFrame({"code": ["E05013979"], "parent_code": [CUMBERLAND[0]]})
    harmonised = pd.DataFrame({"area_code": ["E05013979"], "period": ["2019"], "value": [0.0]})
    out = references.authority_values(harmonised, targets, table, geography="lad",
                                      kind="intensive", denominator="residents")
    # (6 x 100 + 4 x 300 + 8 x 100) / 500, from the source, not from the ward value
    assert out["value"].tolist() == [pytest.approx(5.2)]
    assert out["method"].iloc[0].startswith("from the source's rows for its predecessor")


def test_a_ward_ranked_in_its_nation_when_the_set_holds_it(store):
    """All 762 Welsh wards of December 2023, with per-person greenhouse gas emissions by
    authority: each ward's rank in Wales is 1 + the Welsh wards with less (lower is better
    for a ceiling), counted here from the stored values; a set holding only some of a
    nation's wards gives no nation rank, and says why."""
    from placeportrait.export import tidy_scores

    wards = gpd.read_file(f"zip://{UK_2023}")
    wales = wards[wards["WD23CD"].str.startswith("W")].reset_index(drop=True)
    assert len(wales) == 762
    load_set(store, UK_2023, "wales-2023", "ward", gdf=wales)
    run(store, "ghg_per_capita", "wales-2023", main=IND / "greenhouse-gas-emissions_2019_2023.csv")
    tidy = tidy_scores(store, "wales-2023")
    latest = tidy[(tidy["indicator"] == "ghg_per_capita")
                  & (tidy["period"] == tidy["period"].max())].set_index("area_code")
    value = latest["value"].astype(float)
    for code in value.index[:25]:
        expected = 1 + int((value < value[code]).sum())
        assert latest.at[code, "nation_rank"] == expected
    assert (latest["nation_ranked_areas"] == 762).all() and (latest["nation_rank_note"] == "").all()
    # Cardiff's wards alone are not Wales.
    load_set(store, UK_2023, "cardiff-2023", "ward",
             gdf=wales[wales["LAD23CD"] == "W06000015"].reset_index(drop=True))
    run(store, "ghg_per_capita", "cardiff-2023", main=IND / "greenhouse-gas-emissions_2019_2023.csv")
    cardiff = tidy_scores(store, "cardiff-2023")
    assert cardiff["nation_rank"].isna().all()
    assert cardiff["nation_rank_note"].str.startswith("not ranked in Wales: the set holds").all()
