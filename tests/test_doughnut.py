"""The scoring engine: statuses, counts, dimensions and comparisons, on small tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from placeportrait import dimensions as dims
from placeportrait import doughnut
from placeportrait.doughnut import (
    compare,
    nation_of,
    score_dimensions,
    score_table,
    signed_gap_percent,
    summarise,
    summarise_dimensions,
)


def table(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (area_code, indicator, ring, value, threshold, baseline)."""
    return pd.DataFrame(
        rows, columns=["area_code", "indicator", "ring", "value", "threshold", "baseline"]
    )


@pytest.fixture(autouse=True)
def _no_registered_dimensions():
    dims.clear_local_dimensions()
    yield
    dims.clear_local_dimensions()


# ------------------------------------------------------------------------ score_table


def test_ratio_is_value_minus_baseline_over_threshold_minus_baseline():
    scored = score_table(
        table(
            [
                ("E05000001", "co2_ppm", "ecological", 415.0, 350.0, 280.0),
                ("E05000001", "fuel_poverty", "social", 12.5, 0.0, 100.0),
                ("E05000001", "forest_area", "ecological", 39.0, 47.9, 63.87),  # b < a
                ("E05000001", "turnout", "social", 30.0, 60.0, 0.0),
            ]
        )
    )
    np.testing.assert_allclose(
        scored["ratio"],
        [(415 - 280) / 70, 0.875, (39 - 63.87) / (47.9 - 63.87), 0.5],
    )
    assert scored["status"].tolist() == ["overshoot", "shortfall", "overshoot", "shortfall"]
    np.testing.assert_allclose(scored["shortfall"][[1, 3]], [0.125, 0.5])
    np.testing.assert_allclose(
        scored["overshoot"][[0, 2]], [(415 - 280) / 70 - 1, (39 - 63.87) / (47.9 - 63.87) - 1]
    )


def test_share_deprived_shortfall_is_the_share_over_100():
    shares = [0.0, 3.0, 50.0, 100.0]
    scored = score_table(
        table([("E05000001", f"i{i}", "social", s, 0.0, 100.0) for i, s in enumerate(shares)])
    )
    np.testing.assert_allclose(scored["shortfall"], np.array(shares) / 100)
    assert scored["status"].tolist() == ["achieved", "shortfall", "shortfall", "shortfall"]


def test_the_edge_itself_is_achieved_and_within():
    scored = score_table(
        table(
            [
                ("A", "s", "social", 60.0, 60.0, 0.0),
                ("A", "e", "ecological", 2.3, 2.3, 0.0),
                ("A", "s2", "social", 61.0, 60.0, 0.0),
                ("A", "e2", "ecological", 2.2, 2.3, 0.0),
            ]
        )
    )
    assert scored["status"].tolist() == ["achieved", "within", "achieved", "within"]
    assert scored["shortfall"][[0, 2]].tolist() == [0.0, 0.0]
    assert scored["overshoot"][[1, 3]].tolist() == [0.0, 0.0]


def test_missing_value_or_threshold_is_no_data_never_zero():
    scored = score_table(
        table(
            [
                ("A", "s", "social", np.nan, 60.0, 0.0),
                ("A", "e", "ecological", 3.0, np.nan, 0.0),
                ("A", "s2", "social", None, None, None),
            ]
        )
    )
    assert (scored["status"] == "no data").all()
    assert scored[["ratio", "shortfall", "overshoot"]].isna().all().all()


def test_measure_of_the_other_ring_is_nan():
    scored = score_table(
        table([("A", "s", "social", 1.0, 2.0, 0.0), ("A", "e", "ecological", 1.0, 2.0, 0.0)])
    )
    assert math.isnan(scored["overshoot"][0]) and math.isnan(scored["shortfall"][1])


def test_baseline_is_optional_and_blank_means_zero():
    without = table([("A", "e", "ecological", 3.0, 2.0, 0.0)]).drop(columns="baseline")
    blank = table([("A", "e", "ecological", 3.0, 2.0, np.nan)])
    assert score_table(without)["ratio"][0] == 1.5
    assert score_table(blank)["ratio"][0] == 1.5


