"""A locator map of a ward within its authority, as SVG drawn from the stored geometries.

No basemap tiles and nothing fetched: the authority's wards are projected to the British
National Grid (EPSG:27700, metres, so shapes are true), simplified to about one pixel,
and written as SVG paths. The ward is filled dark blue, its neighbours light grey, and
the authority is outlined. A scale bar and a north arrow finish it.
"""

from __future__ import annotations

from html import escape

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

WARD_FILL = "#0072B2"  # Okabe-Ito blue
OTHER_FILL = "#E4E4E4"
OUTLINE = "#1A1A1A"
WIDTH = 300.0  # viewBox units of the map frame
PAD = 8.0
BNG = "EPSG:27700"


def _rings_path(geom: BaseGeometry, transform) -> str:
    """SVG path data for a (Multi)Polygon's rings; holes are drawn with evenodd."""
    parts = []
    for polygon in getattr(geom, "geoms", [geom]):
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            coords = [transform(x, y) for x, y in ring.coords]
            if len(coords) < 3:
                continue
            head = f"M{coords[0][0]:.1f},{coords[0][1]:.1f}"
            body = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords[1:-1])
            parts.append(f"{head} L{body} Z")
    return " ".join(parts)


def _polygons(geom: BaseGeometry) -> BaseGeometry:
    """Keep only polygonal parts (make_valid can leave lines in a collection)."""
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polys) if polys else shapely.Polygon()
    return geom


def _nice_length(metres: float) -> float:
    """The largest 1-2-5 length not above ``metres``."""
    if metres <= 0:
        return 0.0
    magnitude = 10 ** int(f"{metres:e}".split("e")[1])
    for step in (5, 2, 1):
        if step * magnitude <= metres:
            return step * magnitude
    return magnitude


class Prepared:
    """The part of a locator map that is the same for every ward of an authority: its
    areas projected, simplified and written as path data, the outline, the frame and the
    scale bar. :func:`prepare` makes it once; :func:`render` highlights one ward on it."""

    __slots__ = ("bar_label", "bar_units", "height", "outline", "paths", "width")

    def __init__(self, paths, outline, width, height, bar_units, bar_label):
        self.paths = paths  # [(code, path data)], in the frame's order
        self.outline = outline
        self.width, self.height = width, height
        self.bar_units, self.bar_label = bar_units, bar_label


def prepare(areas: gpd.GeoDataFrame) -> Prepared:
    """Project, simplify and trace ``areas`` (``code`` and ``geometry``, any CRS)."""
    frame = areas[["code", "geometry"]].copy()
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame = frame.to_crs(BNG)
    minx, miny, maxx, maxy = frame.total_bounds
    span = max(maxx - minx, maxy - miny, 1.0)
    scale = (WIDTH - 2 * PAD) / span
    width = (maxx - minx) * scale + 2 * PAD
    height = (maxy - miny) * scale + 2 * PAD
    tolerance = 0.6 / scale  # about half a unit of the drawing

    def transform(x, y):
        return (x - minx) * scale + PAD, (maxy - y) * scale + PAD

    simplified = frame.geometry.simplify(tolerance, preserve_topology=True).map(_polygons)
    frame = frame.assign(geometry=simplified)
    outline = _polygons(shapely.union_all(shapely.make_valid(frame.geometry.values)))
    outline = outline.simplify(tolerance, preserve_topology=True)

    bar_m = _nice_length(span * 0.3)
    bar_label = f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m"
    paths = [(row.code, _rings_path(row.geometry, transform)) for row in frame.itertuples()]
    return Prepared(paths, _rings_path(outline, transform), width, height, bar_m * scale, bar_label)


N_ADVANCE = 1532 / 2048  # the advance of "N" in DejaVu Sans, the reports' font, per em


def render(areas: gpd.GeoDataFrame | None, code: str, *, ward_name: str, authority: str,
           id_prefix: str = "loc", prepared: Prepared | None = None, for_pdf: bool = False) -> str:
    """SVG of ``code`` among ``areas`` (the authority's wards, any CRS with one set).

    ``areas`` needs ``code`` and ``geometry``; the ward must be among them. ``prepared``
    (from :func:`prepare`) replaces ``areas`` when drawing many wards of one authority.
    ``for_pdf=True`` draws the same map with fewer elements for WeasyPrint: the other
    wards as one path (each ward's white edge is drawn either way) and the "N" placed by
    its advance rather than centred by ``text-anchor``, which WeasyPrint draws as a form
    of its own.
    """
    p = escape(id_prefix)
    if prepared is None:
        prepared = prepare(areas)
    width, height = prepared.width, prepared.height
    bar_units, bar_label = prepared.bar_units, prepared.bar_label
    legend_h = 26
    total_h = height + legend_h

    title = f"Locator map: {ward_name} within {authority}"
    desc = (f"{ward_name} ({code}) highlighted in blue among the {len(prepared.paths)} areas of "
            f"{authority} drawn in grey; north is up; scale bar {bar_label}.")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.1f} {total_h:.1f}" '
        f'width="{width:.0f}" height="{total_h:.0f}" role="img" class="locator" '
        f'aria-labelledby="{p}-title {p}-desc" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">',
        f'<title id="{p}-title">{escape(title)}</title>',
        f'<desc id="{p}-desc">{escape(desc)}</desc>',
        f'<g fill="{OTHER_FILL}" stroke="#FFFFFF" stroke-width="0.8" stroke-linejoin="round">',
    ]
    ward_path = ""
    others = []
    for area_code, d in prepared.paths:
        if not d:
            continue
        if area_code == code:
            ward_path = d
            continue
        others.append(d)
    if for_pdf and others:
        out.append(f'<path d="{" ".join(others)}" fill-rule="evenodd"/>')
    else:
        out.extend(f'<path d="{d}" fill-rule="evenodd"/>' for d in others)
    out.append("</g>")
    if ward_path:
        out.append(f'<path d="{ward_path}" fill="{WARD_FILL}" fill-rule="evenodd" stroke="{OUTLINE}" '
                   f'stroke-width="1" stroke-linejoin="round"><title>{escape(ward_name)}</title></path>')
    out.append(f'<path d="{prepared.outline}" fill="none" stroke="{OUTLINE}" '
               f'stroke-width="1.2" fill-rule="evenodd" stroke-linejoin="round"/>')
    # North arrow, top right.
    nx, ny = width - PAD - 6, PAD + 4
    out.append(f'<path d="M{nx:.1f},{ny:.1f} l-5,13 l5,-4 l5,4 Z" fill="{OUTLINE}"/>')
    if for_pdf:
        out.append(f'<text x="{nx - N_ADVANCE * 9 / 2:.2f}" y="{ny + 24:.1f}" font-size="9" '
                   f'fill="{OUTLINE}">N</text>')
    else:
        out.append(f'<text x="{nx:.1f}" y="{ny + 24:.1f}" font-size="9" text-anchor="middle" '
                   f'fill="{OUTLINE}">N</text>')
    # Scale bar, under the map.
    sy = height + 10
    out.append(f'<path d="M{PAD:.1f},{sy:.1f} v5 h{bar_units:.1f} v-5" fill="none" '
               f'stroke="{OUTLINE}" stroke-width="1.2"/>')
    out.append(f'<text x="{PAD + bar_units + 5:.1f}" y="{sy + 6:.1f}" font-size="10" '
               f'fill="{OUTLINE}">{escape(bar_label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
