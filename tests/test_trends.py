"""Trends (#18): series that never join across a break, directions of travel worked by
hand and against scipy's regression, the yearly change needed to reach a threshold, and
what the export, the report and the store carry, on both stores."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from placeportrait import export, trends
from placeportrait.errors import InputError
from placeportrait.store import open_store

from test_indicator_runs import cli

DEMO = Path(str(resources.files("placeportrait") / "data" / "demo"))
WARDS = "trafford-wards-2023"
DOWN = pd.Series({"x": "lower_is_better"})
UP = pd.Series({"x": "higher_is_better"})


def tidy(values, periods=None, *, threshold=0.0, unit="%", status="shortfall", area="A"):
    periods = periods or [str(2015 + i) for i in range(len(values))]
    n = len(values)
    return pd.DataFrame({"area_code": area, "indicator": "x", "period": periods,
                         "value": values, "threshold": [threshold] * n if np.isscalar(threshold)
                         else threshold, "unit": unit, "status": status})


def marks(values, periods=None, polarity=DOWN, breaks=None, **kw) -> pd.Series:
    out = trends.direction_of_travel(tidy(values, periods, **kw), polarity, breaks)
    assert len(out) == 1
    return out.iloc[0]


@pytest.mark.parametrize("period, year", [
    ("2019", 2019), ("2021/22", 2022), ("1999/00", 2000), ("2011-2013", 2013),
    ("2016/Q2 to 2026/Q1", 2026), ("2026-01-01", 2026), ("FYE 2015", 2015)])
def test_a_period_sits_at_the_year_it_ends(period, year):
    assert trends.period_year(period) == year


def test_a_period_without_a_year_is_not_in_a_series():
    assert np.isnan(trends.period_year("latest"))
    assert trends.direction_of_travel(tidy([5.0], ["latest"]), DOWN, None).empty


def test_a_straight_fall_over_five_periods_is_improving_when_lower_is_better():
    m = marks([10.0, 9.0, 8.0, 7.0, 6.0])
    assert (m["direction"], m["points"], m["change_per_year"]) == ("improving", 5, pytest.approx(-1.0))
    assert "least-squares" in m["basis"] and "2015 to 2019" in m["basis"]
    assert marks([10.0, 9.0, 8.0, 7.0, 6.0], polarity=UP)["direction"] == "worsening"


def test_a_noisy_series_is_no_clear_change():
    # by hand: x = 0..4, mean y 5.4, Sxy = -1.0, Sxx = 10, slope -0.1; residual SS 5.1,
    # se = sqrt(5.1 / 3 / 10) = 0.412, t = -0.243 on 3 df: p = 0.82
    m = marks([5.0, 7.0, 4.0, 6.0, 5.0])
    assert m["direction"] == "no clear change"
    assert m["change_per_year"] == pytest.approx(-0.1)


def test_only_the_last_five_periods_are_tested_and_agree_with_scipy():
    rng = np.random.default_rng(7)
    values = list(20 - 0.8 * np.arange(9) + rng.normal(0, 0.6, 9))
    m = marks(values)
    fit = stats.linregress(np.arange(2019, 2024), values[-5:])
    assert m["change_per_year"] == pytest.approx(fit.slope)
    expected = "no clear change" if fit.pvalue >= 0.05 else (
        "improving" if fit.slope < 0 else "worsening")
    assert m["direction"] == expected and m["points"] == 9


def test_two_to_four_periods_give_the_untested_change():
    m = marks([12.0, 10.0], ["2019", "2021"])
    assert m["direction"] == "improving" and m["change_per_year"] == pytest.approx(-1.0)
    assert "not tested" in m["basis"]
    assert marks([12.0, 12.0, 12.0])["direction"] == "no clear change"
    assert marks([3.0, 4.0, 5.0, 6.0], polarity=UP)["direction"] == "improving"


def test_one_period_gets_no_mark_not_a_wrong_one():
    m = marks([7.0])
    assert m["direction"] == "" and np.isnan(m["change_per_year"])


def test_a_declared_break_for_every_period_never_joins_them():
    breaks = pd.DataFrame({"indicator": ["x"], "period": ["*"], "reason": ["not a trend"]})
    m = marks([10.0, 8.9], ["2019", "2020"], breaks=breaks)
    assert (m["direction"], m["points"], m["break_period"], m["break_reason"]) == (
        "", 1, "2020", "not a trend")


def test_a_break_at_a_period_starts_a_new_run():
    breaks = pd.DataFrame({"indicator": ["x"], "period": ["2018"], "reason": ["new method"]})
    m = marks([1.0, 2.0, 3.0, 9.0, 8.0], breaks=breaks)
    assert (m["first_period"], m["points"], m["direction"]) == ("2018", 2, "improving")
    assert m["break_reason"] == "new method"


def test_a_changed_threshold_or_unit_is_a_break():
    m = marks([5.0, 4.0, 3.0, 2.0], threshold=[1.0, 1.0, 2.0, 2.0])
    assert (m["first_period"], m["points"], m["break_reason"]) == (
        "2017", 2, "the threshold changed")
    frame = tidy([5.0, 4.0, 3.0]).assign(unit=["%", "%", "per 1,000"])
    assert trends.direction_of_travel(frame, DOWN, None).iloc[0]["break_reason"] == "the unit changed"


def test_a_missing_value_neither_breaks_a_run_nor_counts():
    m = marks([10.0, np.nan, 8.0, 7.0, 6.0, 5.0])
    assert m["points"] == 5 and m["direction"] == "improving"


def test_the_yearly_change_needed_follows_fanning_and_raworth():
    # 20% deprived in 2020, threshold 0: 20 / 10 years by 2030, 20 / 30 by 2050
    m = marks([22.0, 20.0], ["2019", "2020"])
    assert m["needed_2030"] == pytest.approx(-2.0)
    assert m["needed_2050"] == pytest.approx(-20 / 30)
    met = marks([22.0, 20.0], ["2019", "2020"], status="achieved")
    assert np.isnan(met["needed_2030"]) and np.isnan(met["needed_2050"])
    late = marks([5.0, 4.0], ["2030", "2031"])
    assert np.isnan(late["needed_2030"]) and late["needed_2050"] == pytest.approx(-4 / 19)


def test_select_period():
    frame = pd.concat([tidy([1.0, 2.0], ["2021/22", "2022/23"]),
                       tidy([3.0], ["2022"]).assign(indicator="y")])
    assert trends.select_period(frame, "2022")["period"].tolist() == ["2021/22", "2022"]
    assert trends.select_period(frame, "latest")["period"].tolist() == ["2022/23", "2022"]
    assert len(trends.select_period(frame, "all")) == 3
    with pytest.raises(InputError, match="no period ends in 2040; the periods end in 2022, 2023"):
        trends.select_period(frame, "2040")
    with pytest.raises(InputError, match="latest, all or a year"):
        trends.select_period(frame, "soon")


# -- on the demo, both stores ------------------------------------------------------------------
def _trafford_ghg() -> dict[int, float]:
    """Trafford's greenhouse gas per person from the shipped ONS file, with the csv module."""
    with open(DEMO / "greenhouse_gas_per_capita_greater_manchester.csv", encoding="utf-8-sig") as fh:
        return {int(r["period"][:4]): float(r["observation"]) for r in csv.DictReader(fh)
                if r["areacd"] == "E08000009"}