def test_returns_a_copy_and_keeps_index_and_other_columns():
    df = table([("A", "e", "ecological", 3.0, 2.0, 0.0)]).set_axis([7]).assign(period=2021)
    before = df.copy()
    scored = score_table(df)
    pd.testing.assert_frame_equal(df, before)
    assert scored.index.tolist() == [7] and scored["period"].tolist() == [2021]


def test_nullable_and_text_numbers_are_read():
    df = table([("A", "e", "ecological", "3", "2", None)])
    df["value"] = df["value"].astype("string")
    assert score_table(df)["ratio"][0] == 1.5
    df = table([("A", "e", "ecological", pd.NA, 2.0, 0.0)]).astype({"value": "Float64"})
    assert score_table(df)["status"][0] == "no data"


def test_works_on_country_codes():
    scored = score_table(
        table(
            [
                ("GBR", "co2", "ecological", 5.0, 0.95, 0.0),
                ("VNM", "co2", "ecological", 0.5, 0.95, 0.0),
            ]
        )
    )
    assert scored["status"].tolist() == ["overshoot", "within"]


def test_threshold_equal_to_baseline_names_the_indicator():
    with pytest.raises(
        ValueError, match=r"threshold equals baseline for indicator\(s\) fuel_poverty"
    ) as exc:
        score_table(
            table(
                [
                    ("A", "fuel_poverty", "social", 10.0, 0.0, 0.0),
                    ("A", "ok", "social", 10.0, 1.0, 0.0),
                ]
            )
        )
    assert "\n" not in str(exc.value)


def test_missing_columns_are_named_in_one_line():
    df = table([("A", "e", "ecological", 3.0, 2.0, 0.0)]).drop(columns=["threshold", "ring"])
    with pytest.raises(ValueError, match=r"missing column\(s\) ring, threshold") as exc:
        score_table(df)
    assert "\n" not in str(exc.value)


def test_bad_ring_values_are_named():
    df = table([("A", "e", "Ecological", 3.0, 2.0, 0.0), ("A", "f", None, 3.0, 2.0, 0.0)])
    with pytest.raises(ValueError, match=r"'Ecological'.* in 2 row") as exc:
        score_table(df)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("column", "bad", "message"),
    [
        ("value", "1,296", r"column 'value' has 1 non-numeric value\(s\), e.g. '1,296'"),
        ("threshold", np.inf, r"column 'threshold' has infinite"),
        ("area_code", None, r"column 'area_code' is empty in 1 row"),
    ],
)
def test_bad_cells_are_refused(column, bad, message):
    df = table([("A", "e", "ecological", 3.0, 2.0, 0.0)])
    df[column] = df[column].astype(object)
    df.loc[0, column] = bad
    with pytest.raises(ValueError, match=message):
        score_table(df)


@given(
    value=st.floats(-1e6, 1e6),
    threshold=st.floats(-1e6, 1e6),
    baseline=st.floats(-1e6, 1e6),
    ring=st.sampled_from(["social", "ecological"]),
)
def test_status_and_measures_agree_with_the_ratio(value, threshold, baseline, ring):
    if threshold == baseline:
        return
    row = score_table(table([("A", "i", ring, value, threshold, baseline)])).iloc[0]
    ratio = row["ratio"]
    if ring == "social":
        assert row["shortfall"] == max(0.0, 1.0 - ratio)
        assert row["status"] == ("achieved" if ratio >= 1 else "shortfall")
        assert (row["status"] == "shortfall") == (row["shortfall"] > 0)
    else:
        assert row["overshoot"] == max(0.0, ratio - 1.0)
        assert row["status"] == ("overshoot" if ratio > 1 else "within")
        assert (row["status"] == "overshoot") == (row["overshoot"] > 0)


