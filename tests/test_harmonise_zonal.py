"""Zonal statistics: the Defra PM2.5 1 km grid over Trafford onto the 2023 wards.

The grid is used twice: as polygons (``zonal_grid``, exact intersections) and burnt
into a GeoTIFF in a temporary directory (``zonal_raster``, exactextract). The two
paths share no code, so their agreement is a real check.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise import RESULT_COLUMNS, zonal_grid, zonal_raster

DATA = Path(__file__).parent / "data"
NODATA = -9999.0


def wards23() -> gpd.GeoDataFrame:
    g = gpd.read_file(DATA / "trafford" / "ward_2023_trafford_ward_generalised.geojson")
    g = g.rename(columns={"area_code": "code", "area_name": "name"})
    g["parent_code"] = "E08000009"
    return g[["code", "name", "parent_code", "geometry"]]


def pm25() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "grid" / "background_air_pollution.geojson")


def rasterise(grid: gpd.GeoDataFrame, values, path: Path, *, crs=None) -> Path:
    """Burn 1 km cells into an aligned EPSG:27700 GeoTIFF; cells not in the grid are nodata.

    The published cells are British National Grid kilometre squares stored in lon/lat;
    projected back they sit within a millimetre of whole kilometres, which is checked.
    """
    import rasterio
    from rasterio.transform import from_origin

    cells = grid.to_crs(27700)
    b = cells.bounds
    assert np.allclose(b.to_numpy() / 1000, np.round(b.to_numpy() / 1000), atol=1e-5)
    x0, y1 = round(b["minx"].min()), round(b["maxy"].max())
    ncol = round((b["maxx"].max() - x0) / 1000)
    nrow = round((y1 - b["miny"].min()) / 1000)
    arr = np.full((nrow, ncol), NODATA)
    cols = np.round((b["minx"] - x0) / 1000).astype(int)
    rows = np.round((y1 - b["maxy"]) / 1000).astype(int)
    arr[rows, cols] = np.where(np.isnan(values), NODATA, values)
    with rasterio.open(
        path, "w", driver="GTiff", width=ncol, height=nrow, count=1, dtype="float64",
        crs=crs if crs is not None else "EPSG:27700", transform=from_origin(x0, y1, 1000, 1000),
        nodata=NODATA,
    ) as ds:
        ds.write(arr, 1)
    return path


def by_code(r):
    return r.set_index("area_code")


def test_grid_constant_field_gives_the_constant():
    grid = pm25().assign(value=7.0)
    r = zonal_grid(grid, wards23(), cell_id_col="id", min_coverage=0)
    assert list(r.columns) == RESULT_COLUMNS and len(r) == 21
    assert list(r["area_code"]) == list(wards23()["code"])
    np.testing.assert_allclose(r["value"], 7.0, atol=1e-12)
    assert (r["method"] == "zonal_grid").all()


def test_grid_one_ward_by_hand_with_shapely():
    """Sale Central (E05015256): each cell's intersection with the ward, summed by hand."""
    ward_code = "E05015256"
    wards = wards23()
    ward = wards.loc[wards["code"] == ward_code].to_crs(27700).geometry.iloc[0]
    grid = pm25()
    num = den = 0.0
    touching = 0
    for cell, v in zip(grid.to_crs(27700).geometry, grid["value"]):
        a = cell.intersection(ward).area
        if a > 0:
            num, den, touching = num + v * a, den + a, touching + 1
    row = by_code(zonal_grid(grid, wards, cell_id_col="id", min_coverage=0)).loc[ward_code]
    assert row["value"] == pytest.approx(num / den, rel=1e-12)
    assert row["coverage"] == pytest.approx(den / ward.area, rel=1e-12)
    assert row["source_rows"] == touching
    assert grid["value"].min() <= row["value"] <= grid["value"].max()


def test_wards_reaching_past_the_grid_have_partial_coverage():
    r = by_code(zonal_grid(pm25(), wards23(), cell_id_col="id", min_coverage=0))
    # 7.6 km2 of Trafford's 106 km2 of wards lies outside the 103 cells.
    assert r["coverage"].min() < 0.95 and r["coverage"].max() == pytest.approx(1.0)
    low = r["coverage"].idxmin()
    strict = by_code(zonal_grid(pm25(), wards23(), cell_id_col="id", min_coverage=0.99))
    assert np.isnan(strict.loc[low, "value"])
    assert strict.loc[low, "coverage"] == r.loc[low, "coverage"]