def test_the_demo_keeps_every_period_and_marks_series_from_the_source(demo_store_url, capsys, tmp_path):
    store = open_store(demo_store_url)
    table = export.tidy_scores(store, WARDS)
    lilee = table[table["indicator"] == "fuel_poverty_lilee"]
    assert sorted(lilee["period"].unique()) == ["2019", "2020"]
    # DESNZ: not a trend within an LSOA, so the two releases are never joined
    assert (lilee["direction"] == "").all()
    assert lilee.loc[lilee["period"] == "2020", "series_break"].str.contains("should not be used").all()
    # greenhouse gas per person: every ward carries Trafford's series; the mark is the
    # regression of the source's last five years, done here
    ghg = _trafford_ghg()
    years = sorted(ghg)[-5:]
    fit = stats.linregress(years, [ghg[y] for y in years])
    rows = table[(table["indicator"] == "ghg_per_capita") & (table["period"] == str(max(ghg)))]
    assert len(rows) == 21 and len(set(table.loc[table["indicator"] == "ghg_per_capita", "period"])) == len(ghg)
    assert rows["change_per_year"].to_numpy() == pytest.approx(fit.slope)
    expected = "no clear change" if fit.pvalue >= 0.05 else ("improving" if fit.slope < 0 else "worsening")
    assert (rows["direction"] == expected).all()
    earlier = table[(table["indicator"] == "ghg_per_capita") & (table["period"] != str(max(ghg)))]
    assert (earlier["direction"] == "").all()
    breaks = store.read_series_breaks()
    assert breaks[["indicator", "period"]].values.tolist() == [["fuel_poverty_lilee", "*"]]

    out = tmp_path / "2020.csv"
    assert cli(capsys, demo_store_url, "export", "--out", str(out), "--period", "2020")[0] == 0
    exported = pd.read_csv(out)
    assert set(exported["period"].astype(str)) == {"2020", "2018-2020"}
    assert set(exported["indicator"]) == {"fuel_poverty_lilee", "ghg_per_capita",
                                          "healthy_life_expectancy"}  # 2018-2020
    assert set(exported.loc[exported["indicator"] == "healthy_life_expectancy", "period"]) == {"2018-2020"}
    code, _, err = cli(capsys, demo_store_url, "export", "--out", str(out), "--period", "2099")
    assert code == 1 and "no period ends in 2099" in err and len(err.strip().splitlines()) == 1

    # the report's trends section: the same marks, a chart per series, the break named
    assert cli(capsys, demo_store_url, "report", "E05015239", "--format", "html",
               "--out", str(tmp_path / "reports"))[0] == 0
    page = next((tmp_path / "reports").glob("E05015239-*.html")).read_text()
    section = page[page.index('id="trends-heading"'):page.index('id="quality-heading"')]
    assert section.count('class="trend-chart"') == 5
    assert "Series breaks at 2020: DESNZ: LSOA estimates &#34;should not be used" in section \
        or "Series breaks at 2020: DESNZ: LSOA estimates &quot;should not be used" in section
    assert f"{expected}</strong>" in section