def test_signed_gap_percent():
    scored = score_table(
        table(
            [
                ("A", "s", "social", 12.0, 0.0, 100.0),
                ("A", "e", "ecological", 1.0, 2.0, 0.0),
                ("A", "n", "ecological", None, 2.0, 0.0),
            ]
        )
    )
    gap = signed_gap_percent(scored)
    np.testing.assert_allclose(gap[:2], [12.0, -50.0])
    assert math.isnan(gap[2])


# ------------------------------------------------------------------------ summarise


def test_summarise_counts_and_means():
    scored = score_table(
        table(
            [
                ("A", "s1", "social", 1.0, 1.0, 0.0),  # achieved
                ("A", "s2", "social", 0.5, 1.0, 0.0),  # shortfall 0.5
                ("A", "s3", "social", None, 1.0, 0.0),  # no data
                ("A", "e1", "ecological", 2.0, 1.0, 0.0),  # overshoot 1
                ("A", "e2", "ecological", 0.5, 1.0, 0.0),  # within
                ("B", "s1", "social", 0.8, 1.0, 0.0),
                ("B", "e1", "ecological", None, 1.0, 0.0),
                ("C", "s1", "social", None, 1.0, 0.0),
            ]
        )
    )
    summary = summarise(scored).set_index("area_code")
    assert summary.loc["A"].tolist() == [1, 2, 1, 2, 0.25, 0.5]
    assert summary.loc[
        "B",
        [
            "thresholds_achieved",
            "social_indicators",
            "boundaries_transgressed",
            "ecological_indicators",
        ],
    ].tolist() == [0, 1, 0, 0]
    assert summary.loc["B", "mean_shortfall"] == pytest.approx(0.2)
    assert math.isnan(summary.loc["B", "mean_overshoot"])
    # An area with no data at all is still listed, with NaN means, not 0.
    assert summary.loc["C", ["social_indicators", "ecological_indicators"]].tolist() == [0, 0]
    assert summary.loc["C", ["mean_shortfall", "mean_overshoot"]].isna().all()


def test_summarise_keeps_periods_apart_and_refuses_duplicates():
    rows = table([("A", "s1", "social", 1.0, 1.0, 0.0), ("A", "s1", "social", 0.5, 1.0, 0.0)])
    with pytest.raises(
        ValueError, match=r"2 rows share the same area_code, indicator \(e.g. A / s1\)"
    ):
        summarise(score_table(rows))
    summary = summarise(score_table(rows.assign(period=[2020, 2021])))
    assert summary[["area_code", "period", "thresholds_achieved"]].values.tolist() == [
        ["A", 2020, 1],
        ["A", 2021, 0],
    ]


def test_summarise_needs_scored_input():
    with pytest.raises(
        ValueError,
        match=r"summarise: missing column\(s\) status, shortfall, overshoot.*score_table",
    ):
        summarise(table([("A", "s1", "social", 1.0, 1.0, 0.0)]))


# ------------------------------------------------------------------------ dimensions


def dimension_table() -> pd.DataFrame:
    rows = table(
        [
            ("A", "fuel_poverty", "social", 10.0, 0.0, 100.0),  # shortfall 0.1
            ("A", "no_heating", "social", 40.0, 0.0, 100.0),  # shortfall 0.4
            ("A", "smart_meters", "social", 100.0, 90.0, 0.0),  # achieved
            ("A", "co2", "ecological", 4.6, 2.3, 0.0),  # overshoot 1
            ("A", "no2", "ecological", None, 40.0, 0.0),  # no data
            ("B", "fuel_poverty", "social", 0.0, 0.0, 100.0),
            ("B", "co2", "ecological", 2.0, 2.3, 0.0),
        ]
    )
    rows["dimension"] = [
        "energy",
        "energy",
        "energy",
        "climate_change",
        "air_pollution",
        "energy",
        "climate_change",
    ]
    return score_table(rows)


