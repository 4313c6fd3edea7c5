"""What matters most: the largest gaps among measures of the ward itself, with the
authority's and nation's own values, and what is only known for the authority."""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeportrait import matters_most


def ward_rows():
    """Five indicators of one ward: two authority values given to it, one of them the
    largest gap of all; three of its own."""
    return pd.DataFrame({
        "indicator": ["co2", "income", "health", "heating", "broadband"],
        "title": ["CO2 per person", "Income deprived", "Bad health", "No central heating",
                  "Slow broadband"],
        "status": ["overshoot", "shortfall", "shortfall", "achieved", "shortfall"],
        "shortfall": [np.nan, 0.436, 0.064, 0.0, 0.009],
        "overshoot": [4.16, np.nan, np.nan, np.nan, np.nan],
        "value": [4.9, 43.6, 6.4, 0.0, 0.9],
        "unit": ["t per person", "% of residents", "% of residents", "% of households",
                 "% of premises"],
        "authority_value": [4.9, 9.7, 4.65, 1.2, 0.9],
        "nation": ["England"] * 5,
        "nation_value": [np.nan, 9.9, 5.15, 1.5, 1.9],
        "flags": ["apportioned from local authority", None, None, None,
                  "apportioned from local authority"],
    })


def fmt(value, unit):
    return f"{value:g} {unit}"


def test_largest_ward_level_gaps_first_and_authority_values_apart():
    found = matters_most.decide(ward_rows())
    # CO2's 416 % overshoot is Trafford's value given to every ward: not the ward's story.
    assert [g.indicator for g in found.gaps] == ["income", "health"]
    assert found.authority_only == ["CO2 per person", "Slow broadband"]
    words = matters_most.sentences("Old Trafford", "Trafford", found, fmt)
    assert words["items"][0] == ("Income deprived: 43.6 % of residents, 44% short of the "
                                 "foundation; against 9.7 % of residents for Trafford as a "
                                 "whole and 9.9 % of residents for England.")
    assert "Known only for Trafford as a whole" in words["authority_only"]
    assert "CO2 per person and Slow broadband" in words["authority_only"]


def test_a_missing_reference_is_said_not_invented():
    rows = ward_rows().assign(authority_value=np.nan, nation_value=np.nan)
    words = matters_most.sentences("X", "Y", matters_most.decide(rows), fmt)
    assert words["items"][0].endswith("no authority or national figure from the source.")


def test_no_gap_and_no_ward_level_data_say_so():
    rows = ward_rows()
    rows = rows[rows["indicator"].isin(["heating", "co2"])]
    words = matters_most.sentences("X", "Y", matters_most.decide(rows), fmt)
    assert words["lead"].startswith("None of the 1 measure of X itself falls short")
    only_copied = ward_rows()[ward_rows()["flags"].notna()]
    words = matters_most.sentences("X", "Y", matters_most.decide(only_copied), fmt)
    assert words["lead"].startswith("No measure of X itself has data yet")
    assert matters_most.decide(ward_rows().iloc[0:0]).gaps == []
