"""What the map can show: each indicator, each dimension and two summaries.

A *metric* id is an indicator id (``fuel_poverty``), ``dimension:<id>`` (the mean
shortfall or overshoot of the dimension's indicators with data) or ``summary:<id>``
(``mean_shortfall`` / ``mean_overshoot`` over a ward's indicators with data, as in
O'Neill et al. 2018). Values come from :mod:`placeportrait.doughnut`; a ward with no data
stays NaN and shows as "no data", never 0. Pure pandas: no Dash, no store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeportrait import doughnut
from placeportrait.dimensions import SOCIAL, all_dimensions, dimension_labels
from placeportrait.harmonise.plan import OTHER_VINTAGE
from placeportrait.harmonise.steps import APPORTIONED
from placeportrait_app import fmt

DIMENSION = "dimension:"
SUMMARY = "summary:"
SUMMARIES = {
    "mean_shortfall": ("Mean shortfall", SOCIAL),
    "mean_overshoot": ("Mean overshoot", "ecological"),
}


@dataclass(frozen=True)
class Metric:
    id: str
    kind: str  # indicator | dimension | summary
    label: str  # the menu label
    unit: str
    higher_is_worse: bool
    period: str | None = None
    description: str = ""
    indicators: tuple[str, ...] = ()
    caveat: str = ""  # what the values are not: copied from the authority, another vintage


COPIED = "the authority's value, copied to each of its wards"
ESTIMATED = "estimated by area from wards of another vintage"


def caveat(flags: pd.Series) -> str:
    """What a map of these values must say: every value with data copied from its
    authority, or estimated from another boundary vintage; else nothing."""
    flags = flags.dropna().astype(str)
    if flags.empty:
        return ""
    if flags.str.startswith(APPORTIONED).all():
        return COPIED
    if flags.str.startswith(OTHER_VINTAGE).all():
        return ESTIMATED
    return ""


def higher_is_worse(ring: str, threshold, baseline, polarity: str | None = None) -> bool:
    """Whether a bigger value is further from the doughnut's safe and just space.

    Social: the ratio (v - a)/(b - a) rises towards the foundation, so a bigger value is
    better when b > a. Ecological: the ratio rises towards overshoot, so a bigger value is
    worse when b > a. Without a threshold, fall back on the indicator's polarity.
    """
    if not fmt.is_missing(threshold):
        a = 0.0 if fmt.is_missing(baseline) else float(baseline)
        rising = float(threshold) > a
        return (not rising) if ring == SOCIAL else rising
    return polarity != "higher_is_better"


def _dimension_order(extra=()) -> dict[str, int]:
    return {d.id: i for i, d in enumerate(all_dimensions(extra))}


def catalogue(table: pd.DataFrame, extra=()) -> dict[str, Metric]:
    """Every metric the set's scores support, in menu order.

    ``extra``: the council dimensions in the data (``dimensions.extra_for``).
    """
    if table.empty:
        return {}
    order = _dimension_order(extra)
    first = (table.drop_duplicates("indicator")
             .assign(_ring=lambda t: (t["ring"] != SOCIAL).astype(int),
                     _dim=lambda t: t["dimension"].map(order).fillna(999))
             .sort_values(["_ring", "_dim", "title"]))
    metrics: dict[str, Metric] = {}
    caveats = {name: caveat(rows.loc[rows["value"].notna(), "flags"])
               for name, rows in table.groupby("indicator")}
    for row in first.itertuples():
        unit = row.unit if isinstance(row.unit, str) else ""
        metrics[row.indicator] = Metric(
            id=row.indicator, kind="indicator",
            label=f"{row.title} ({unit})" if unit else row.title,
            unit=unit, period=str(row.period),
            higher_is_worse=higher_is_worse(row.ring, row.threshold, row.baseline),
            description=f"{row.title}, {row.period}", indicators=(row.indicator,),
            caveat=caveats.get(row.indicator, ""))
    labels = dimension_labels(extra)
    rings = dict(zip(first["dimension"], first["ring"]))
    for dim in sorted(rings, key=lambda d: order.get(d, 999)):
        social = rings[dim] == SOCIAL
        measure = "shortfall" if social else "overshoot"
        members = tuple(first.loc[first["dimension"] == dim, "indicator"])
        metrics[DIMENSION + dim] = Metric(
            id=DIMENSION + dim, kind="dimension",
            label=f"Dimension: {labels.get(dim, dim)} ({measure})",
            unit=f"% {measure}", higher_is_worse=True,
            description=f"{labels.get(dim, dim)}: mean {measure} of its indicators with data",
            indicators=members)
    for key, (label, ring) in SUMMARIES.items():
        members = tuple(first.loc[first["ring"] == ring, "indicator"])
        if members:
            measure = "shortfall" if ring == SOCIAL else "overshoot"
            metrics[SUMMARY + key] = Metric(
                id=SUMMARY + key, kind="summary",
                label=f"Summary: {label.lower()} ({ring} indicators)",
                unit=f"% {measure}", higher_is_worse=True,
                description=f"{label} over each ward's {ring} indicators with data",
                indicators=members)
    return metrics


def _scored(table: pd.DataFrame) -> pd.DataFrame:
    # One (latest) period per indicator: drop it so the doughnut functions don't split by it.
    return table.drop(columns=[c for c in ("period",) if c in table.columns])


def dimension_table(table: pd.DataFrame, extra=()) -> pd.DataFrame:
    """Dimension scores of every area (mean of its indicators with data)."""
    if table.empty:
        return pd.DataFrame(columns=["area_code", "dimension", "label", "ring", "shortfall",
                                     "overshoot", "indicators_with_data", "indicators", "status"])
    cols = ["area_code", "indicator", "ring", "dimension", "status", "shortfall", "overshoot"]
    return doughnut.score_dimensions(_scored(table[cols]), extra=extra)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=["area_code", "mean_shortfall", "mean_overshoot",
                                     "social_indicators", "ecological_indicators"])
    cols = ["area_code", "indicator", "ring", "status", "shortfall", "overshoot"]
    return doughnut.summarise(_scored(table[cols]))


def values(metric: Metric, table: pd.DataFrame, dimensions: pd.DataFrame,
           summary: pd.DataFrame, area_codes) -> pd.DataFrame:
    """``value`` (NaN = no data), ``status`` and ``display`` text for each of ``area_codes``."""
    index = pd.Index(list(area_codes), name="area_code")
    if metric.kind == "indicator":
        rows = table.loc[table["indicator"] == metric.id].set_index("area_code")
        value = rows["value"].reindex(index).astype(float)
        status = rows["status"].reindex(index)
        display = [fmt.with_unit(v, metric.unit) for v in value]
    elif metric.kind == "dimension":
        dim = metric.id[len(DIMENSION):]
        rows = dimensions.loc[dimensions["dimension"] == dim].set_index("area_code")
        column = "shortfall" if metric.unit.endswith("shortfall") else "overshoot"
        value = 100 * rows[column].reindex(index).astype(float)
        status = rows["status"].reindex(index)
        display = [fmt.NO_DATA if fmt.is_missing(v) else f"{v:,.1f} {metric.unit}" for v in value]
    else:
        key = metric.id[len(SUMMARY):]
        rows = summary.set_index("area_code")
        value = 100 * rows[key].reindex(index).astype(float)
        good, bad = ("achieved", "shortfall") if key == "mean_shortfall" else ("within", "overshoot")
        status = pd.Series(np.where(value.isna(), doughnut.NO_DATA,
                                    np.where(value > 0, bad, good)), index=index)
        display = [fmt.NO_DATA if fmt.is_missing(v) else f"{v:,.1f} {metric.unit}" for v in value]
    status = status.where(value.notna(), doughnut.NO_DATA).fillna(doughnut.NO_DATA)
    return pd.DataFrame({"value": value.to_numpy(), "status": status.to_numpy(),
                         "display": display}, index=index)
