"""Benchmark inputs at national scale, built from the repo's real UK ward sets.

* targets: the 8,441 UK wards (ONS Dec 2023 BSC), from ``tests/data/boundaries``;
* sources: ~35k LSOA-sized polygons. The national LSOA geometry is not in the repo, so
  they are a Voronoi tessellation of four points drawn inside every ward (wards and
  LSOAs are both drawn by population, so the density matches), clipped to the UK —
  synthetic shapes at the real size and count, built once and cached in ``bench/.cache``;
* a 1 km grid over Great Britain in EPSG:27700, clipped to the wards' extent.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
UK_2023 = ROOT / "tests" / "data" / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip"
UK_2019 = ROOT / "tests" / "data" / "boundaries" / "uk_wards_dec2019.gpkg.zip"


def uk_wards() -> gpd.GeoDataFrame:
    wards = gpd.read_file(UK_2023)
    return wards.rename(columns={"WD23CD": "code", "WD23NM": "name", "LAD23CD": "parent_code"})[
        ["code", "name", "parent_code", "geometry"]]


def lsoa_like(wards: gpd.GeoDataFrame, per_ward: int = 4, seed: int = 2011) -> gpd.GeoDataFrame:
    path = CACHE / f"lsoa_like_{per_ward}_{seed}.gpkg"
    if path.exists():
        return gpd.read_file(path)
    CACHE.mkdir(exist_ok=True)
    bng = wards.to_crs(27700)
    points = bng.geometry.sample_points(per_ward, rng=seed).explode(index_parts=False)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(points.values), extend_to=shapely.box(*bng.total_bounds))
    uk = shapely.union_all(shapely.make_valid(bng.geometry.values).tolist(), grid_size=1)
    clipped = shapely.intersection(np.asarray(shapely.get_parts(cells)), uk)
    keep = ~shapely.is_empty(clipped)
    out = gpd.GeoDataFrame({"code": [f"X{i:08d}" for i in range(int(keep.sum()))]},
                           geometry=clipped[keep], crs=27700).to_crs(4326)
    out["value"] = np.random.default_rng(seed).gamma(2.0, 5.0, len(out))
    out.to_file(path)
    return out


def gb_grid_1km(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    bng = wards[~wards["code"].str.startswith("N")].to_crs(27700)
    minx, miny, maxx, maxy = (np.floor(bng.total_bounds / 1000) * 1000).astype(int)
    xs, ys = np.meshgrid(np.arange(minx, maxx + 1000, 1000), np.arange(miny, maxy + 1000, 1000))
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 1000, ys.ravel() + 1000)
    tree = shapely.STRtree(bng.geometry.values)
    hit = np.unique(tree.query(boxes, predicate="intersects")[0])
    grid = gpd.GeoDataFrame({"code": [f"G{i}" for i in range(len(hit))]},
                            geometry=boxes[hit], crs=27700)
    grid["value"] = np.random.default_rng(1).normal(8, 2, len(grid)).clip(1)
    return grid