def test_comparable_between_two_views_of_one_area():
    every = pd.concat([tidy([10.0, 9.0, 8.0], ["2018", "2019", "2020"]),
                       tidy([5.0, 4.0], ["2019", "2020"]).assign(indicator="y"),
                       tidy([1.0], ["2021"]).assign(indicator="z")])
    breaks = pd.DataFrame({"indicator": ["y"], "period": ["*"], "reason": ["standalone"]})
    then = every[every["period"] == "2019"]
    now = pd.concat([every[(every["period"] == "2020")], every[every["indicator"] == "z"]])
    ok = trends.comparable_between(then, now, every, breaks)
    assert ok.to_dict() == {"x": True, "y": False}  # z has no value then: not compared


def test_values_made_by_different_methods_carry_the_caveat():
    frame = tidy([5.0, 4.0, 3.0]).assign(method=["lookup", "lookup", "area_weighted"])
    m = trends.direction_of_travel(frame, DOWN, None).iloc[0]
    assert m["direction"] == "improving" and "different methods" in m["basis"]
    same = tidy([5.0, 4.0, 3.0]).assign(method="lookup")
    assert "different methods" not in trends.direction_of_travel(same, DOWN, None).iloc[0]["basis"]


def test_a_table_without_dated_periods_gets_empty_marks():
    frame = tidy([1.0], ["latest"])
    out = trends.attach(frame, DOWN, None)
    assert len(out) == 1 and out["direction"].tolist() == [""] and out["needed_2030"].isna().all()
