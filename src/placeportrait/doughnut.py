"""Scoring areas against the doughnut: plain pandas, no database.

The scoring follows Fanning & Raworth (2025), "Doughnut of social and planetary
boundaries: 2000-2022", and the counting of O'Neill et al. (2018), "A good life for all
within planetary boundaries", Nature Sustainability 1, 88-95. Every indicator value
``v`` is normalised against its threshold (boundary) ``b`` and a baseline ``a``::

    ratio = (v - a) / (b - a)

so that ``ratio == 1`` sits exactly on the doughnut's edge. The baseline is the value
at which the ratio is 0: 0 for most indicators, a pre-industrial state for some
planetary boundaries (280 ppm CO2), and 100 for a "share of people deprived" indicator
whose threshold is 0 % (then ``ratio = 1 - share/100``). A threshold below its baseline
is allowed and simply flips the direction.

Statuses
--------
social ring
    ``achieved`` when ``ratio >= 1``; otherwise ``shortfall``, with
    ``shortfall = max(0, 1 - ratio)``.
ecological ring
    ``overshoot`` when ``ratio > 1``, with ``overshoot = max(0, ratio - 1)``; otherwise
    ``within``.
either ring
    ``no data`` when the value or the threshold is missing; ratio, shortfall and
    overshoot are then NaN, never 0.

``shortfall`` is NaN on ecological rows and ``overshoot`` NaN on social rows: the
measure does not apply there, and leaving it NaN keeps means over a ring honest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from placeportrait.dimensions import (
    RINGS,
    SOCIAL,
    Dimension,
    all_dimensions,
    check_dimensions,
    dimension_labels,
    dimension_rings,
)
from placeportrait.errors import PlacePortraitError

ACHIEVED = "achieved"
SHORTFALL = "shortfall"
OVERSHOOT = "overshoot"
WITHIN = "within"
NO_DATA = "no data"
STATUSES = (ACHIEVED, SHORTFALL, OVERSHOOT, WITHIN, NO_DATA)

AGGREGATIONS = ("mean", "max", "median")

NATIONS = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland"}

SCORE_COLUMNS = ("area_code", "indicator", "ring", "value", "threshold")
SCORED_COLUMNS = ("area_code", "indicator", "ring", "status", "shortfall", "overshoot")


class ScoringError(PlacePortraitError, ValueError):
    """A table cannot be scored as given (columns, rings, thresholds, duplicates)."""


# --------------------------------------------------------------------------- helpers


def _require_columns(df: pd.DataFrame, required: Iterable[str], func: str, hint: str = "") -> None:
    if not isinstance(df, pd.DataFrame):
        raise ScoringError(f"{func}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ScoringError(
            f"{func}: missing column(s) {', '.join(missing)}; "
            f"have {', '.join(map(str, df.columns)) or 'none'}{hint}"
        )


def _as_float(df: pd.DataFrame, column: str, func: str) -> np.ndarray:
    """The column as float64, NaN for missing; text that is not a number is an error."""
    raw = df[column]
    numbers = pd.to_numeric(raw, errors="coerce")
    not_numbers = numbers.isna() & raw.notna()
    if not_numbers.any():
        example = raw[not_numbers].iloc[0]
        raise ScoringError(
            f"{func}: column {column!r} has {int(not_numbers.sum())} non-numeric value(s), "
            f"e.g. {example!r}"
        )
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    if np.isinf(values).any():
        raise ScoringError(f"{func}: column {column!r} has infinite value(s)")
    return values


def _floats(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _check_not_null(df: pd.DataFrame, column: str, func: str) -> None:
    missing = df[column].isna()
    if missing.any():
        raise ScoringError(f"{func}: column {column!r} is empty in {int(missing.sum())} row(s)")


def _check_rings(ring: pd.Series, func: str) -> np.ndarray:
    valid = ring.isin(RINGS).to_numpy(dtype=bool)
    if not valid.all():
        bad = sorted({repr(v) for v in ring[~valid].unique()})
        raise ScoringError(
            f"{func}: column 'ring' must be 'social' or 'ecological'; found "
            f"{', '.join(bad)} in {int((~valid).sum())} row(s)"
        )
    return ring.eq(SOCIAL).to_numpy(dtype=bool)


def _grouping(df: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    """Extra grouping columns: ``by`` if given, else ``period`` when the table has one."""
    if by is None:
        return ["period"] if "period" in df.columns else []
    return [by] if isinstance(by, str) else list(by)


def _check_unique(df: pd.DataFrame, keys: list[str], func: str) -> None:
    duplicated = df.duplicated(subset=keys, keep=False)
    if duplicated.any():
        example = " / ".join(str(v) for v in df.loc[duplicated, keys].iloc[0])
        raise ScoringError(
            f"{func}: {int(duplicated.sum())} rows share the same {', '.join(keys)} "
            f"(e.g. {example}); give one row each, or group by another column with by="
        )


def _check_statuses(status: pd.Series, func: str) -> None:
    unknown = ~status.isin(STATUSES)
    if unknown.any():
        raise ScoringError(
            f"{func}: column 'status' has unknown value(s) "
            f"{', '.join(sorted({repr(v) for v in status[unknown].unique()}))}; "
            "pass the output of score_table"
        )


# ------------------------------------------------------------------------ indicators


def score_table(df: pd.DataFrame) -> pd.DataFrame:
    """Score every row of a tidy indicator table against its threshold.

    Parameters
    ----------
    df : DataFrame
        Columns ``area_code``, ``indicator``, ``ring`` (``"social"`` or
        ``"ecological"``), ``value``, ``threshold`` and optionally ``baseline``
        (missing or NaN means 0). Other columns are kept. Any area codes work: wards,
        local authorities, countries.

    Returns
    -------
    DataFrame
        A copy with ``ratio``, ``shortfall``, ``overshoot`` and ``status`` added, where,
        with value v, threshold b and baseline a,

        .. math::

            r = (v - a) / (b - a)

        social rows: ``shortfall = max(0, 1 - r)``, status ``achieved`` if r >= 1 else
        ``shortfall``; ecological rows: ``overshoot = max(0, r - 1)``, status
        ``overshoot`` if r > 1 else ``within``. A missing value or threshold gives
        status ``no data`` and NaN ratio, shortfall and overshoot.

    Raises
    ------
    ValueError
        One line naming the missing columns, the bad ring values, non-numeric values,
        or the indicators whose threshold equals their baseline (the ratio would be
        undefined).

    Examples
    --------
    A share of people deprived (threshold 0 %, baseline 100 %):

    >>> t = pd.DataFrame({"area_code": ["E05000001"], "indicator": ["fuel_poverty"],
    ...                   "ring": ["social"], "value": [12.5], "threshold": [0.0],
    ...                   "baseline": [100.0]})
    >>> score_table(t)[["ratio", "shortfall", "status"]].to_dict("records")
    [{'ratio': 0.875, 'shortfall': 0.125, 'status': 'shortfall'}]
    """
    func = "score_table"
    _require_columns(df, SCORE_COLUMNS, func)
    _check_not_null(df, "area_code", func)
    _check_not_null(df, "indicator", func)
    social = _check_rings(df["ring"], func)
    value = _as_float(df, "value", func)
    threshold = _as_float(df, "threshold", func)
    if "baseline" in df.columns:
        baseline = np.nan_to_num(_as_float(df, "baseline", func), nan=0.0)
    else:
        baseline = np.zeros(len(df))

    degenerate = ~np.isnan(threshold) & (threshold == baseline)
    if degenerate.any():
        names = sorted({str(i) for i in df["indicator"].to_numpy()[degenerate]})
        raise ScoringError(
            f"{func}: threshold equals baseline for indicator(s) {', '.join(names)}, so the "
            "ratio (value - baseline) / (threshold - baseline) is undefined"
        )

    ratio = (value - baseline) / (threshold - baseline)
    has_data = ~np.isnan(ratio)
    ecological = ~social

    out = df.copy()
    out["ratio"] = ratio
    out["shortfall"] = np.where(social & has_data, np.maximum(0.0, 1.0 - ratio), np.nan)
    out["overshoot"] = np.where(ecological & has_data, np.maximum(0.0, ratio - 1.0), np.nan)
    # NaN compares False, so the no-data case must come first.
    out["status"] = np.select(
        [~has_data, social & (ratio >= 1.0), social, ratio > 1.0],
        [NO_DATA, ACHIEVED, SHORTFALL, OVERSHOOT],
        default=WITHIN,
    )
    return out


def signed_gap_percent(scored: pd.DataFrame) -> pd.Series:
    """The distance from the doughnut's edge in percent, signed as Fanning & Raworth publish it.

    .. math::

        g = 100 (1 - r) \\text{ (social)}, \\qquad g = 100 (r - 1) \\text{ (ecological)}

    Positive is shortfall or overshoot; negative is how far an area is inside the
    doughnut (beyond the foundation, or below the ceiling). Equals the
    ``shortfallOvershoot_pct`` column of Fanning & Raworth's supplementary tables
    before their rounding to one decimal. NaN for ``no data``.
    """
    _require_columns(
        scored, ("ring", "ratio"), "signed_gap_percent", "; pass the output of score_table"
    )
    social = _check_rings(scored["ring"], "signed_gap_percent")
    ratio = _floats(scored["ratio"])
    return pd.Series(
        np.where(social, 100.0 * (1.0 - ratio), 100.0 * (ratio - 1.0)),
        index=scored.index,
        name="signed_gap_percent",
    )


def summarise(scored: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Count thresholds achieved and boundaries transgressed per area.

    Mirrors the counting of O'Neill et al. (2018): a social threshold is achieved when
    ``ratio >= 1`` and a boundary is transgressed when ``ratio > 1``; indicators with no
    data count in neither the numerator nor the denominator.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`score_table`, one row per area and indicator (per ``by``).
    by : str or list of str, optional
        Further columns to keep apart, e.g. ``"period"``. Defaults to ``"period"`` when
        the table has that column, else none.

    Returns
    -------
    DataFrame
        One row per ``area_code`` (and ``by``), sorted, with

        - ``thresholds_achieved``: social indicators with status ``achieved``;
        - ``social_indicators``: social indicators with data;
        - ``boundaries_transgressed``: ecological indicators with status ``overshoot``;
        - ``ecological_indicators``: ecological indicators with data;
        - ``mean_shortfall``: mean of ``shortfall`` over social indicators with data;
        - ``mean_overshoot``: mean of ``overshoot`` over ecological indicators with data.

        The means are NaN for an area with no data in that ring.
    """
    func = "summarise"
    extra = _grouping(scored, by)
    _require_columns(scored, (*SCORED_COLUMNS, *extra), func, "; pass the output of score_table")
    keys = ["area_code", *extra]
    _check_unique(scored, [*keys, "indicator"], func)
    _check_statuses(scored["status"], func)
    social = _check_rings(scored["ring"], func)
    status = scored["status"].to_numpy()
    has_data = status != NO_DATA

    return _count_per_area(scored, keys, social, has_data, {
        "thresholds_achieved": status == ACHIEVED,
        "social_indicators": social & has_data,
        "boundaries_transgressed": status == OVERSHOOT,
        "ecological_indicators": ~social & has_data,
    })


