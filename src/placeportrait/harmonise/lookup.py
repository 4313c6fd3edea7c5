"""Aggregate small source units to targets through a code lookup (e.g. LSOA to ward best fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise._common import (
    DEFAULT_MIN_COVERAGE,
    EXTENSIVE,
    check_kind,
    check_min_coverage,
    clean_codes,
    distinct,
    finish,
    target_codes,
    value_series,
    weight_series,
)

METHOD = "lookup"


def lookup_table(lookup: pd.DataFrame, source_col: str, target_col: str) -> pd.Series:
    """A best-fit lookup as a Series ``source code -> target code``.

    Repeated identical rows are harmless (ONS lookups often carry one row per
    higher-level combination); a source mapped to two different targets is not a
    best-fit lookup and is refused, since summing it into both would double count.
    """
    for col in (source_col, target_col):
        if col not in lookup.columns:
            raise HarmoniseError(
                f"lookup has no column {col!r} (columns: {', '.join(map(str, lookup.columns))})"
            )
    table = pd.DataFrame(
        {
            "s": clean_codes(lookup[source_col], "lookup source codes").to_numpy(),
            "t": clean_codes(lookup[target_col], "lookup target codes").to_numpy(),
        }
    ).drop_duplicates()
    dup = table["s"].duplicated(keep=False)
    if dup.any():
        example = table.loc[dup, "s"].iloc[0]
        raise HarmoniseError(
            f"lookup maps {int(table.loc[dup, 's'].nunique())} source codes to more than one "
            f"target (e.g. {example}); a best-fit lookup maps each to exactly one"
        )
    return pd.Series(table["t"].to_numpy(), index=table["s"].to_numpy())


def lookup_aggregate(
    values,
    lookup: pd.DataFrame,
    targets,
    *,
    kind: str,
    weights=None,
    code_col: str = "area_code",
    value_col: str = "value",
    lookup_source_col: str = "source_code",
    lookup_target_col: str = "area_code",
    target_code_col: str = "code",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """Aggregate source units to targets through a one-to-one (best-fit) lookup.

    Let :math:`I(w)` be the source units the lookup assigns to target :math:`w`,
    :math:`D \\subseteq I(w)` those with a value, and :math:`p_i` the weight of
    unit :math:`i` (population or the value's own denominator).

    extensive (counts, totals)
        .. math:: v_w = \\sum_{i \\in D} v_i

    intensive (rates, shares, means)
        .. math:: v_w = \\frac{\\sum_{i \\in D} v_i p_i}{\\sum_{i \\in D} p_i}

    coverage
        .. math:: c_w = \\frac{\\sum_{i \\in D} p_i}{\\sum_{i \\in I(w)} p_i}

    Without weights (allowed for extensive values only) every unit weighs 1, so
    coverage is the share of the ward's units that have data. A missing value is
    no data: it is left out of numerator and coverage, never counted as 0. A unit
    with neither value nor weight is outside the source (an England-only file
    through an England and Wales lookup, or a partial extract): the total of its
    target is unknown, so the target is no data, coverage 0 (listed in
    ``attrs['targets_with_unknown_total']`` when it had some data).

    Parameters
    ----------
    values : DataFrame, Series or mapping
        Source values by source code (``code_col``, ``value_col``).
    lookup : DataFrame
        Best-fit lookup with ``lookup_source_col`` and ``lookup_target_col``. May be
        national: units mapped to codes that are not targets are ignored.
    targets : GeoDataFrame, DataFrame or sequence of codes
        The target areas; only codes are used.
    kind : {'extensive', 'intensive'}
    weights : str, Series, mapping or None
        A column of ``values`` (e.g. the denominator) or weights by source code
        (e.g. population). Required for intensive values. Every unit with a value
        needs a finite, non-negative weight.
    min_coverage : float
        Targets whose coverage is below this get ``value = NaN``.

    Returns
    -------
    DataFrame
        One row per target (see :data:`RESULT_COLUMNS`); ``denominator`` is
        :math:`\\sum_{i \\in D} p_i` when weights are given. ``attrs`` carries
        ``unmatched_source_codes`` (value codes absent from the lookup) and
        ``outside_targets`` (how many valued units map to non-target codes).
    """
    kind = check_kind(kind)
    min_coverage = check_min_coverage(min_coverage)
    vals = value_series(values, code_col, value_col)
    w = weight_series(weights, values, code_col, "weights")
    if w is None and kind != EXTENSIVE:
        raise HarmoniseError(
            "an intensive value needs weights (population or its denominator) to aggregate"
        )
    table = lookup_table(lookup, lookup_source_col, lookup_target_col)
    codes = target_codes(targets, target_code_col)

    in_targets = table.isin(distinct(codes))
    units = table[in_targets]  # source unit -> target, restricted to the study area
    v = vals.reindex(units.index).to_numpy()
    has = ~np.isnan(v)

    t_idx = pd.Index(codes).get_indexer(units.to_numpy())
    n = len(codes)
    unweighted = np.zeros(n, dtype=bool)
    if w is None:
        p = np.ones(len(units))
    else:
        p = w.reindex(units.index).to_numpy()
        bad = (p < 0) | (np.isnan(p) & has)
        if bad.any():
            example = ", ".join(units.index[bad][:5])
            raise HarmoniseError(
                f"{int(bad.sum())} source units in the lookup have a missing or negative "
                f"weight (e.g. {example})"
            )
        # Units the source does not cover at all (no value, no weight: e.g. Welsh LSOAs
        # in an England-only file) make their target no data: its total, and so its
        # coverage, is unknown.
        missing = np.isnan(p)
        unweighted = np.bincount(t_idx, weights=missing.astype(float), minlength=n) > 0
        p = np.where(missing, 0.0, p)
    p_all = np.bincount(t_idx, weights=p, minlength=n)
    p_data = np.bincount(t_idx, weights=np.where(has, p, 0.0), minlength=n)
    rows = np.bincount(t_idx, weights=has.astype(float), minlength=n).astype(int)
    v_data = np.where(has, v, 0.0)  # only multiplied under the `has` mask below

    if kind == EXTENSIVE:
        num = np.bincount(t_idx, weights=v_data, minlength=n)
        value = np.where(rows > 0, num, np.nan)
    else:
        num = np.bincount(t_idx, weights=v_data * p, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(p_data > 0, num / p_data, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where((p_all > 0) & ~unweighted, p_data / p_all, 0.0)
    value = np.where(unweighted, np.nan, value)

    valued = vals.index[~np.isnan(vals.to_numpy())]
    attrs = {
        "unmatched_source_codes": sorted(set(vals.index) - set(table.index)),
        "outside_targets": int(table.reindex(valued).dropna().isin(set(codes)).eq(False).sum()),
        "kind": kind,
        # Targets with some units the source covers and some it does not: no data.
        "targets_with_unknown_total": sorted(
            np.asarray(codes)[unweighted & (rows > 0)].tolist()),
    }
    return finish(
        codes,
        value,
        coverage,
        rows,
        METHOD,
        min_coverage=min_coverage,
        denominator=None if w is None else p_data,
        attrs=attrs,
    )
