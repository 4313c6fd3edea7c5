"""Land conversion and biodiversity: how much of each ward is green space (OS Open Greenspace).

OS Open Greenspace maps the sites of public parks and gardens, playing fields, sports
facilities, golf courses, allotments, cemeteries and religious grounds, and play spaces
across Great Britain. Two shares of the ward's area are computed from it:

* ``greenspace_share`` (land conversion): the area of every green space site, of any
  function, as a share of the ward;
* ``nature_space_share`` (biodiversity loss): only parks and gardens, allotments and
  community growing spaces, cemeteries and religious grounds, the sites with the most
  room for habitat, leaving out pitches, courts, golf courses and play spaces.

How: the plugin cuts the land the source covers into 10 km British National Grid squares
(only squares holding at least one site, clipped to the convex hull of all sites, so an
extract for one authority, or Northern Ireland, which OS Open Greenspace does not cover,
is not read as "no green space"). Each square is split into its green part (value 100) and
the rest (value 0), and the engine takes the area-weighted mean over the ward, which is the
green share of the ward's covered area; the parts of a ward outside that land lower its
coverage instead of counting as grey.

Known limits: farmland, woodland, moorland and private gardens are not in OS Open
Greenspace, so rural and suburban wards look greyer than they are; a site's whole polygon
counts as green, car parks and buildings inside it included.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeportrait import readers
from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C



OS_OPEN_GREENSPACE = ("https://api.os.uk/downloads/v1/products/OpenGreenspace/downloads"
                      "?area=GB&format=GeoPackage&redirect")
TILE = 10_000.0  # metres: the British National Grid 10 km squares

#: OS Open Greenspace site functions (and Trafford Data Lab's regrouped ``site_type``)
#: that count as room for nature in ``nature_space_share``.
NATURE_FUNCTIONS = {
    "public park or garden",
    "allotments or community growing spaces",
    "cemetery",
    "religious grounds",
    "religious ground and cemetries",  # Trafford Data Lab's grouping, spelt as published
}


def read_sites(path: Path) -> gpd.GeoDataFrame:
    """Green space site polygons in EPSG:27700 with a lower-case ``function``."""
    path = Path(path)
    readers.sniff(path)
    layer = None
    if path.suffix.lower() == ".gpkg":
        import pyogrio

        layers = [name for name, _ in pyogrio.list_layers(path)]
        layer = next((n for n in layers if "site" in n.lower()), layers[0])
    try:
        sites = gpd.read_file(path, layer=layer)
    except Exception as exc:
        raise InputError(f"{path}: cannot read green space sites: {exc}") from None
    if sites.crs is None:
        raise InputError(f"{path}: the green space layer has no CRS")
    function = C.column(sites, path, "function", "function_", "site_type")
    sites = sites[sites.geometry.notna() & ~sites.geometry.is_empty]
    geoms = shapely.make_valid(sites.geometry.to_crs(27700).to_numpy())
    geoms = shapely.force_2d(geoms)
    out = gpd.GeoDataFrame({"function": sites[function].astype("string").str.strip()
                            .str.lower().to_numpy()}, geometry=geoms, crs=27700)
    polygonal = out.geometry.geom_type.isin(["Polygon", "MultiPolygon", "GeometryCollection"])
    out = out[polygonal].reset_index(drop=True)
    if out.empty:
        raise InputError(f"{path}: no green space polygons")
    return out


def share_cells(sites: gpd.GeoDataFrame, selected: np.ndarray, period: str) -> gpd.GeoDataFrame:
    """The covered land cut into 10 km squares, each split into its green part (100) and
    the rest (0)."""
    geoms = sites.geometry.to_numpy()
    hull = shapely.convex_hull(shapely.union_all(shapely.envelope(geoms)))
    points = shapely.point_on_surface(geoms)
    squares = sorted(set(zip(np.floor(shapely.get_x(points) / TILE).astype(int),
                             np.floor(shapely.get_y(points) / TILE).astype(int))))
    tree = shapely.STRtree(geoms)
    rows = []
    for tx, ty in squares:
        square = shapely.box(tx * TILE, ty * TILE, (tx + 1) * TILE, (ty + 1) * TILE)
        land = shapely.intersection(square, hull)
        if land.is_empty:
            continue
        near = tree.query(square, predicate="intersects")
        chosen = geoms[near[selected[near]]]
        green = (shapely.intersection(shapely.union_all(chosen), land) if len(chosen)
                 else shapely.Polygon())
        rest = shapely.difference(land, green) if not green.is_empty else land
        tile = f"{tx:03d}{ty:04d}"
        for suffix, value, geom in (("green", 100.0, green), ("other", 0.0, rest)):
            polygons = _polygons(geom)
            if polygons is not None:
                rows.append({"code": f"{tile}:{suffix}", "period": period, "value": value,
                             "geometry": polygons})
    cells = gpd.GeoDataFrame(rows, geometry="geometry", crs=27700) if rows else \
        gpd.GeoDataFrame({"code": [], "period": [], "value": []}, geometry=[], crs=27700)
    return _add_overhangs(cells, geoms[selected], hull, period)


def _polygons(geom):
    """The polygonal parts of a geometry as one MultiPolygon, or None if it has no area."""
    parts = [p for p in shapely.get_parts(geom, return_index=False)
             if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in shapely.get_parts(p) if q.area > 0]
    return shapely.MultiPolygon(flat) if flat else None


def _add_overhangs(cells, chosen, hull, period):
    """Green parts of sites that lie in squares the first pass did not create."""
    if cells.empty or not len(chosen):
        return cells
    covered = shapely.union_all(cells.geometry.to_numpy())
    spill = shapely.difference(shapely.intersection(shapely.union_all(chosen), hull), covered)
    # Slivers under a square metre are rounding along square edges, not land.
    parts = [p for p in shapely.get_parts(spill) if p.geom_type == "Polygon" and p.area > 1.0]
    if not parts:
        return cells
    extra = gpd.GeoDataFrame({"code": [f"overhang{i}:green" for i in range(len(parts))],
                              "period": period, "value": 100.0},
                             geometry=parts, crs=27700)
    return pd.concat([cells, extra], ignore_index=True)


class _GreenShare(IndicatorPlugin):
    def select(self, sites: gpd.GeoDataFrame) -> np.ndarray:
        return np.ones(len(sites), dtype=bool)

    def read(self, path: Path) -> gpd.GeoDataFrame:
        sites = read_sites(path)
        cells = share_cells(sites, self.select(sites), self.meta.periods[0])
        if cells.empty:
            raise InputError(f"{path}: no green space sites to build the share from")
        return cells


_COMMON = {
    "version": "1",
    "ring": "ecological",
    "lens": "local-ecological",
    "unit": "% of ward area",
    "polarity": "higher_is_better",
    "source": {
        "publisher": "Ordnance Survey (OS Open Greenspace)",
        "url": OS_OPEN_GREENSPACE,
        "licence": "Open Government Licence v3.0",
        "attribution": ("Contains OS data © Crown copyright and database right. Contains "
                        "public sector information licensed under the Open Government Licence "
                        "v3.0."),
    },
    "geography": "grid",
    "measure": {"kind": "intensive", "denominator": "area"},
    # OS Open Greenspace is updated continuously; the release date is not in the file.
    "periods": ["latest"],
    "min_coverage": 0.5,
}


class GreenspaceShare(_GreenShare):
    metadata = {
        **_COMMON,
        "id": "greenspace_share",
        "title": "Share of the ward that is green space",
        "description": (
            "Area of all OS Open Greenspace sites (parks, playing fields, sports grounds, golf "
            "courses, allotments, cemeteries, play spaces) as a share of the ward's area: land "
            "kept open rather than converted to buildings and hard surfaces. Great Britain. "
            "Farmland, woodland and private gardens are not counted."),
        "dimension": "land_conversion",
        "threshold": {
            "value": 40, "baseline": 100,
            "citation": ("Natural England (2023) Green Infrastructure Framework, headline "
                         "standards: Urban Greening Factor of 0.4 for residential development, "
                         "i.e. about 40 % green cover. Measured from a baseline of 100 % "
                         "unconverted land, as Fanning & Raworth (2025) measure forest area "
                         "from its original extent; the ratio exceeds 1 (overshoot) below "
                         "40 %."),
        },
    }


class NatureSpaceShare(_GreenShare):
    metadata = {
        **_COMMON,
        "id": "nature_space_share",
        "title": "Share of the ward in parks, gardens, allotments and cemeteries",
        "description": (
            "Area of the OS Open Greenspace sites with the most room for habitat (public parks "
            "and gardens, allotments and community growing spaces, cemeteries and religious "
            "grounds) as a share of the ward's area. A proxy for space for nature: site "
            "condition and protected status are not known. Great Britain."),
        "dimension": "biodiversity_loss",
        "threshold": {
            "value": 30, "baseline": 100,
            "citation": ("Kunming-Montreal Global Biodiversity Framework (CBD COP15, 2022), "
                         "Target 3: at least 30 % of land conserved and managed for nature by "
                         "2030 ('30 by 30'). Measured from a baseline of 100 %, as Fanning & "
                         "Raworth (2025) measure forest area from its original extent."),
        },
    }

    def select(self, sites: gpd.GeoDataFrame) -> np.ndarray:
        return sites["function"].isin(NATURE_FUNCTIONS).to_numpy()
