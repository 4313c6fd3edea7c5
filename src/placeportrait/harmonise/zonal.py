"""Zonal statistics: rasters (GeoTIFF) and polygon grids onto target areas.

Rasters go through ``exactextract``, which computes for every cell the exact
fraction :math:`f_{jw}` of it that lies inside the ward. Polygon grids (a
GeoDataFrame of, say, 1 km squares with a value column) go through the areal
crosswalk instead of being rasterised: the cells *are* polygons, so intersecting
them with the ward in EPSG:27700 is exact, needs no assumption that they form an
aligned lattice, and gives the same numbers exactextract would on a perfectly
aligned raster (the tests check this).
"""

from __future__ import annotations

import os

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
    clean_codes,
    finish,
    target_codes,
)
from placeportrait.harmonise.area_weighted import apply_crosswalk, crosswalk

RASTER_METHOD = "zonal_raster"
GRID_METHOD = "zonal_grid"


def zonal_raster(
    raster: str | os.PathLike,
    targets: gpd.GeoDataFrame,
    *,
    kind: str = "intensive",
    band: int = 1,
    target_code_col: str = "code",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> pd.DataFrame:
    """Coverage-weighted zonal statistics of one raster band over the targets.

    With :math:`f_{jw} \\in [0, 1]` the fraction of cell :math:`j` inside ward
    :math:`w` and :math:`D` the cells with data (not nodata, not NaN):

    intensive (concentrations, rates: exactextract ``mean``)
        .. math:: v_w = \\frac{\\sum_{j \\in D} v_j f_{jw}}{\\sum_{j \\in D} f_{jw}}

    extensive (counts per cell: exactextract ``sum``)
        .. math:: v_w = \\sum_{j \\in D} v_j f_{jw}

    coverage
        .. math:: c_w = \\frac{|\\text{cell}| \\sum_{j \\in D} f_{jw}}{|w|}

    where areas are planar in the raster's CRS, the same measure exactextract uses
    for :math:`f`. Parts of the ward outside the raster, or over nodata cells, lower
    coverage; they never count as 0.

    Parameters
    ----------
    raster : path
        A GDAL-readable raster (GeoTIFF) with a CRS.
    targets : GeoDataFrame
        Target polygons with a CRS; reprojected to the raster's CRS (the raster is
        never resampled, so its values stay as published).
    kind : {'intensive', 'extensive'}
    band : int
        1-based band number.
    min_coverage : float

    Returns
    -------
    DataFrame
        One row per target; ``source_rows`` is the number of data cells touching the
        ward.
    """
    import rasterio
    from exactextract import exact_extract
    from exactextract.raster import RasterioRasterSource

    kind = check_kind(kind)
    min_coverage = check_min_coverage(min_coverage)
    codes = target_codes(targets, target_code_col)
    if getattr(targets, "crs", None) is None:
        raise HarmoniseError("target layer has no CRS; set it (e.g. .set_crs('EPSG:4326')) first")
    try:
        ds = rasterio.open(raster)
    except rasterio.errors.RasterioIOError as exc:
        raise HarmoniseError(f"cannot read raster {raster}: {exc}")
    with ds:
        if ds.crs is None:
            raise HarmoniseError(f"raster {raster} has no CRS")
        if not 1 <= band <= ds.count:
            raise HarmoniseError(f"raster {raster} has {ds.count} bands, not band {band}")
        cell_area = abs(ds.transform.a * ds.transform.e - ds.transform.b * ds.transform.d)
        zones = gpd.GeoDataFrame(
            {"_code": codes.to_numpy()},
            geometry=targets.geometry.to_crs(ds.crs).to_numpy(),
            crs=ds.crs,
        )
        geoms = zones.geometry.to_numpy()
        bad = ~shapely.is_valid(geoms)
        if bad.any():
            zones.loc[bad, "geometry"] = shapely.make_valid(
                geoms[bad], method="structure", keep_collapsed=False
            )
        stats = exact_extract(
            RasterioRasterSource(ds, band),
            zones,
            ["mean", "sum", "count", "values"],
            include_cols=["_code"],
            output="pandas",
        )
    stats = stats.set_index("_code").reindex(codes.to_numpy())
    count = stats["count"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = count * cell_area / shapely.area(zones.geometry.to_numpy())
    value = stats["sum" if kind == EXTENSIVE else "mean"].to_numpy(dtype="float64")
    value = np.where(count > 0, value, np.nan)  # exactextract's sum of nothing is 0
    rows = np.array([len(v) for v in stats["values"]])
    return finish(
        codes,
        value,
        coverage,
        rows,
        RASTER_METHOD,
        min_coverage=min_coverage,
        attrs={"kind": kind, "raster": str(raster), "band": band},
    )


def zonal_grid(
    grid: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    *,
    value_col: str = "value",
    cell_id_col: str | None = None,
    kind: str = "intensive",
    target_code_col: str = "code",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    cw: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Zonal statistics of a polygon grid, through the exact areal crosswalk.

    The same maths as :func:`zonal_raster` with :math:`f_{jw} = |j \\cap w|/|j|`:
    for equal cells the intensive mean :math:`\\sum v_j f_{jw} / \\sum f_{jw}` equals
    the area-weighted mean :math:`\\sum v_j |j \\cap w| / \\sum |j \\cap w|` of
    :func:`~placeportrait.harmonise.area_weighted.apply_crosswalk`, and coverage is
    the share of the ward's area under cells with data.

    Parameters
    ----------
    grid : GeoDataFrame
        Cell polygons with a CRS equal to the targets' and a value column.
    targets : GeoDataFrame
    value_col : str
    cell_id_col : str or None
        Unique cell id column; the frame's index when None.
    kind : {'intensive', 'extensive'}
    min_coverage : float
    cw : DataFrame or None
        A cached crosswalk of this grid onto these targets, to skip the intersection.

    Returns
    -------
    DataFrame
        One row per target, ``method = 'zonal_grid'``.
    """
    kind = check_kind(kind)
    if value_col not in grid.columns:
        raise HarmoniseError(f"grid has no value column {value_col!r}")
    grid = grid.copy()
    if cell_id_col is None:
        cell_id_col = "_cell"
        grid[cell_id_col] = grid.index.astype(str)
    ids = clean_codes(grid[cell_id_col], "grid cell ids")
    if cw is None:
        cw = crosswalk(grid, cell_id_col, targets, target_code_col)
    values = pd.Series(grid[value_col].to_numpy(), index=ids.to_numpy())
    out = apply_crosswalk(values, cw, kind, min_coverage=min_coverage, method=GRID_METHOD,
                          sliver_share=0)
    codes = target_codes(targets, target_code_col)
    absent = set(codes) - set(out["area_code"])
    if absent:
        raise HarmoniseError(
            f"the crosswalk does not cover {len(absent)} of the targets (e.g. {min(absent)}); "
            "it was built for other boundaries"
        )
    # Keep the caller's order and set of targets.
    out = out.set_index("area_code").reindex(codes.to_numpy()).rename_axis("area_code")
    attrs = out.attrs
    out = out.reset_index()
    out.attrs = attrs
    return out
