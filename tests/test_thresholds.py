"""Threshold records, council override files, and filling thresholds onto a table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from placeportrait.doughnut import score_table
from placeportrait.thresholds import (
    FANNING_RAWORTH_2025_GLOBAL,
    Threshold,
    ThresholdSet,
    apply_thresholds,
    deprivation_share,
    implied_polarity,
    load_overrides,
)

DEFAULTS = {
    "co2_per_capita": Threshold(0.95, 0.0, "Fanning & Raworth (2025), per-capita CO2 boundary"),
    "fuel_poverty": deprivation_share("Raworth (2017), no one without affordable energy"),
}

TRAFFORD = """\
name: Trafford net-zero path
thresholds:
  co2_per_capita: {threshold: 2.3, baseline: 0, citation: "Trafford Carbon Neutral Action Plan 2020"}
"""


def write(tmp_path, text, name="trafford.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def indicator_rows():
    return pd.DataFrame(
        {
            "area_code": ["E05000001", "E05000001", "E05000002"],
            "indicator": ["co2_per_capita", "fuel_poverty", "co2_per_capita"],
            "ring": ["ecological", "social", "ecological"],
            "value": [4.6, 12.0, 2.0],
        }
    )


def test_load_the_readme_example(tmp_path):
    overrides = load_overrides(write(tmp_path, TRAFFORD))
    assert overrides.name == "Trafford net-zero path"
    assert overrides.thresholds == {
        "co2_per_capita": Threshold(2.3, 0.0, "Trafford Carbon Neutral Action Plan 2020")
    }
    assert overrides.source_label == "trafford.yaml"


def test_defaults_carry_their_citation():
    out = apply_thresholds(indicator_rows(), DEFAULTS)
    assert out["threshold"].tolist() == [0.95, 0.0, 0.95]
    assert out["baseline"].tolist() == [0.0, 100.0, 0.0]
    assert out["threshold_source"].tolist() == [
        DEFAULTS["co2_per_capita"].citation,
        DEFAULTS["fuel_poverty"].citation,
        DEFAULTS["co2_per_capita"].citation,
    ]


def test_overrides_win_and_record_the_file(tmp_path):
    path = write(tmp_path, TRAFFORD)
    for overrides in (load_overrides(path), path, str(path)):
        out = apply_thresholds(indicator_rows(), DEFAULTS, overrides)
        assert out["threshold"].tolist() == [2.3, 0.0, 2.3]
        assert (
            out["threshold_source"][0]
            == "Trafford Carbon Neutral Action Plan 2020; override: trafford.yaml"
        )
        assert out["threshold_source"][1] == DEFAULTS["fuel_poverty"].citation
    scored = score_table(out)
    assert scored["status"].tolist() == ["overshoot", "shortfall", "within"]
    assert scored["ratio"][0] == pytest.approx(2.0)


def test_omitted_baseline_keeps_the_default(tmp_path):
    path = write(
        tmp_path,
        "thresholds:\n  fuel_poverty: {threshold: 5, citation: 'Trafford fuel poverty strategy'}\n"
        "  tree_cover: {threshold: 20, citation: 'Trafford tree strategy'}\n",
        "local.yml",
    )
    overrides = load_overrides(path)
    assert overrides.name == "local"
    rows = pd.DataFrame({"indicator": ["fuel_poverty", "tree_cover"]})
    out = apply_thresholds(rows, DEFAULTS, overrides)
    assert out["threshold"].tolist() == [5.0, 20.0]
    assert out["baseline"].tolist() == [100.0, 0.0]  # the default's; 0 for a new indicator


def test_missing_threshold_is_an_error_or_no_data():
    rows = pd.DataFrame({"indicator": ["fuel_poverty", "noise", "air"]})
    with pytest.raises(ValueError, match=r"no threshold for indicator\(s\) air, noise"):
        apply_thresholds(rows, DEFAULTS)
    out = apply_thresholds(rows, DEFAULTS, on_missing="nan")
    assert math.isnan(out["threshold"][1]) and pd.isna(out["threshold_source"][1])


def test_defaults_may_be_plain_mappings():
    out = apply_thresholds(
        pd.DataFrame({"indicator": ["x"]}), {"x": {"threshold": 3, "citation": "somewhere"}}
    )
    assert out[["threshold", "baseline", "threshold_source"]].iloc[0].tolist() == [
        3.0,
        0.0,
        "somewhere",
    ]
    with pytest.raises(ValueError, match="default threshold for 'x'"):
        apply_thresholds(pd.DataFrame({"indicator": ["x"]}), {"x": {"limit": 3}})


def test_built_in_records_are_cited():
    assert FANNING_RAWORTH_2025_GLOBAL["co2_ppm"] == Threshold(
        350.0, 280.0, FANNING_RAWORTH_2025_GLOBAL["co2_ppm"].citation
    )
    assert all(r.citation for r in FANNING_RAWORTH_2025_GLOBAL.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("thresholds: {co2: {threshold: 1, citation: x}\n", r"not valid YAML at line \d+"),
        (
            "name: x\nthreshold:\n  co2: {threshold: 1, citation: x}\n",
            r"unknown key\(s\) threshold; allowed: name",
        ),
        ("name: x\n", "missing key 'thresholds'"),
        ("- a\n- b\n", "expected a mapping with keys 'name' and 'thresholds', got list"),
        ("thresholds:\n", "thresholds: must be a non-empty mapping"),
        ("thresholds:\n  co2: 2.3\n", r"thresholds.co2: expected a mapping like"),
        (
            "thresholds:\n  co2: {threshold: 2.3, citation: x, limit: 3}\n",
            r"thresholds.co2: unknown key\(s\) limit",
        ),
        (
            "thresholds:\n  co2: {threshold: two, citation: x}\n",
            "thresholds.co2.threshold: must be a finite number, got 'two'",
        ),
        (
            "thresholds:\n  co2: {threshold: '2.3', citation: x}\n",
            "thresholds.co2.threshold: must be a finite number, got '2.3'",
        ),
        (
            "thresholds:\n  co2: {threshold: 2, baseline: true, citation: x}\n",
            "thresholds.co2.baseline: must be a finite number, got True",
        ),
        (
            "thresholds:\n  co2: {threshold: .nan, citation: x}\n",
            "thresholds.co2.threshold: must be a finite number",
        ),
        ("thresholds:\n  co2: {baseline: 0, citation: x}\n", "thresholds.co2: missing 'threshold'"),
        ("thresholds:\n  co2: {threshold: 2.3}\n", "thresholds.co2.citation: required"),
        (
            "thresholds:\n  co2: {threshold: 2, baseline: 2, citation: x}\n",
            "thresholds.co2: threshold equals baseline",
        ),
        (
            "thresholds:\n  co2: {threshold: 2, citation: x}\n  co2: {threshold: 3, citation: y}\n",
            r"key 'co2' is given twice",
        ),
    ],
)
def test_bad_files_give_one_line_naming_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text, "bad.yaml")
    with pytest.raises(ValueError, match=message) as exc:
        load_overrides(path)
    assert str(exc.value).startswith(str(path))
    assert "\n" not in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="nope.yaml: no such threshold file"):
        load_overrides(tmp_path / "nope.yaml")


def test_threshold_set_can_be_built_in_code():
    overrides = ThresholdSet("Plan", {"co2_per_capita": Threshold(1.0, None, "Plan 2030")})
    out = apply_thresholds(indicator_rows(), DEFAULTS, overrides)
    assert out["threshold_source"][0] == "Plan 2030; override: Plan"


@pytest.mark.parametrize(
    ("ring", "threshold", "baseline", "polarity"),
    [
        ("social", 0.0, 100.0, "lower_is_better"),  # share deprived
        ("social", 60.0, 0.0, "higher_is_better"),  # turnout
        ("ecological", 2.3, 0.0, "lower_is_better"),  # CO2 per person
        ("ecological", 2.75, 3.44, "higher_is_better"),  # aragonite saturation
    ],
)
def test_implied_polarity(ring, threshold, baseline, polarity):
    assert implied_polarity(ring, threshold, baseline) == polarity
