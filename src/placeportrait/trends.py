"""Direction of travel: each area's series of an indicator, where it breaks, which way it goes.

Series and breaks
-----------------
An area's series of an indicator is its values in period order, each period placed at the
year it ends (:func:`period_year`: ``2021/22`` → 2022, ``2011-2013`` → 2013). Two
neighbouring periods are joined only when they are comparable: no break is declared
between them (the plugin's ``series_breaks``, stored in ``series_breaks``: a change of
method or of the official measure) and they share a threshold and a unit (a changed
threshold or unit is a changed measure). Marks describe the *latest comparable run*: the
periods since the last break. Periods without a year (``latest``) are not part of a series.

Direction of travel
-------------------
Polarity says which way is better. With ``n`` values in the latest run:

``n >= 5``
    An ordinary least-squares line through the most recent five values, ``value = a + b ×
    year``; its slope ``b`` is tested with ``t = b / se(b)`` on ``n - 2 = 3`` degrees of
    freedom. ``improving`` or ``worsening`` when the two-sided p < 0.05, else ``no clear
    change``. Public Health England's Fingertips tests its most recent five points (with a
    chi-squared test for trend on counts, which are not stored for every source here);
    Fanning & Raworth (2025) fit the same least-squares slope to the global doughnut.
``2 <= n <= 4``
    No source here publishes the uncertainty of its estimates, so the mark is the sign of
    the change from the first to the last value (``basis`` says it is untested); no change
    is ``no clear change``.
``n == 1``
    No mark.

Rate needed (Fanning & Raworth 2025)
------------------------------------
For a shortfall or an overshoot in the run's last period ``y`` with value ``v`` and
threshold ``t``, the constant yearly change that reaches the threshold by year ``T``::

    needed_T = (t - v) / (T - y)        for T in (2030, 2050), T > y

in the indicator's own unit. Fanning & Raworth's ``slopeD`` is the same quantity on their
normalised scale (``-gap / years``, social gaps by 2030 and ecological ones by 2050). It
sits beside the observed change per year (``change_per_year``: the fitted slope, or the
first-to-last change divided by the years between).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

IMPROVING = "improving"
WORSENING = "worsening"
NO_CLEAR_CHANGE = "no clear change"
TEST_POINTS = 5
SIGNIFICANCE = 0.05
TARGET_YEARS = (2030, 2050)
EVERY_PERIOD = "*"
MIXED_METHODS = ("; the periods reached the ward by different methods (see each value's "
                 "method), so compare them with care")

COLUMNS = ["area_code", "indicator", "first_period", "last_period", "points", "direction",
           "basis", "change_per_year", "needed_2030", "needed_2050", "break_period",
           "break_reason"]

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:/(\d\d)(?!\d))?(?!\d)")


def period_year(period) -> float:
    """The year a period ends, or NaN: ``2019`` → 2019, ``2021/22`` → 2022, ``2011-2013`` →
    2013, ``2016/Q2 to 2026/Q1`` → 2026, ``2026-01-01`` → 2026, ``latest`` → NaN."""
    years = []
    for whole, short in _YEAR.findall(str(period)):
        end = int(whole[:2] + short) if short else int(whole)
        years.append(end + 100 if end < int(whole) else end)  # 1999/00 ends in 2000
    return float(max(years)) if years else np.nan


def years_of(periods: pd.Series) -> np.ndarray:
    """:func:`period_year` of each period, parsing each distinct period once."""
    codes, uniques = pd.factorize(periods)
    years = np.array([period_year(u) for u in uniques] + [np.nan])
    return years[codes]  # code -1 (missing) takes the trailing NaN


def series(tidy: pd.DataFrame, breaks: pd.DataFrame) -> pd.DataFrame:
    """Each row of ``tidy`` (``area_code, indicator, period, value, threshold, unit``) with
    its ``year``, its ``group`` (an integer per area and indicator), whether a ``break``
    precedes it and why (``break_reason``), and the ``run`` it belongs to (0, 1, ...
    within its group). Rows without a year are left out; rows without a value stay (they
    do not break a run)."""
    area, _ = pd.factorize(tidy["area_code"])
    indicator, indicators = pd.factorize(tidy["indicator"])
    rows = tidy.assign(year=years_of(tidy["period"]), row=np.arange(len(tidy)),
                       group=area.astype(np.int64) * max(len(indicators), 1) + indicator)
    rows = rows[rows["year"].notna()].sort_values(["group", "year", "period"]).reset_index(drop=True)
    declared = _declared_reasons(rows, breaks)
    group = rows["group"].to_numpy()
    first = np.r_[True, group[1:] != group[:-1]]
    changed = np.full(len(rows), "", dtype=object)
    for column, words in (("unit", "the unit changed"), ("threshold", "the threshold changed")):
        key = pd.factorize(rows[column], use_na_sentinel=False)[0]
        differs = np.r_[False, key[1:] != key[:-1]]
        changed = np.where((changed == "") & differs, words, changed)
    reason = np.where(declared != "", declared, changed)
    reason = np.where(first, "", reason)
    rows["break_reason"] = reason
    rows["break"] = reason != ""
    rows["run"] = rows.groupby("group")["break"].cumsum()
    return rows


def _declared_reasons(rows: pd.DataFrame, breaks: pd.DataFrame) -> np.ndarray:
    """The declared reason for a break before each row, "" where none is declared."""
    if breaks is None or breaks.empty:
        return np.full(len(rows), "", dtype=object)
    every = breaks[breaks["period"] == EVERY_PERIOD].set_index("indicator")["reason"]
    at = breaks[breaks["period"] != EVERY_PERIOD].set_index(["indicator", "period"])["reason"]
    keys = pd.MultiIndex.from_frame(rows[["indicator", "period"]])
    reason = pd.Series(at.reindex(keys).to_numpy(), index=rows.index, dtype=object)
    reason = reason.where(reason.notna(), rows["indicator"].map(every).astype(object))
    return reason.fillna("").astype(str).to_numpy(dtype=object)


def direction_of_travel(tidy: pd.DataFrame, polarity: pd.Series,
                        breaks: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per area and indicator with at least one dated value: the latest
    comparable run's first and last period, its number of values, the direction, its
    basis in words, the change per year and the yearly change needed to reach the
    threshold by 2030 and 2050 (:data:`COLUMNS`). ``tidy`` needs ``area_code, indicator,
    period, value, threshold, unit, status``; ``polarity`` maps indicator →
    ``higher_is_better``/``lower_is_better``."""
    rows = series(tidy, breaks)
    key = "group"
    latest_run = rows.groupby(key)["run"].transform("max")
    last_break = rows[rows["break"]].groupby(key)[["period", "break_reason"]].last()
    run = rows[(rows["run"] == latest_run) & rows["value"].notna()]
    if run.empty:
        return pd.DataFrame(columns=[*COLUMNS, "row"])
    by = run.groupby(key)
    tested = by.tail(TEST_POINTS)
    fit = _slopes(tested).join(tested.groupby(key)["period"].first().rename("tested_from"))
    ends = by.agg(row=("row", "last"), area_code=("area_code", "first"), indicator=("indicator", "first"),
                  first_period=("period", "first"), last_period=("period", "last"),
                  first_year=("year", "first"), last_year=("year", "last"),
                  first_value=("value", "first"), last_value=("value", "last"),
                  threshold=("threshold", "last"), status=("status", "last"),
                  points=("value", "size"),
                  **({"methods": ("method", "nunique")} if "method" in run else {}))
    out = ends.join(fit).join(last_break.rename(
        columns={"period": "break_period"}), how="left").reset_index(drop=True)
    better_up = out["indicator"].map(polarity).eq("higher_is_better").to_numpy()
    return _marked(out, better_up)