@pytest.mark.parametrize(
    ("aggregate", "energy_shortfall"), [("mean", 0.5 / 3), ("max", 0.4), ("median", 0.1)]
)
def test_dimension_shortfall_aggregates(aggregate, energy_shortfall):
    out = score_dimensions(dimension_table(), aggregate=aggregate).set_index(
        ["area_code", "dimension"]
    )
    assert out.loc[("A", "energy"), "shortfall"] == pytest.approx(energy_shortfall)
    assert out.loc[("A", "energy"), "status"] == "shortfall"
    assert out.loc[("A", "energy"), ["indicators_with_data", "indicators"]].tolist() == [3, 3]


def test_dimension_statuses_and_no_data():
    out = score_dimensions(dimension_table())
    assert out.columns.tolist() == [
        "area_code",
        "dimension",
        "label",
        "ring",
        "shortfall",
        "overshoot",
        "indicators_with_data",
        "indicators",
        "status",
    ]
    # Model order within an area: social dimensions first, then the ceiling.
    assert out["dimension"].tolist() == ["energy", "climate_change", "air_pollution"] * 2
    out = out.set_index(["area_code", "dimension"])
    assert out.loc[("A", "climate_change"), ["overshoot", "status"]].tolist() == [1.0, "overshoot"]
    assert out.loc[("B", "climate_change"), ["overshoot", "status"]].tolist() == [0.0, "within"]
    assert out.loc[("B", "energy"), ["shortfall", "status"]].tolist() == [0.0, "achieved"]
    for key in (("A", "air_pollution"), ("B", "air_pollution")):  # a dimension without data
        assert out.loc[key, "status"] == "no data"
        assert math.isnan(out.loc[key, "overshoot"]) and math.isnan(out.loc[key, "shortfall"])
    assert out.loc[("B", "air_pollution"), ["indicators_with_data", "indicators"]].tolist() == [
        0,
        0,
    ]
    assert out.loc[("A", "energy"), "label"] == "Energy"


def test_all_dimensions_can_be_listed():
    out = score_dimensions(dimension_table(), include_all_dimensions=True)
    assert len(out) == 2 * 21
    assert (out.loc[out["indicators"] == 0, "status"] == "no data").all()


def test_dimension_errors():
    scored = dimension_table()
    with pytest.raises(ValueError, match="aggregate must be one of mean, max, median, got 'sum'"):
        score_dimensions(scored, aggregate="sum")
    with pytest.raises(ValueError, match=r"unknown dimension\(s\): enrgy"):
        score_dimensions(scored.assign(dimension=scored["dimension"].replace("energy", "enrgy")))
    with pytest.raises(
        ValueError,
        match="indicator 'co2' is in the ecological ring but its dimension 'energy' is social",
    ):
        score_dimensions(scored.assign(dimension="energy"))
    with pytest.raises(ValueError, match=r"missing column\(s\) dimension"):
        score_dimensions(scored.drop(columns="dimension"))


def test_local_dimensions_by_extra_or_registration():
    scored = dimension_table()
    scored.loc[scored["indicator"] == "smart_meters", "dimension"] = "digital_inclusion"
    green = dims.local_dimension("digital_inclusion", "Digital inclusion", "social")
    out = score_dimensions(scored, extra=[green])
    assert "digital_inclusion" in set(out["dimension"])
    with pytest.raises(ValueError, match="digital_inclusion"):
        score_dimensions(scored)
    dims.register_local_dimension("digital_inclusion", "Digital inclusion", "social")
    pd.testing.assert_frame_equal(score_dimensions(scored), out)


def test_summarise_dimensions():
    summary = summarise_dimensions(score_dimensions(dimension_table())).set_index("area_code")
    assert summary.loc["A"].tolist() == [1, 0, 1, 1, 1, pytest.approx(0.5 / 3), 1.0]
    assert summary.loc["B"].tolist() == [0, 1, 1, 0, 1, 0.0, 0.0]


