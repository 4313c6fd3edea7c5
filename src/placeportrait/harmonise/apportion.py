"""Share a coarser area's value (a local authority's) among its wards via ``parent_code``.

This is the method of last resort: the result is not ward-level information, only a
ward-shaped view of the parent's number. Every row is flagged ``apportioned=True``
so that maps and scores can say so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise._common import (
    DEFAULT_MIN_COVERAGE,
    EXTENSIVE,
    check_kind,
    check_min_coverage,
    finish,
    target_codes,
    value_series,
)

METHOD = "apportion"


def _ward_weights(weights, targets, codes: pd.Series, area_crs: str) -> np.ndarray:
    if isinstance(weights, str) and weights == "area":
        if not isinstance(targets, gpd.GeoDataFrame) or targets.crs is None:
            raise HarmoniseError("weights='area' needs target geometries with a CRS")
        return shapely.area(targets.geometry.to_crs(area_crs).to_numpy())
    w = value_series(weights, "area_code", "weight", "weights")
    return w.reindex(codes.to_numpy()).to_numpy()


def apportion(
    values,
    targets,
    *,
    kind: str,
    weights=None,
    code_col: str = "area_code",
    value_col: str = "value",
    target_code_col: str = "code",
    parent_code_col: str = "parent_code",
    area_crs: str = "EPSG:27700",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """Give each ward a share of its parent area's value.

    With :math:`P` the parent of ward :math:`w`, :math:`W(P)` the given wards of
    :math:`P` and :math:`p_w` the ward weight:

    intensive (rates, shares, per-capita values)
        .. math:: v_w = V_P

    extensive (counts, totals)
        .. math:: v_w = V_P \\frac{p_w}{\\sum_{u \\in W(P)} p_u}

        so :math:`\\sum_{w \\in W(P)} v_w = V_P`. The targets must include every ward
        of each parent, or the given wards share out the whole parent total.

    Coverage is 1 where the parent has a value and 0 otherwise (parent missing or
    NaN: no data). Every row has ``apportioned = True`` and ``method = 'apportion'``.

    Parameters
    ----------
    values : DataFrame, Series or mapping
        Parent values by parent code.
    targets : GeoDataFrame or DataFrame
        Wards with ``target_code_col`` and ``parent_code_col``.
    kind : {'extensive', 'intensive'}
    weights : 'area', Series, mapping or None
        Extensive only: ``'area'`` (ward area in ``area_crs``) or weights by ward code
        (e.g. population). Required for extensive values.
    min_coverage : float

    Returns
    -------
    DataFrame
        One row per ward. ``attrs['unmatched_source_codes']`` lists parent codes with
        values but no ward; ``attrs['targets_without_parent']`` wards with no parent.
    """
    kind = check_kind(kind)
    min_coverage = check_min_coverage(min_coverage)
    vals = value_series(values, code_col, value_col)
    codes = target_codes(targets, target_code_col)
    if not isinstance(targets, pd.DataFrame) or parent_code_col not in targets.columns:
        raise HarmoniseError(f"targets have no column {parent_code_col!r} to apportion by")
    parent_raw = pd.Series(targets[parent_code_col].to_numpy())
    orphan = parent_raw.isna().to_numpy()
    parents = parent_raw.where(~orphan, "").astype(str).str.strip().to_numpy()

    v = vals.reindex(parents).to_numpy(copy=True)
    v[orphan] = np.nan
    has = ~np.isnan(v)

    if kind == EXTENSIVE:
        if weights is None:
            raise HarmoniseError(
                "an extensive value needs weights ('area' or population by ward) to split"
            )
        p = _ward_weights(weights, targets, codes, area_crs)
        bad = has & (np.isnan(p) | (p < 0))
        if bad.any():
            raise HarmoniseError(
                f"{int(bad.sum())} wards have a missing or negative weight "
                f"(e.g. {', '.join(codes[bad][:5])})"
            )
        p = np.where(has, p, 0.0)
        p_parent = pd.Series(p).groupby(parents).transform("sum").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(p_parent > 0, v * p / p_parent, np.nan)
        has &= p_parent > 0  # a parent whose wards all weigh 0 cannot be split
    else:
        if weights is not None:
            raise HarmoniseError(
                "an intensive value is given unchanged to each ward; weights do not apply"
            )
        value = v

    attrs = {
        "kind": kind,
        "unmatched_source_codes": sorted(set(vals.index) - set(parents[~orphan])),
        "targets_without_parent": sorted(codes[orphan]),
    }
    return finish(
        codes,
        value,
        has.astype(float),
        has.astype(int),
        METHOD,
        min_coverage=min_coverage,
        apportioned=True,
        attrs=attrs,
    )
