"""Source already on the target geography: match by code, report what does not match."""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeportrait.harmonise._common import (
    DEFAULT_MIN_COVERAGE,
    check_min_coverage,
    finish,
    target_codes,
    value_series,
    weight_series,
)

METHOD = "code_match"


def code_match(
    values,
    targets,
    *,
    code_col: str = "area_code",
    value_col: str = "value",
    denominator=None,
    target_code_col: str = "code",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """Put values that are already on the target geography onto the target list.

    .. math::

        v_w = v_s \\quad\\text{for the source row } s \\text{ whose code equals } w

    Coverage is 1 for a target with a non-missing value and 0 otherwise (missing
    row or NaN value: no data, never 0). ``min_coverage`` therefore only matters
    at 0, where it cannot admit anything.

    Parameters
    ----------
    values : DataFrame, Series or mapping
        Source values: a frame with ``code_col`` and ``value_col``, or a Series
        indexed by code.
    targets : GeoDataFrame, DataFrame or sequence of codes
        Target areas; only their codes are used.
    denominator : str, Series or None
        Optional denominator passed through (a column of ``values`` or a Series by
        code), so that intensive values can be re-aggregated later.
    min_coverage : float
        Targets below this coverage get ``value = NaN``.

    Returns
    -------
    DataFrame
        One row per target: ``area_code, value, coverage, source_rows, method,
        denominator, apportioned``. ``attrs['unmatched_source_codes']`` lists
        source codes that are not targets (e.g. a ward from another vintage);
        ``attrs['targets_without_source']`` lists targets that had no source row.
    """
    min_coverage = check_min_coverage(min_coverage)
    vals = value_series(values, code_col, value_col)
    den = weight_series(denominator, values, code_col, "denominator")
    codes = target_codes(targets, target_code_col)

    v = vals.reindex(codes.to_numpy()).to_numpy()
    has = ~np.isnan(v)
    d = None if den is None else den.reindex(codes.to_numpy()).to_numpy()

    target_set = set(codes)
    attrs = {
        "unmatched_source_codes": sorted(c for c in vals.index if c not in target_set),
        "targets_without_source": sorted(set(codes) - set(vals.index)),
    }
    return finish(
        codes,
        v,
        has.astype(float),
        has.astype(int),
        METHOD,
        min_coverage=min_coverage,
        denominator=d,
        attrs=attrs,
    )