def _slopes(tested: pd.DataFrame) -> pd.DataFrame:
    """Least-squares slope of value on year per group, its two-sided p-value (NaN under
    three points, where the slope has no test)."""
    # centred on 2000 so that the sums of squares keep their precision
    x, y = tested["year"].to_numpy(float) - 2000, tested["value"].to_numpy(float)
    frame = pd.DataFrame({"n": 1.0, "x": x, "y": y, "xx": x * x, "xy": x * y, "yy": y * y,
                          "group": tested["group"].to_numpy()})
    s = frame.groupby("group").sum()
    sxx = s["xx"] - s["x"] ** 2 / s["n"]
    sxy = s["xy"] - s["x"] * s["y"] / s["n"]
    syy = s["yy"] - s["y"] ** 2 / s["n"]
    slope = (sxy / sxx).where(sxx > 0)
    dof = s["n"] - 2
    residual = (syy - slope * sxy).clip(lower=0)
    se = np.sqrt(residual / dof / sxx).where(dof > 0)
    t = (slope / se).where(se > 0, np.where(slope.abs() > 0, np.inf, 0.0))
    p = pd.Series(2 * stats.t.sf(np.abs(t.to_numpy(float)), dof.clip(lower=1).to_numpy(float)),
                  index=s.index).where(dof > 0)
    return pd.DataFrame({"slope": slope, "p_value": p})


def _basis(points: int, broke: bool, first, tested_from, last) -> str:
    if points < 2:
        return f"one period{' since the series broke' if broke else ''}: no direction"
    if points >= TEST_POINTS:
        return (f"least-squares trend over the last {TEST_POINTS} periods ({tested_from} to "
                f"{last}), tested at p < {SIGNIFICANCE}")
    return (f"change {first} to {last} ({points} periods; no uncertainty published, so "
            "not tested)")


