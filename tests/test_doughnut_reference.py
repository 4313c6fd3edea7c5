"""The scoring engine reproduces published doughnut tables.

Fanning & Raworth (2025) publish every indicator's value, boundary and ratio; O'Neill et
al. (2018) publish every country's ratios. The files are copied unchanged into
tests/data/reference/ (see the README there).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeportrait.doughnut import score_table, signed_gap_percent, summarise
from placeportrait.thresholds import (
    FANNING_RAWORTH_2025_GLOBAL,
    FANNING_RAWORTH_2025_PER_CAPITA,
    FANNING_RAWORTH_2025_SOCIAL,
)

REFERENCE = Path(__file__).parent / "data" / "reference"
FR = REFERENCE / "fanning_raworth_2025"
ONEILL = REFERENCE / "oneill_2018"

# The baselines a that Fanning & Raworth's ratios imply, found by solving
# ratio = (value - a) / (boundary - a) for a on every row, and matching the
# pre-industrial anchors named in their scripts/5_calculateRatios.R. Every other
# ecological indicator has a = 0; every social indicator is a share of people
# deprived, with boundary 0 and a = 100.
FR_BASELINES = {
    "co2_ppm": 280.0,  # pre-industrial CO2 concentration, ppm
    "omega_a": 3.44,  # pre-industrial aragonite saturation; boundary 2.75 lies below it
    "totalOzone": 290.0,  # pre-industrial stratospheric ozone, DU; boundary 276 lies below
    "forestAreaMKM2": 63.87,  # original forest area, million km2; boundary 47.9 lies below
    "interhemAOD": 0.03,  # pre-industrial interhemispheric aerosol optical depth
}


def fr_ratios() -> pd.DataFrame:
    return pd.read_csv(FR / "5_20250108_doughnutDat-boundariesRatios.csv")


def fr_as_score_input(d: pd.DataFrame) -> pd.DataFrame:
    """Fanning & Raworth's table in score_table's shape.

    Their social boundaries are 0 % deprived by construction, but the national-aggregate
    rows record the boundary only for 2017 and leave it blank in other years, while
    still publishing a ratio. Those blanks are filled with the method's 0; nothing
    else is changed.
    """
    social = d["domain"].eq("social")
    threshold = d["boundary"].where(~(social & d["boundary"].isna()), 0.0)
    baseline = d["indicator"].map(FR_BASELINES).fillna(0.0).where(~social, 100.0)
    return pd.DataFrame(
        {
            "area_code": d["grpCode"] + ":" + d["type"],
            "indicator": d["indicator"],
            "ring": d["domain"],
            "period": d["date"],
            "value": d["value"],
            "threshold": threshold,
            "baseline": baseline,
        }
    )


def test_fanning_raworth_ratio_every_row():
    d = fr_ratios()
    assert len(d) == 3841
    filled = d["domain"].eq("social") & d["boundary"].isna() & d["value"].notna()
    # The only blanks filled: social national aggregates outside 2017.
    assert set(d.loc[filled, "type"]) == {"national aggregate"}
    assert 2017 not in set(d.loc[filled, "date"])
    assert filled.sum() == 1652

    scored = score_table(fr_as_score_input(d))

    published = d["ratio"].to_numpy()
    ours = scored["ratio"].to_numpy()
    has = ~np.isnan(published)
    assert has.sum() == 2488
    np.testing.assert_array_equal(np.isnan(ours), ~has)
    np.testing.assert_allclose(ours[has], published[has], rtol=1e-9, atol=0)

    # The 1,353 NA rows (988 footprints not estimated, 365 social gaps) are "no data",
    # with NaN measures, never 0.
    no_data = scored.loc[~has]
    assert len(no_data) == 1353
    assert (no_data["status"] == "no data").all()
    assert no_data[["ratio", "shortfall", "overshoot"]].isna().all().all()


def test_fanning_raworth_baselines_are_implied_by_the_data():
    """Solving their ratio for a gives exactly the documented baselines."""
    d = fr_ratios()
    d = d[d["ratio"].notna() & (d["ratio"] != 1.0) & d["boundary"].notna()]
    implied = (d["value"] - d["ratio"] * d["boundary"]) / (1.0 - d["ratio"])
    social = d["domain"].eq("social")
    expected = d["indicator"].map(FR_BASELINES).fillna(0.0).where(~social, 100.0)
    np.testing.assert_allclose(implied, expected, rtol=1e-9, atol=1e-9)


def test_built_in_fanning_raworth_records_match_their_boundaries():
    d = fr_ratios().dropna(subset=["boundary"])
    records = {
        **FANNING_RAWORTH_2025_GLOBAL,
        **FANNING_RAWORTH_2025_PER_CAPITA,
        **FANNING_RAWORTH_2025_SOCIAL,
    }
    assert set(d["indicator"]) <= set(records)
    for indicator, boundary in d.groupby("indicator")["boundary"].unique().items():
        record = records[indicator]
        assert list(boundary) == [record.threshold], indicator
        assert record.baseline == (
            100.0 if record.threshold == 0 else FR_BASELINES.get(indicator, 0.0)
        )
        assert record.citation.startswith("Fanning & Raworth (2025)")


def _published_pct(file: str, rows_type: str) -> pd.DataFrame:
    """A 12_* table joined to the full-precision values of the 5_* table."""
    published = pd.read_csv(FR / file)
    d = fr_ratios()
    d = d[d["type"] == rows_type]
    if rows_type == "national aggregate":
        # Their supplementary script fills the missing 2017 public-transport value with
        # the 2020 one and labels it 2017; join it the same way.
        transport = d[(d["indicator"] == "publicTrans") & (d["date"] == 2020)].assign(date=2017)
        d = pd.concat([d[d["indicator"] != "publicTrans"], transport])
    scored = score_table(fr_as_score_input(d))
    scored["grpCode"], scored["indCode"], scored["date"] = d["grpCode"], d["indCode"], d["date"]
    scored["exact_value"] = d["value"]
    return published.merge(
        scored[
            [
                "grpCode",
                "indCode",
                "date",
                "exact_value",
                "ratio",
                "shortfall",
                "overshoot",
                "status",
            ]
        ],
        on=["grpCode", "indCode", "date"],
        how="left",
        validate="1:1",
    )


@pytest.mark.parametrize(
    ("file", "rows_type", "rows", "with_data"),
    [
        ("12_20250515_globalDoughnutData_2000-2022.csv", "global doughnut", 805, 732),
        ("12_20250515_groupDoughnutData_2017.csv", "national aggregate", 99, 81),
    ],
)
def test_fanning_raworth_published_percentages(file, rows_type, rows, with_data):
    m = _published_pct(file, rows_type)
    assert len(m) == rows
    # Their values are ours rounded to 2 decimals: the join is the right one.
    np.testing.assert_array_equal(m["value"], m["exact_value"].round(2))

    pct = m["shortfallOvershoot_pct"]
    has = pct.notna()
    assert has.sum() == with_data
    assert (m.loc[~has, "status"] == "no data").all()

    # Convention: pct = 100 (r - 1) ecological, 100 (1 - r) social, to 1 decimal;
    # negative means inside the doughnut (within the ceiling).
    ours = signed_gap_percent(m.rename(columns={"domain": "ring"}))[has]
    assert (ours - pct[has]).abs().max() <= 0.05 + 1e-9
    assert (ours.round(1) == pct[has]).all()

    # Our non-negative measures are the positive part of their signed percentage.
    eco, soc = has & m["domain"].eq("ecological"), has & m["domain"].eq("social")
    np.testing.assert_allclose((100 * m.loc[eco, "overshoot"]).round(1), pct[eco].clip(lower=0))
    np.testing.assert_allclose((100 * m.loc[soc, "shortfall"]).round(1), pct[soc].clip(lower=0))
    assert (m.loc[eco & (pct > 0), "status"] == "overshoot").all()
    assert (m.loc[eco & (pct < 0), "status"] == "within").all()
    assert (m.loc[soc & (pct > 0), "status"] == "shortfall").all()
    assert (m.loc[soc & (pct < 0), "status"] == "achieved").all()


# ------------------------------------------------------------------ O'Neill et al. 2018


def oneill_long(kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Their published ratio table, wide, and in score_table's shape.

    The published numbers are already ratios to the threshold (1 = the threshold), so
    the faithful input is value = ratio, threshold = 1, baseline = 0.
    """
    wide = pd.read_csv(ONEILL / f"oneill2018_{kind}_ratio.csv").set_index("country")
    long = wide.reset_index().melt(id_vars="country", var_name="indicator", value_name="value")
    long = long.rename(columns={"country": "area_code"}).assign(
        ring="social" if kind == "social" else "ecological", threshold=1.0
    )
    return wide, long