def test_raster_matches_the_exact_polygon_path(tmp_path):
    grid = pm25()
    tif = rasterise(grid, grid["value"].to_numpy(), tmp_path / "pm25.tif")
    ras = by_code(zonal_raster(tif, wards23(), min_coverage=0))
    pol = by_code(zonal_grid(grid, wards23(), cell_id_col="id", min_coverage=0))
    assert (ras["method"] == "zonal_raster").all()
    # Equal up to the sub-millimetre misalignment of the published cells.
    np.testing.assert_allclose(ras["value"], pol["value"].reindex(ras.index), rtol=1e-6)
    np.testing.assert_allclose(ras["coverage"], pol["coverage"].reindex(ras.index), rtol=1e-5)
    np.testing.assert_array_equal(ras["source_rows"], pol["source_rows"].reindex(ras.index))


def test_raster_constant_gives_the_constant(tmp_path):
    grid = pm25()
    tif = rasterise(grid, np.full(len(grid), 9.5), tmp_path / "const.tif")
    r = zonal_raster(tif, wards23(), min_coverage=0)
    np.testing.assert_allclose(r["value"], 9.5, atol=1e-12)


def test_raster_nodata_is_no_data_not_zero(tmp_path):
    grid = pm25()
    wards = wards23()
    ward_code = "E05015256"
    ward = wards.loc[wards["code"] == ward_code].geometry.iloc[0]
    inside = grid.intersects(ward).to_numpy()
    values = grid["value"].to_numpy().copy()
    values[inside] = np.nan
    tif = rasterise(grid, values, tmp_path / "holes.tif")
    for kind in ("intensive", "extensive"):
        r = by_code(zonal_raster(tif, wards, kind=kind, min_coverage=0))
        # exactextract's sum over nothing is 0; here it must be no data.
        assert np.isnan(r.loc[ward_code, "value"]) and r.loc[ward_code, "coverage"] == 0
    # Neighbours sharing a blanked cell keep a value from their other cells.
    pol = by_code(zonal_grid(grid.assign(value=values), wards, cell_id_col="id", min_coverage=0))
    ras = by_code(zonal_raster(tif, wards, min_coverage=0))
    np.testing.assert_allclose(ras["value"], pol["value"].reindex(ras.index), rtol=1e-6)


def test_raster_extensive_sums_cell_fractions(tmp_path):
    """A raster of 1 per cell summed over a ward is the ward's area in km2 inside the grid."""
    grid = pm25()
    tif = rasterise(grid, np.ones(len(grid)), tmp_path / "ones.tif")
    r = by_code(zonal_raster(tif, wards23(), kind="extensive", min_coverage=0))
    cells = shapely.union_all(grid.to_crs(27700).geometry.to_numpy())
    expected = wards23().to_crs(27700).set_index("code").intersection(cells).area / 1e6
    np.testing.assert_allclose(r["value"], expected.reindex(r.index), rtol=1e-5)


def test_raster_guards(tmp_path):
    grid = pm25()
    tif = rasterise(grid, grid["value"].to_numpy(), tmp_path / "pm.tif")
    with pytest.raises(HarmoniseError, match="no CRS"):
        zonal_raster(tif, wards23().set_crs(None, allow_override=True))
    with pytest.raises(HarmoniseError, match="bands"):
        zonal_raster(tif, wards23(), band=2)
    with pytest.raises(HarmoniseError, match="cannot read raster"):
        zonal_raster(tmp_path / "missing.tif", wards23())

    import rasterio

    bare = tmp_path / "bare.tif"
    with rasterio.open(tif) as src:
        profile = src.profile | {"crs": None}
        data = src.read(1)
    with rasterio.open(bare, "w", **profile) as dst:
        dst.write(data, 1)
    with pytest.raises(HarmoniseError, match="has no CRS"):
        zonal_raster(bare, wards23())


def test_grid_crs_mismatch_is_an_error():
    with pytest.raises(HarmoniseError, match="CRS mismatch"):
        zonal_grid(pm25().to_crs(27700), wards23(), cell_id_col="id")