def _marked(out: pd.DataFrame, better_up: np.ndarray) -> pd.DataFrame:
    """Direction, basis, change per year and the rates needed, from each run's ends and fit."""
    points = out["points"].to_numpy(int)
    years = out["last_year"] - out["first_year"]
    change = out["last_value"] - out["first_value"]
    tested = points >= TEST_POINTS
    per_year = np.where(tested, out["slope"], (change / years).where(years > 0))
    sign = np.sign(np.where(tested, np.where(out["p_value"] < SIGNIFICANCE, out["slope"], 0.0),
                            change.fillna(0.0)))
    sign = np.where(better_up, sign, -sign)
    direction = np.select([points < 2, sign > 0, sign < 0], ["", IMPROVING, WORSENING],
                          NO_CLEAR_CHANGE)
    methods = out["methods"].to_numpy() if "methods" in out else np.ones(len(out))
    basis = [_basis(n, broke, first, tested_from, last) + (MIXED_METHODS if m > 1 and n > 1 else "")
             for n, broke, first, tested_from, last, m
             in zip(points, out["break_period"].notna().to_numpy(),
                    *(out[c].to_numpy(dtype=object)
                      for c in ("first_period", "tested_from", "last_period")), methods)]
    gap = out["status"].isin(["shortfall", "overshoot"])
    result = out.assign(direction=direction, basis=basis, change_per_year=per_year)
    for target in TARGET_YEARS:
        remaining = target - out["last_year"]
        result[f"needed_{target}"] = ((out["threshold"] - out["last_value"]) / remaining).where(
            gap & (remaining > 0))
    return result[[*COLUMNS, "row"]]


MARK_COLUMNS = ["direction", "direction_basis", "change_per_year", "needed_2030",
                "needed_2050", "series_break"]


def attach(tidy: pd.DataFrame, polarity: pd.Series, breaks: pd.DataFrame | None) -> pd.DataFrame:
    """``tidy`` with :data:`MARK_COLUMNS` on the row of each series' last period (the
    period the marks describe); other rows leave them empty. ``series_break`` names the
    break that starts the latest run, e.g. ``2020: the threshold changed``."""
    marks = direction_of_travel(tidy, polarity, breaks)
    marks = marks.assign(
        direction_basis=marks["basis"],
        series_break=(marks["break_period"].astype(object) + ": "
                      + marks["break_reason"].astype(object)).where(marks["break_period"].notna(), ""))
    out = tidy.drop(columns=[c for c in MARK_COLUMNS if c in tidy.columns]).reset_index(drop=True)
    at = marks["row"].to_numpy(int)  # the row of each series' last period
    for column in MARK_COLUMNS:
        text = column in ("direction", "direction_basis", "series_break")
        filled = np.full(len(out), "" if text else np.nan, dtype=object if text else float)
        filled[at] = marks[column].to_numpy()
        out[column] = filled
    return out


def select_period(tidy: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of one choice of period: ``all``; ``latest`` (each indicator's latest
    period); or a year ``YYYY``, the periods that end in it (``2022`` keeps ``2022``,
    ``2021/22`` and ``2020-2022``). A year that no period ends in is an error naming the
    years there are."""
    from placeportrait.doughnut import latest_rows
    from placeportrait.errors import InputError

    if period == "all":
        return tidy
    if period == "latest":
        return latest_rows(tidy)
    if not re.fullmatch(r"(19|20)\d\d", str(period)):
        raise InputError(f"--period must be latest, all or a year (YYYY), not {period!r}")
    years = years_of(tidy["period"])
    chosen = tidy[years == float(period)].reset_index(drop=True)
    if chosen.empty:
        there = ", ".join(str(int(y)) for y in sorted(set(years[~np.isnan(years)])))
        raise InputError(f"no period ends in {period}; the periods end in {there or 'no year'}")
    return chosen


def as_of(tidy: pd.DataFrame, year: int) -> pd.DataFrame:
    """The portrait as it stood in ``year``: each indicator's latest period ending in or
    before it (an indicator first published later is left out, so its wedge is no data)."""
    from placeportrait.doughnut import latest_rows

    return latest_rows(tidy[years_of(tidy["period"]) <= year].reset_index(drop=True))


def years_with_series(tidy: pd.DataFrame) -> list[int]:
    """The years a period of an indicator with several periods ends in, latest first: the
    years a portrait "as of" differs from the latest one."""
    several = tidy.groupby("indicator")["period"].transform("nunique") > 1
    years = years_of(tidy.loc[several, "period"])
    return sorted({int(y) for y in years[~np.isnan(years)]}, reverse=True)


def comparable_between(then: pd.DataFrame, now: pd.DataFrame, every_period: pd.DataFrame,
                       breaks: pd.DataFrame | None) -> pd.Series:
    """Per indicator with a value in both ``then`` and ``now`` (one area's rows, one period
    per indicator, e.g. :func:`as_of` and the latest): whether the two periods lie in one
    comparable run of ``every_period`` (the area's rows of every period), so that a change
    between them means something. The same period is comparable."""
    has = lambda rows: rows.loc[rows["value"].notna()].set_index("indicator")["period"]
    pair = pd.concat([has(then).rename("then"), has(now).rename("now")], axis=1, join="inner")
    if pair.empty:
        return pd.Series(dtype=bool)
    runs = series(every_period, breaks).set_index(["indicator", "period"])["run"]
    run_of = lambda column: runs.reindex(pd.MultiIndex.from_arrays(
        [pair.index, pair[column]])).to_numpy()
    same_run = run_of("then") == run_of("now")
    return pd.Series((pair["then"] == pair["now"]).to_numpy() | same_run, index=pair.index)
