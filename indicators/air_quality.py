"""Air pollution: Defra background PM2.5 concentrations on the 1 km grid.

Defra's Local Air Quality Management background maps give the annual mean PM2.5
concentration for every 1 km square of the UK (British National Grid). This plugin reads

* Defra's own CSV layout: title lines, then a header with ``Local_Auth_Code``, ``x``, ``y``
  (the centre of the 1 km square, EPSG:27700) and ``Total_PM2.5_<yy>`` (the total of all
  sources for year 20yy); the squares are rebuilt as polygons around their centres; or
* a polygon grid (GeoJSON, GeoPackage...) with a ``value`` column, as Trafford Data Lab
  republishes the map for Trafford.

The grid is averaged over each ward by zonal statistics, weighted by the area of each
square inside the ward; parts of a ward outside the grid lower its coverage.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeportrait import readers
from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C



TRAFFORD_GRID = ("https://raw.githubusercontent.com/traffordDataLab/climate_emergency/"
                 "7f38ab9/data/background_air_pollution.geojson")
CELL = 1000.0  # metres


def read_defra_csv(path: Path) -> gpd.GeoDataFrame:
    """Defra's background-map CSV: 1 km squares rebuilt around their centres."""
    skip = C.header_row(path, ("x", "y", "total_pm2.5"))
    frame = C.read_table(path, skip_rows=skip)
    value_col = C.column(frame, path, "Total_PM2.5", prefix=True)
    year = re.search(r"_(\d{2,4})$", value_col)
    x = C.number(frame, C.column(frame, path, "x"), path, header_rows=skip + 1)
    y = C.number(frame, C.column(frame, path, "y"), path, header_rows=skip + 1)
    value = C.number(frame, value_col, path, header_rows=skip + 1)
    if x.isna().any() or y.isna().any():
        raise InputError(f"{path}: a grid square has no x or y")
    half = CELL / 2
    cells = shapely.box(x - half, y - half, x + half, y + half)
    period = ""
    if year:
        period = year[1] if len(year[1]) == 4 else f"20{year[1]}"
    return gpd.GeoDataFrame({
        "code": [f"{int(a)}_{int(b)}" for a, b in zip(x, y)],
        "period": period,
        "value": value.to_numpy(),
    }, geometry=cells, crs=27700)


def read_polygon_grid(path: Path, default_period: str) -> gpd.GeoDataFrame:
    readers.sniff(path)
    try:
        grid = gpd.read_file(path)
    except Exception as exc:  # pyogrio's errors
        raise InputError(f"{path}: cannot read as a polygon grid: {exc}") from None
    if grid.crs is None:
        raise InputError(f"{path}: the grid has no CRS")
    value_col = C.column(grid, path, "value", "Total_PM2.5", "pm25", prefix=True)
    ident = C.column(grid, path, "id", "code", "index", required=False)
    codes = (grid[ident].astype(str) if ident else pd.Series(np.arange(len(grid)).astype(str)))
    return gpd.GeoDataFrame({
        "code": codes.to_numpy(),
        "period": default_period,
        "value": readers.to_number(grid[value_col].astype("string"), column=value_col,
                                   path=path).to_numpy(),
    }, geometry=grid.geometry.to_numpy(), crs=grid.crs)


class BackgroundPM25(IndicatorPlugin):
    metadata = {
        "id": "pm25_background",
        "title": "Background PM2.5 concentration",
        "description": (
            "Annual mean background concentration of fine particulate matter (PM2.5, all "
            "sources) from Defra's Local Air Quality Management background maps, 1 km British "
            "National Grid squares, averaged over each ward weighted by the area of each "
            "square inside it. UK (the maps cover the UK; the demo uses Trafford Data Lab's "
            "extract for Trafford, 2017). Background, not roadside, concentrations."),
        "version": "1",
        "ring": "ecological",
        "dimension": "air_pollution",
        "lens": "local-ecological",
        "unit": "µg/m³",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 5, "baseline": 0,
            "citation": ("WHO global air quality guidelines (2021): PM2.5 annual mean "
                         "5 µg/m³ (World Health Organization, ISBN 978-92-4-003422-8)."),
        },
        "source": {
            "publisher": "Department for Environment, Food & Rural Affairs (via Trafford Data "
                         "Lab for the Trafford extract)",
            "url": TRAFFORD_GRID,
            "licence": "Open Government Licence v3.0",
            "attribution": ("Contains public sector information licensed under the Open "
                            "Government Licence v3.0. © Crown copyright, Defra, via "
                            "uk-air.defra.gov.uk (LAQM background maps). Contains OS data © "
                            "Crown copyright and database right."),
        },
        "geography": "grid",
        "measure": {"kind": "intensive", "denominator": "area"},
        "periods": ["2017"],
        "min_coverage": 0.5,
    }

    def read(self, path: Path) -> gpd.GeoDataFrame:
        path = Path(path)
        if path.suffix.lower() in (".csv", ".txt"):
            grid = read_defra_csv(path)
            if not grid["period"].iloc[0]:
                grid["period"] = self.meta.periods[0]
        else:
            grid = read_polygon_grid(path, self.meta.periods[0])
        if (grid["value"] < 0).any():
            raise InputError(f"{path}: negative PM2.5 concentrations")
        return grid.reset_index(drop=True)
