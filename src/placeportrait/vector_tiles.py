"""Vector tiles of a boundary set: one PMTiles archive per set, written by GDAL.

The app's map draws areas from these tiles and joins values to them by area code in the
browser (MapLibre feature state), as the ONS's Explore Local Statistics does, so no
geometry is sent with the data and a switch of indicator sends only codes and classes.
The archive is built when the set is loaded and kept in the store beside its areas (table
``area_tiles``, replaced in the same write as the areas), so it can never describe other
boundaries than the set's.

Tiles hold one layer, :data:`LAYER`, with one attribute, ``code``. GDAL's PMTiles driver
(GDAL ≥ 3.8, in pyogrio's wheels) reprojects to Web Mercator, clips and quantises each
tile to a 4096-unit grid and simplifies below the top zoom. Zoom :data:`MAX_ZOOM` has a
grid cell of about 6 m at British latitudes, finer than the 20 m generalisation of the
ONS's "BSC" boundaries, so the map zooms beyond it by scaling (overzoom) without loss.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
from pyogrio import write_dataframe

LAYER = "areas"
MIN_ZOOM = 0
MAX_ZOOM = 10
# Below MAX_ZOOM, GDAL drops vertices within 4 tile units (of 4096) of the line: at the
# national view a ward is a few pixels, and the zoom-4 tiles of the UK's 8,441 wards
# shrink from 336 to 163 KiB, which the browser draws 0.7-1.4 s sooner (bench/first_render).
# MAX_ZOOM itself keeps every vertex, for the close views MapLibre scales it to.
SIMPLIFICATION = {"SIMPLIFICATION": "4", "SIMPLIFICATION_MAX_ZOOM": str(MAX_ZOOM - 1)}
MEDIA_TYPE = "application/vnd.pmtiles"


def build(areas: gpd.GeoDataFrame, *, max_zoom: int = MAX_ZOOM) -> bytes:
    """The PMTiles archive (bytes) of ``areas`` (``code`` + polygon geometry, any CRS).

    Areas without geometry are left out; an empty frame gives an empty archive's bytes
    all the same (GDAL writes the header), so every set has tiles.
    """
    shown = areas.loc[areas.geometry.notna() & ~areas.geometry.is_empty, ["code", "geometry"]]
    with tempfile.TemporaryDirectory(prefix="placeportrait-tiles-") as folder:
        path = Path(folder) / "areas.pmtiles"
        write_dataframe(
            gpd.GeoDataFrame(shown, geometry="geometry", crs=areas.crs), path,
            driver="PMTiles", layer=LAYER,
            dataset_options={"MINZOOM": str(MIN_ZOOM), "MAXZOOM": str(max_zoom), **SIMPLIFICATION},
        )
        return path.read_bytes()