def _count_per_area(frame, keys, social, has_data, counts: dict) -> pd.DataFrame:
    """Per ``keys``: the number of rows in each of ``counts`` (boolean masks), then the mean
    shortfall over social rows with data and the mean overshoot over ecological ones."""
    parts = frame[keys].copy()
    for name, mask in counts.items():
        parts[name] = mask.astype("int64")
    parts["mean_shortfall"] = np.where(social & has_data, _floats(frame["shortfall"]), np.nan)
    parts["mean_overshoot"] = np.where(~social & has_data, _floats(frame["overshoot"]), np.nan)
    aggregations = {name: (name, "sum") for name in counts}
    aggregations.update(mean_shortfall=("mean_shortfall", "mean"),
                        mean_overshoot=("mean_overshoot", "mean"))
    return parts.groupby(keys, sort=True, dropna=False, observed=True).agg(**aggregations).reset_index()


# ------------------------------------------------------------------------ dimensions


def score_dimensions(
    scored: pd.DataFrame,
    aggregate: str = "mean",
    *,
    by: str | Sequence[str] | None = None,
    extra: Iterable[Dimension] | None = None,
    include_all_dimensions: bool = False,
) -> pd.DataFrame:
    """Aggregate indicator scores to the doughnut's dimensions.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`score_table` with a ``dimension`` column holding dimension ids
        (see :mod:`placeportrait.dimensions`). Each dimension's rows must be in its ring.
    aggregate : {"mean", "max", "median"}
        How a dimension's shortfall (social) or overshoot (ecological) is made from
        those of its indicators with data. ``"mean"`` (default) averages them;
        ``"max"`` takes the worst indicator, so one deprivation is enough to mark the
        dimension; ``"median"`` is robust to one outlying indicator but can report a
        dimension as achieved while a minority of its indicators fall short.
    by : str or list of str, optional
        Further columns to keep apart; defaults to ``"period"`` when present.
    extra : iterable of Dimension, optional
        Council dimensions to accept besides Raworth's 21 and registered ones.
    include_all_dimensions : bool
        If True, every known dimension gets a row for every area (``no data`` where the
        table has no indicator for it); by default only dimensions present in the table.

    Returns
    -------
    DataFrame
        One row per ``area_code`` × (``by``) × ``dimension``, with ``label``, ``ring``,
        ``shortfall`` (social) or ``overshoot`` (ecological) as aggregated,
        ``indicators_with_data``, ``indicators`` and ``status``: ``shortfall`` if the
        aggregated shortfall is > 0 else ``achieved``; ``overshoot`` if the aggregated
        overshoot is > 0 else ``within``; ``no data`` when no indicator of the dimension
        has data (shortfall/overshoot NaN, never 0).
    """
    func = "score_dimensions"
    if aggregate not in AGGREGATIONS:
        raise ScoringError(
            f"{func}: aggregate must be one of {', '.join(AGGREGATIONS)}, got {aggregate!r}"
        )
    extra = tuple(extra or ())
    groups = _grouping(scored, by)
    _require_columns(
        scored, (*SCORED_COLUMNS, "dimension", *groups), func, "; pass the output of score_table"
    )
    _check_not_null(scored, "dimension", func)
    keys = ["area_code", *groups]
    _check_unique(scored, [*keys, "indicator"], func)
    _check_statuses(scored["status"], func)
    social = _check_rings(scored["ring"], func)
    check_dimensions(scored["dimension"].unique(), extra)

    rings = dimension_rings(extra)
    expected_ring = scored["dimension"].map(rings)
    wrong_ring = expected_ring.ne(scored["ring"]).to_numpy(dtype=bool)
    if wrong_ring.any():
        row = scored.loc[wrong_ring].iloc[0]
        raise ScoringError(
            f"{func}: indicator {row['indicator']!r} is in the {row['ring']} ring but its "
            f"dimension {row['dimension']!r} is {rings[row['dimension']]}"
        )

    has_data = scored["status"].ne(NO_DATA).to_numpy(dtype=bool)
    parts = scored[[*keys, "dimension"]].copy()
    parts["gap"] = np.where(
        has_data,
        np.where(social, _floats(scored["shortfall"]), _floats(scored["overshoot"])),
        np.nan,
    )
    parts["indicators"] = 1
    grouped = (
        parts.groupby([*keys, "dimension"], sort=False, dropna=False, observed=True)
        .agg(
            gap=("gap", aggregate),
            indicators_with_data=("gap", "count"),
            indicators=("indicators", "sum"),
        )
        .reset_index()
    )

    order = [d.id for d in all_dimensions(extra)]
    present = set(scored["dimension"].unique())
    wanted = order if include_all_dimensions else [d for d in order if d in present]
    frame = scored[keys].drop_duplicates().merge(pd.DataFrame({"dimension": wanted}), how="cross")
    out = frame.merge(grouped, on=[*keys, "dimension"], how="left")
    out["indicators_with_data"] = out["indicators_with_data"].fillna(0).astype("int64")
    out["indicators"] = out["indicators"].fillna(0).astype("int64")

    out_ring = out["dimension"].map(rings)
    is_social = out_ring.eq(SOCIAL).to_numpy(dtype=bool)
    gap = out["gap"].to_numpy(dtype="float64", na_value=np.nan)
    dim_has_data = out["indicators_with_data"].to_numpy() > 0
    out.insert(len(keys) + 1, "label", out["dimension"].map(dimension_labels(extra)))
    out.insert(len(keys) + 2, "ring", out_ring)
    out["shortfall"] = np.where(is_social, gap, np.nan)
    out["overshoot"] = np.where(is_social, np.nan, gap)
    out["status"] = np.select(
        [~dim_has_data, is_social & (gap > 0), is_social, gap > 0],
        [NO_DATA, SHORTFALL, ACHIEVED, OVERSHOOT],
        default=WITHIN,
    )
    out["dimension"] = pd.Categorical(out["dimension"], categories=order)
    out = out.sort_values([*keys, "dimension"], kind="stable").reset_index(drop=True)
    out["dimension"] = out["dimension"].astype(str)
    return out[
        [
            *keys,
            "dimension",
            "label",
            "ring",
            "shortfall",
            "overshoot",
            "indicators_with_data",
            "indicators",
            "status",
        ]
    ]