def test_oneill_csv_extracts_equal_the_published_xlsx():
    for kind, sheet in (("social", "Social"), ("biophysical", "Biophysical")):
        wide, _ = oneill_long(kind)
        xlsx = pd.read_excel(ONEILL / "GoodLifeWithinPB_SupplementaryData.xlsx", sheet_name=sheet)
        xlsx = xlsx.rename(columns={xlsx.columns[0]: "country"}).set_index("country")
        xlsx = xlsx.replace("", np.nan).astype("float64")
        pd.testing.assert_frame_equal(wide, xlsx, check_names=False)


def test_oneill_counts_every_country():
    social_wide, social = oneill_long("social")
    bio_wide, bio = oneill_long("biophysical")
    summary = summarise(score_table(pd.concat([social, bio], ignore_index=True))).set_index(
        "area_code"
    )
    assert len(summary) == 151

    # Their rule: a threshold is achieved at ratio >= 1, a boundary transgressed at > 1.
    expected = pd.DataFrame(
        {
            "thresholds_achieved": (social_wide >= 1).sum(axis=1),
            "social_indicators": social_wide.notna().sum(axis=1),
            "boundaries_transgressed": (bio_wide > 1).sum(axis=1),
            "ecological_indicators": bio_wide.notna().sum(axis=1),
        }
    )
    pd.testing.assert_frame_equal(
        summary[expected.columns], expected.loc[summary.index], check_names=False
    )
    assert summary["thresholds_achieved"].sum() == 564
    assert summary["boundaries_transgressed"].sum() == 527

    # A hand-read row: Vietnam achieves 6 of its 10 thresholds with data (two of them
    # at exactly 1.00) and transgresses 1 boundary of 7 (CO2).
    assert summary.loc[
        "Vietnam",
        [
            "thresholds_achieved",
            "social_indicators",
            "boundaries_transgressed",
            "ecological_indicators",
        ],
    ].tolist() == [6, 10, 1, 7]

    # The paper's headline: no country meets basic needs within the planetary boundaries.
    meets_all = summary["thresholds_achieved"] == summary["social_indicators"]
    within_all = summary["boundaries_transgressed"] == 0
    assert not (meets_all & within_all).any()


def test_oneill_mean_shortfall_and_overshoot():
    social_wide, social = oneill_long("social")
    bio_wide, bio = oneill_long("biophysical")
    summary = summarise(score_table(pd.concat([social, bio], ignore_index=True))).set_index(
        "area_code"
    )
    np.testing.assert_allclose(
        summary["mean_shortfall"], (1 - social_wide).clip(lower=0).mean(axis=1).loc[summary.index]
    )
    np.testing.assert_allclose(
        summary["mean_overshoot"], (bio_wide - 1).clip(lower=0).mean(axis=1).loc[summary.index]
    )


def test_reference_files_are_unchanged():
    readme = (REFERENCE / "README.md").read_text()
    listed = re.findall(r"\| `([^`]+)` \| `([0-9a-f]{64})` \|", readme)
    assert len(listed) == 6
    for name, digest in listed:
        assert hashlib.sha256((REFERENCE / name).read_bytes()).hexdigest() == digest, name