def test_summarise_dimensions_means_are_nan_without_data():
    scored = dimension_table()
    scored = scored[scored["ring"] == "social"]
    summary = summarise_dimensions(score_dimensions(scored)).set_index("area_code")
    assert summary["ecological_dimensions"].tolist() == [0, 0]
    assert summary["mean_overshoot"].isna().all()


# ------------------------------------------------------------------------ compare


def comparison_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = table(
        [
            ("E05000001", "fp", "social", 10.0, 0.0, 100.0),
            ("E05000002", "fp", "social", 20.0, 0.0, 100.0),
            ("E05000003", "fp", "social", 30.0, 0.0, 100.0),
            ("W05000004", "fp", "social", 20.0, 0.0, 100.0),
            ("S13000005", "fp", "social", None, 0.0, 100.0),
            ("E05000001", "co2", "ecological", 3.0, 2.3, 0.0),
            ("E05000002", "co2", "ecological", 2.0, 2.3, 0.0),
            ("E05000003", "co2", "ecological", 1.0, 2.3, 0.0),
            ("W05000004", "co2", "ecological", 5.0, 2.3, 0.0),
            ("S13000005", "co2", "ecological", 4.0, 2.3, 0.0),
        ]
    )
    areas = pd.DataFrame(
        {
            "area_code": ["E05000001", "E05000002", "E05000003", "W05000004", "S13000005"],
            "parent_code": ["E08000009", "E08000009", "E08000003", "W06000015", "S12000036"],
        }
    )
    return score_table(rows), areas


def test_compare_parent_nation_and_set_mean():
    scored, areas = comparison_table()
    out = compare(scored, areas).set_index(["area_code", "indicator"])
    fp = out.xs("fp", level="indicator")
    assert fp["parent_code"].tolist() == [
        "E08000009",
        "E08000009",
        "E08000003",
        "W06000015",
        "S12000036",
    ]
    assert fp["nation"].tolist() == ["England", "England", "England", "Wales", "Scotland"]
    assert (fp["set_mean"] == 20.0).all()
    # authority and nation values come from the source (placeportrait.references), never
    # from the loaded wards
    assert not {"parent_value", "nation_value", "set_value"} & set(out.columns)


def test_compare_ranks_respect_polarity_and_skip_no_data():
    scored, areas = comparison_table()
    out = compare(scored, areas).set_index(["indicator", "area_code"])
    fp, co2 = out.loc["fp"], out.loc["co2"]
    # Social: higher ratio (fewer deprived) is better; ties share the best rank.
    assert fp["rank"].tolist()[:4] == [1, 2, 4, 2]
    assert fp["rank"].isna().tolist() == [False] * 4 + [True]
    assert math.isnan(fp.loc["S13000005", "percentile"])
    assert fp["ranked_areas"].tolist() == [4] * 5
    assert fp["percentile"].tolist()[:4] == [100.0, 75.0, 25.0, 75.0]
    # Ecological: lower ratio (less pressure) is better.
    assert co2["rank"].tolist() == [3, 2, 1, 5, 4]
    assert co2["percentile"].tolist() == [60.0, 80.0, 100.0, 20.0, 40.0]
    # Within each nation: England's three wards rank 3, 2, 1; Wales's and Scotland's one 1.
    assert co2["nation_rank"].tolist() == [3, 2, 1, 1, 1]
    assert co2["nation_ranked_areas"].tolist() == [3, 3, 3, 1, 1]


def test_a_nation_rank_only_where_the_set_holds_the_nation():
    from placeportrait.references import whole_nations

    trafford = pd.Series([f"E0501{5239 + i}" for i in range(21)])
    assert whole_nations(trafford, "ward", "2023") == {
        "E": "not ranked in England: the set holds 21 of its 6,862 wards"}
    # 95 % of Wales's 762 wards of December 2023 is 724
    wales = pd.Series([f"W05{i:06d}" for i in range(724)])
    assert whole_nations(wales, "ward", "2023") == {"W": ""}
    assert whole_nations(wales.iloc[:723], "ward", "2023")["W"].startswith("not ranked")
    assert "not known" in whole_nations(wales, "ward", "2031")["W"]
    assert "not known" in whole_nations(wales, "lsoa", "2023")["W"]