def summarise_dimensions(
    dim_scores: pd.DataFrame, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Count dimensions in shortfall and overshoot per area.

    Parameters
    ----------
    dim_scores : DataFrame
        Output of :func:`score_dimensions`.
    by : str or list of str, optional
        Further columns to keep apart; defaults to ``"period"`` when present.

    Returns
    -------
    DataFrame
        One row per ``area_code`` (and ``by``) with ``dimensions_in_shortfall``,
        ``dimensions_achieved``, ``social_dimensions`` (with data),
        ``dimensions_in_overshoot``, ``ecological_dimensions`` (with data), and
        ``mean_shortfall`` / ``mean_overshoot``: the means of the dimension scores over
        the dimensions with data in each ring (NaN when none).
    """
    func = "summarise_dimensions"
    groups = _grouping(dim_scores, by)
    required = ("area_code", "dimension", "ring", "status", "shortfall", "overshoot", *groups)
    _require_columns(dim_scores, required, func, "; pass the output of score_dimensions")
    keys = ["area_code", *groups]
    _check_unique(dim_scores, [*keys, "dimension"], func)
    _check_statuses(dim_scores["status"], func)
    social = _check_rings(dim_scores["ring"], func)
    status = dim_scores["status"].to_numpy()
    has_data = status != NO_DATA

    return _count_per_area(dim_scores, keys, social, has_data, {
        "dimensions_in_shortfall": status == SHORTFALL,
        "dimensions_achieved": status == ACHIEVED,
        "social_dimensions": social & has_data,
        "dimensions_in_overshoot": status == OVERSHOOT,
        "ecological_dimensions": ~social & has_data,
    })


# ------------------------------------------------------------------------ comparison


def nation_of(area_codes: pd.Series) -> pd.Series:
    """The UK nation of each GSS code, from its first letter (E, W, S, N); else missing."""
    return area_codes.astype("string").str[:1].map(NATIONS).astype("string")


def _group_mean(value: pd.Series, weight: pd.Series, keys: list[pd.Series]) -> pd.Series:
    """Weighted mean of ``value`` within groups, broadcast back to rows.

    Rows with a missing value take no part; a row whose group key is missing gets NaN.
    """
    present = value.notna()
    parts = pd.DataFrame(
        {"n": (value * weight).where(present, 0.0), "d": weight.where(present, 0.0)}
    )
    # dropna=False then masking, because pandas cannot transform when every key is missing.
    sums = parts.groupby(keys, dropna=False, observed=True, sort=False).transform("sum")
    key_missing = np.zeros(len(value), dtype=bool)
    for key in keys:
        key_missing |= key.isna().to_numpy(dtype=bool)
    mean = sums["n"] / sums["d"]
    return mean.where((sums["d"] > 0) & ~key_missing)


def compare(
    scored: pd.DataFrame,
    areas: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rank each area within its set, and set it beside the mean of the set's areas.

    The authority's and the nation's values are not means of the loaded areas: they come
    from the source (:mod:`placeportrait.references`).

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`score_table`, one row per area × indicator (× ``period``).
        May carry a ``weight`` column (e.g. population) for the mean.
    areas : DataFrame
        ``area_code, parent_code`` (the parent is usually the local authority), and
        optionally ``weight``.
    by : str or list of str, optional
        Columns that, with ``indicator``, define a comparison set; defaults to
        ``"period"`` when present.

    Returns
    -------
    DataFrame
        A copy of ``scored`` with

        - ``parent_code``;
        - ``nation`` (from the GSS code's first letter: E England, W Wales, S Scotland,
          N Northern Ireland; missing for other codes);
        - ``set_mean``: the mean value over the set's areas, labelled as such wherever
          it is shown;
        - ``rank``: 1 = best in the set, by ratio, higher better for social indicators
          and lower better for ecological ones; ties share the best rank; no rank for
          rows with no data;
        - ``ranked_areas``: how many areas in the set have a rank;
        - ``nation_rank``, ``nation_ranked_areas``: the same among the set's areas of the
          area's nation (a rank among the whole nation only where the set holds all its
          wards: :func:`placeportrait.references.whole_nations` says which);
        - ``percentile``: percentage of ranked areas in the set that do no better than
          this one (100 = best).

        The mean is unweighted, :math:`\\bar v = \\sum v_i / n`, unless a ``weight``
        column is given, when :math:`\\bar v = \\sum w_i v_i / \\sum w_i`; areas with a
        missing value take no part.
    """
    func = "compare"
    groups = _grouping(scored, by)
    _require_columns(
        scored,
        ("area_code", "indicator", "ring", "value", "ratio", *groups),
        func,
        "; pass the output of score_table",
    )
    _require_columns(areas, ("area_code", "parent_code"), f"{func} (areas)")
    if areas["area_code"].duplicated().any():
        example = areas.loc[areas["area_code"].duplicated(), "area_code"].iloc[0]
        raise ScoringError(f"{func}: areas lists area_code {example!r} more than once")
    _check_unique(scored, ["area_code", "indicator", *groups], func)
    social = _check_rings(scored["ring"], func)

    out = scored.copy()
    parents = areas.set_index("area_code")["parent_code"]
    out["parent_code"] = out["area_code"].map(parents)

    if "weight" in areas.columns and "weight" in scored.columns:
        raise ScoringError(f"{func}: 'weight' is given in both scored and areas; keep one")
    if "weight" in areas.columns:
        weight = out["area_code"].map(areas.set_index("area_code")["weight"])
        weight = pd.Series(
            _as_float(pd.DataFrame({"weight": weight}), "weight", func), index=out.index
        )
    elif "weight" in scored.columns:
        weight = pd.Series(_as_float(scored, "weight", func), index=out.index)
    else:
        weight = pd.Series(1.0, index=out.index)
    value = pd.Series(_as_float(scored, "value", func), index=out.index)
    bad_weight = value.notna() & (weight.isna() | (weight < 0))
    if bad_weight.any():
        example = out.loc[bad_weight, "area_code"].iloc[0]
        raise ScoringError(
            f"{func}: weight is missing or negative for {int(bad_weight.sum())} row(s) with "
            f"data, e.g. area {example!r}"
        )

    set_keys = [out["indicator"], *(out[g] for g in groups)]
    out["nation"] = nation_of(out["area_code"])
    out["set_mean"] = _group_mean(value, weight, set_keys)

    ratio = pd.Series(_floats(out["ratio"]), index=out.index)
    goodness = ratio.where(social, -ratio)  # bigger is better in both rings
    ranks = goodness.groupby(set_keys, dropna=False, observed=True)
    out["rank"] = ranks.rank(ascending=False, method="min").astype("Int64")
    out["ranked_areas"] = ranks.transform("count").astype("int64")
    in_nation = goodness.groupby([*set_keys, out["nation"]], dropna=False, observed=True)
    out["nation_rank"] = in_nation.rank(ascending=False, method="min").astype("Int64")
    out["nation_ranked_areas"] = in_nation.transform("count").astype("int64")
    out["percentile"] = 100.0 * ranks.rank(ascending=True, method="max", pct=True)
    return out


def rank_label(rank, ranked_areas, tied: int = 1) -> str:
    """A rank as people read it: ``"4 of 21"``, or ``"=1 of 21"`` when ``tied`` areas
    share it; ``"not ranked (no data)"`` without one. The app and the reports both use it."""
    try:
        if rank is None or ranked_areas is None or pd.isna(rank) or pd.isna(ranked_areas):
            return "not ranked (no data)"
    except (TypeError, ValueError):
        return "not ranked (no data)"
    return f"{'=' if tied > 1 else ''}{int(rank):,} of {int(ranked_areas):,}"


def nation_rank_label(nation_rank, nation_ranked_areas, nation, tied: int = 1) -> str:
    """``"1,234 of 6,862 in England"`` where the set holds the whole nation (see
    :func:`placeportrait.references.whole_nations`), else ``""``; ``"=1 of …"`` when
    ``tied`` wards share the rank (:func:`nation_rank_ties`)."""
    try:
        if pd.isna(nation_rank) or pd.isna(nation_ranked_areas) or not isinstance(nation, str):
            return ""
    except (TypeError, ValueError):
        return ""
    return f"{'=' if tied > 1 else ''}{int(nation_rank):,} of {int(nation_ranked_areas):,} in {nation}"


def nation_rank_ties(table: pd.DataFrame) -> pd.Series:
    """Per row: how many areas of the row's nation share its nation rank (indicator and
    period alike), for :func:`nation_rank_label`."""
    keys = [table["indicator"], table["period"], table["nation"].fillna(""),
            table["nation_rank"]]
    return table["area_code"].groupby(keys, dropna=False).transform("size")


def latest_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Each area's rows for every indicator's latest period (periods sort as text: ISO).

    What the app, the reports and the QGIS summaries show of a series.
    """
    latest_period = table.groupby("indicator")["period"].transform("max")
    return table[table["period"] == latest_period].reset_index(drop=True)


def nation_has_data(table: pd.DataFrame) -> pd.Series:
    """Per row of a tidy table: whether any area of the row's nation has a value for its
    indicator and period. A ward's page leaves out the indicators of other nations'
    sources (England's IoD on a Scottish ward) rather than list them as no data, and says
    how many it left out. Areas with no nation keep every row."""
    nation = nation_of(table["area_code"]).fillna("")
    has = table["value"].notna().astype(bool)
    any_in_nation = has.groupby([table["indicator"], table["period"], nation]).transform("any")
    return any_in_nation | nation.eq("").to_numpy()


def other_nations_note(titles, nation) -> str:
    """The sentence under a ward's indicator table naming what :func:`nation_has_data` left
    out (the app and the reports alike)."""
    where = nation if isinstance(nation, str) and nation else "this nation"
    titles = sorted(map(str, titles))
    return (f"Not listed: {len(titles)} indicators with no data for any ward of {where} in "
            f"this set, from other nations' sources ({'; '.join(titles)}).")


#: Values flagged with this were given to each ward from its local authority.
APPORTIONED_FLAG = "apportioned"


def wedge_records(rows: pd.DataFrame, extra: Iterable[Dimension] | None = None,
                  percent=lambda g: f"{100 * g:.1f}%") -> list[dict]:
    """One area's dimensions as the doughnut draws them (:mod:`placeportrait.doughnut_layout`).

    ``rows``: the area's scored rows of every indicator's latest period, with
    ``dimension`` and, when values may be apportioned, ``flags`` and ``title``. Returns
    every dimension of Raworth's (and ``extra``), in her order, with ``dimension, label,
    ring, status, gap`` (shortfall or overshoot as a share, NaN with no data),
    ``with_data``, ``indicators``, ``copied`` (every indicator with data is an authority
    value given to the ward) and ``title`` (a sentence for the wedge's tooltip). The app
    and the reports both call it, so their doughnuts agree.
    """
    extra = tuple(extra or ())
    dims = all_dimensions(extra)
    if rows.empty:
        scored = pd.DataFrame(columns=["dimension", "status", "shortfall", "overshoot",
                                       "indicators_with_data", "indicators"])
    else:
        cols = [c for c in (*SCORED_COLUMNS, "dimension") if c in rows]
        scored = score_dimensions(rows[cols].assign(area_code="area"), extra=extra,
                                  include_all_dimensions=True)
    found = scored.set_index("dimension")
    own, titles = set(), {}
    if len(rows):
        ward_level = rows["status"].ne(NO_DATA)
        if "flags" in rows:
            ward_level &= ~rows["flags"].astype("string").fillna("").str.contains(APPORTIONED_FLAG)
        own = set(rows.loc[ward_level, "dimension"])
        if "title" in rows:
            titles = rows.groupby("dimension")["title"].agg(lambda t: "; ".join(map(str, t)))
    out = []
    for d in dims:
        r = found.loc[d.id] if d.id in found.index else None
        with_data = int(r["indicators_with_data"]) if r is not None else 0
        status = r["status"] if r is not None else NO_DATA
        gap = float(r["shortfall"] if d.ring == "social" else r["overshoot"]) if with_data else np.nan
        copied = with_data > 0 and d.id not in own
        out.append({"dimension": d.id, "label": d.label, "ring": d.ring, "status": status,
                    "gap": gap, "with_data": with_data,
                    "indicators": int(r["indicators"]) if r is not None else 0,
                    "copied": copied,
                    "title": _wedge_title(d.label, d.ring, status, gap, copied, with_data,
                                          int(r["indicators"]) if r is not None else 0,
                                          titles.get(d.id, ""), percent)})
    return out


def status_words(status: str, gap: float, percent) -> str:
    """A dimension's status in words: ``shortfall of 9.1%``, ``foundation met``, …"""
    if status in (SHORTFALL, OVERSHOOT):
        return f"{status} of {percent(gap)}"
    return {ACHIEVED: "foundation met", WITHIN: "within the ceiling", NO_DATA: "no data"}[status]


def _wedge_title(label, ring, status, gap, copied, with_data, indicators, titles, percent) -> str:
    what = status_words(status, gap, percent)
    ring_name = "social foundation" if ring == "social" else "ecological ceiling"
    parts = [f"{label} ({ring_name}): {what}"]
    if copied:
        parts.append("only known for the whole local authority")
    if indicators:
        parts.append(f"{with_data} of {indicators} indicators with data: {titles}" if titles
                     else f"{with_data} of {indicators} indicators with data")
    return "; ".join(parts)
