"""Points (facilities, postcode centroids) counted, summed or averaged per containing area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise._common import (
    DEFAULT_MIN_COVERAGE,
    check_crs,
    check_min_coverage,
    finish,
    numeric,
    target_codes,
)

METHOD = "points"
STATS = ("count", "sum", "mean")


def as_points(
    points,
    *,
    lon_col: str = "lon",
    lat_col: str = "lat",
    crs: str = "EPSG:4326",
) -> gpd.GeoDataFrame:
    """A point GeoDataFrame from a GeoDataFrame or a frame of lon/lat columns.

    Rows without a location (missing lon/lat or an empty geometry) are kept with an
    empty geometry so that they are reported, not silently dropped.
    """
    if isinstance(points, gpd.GeoDataFrame):
        if points.crs is None:
            raise HarmoniseError(
                "point layer has no CRS; set it (e.g. .set_crs('EPSG:4326')) first"
            )
        geoms = points.geometry.to_numpy()
        present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        kinds = set(shapely.get_type_id(geoms[present]).tolist())
        if kinds - {0}:  # 0 = Point
            raise HarmoniseError(
                "point layer holds non-point geometries; use area_weighted for polygons"
            )
        return points
    if not isinstance(points, pd.DataFrame):
        raise HarmoniseError("points must be a GeoDataFrame or a DataFrame with lon/lat columns")
    for col in (lon_col, lat_col):
        if col not in points.columns:
            raise HarmoniseError(f"points have no column {col!r}")
    x = numeric(points[lon_col], f"points column {lon_col!r}")
    y = numeric(points[lat_col], f"points column {lat_col!r}")
    return gpd.GeoDataFrame(points.copy(), geometry=gpd.points_from_xy(x, y), crs=crs)


def points_to_areas(
    points,
    targets: gpd.GeoDataFrame,
    *,
    stat: str = "count",
    value_col: str | None = None,
    lon_col: str = "lon",
    lat_col: str = "lat",
    points_crs: str = "EPSG:4326",
    target_code_col: str = "code",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """Aggregate points to the target polygon containing them.

    Each point is assigned to a target with ``geopandas.sjoin(predicate="intersects")``.
    Tie rule: a point on a shared boundary intersects two or more targets (under
    ``"within"`` it would fall in none and be lost); it is given to the target whose
    code sorts first, so every located point lands in at most one target and totals
    are preserved. Points in no target (outside the study area, or in slivers between
    generalised boundaries) are listed in ``attrs['points_outside']`` by index label;
    points without a location in ``attrs['points_without_location']``.

    With :math:`P_w` the points assigned to :math:`w` and :math:`D_w \\subseteq P_w`
    those with a value:

    count
        :math:`v_w = |P_w|`, coverage 1. An empty ward really has 0 points: the point
        set is taken as complete for the targets' extent.
    sum
        :math:`v_w = \\sum_{k \\in D_w} x_k`, coverage :math:`|D_w|/|P_w|` (1 when
        :math:`P_w` is empty, where the sum is a true 0).
    mean
        :math:`v_w = \\frac{1}{|D_w|}\\sum_{k \\in D_w} x_k`, coverage
        :math:`|D_w|/|P_w|` (0 when :math:`P_w` is empty: a mean of nothing is no
        data).

    Parameters
    ----------
    points : GeoDataFrame or DataFrame
        Points with a CRS, or a frame with ``lon_col``/``lat_col`` in ``points_crs``.
    targets : GeoDataFrame
        Target polygons in the same CRS as the points.
    stat : {'count', 'sum', 'mean'}
    value_col : str or None
        Value column for ``sum`` and ``mean``.
    min_coverage : float

    Returns
    -------
    DataFrame
        One row per target; ``source_rows`` is :math:`|D_w|` (:math:`|P_w|` for count).
    """
    if stat not in STATS:
        raise HarmoniseError(f"stat must be one of {', '.join(STATS)}, not {stat!r}")
    if stat != "count" and value_col is None:
        raise HarmoniseError(f"stat {stat!r} needs value_col")
    min_coverage = check_min_coverage(min_coverage)
    pts = as_points(points, lon_col=lon_col, lat_col=lat_col, crs=points_crs)
    check_crs(pts, targets, "point layer", "target layer")
    codes = target_codes(targets, target_code_col)

    if value_col is not None:
        if value_col not in pts.columns:
            raise HarmoniseError(f"points have no column {value_col!r}")
        x = numeric(pts[value_col], f"points column {value_col!r}")
    else:
        x = np.zeros(len(pts))

    geoms = pts.geometry.to_numpy()
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms) | ~shapely.is_valid(geoms))
    poly = gpd.GeoDataFrame(
        {"_code": codes.to_numpy()}, geometry=targets.geometry.to_numpy(), crs=targets.crs
    )
    left = gpd.GeoDataFrame({"_pos": np.flatnonzero(located)}, geometry=geoms[located], crs=pts.crs)
    joined = gpd.sjoin(left, poly, how="inner", predicate="intersects")
    ties = int((joined["_pos"].value_counts() > 1).sum())
    joined = joined.sort_values(["_pos", "_code"]).drop_duplicates("_pos", keep="first")

    pos = joined["_pos"].to_numpy()
    t_idx = pd.Index(codes).get_indexer(joined["_code"].to_numpy())
    n = len(codes)
    has = ~np.isnan(x[pos])
    n_pts = np.bincount(t_idx, minlength=n)
    n_data = np.bincount(t_idx, weights=has.astype(float), minlength=n).astype(int)
    total = np.bincount(t_idx, weights=np.where(has, x[pos], 0.0), minlength=n)

    with np.errstate(invalid="ignore", divide="ignore"):
        if stat == "count":
            value, coverage, rows = n_pts.astype(float), np.ones(n), n_pts
        elif stat == "sum":
            value = np.where(n_pts == 0, 0.0, total)
            coverage = np.where(n_pts == 0, 1.0, n_data / n_pts)
            rows = n_data
        else:
            value = total / n_data
            coverage = np.where(n_pts == 0, 0.0, n_data / n_pts)
            rows = n_data

    assigned = np.zeros(len(pts), dtype=bool)
    assigned[pos] = True
    attrs = {
        "stat": stat,
        "points_outside": pts.index[located & ~assigned].tolist(),
        "points_without_location": pts.index[~located].tolist(),
        "points_on_shared_boundary": ties,
    }
    return finish(codes, value, coverage, rows, METHOD, min_coverage=min_coverage, attrs=attrs)