def test_compare_weighted_means():
    scored, areas = comparison_table()
    areas["weight"] = [1.0, 3.0, 1.0, 1.0, 1.0]
    out = compare(scored, areas).set_index(["indicator", "area_code"]).loc["fp"]
    assert out.loc["E05000001", "set_mean"] == pytest.approx((10 + 60 + 30 + 20) / 6)
    with pytest.raises(ValueError, match="weight is missing or negative for 2 row"):
        compare(scored, areas.assign(weight=[1.0, -1.0, 1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="'weight' is given in both"):
        compare(scored.assign(weight=1.0), areas)


def test_compare_keeps_periods_apart():
    scored, areas = comparison_table()
    both = pd.concat(
        [scored.assign(period=2020), scored.assign(period=2021, value=scored["value"] * 2)]
    )
    out = compare(both, areas)
    assert out.groupby("period")["set_mean"].unique().map(list).to_dict() == {
        2020: [20.0, 3.0],
        2021: [40.0, 6.0],
    }


def test_compare_errors():
    scored, areas = comparison_table()
    with pytest.raises(ValueError, match="areas lists area_code 'E05000001' more than once"):
        compare(scored, pd.concat([areas, areas.head(1)]))
    with pytest.raises(ValueError, match=r"compare \(areas\): missing column\(s\) parent_code"):
        compare(scored, areas.drop(columns="parent_code"))


def test_compare_countries_without_parents():
    scored = score_table(
        table(
            [
                ("GBR", "co2", "ecological", 5.0, 0.95, 0.0),
                ("VNM", "co2", "ecological", 1.0, 0.95, 0.0),
            ]
        )
    ).astype({"area_code": "category"})
    out = compare(scored, pd.DataFrame({"area_code": ["GBR", "VNM"], "parent_code": [None, None]}))
    assert out["nation"].isna().all()
    assert out["set_mean"].tolist() == [3.0, 3.0]
    assert out["rank"].tolist() == [2, 1]


def test_nation_of_gss_codes():
    codes = pd.Series(
        ["E05000001", "W05000001", "S13002516", "N08000101", "K04000001", "GBR", None]
    )
    assert nation_of(codes).tolist() == [
        "England",
        "Wales",
        "Scotland",
        "Northern Ireland",
        pd.NA,
        pd.NA,
        pd.NA,
    ]


# ------------------------------------------------------------------------ the model


def test_the_doughnut_has_12_plus_9_dimensions():
    social = [d.id for d in dims.SOCIAL_FOUNDATION]
    assert social == [
        "food",
        "water",
        "health",
        "education",
        "income_and_work",
        "peace_and_justice",
        "political_voice",
        "social_equity",
        "gender_equality",
        "housing",
        "networks",
        "energy",
    ]
    assert [d.id for d in dims.ECOLOGICAL_CEILING] == [
        "climate_change",
        "ocean_acidification",
        "chemical_pollution",
        "nitrogen_and_phosphorus_loading",
        "freshwater_withdrawals",
        "land_conversion",
        "biodiversity_loss",
        "air_pollution",
        "ozone_layer_depletion",
    ]
    assert dims.get_dimension("income_and_work").label == "Income and work"
    assert {lens.id for lens in dims.LENSES} == {
        "local-social",
        "local-ecological",
        "global-social",
        "global-ecological",
    }
    assert dims.lens_for("global", "ecological").id == "global-ecological"


def test_lookup_errors_name_the_unknown():
    with pytest.raises(ValueError, match="unknown dimension 'incomes'"):
        dims.get_dimension("incomes")
    with pytest.raises(ValueError, match="unknown lens 'local'"):
        dims.get_lens("local")
    with pytest.raises(ValueError, match=r"unknown dimension\(s\): bar, foo"):
        dims.check_dimensions(["food", "foo", "bar"])


def test_registering_local_dimensions():
    d = dims.register_local_dimension("green_space", "Access to green space", "social")
    assert dims.get_dimension("green_space") == d and d.local
    assert dims.register_local_dimension("green_space", "Access to green space", "social") == d
    assert [x.id for x in dims.dimensions_in_ring("social")][-1] == "green_space"
    with pytest.raises(ValueError, match="already registered"):
        dims.register_local_dimension("green_space", "Parks", "social")
    with pytest.raises(ValueError, match="already a built-in social dimension"):
        dims.register_local_dimension("housing", "Housing", "social")
    with pytest.raises(ValueError, match="must be snake_case"):
        dims.register_local_dimension("Green Space", "Parks", "social")
    with pytest.raises(ValueError, match="ring must be 'social' or 'ecological', got 'eco'"):
        dims.register_local_dimension("tree_cover", "Tree cover", "eco")
    dims.unregister_local_dimension("green_space")
    with pytest.raises(ValueError):
        dims.get_dimension("green_space")


# ------------------------------------------------------------------------ speed


def test_two_hundred_thousand_rows_score_consistently():
    """National scale (speed is measured in bench/, never asserted in tests)."""
    rng = np.random.default_rng(0)
    n = 200_000
    social_dims = [d.id for d in dims.SOCIAL_FOUNDATION]
    eco_dims = [d.id for d in dims.ECOLOGICAL_CEILING]
    indicator = rng.integers(0, 24, n)
    ring = np.where(indicator < 12, "social", "ecological")
    df = pd.DataFrame(
        {
            "area_code": [f"E05{i:06d}" for i in rng.integers(0, 10_000, n)],
            "indicator": [f"ind{i}" for i in indicator],
            "ring": ring,
            "dimension": [social_dims[i] if i < 12 else eco_dims[(i - 12) % 9] for i in indicator],
            "value": np.where(rng.random(n) < 0.05, np.nan, rng.random(n) * 100),
            "threshold": np.where(ring == "social", 0.0, 50.0),
            "baseline": np.where(ring == "social", 100.0, 0.0),
        }
    ).drop_duplicates(["area_code", "indicator"])
    scored = score_table(df)
    summary = summarise(scored)
    dim_scores = score_dimensions(scored)
    assert len(scored) > 100_000
    assert (scored["status"] == "no data").sum() == df["value"].isna().sum()
    assert summary["social_indicators"].sum() + summary["ecological_indicators"].sum() == (
        scored["status"] != "no data").sum()
    assert dim_scores["area_code"].nunique() == df["area_code"].nunique()


def test_indicators_of_other_nations_sources_are_told_apart_and_nation_ties_marked():
    table = pd.DataFrame({
        "area_code": ["E05000001", "E05000002", "S13000001", "S13000002", "N08000001"],
        "indicator": ["iod"] * 5, "period": ["2019"] * 5,
        "value": [1.0, np.nan, np.nan, np.nan, np.nan],
        "nation": ["England", "England", "Scotland", "Scotland", "Northern Ireland"],
        "nation_rank": [1.0, np.nan, np.nan, np.nan, np.nan]})
    simd = table.assign(indicator="simd", value=[np.nan, np.nan, 2.0, 2.0, np.nan],
                        nation_rank=[np.nan, np.nan, 1.0, 1.0, np.nan])
    both = pd.concat([table, simd], ignore_index=True)
    has = doughnut.nation_has_data(both)
    # England's IoD: both English wards keep the row (one is no data, as it should say);
    # not the Scottish or NI wards. SIMD: only the Scottish wards.
    assert has.tolist() == [True, True, False, False, False, False, False, True, True, False]
    ties = doughnut.nation_rank_ties(both)
    assert doughnut.nation_rank_label(1, 355, "Scotland", ties.iloc[7]) == "=1 of 355 in Scotland"
    assert doughnut.nation_rank_label(1, 6862, "England", ties.iloc[0]) == "1 of 6,862 in England"
