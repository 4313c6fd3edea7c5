"""Display geometry: simplified once per boundary set, sent once, cached by the browser.

Boundaries are simplified in EPSG:27700 (metres) with ``shapely.coverage_simplify``, which
keeps the edges neighbouring wards share identical (no slivers between wards); sets that
are not a clean coverage fall back to ``simplify(preserve_topology=True)``. Coordinates are
then rounded to 4 decimal places (about 10 m). The result is served as one GeoJSON file at
``/_placeportrait/geometry/<set>/<geometry version>.geojson``: the map figure references it
by URL, so indicator switches never resend geometry, and the versioned URL lets the
browser keep it for a year (a reload of the set changes the version). While the store
cannot be reached the answer is a 503 with Retry-After (``data.unavailable_response``).
"""

from __future__ import annotations

import gzip
import json
import warnings
from dataclasses import dataclass

import flask
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

TOLERANCE_M = 100.0
DECIMALS = 4
ROUTE = "_placeportrait/geometry/"


@dataclass(frozen=True)
class DisplayGeometry:
    geojson: bytes  # FeatureCollection, feature id = area code, no properties
    gzipped: bytes
    etag: str
    bounds: pd.DataFrame  # index code; minx, miny, maxx, maxy (EPSG:4326)
    features: dict  # code -> GeoJSON geometry string, for the highlight outline
    coordinates: int

    def subset(self, codes) -> dict:
        """A FeatureCollection of a few areas (the selected ward's outline)."""
        feats = [{"type": "Feature", "id": c, "geometry": json.loads(self.features[c])}
                 for c in codes if c in self.features]
        return {"type": "FeatureCollection", "features": feats}

    def view(self, codes, width: int = 620, height: int = 560) -> dict:
        """Map centre and zoom that fit the areas ``codes`` into a width × height map."""
        b = self.bounds.reindex(list(codes)).dropna()
        if b.empty:
            return {"center": {"lon": -2.5, "lat": 54.5}, "zoom": 4.2}
        minx, miny, maxx, maxy = b["minx"].min(), b["miny"].min(), b["maxx"].max(), b["maxy"].max()

        def merc(lat):
            return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))

        lon_span = max(maxx - minx, 1e-4)
        y_span = max(merc(maxy) - merc(miny), 1e-6)
        zoom_x = np.log2(360.0 * width / (512.0 * lon_span))
        zoom_y = np.log2(2 * np.pi * height / (512.0 * y_span))
        zoom = float(np.clip(min(zoom_x, zoom_y) - 0.25, 1.0, 15.0))
        lat_c = np.degrees(2 * np.arctan(np.exp((merc(maxy) + merc(miny)) / 2)) - np.pi / 2)
        return {"center": {"lon": round(float((minx + maxx) / 2), 5), "lat": round(float(lat_c), 5)},
                "zoom": round(zoom, 2)}


def simplify(geoms: gpd.GeoSeries, tolerance: float = TOLERANCE_M) -> gpd.GeoSeries:
    """Simplify in metres (EPSG:27700), keeping shared edges, and return EPSG:4326."""
    metric = geoms.to_crs(27700)
    values = metric.values
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            simple = shapely.coverage_simplify(values, tolerance)
        if shapely.is_empty(simple).any() or not shapely.is_valid(simple).all():
            raise ValueError("not a clean coverage")
    except (shapely.errors.GEOSException, ValueError, AttributeError):
        simple = shapely.simplify(values, tolerance, preserve_topology=True)
    # keep the original where simplification lost an area altogether
    lost = shapely.is_empty(simple) | pd.isna(simple)
    simple = np.where(lost, values, simple)
    return gpd.GeoSeries(simple, index=geoms.index, crs=27700).to_crs(4326)


def display_geometry(areas: gpd.GeoDataFrame, tolerance: float = TOLERANCE_M) -> DisplayGeometry:
    """Build the display GeoJSON of a set's areas (``code`` + ``geometry``)."""
    areas = areas[areas.geometry.notna() & ~areas.geometry.is_empty]
    geoms = simplify(areas.geometry, tolerance) if len(areas) else areas.geometry
    rounded = shapely.transform(geoms.values, lambda c: np.round(c, DECIMALS))
    texts = shapely.to_geojson(rounded) if len(areas) else []
    codes = list(areas["code"])
    features = dict(zip(codes, texts))
    body = ",".join(f'{{"type":"Feature","id":{json.dumps(c)},"geometry":{t}}}'
                    for c, t in zip(codes, texts))
    raw = f'{{"type":"FeatureCollection","features":[{body}]}}'.encode()
    bounds = pd.DataFrame(shapely.bounds(rounded) if len(areas) else np.empty((0, 4)),
                          index=pd.Index(codes, name="code"),
                          columns=["minx", "miny", "maxx", "maxy"])
    import hashlib

    return DisplayGeometry(
        geojson=raw, gzipped=gzip.compress(raw, 6, mtime=0),
        etag=hashlib.sha1(raw).hexdigest()[:16], bounds=bounds, features=features,
        coordinates=int(shapely.get_num_coordinates(rounded).sum()) if len(areas) else 0)


def url(app, repo, name: str) -> str:
    """The URL the browser fetches a set's display geometry from."""
    return app.get_relative_path(f"/{ROUTE}{name}/{repo.geometry_version(name)}.geojson")


def register(app, repo) -> None:
    """Serve each set's display GeoJSON (gzipped when the browser accepts it)."""
    server = app.server
    prefix = app.config.routes_pathname_prefix

    @server.route(f"{prefix}{ROUTE}<name>/<version>.geojson")
    def placeportrait_geometry(name: str, version: str):
        if name not in repo.set_names() or version != repo.geometry_version(name):
            return flask.Response("unknown or out-of-date boundary set geometry\n", status=404,
                                  mimetype="text/plain")
        geo = repo.geometry(name)
        if flask.request.if_none_match.contains(geo.etag):
            return flask.Response(status=304)
        gzip_ok = "gzip" in flask.request.headers.get("Accept-Encoding", "")
        response = flask.Response(geo.gzipped if gzip_ok else geo.geojson,
                                  mimetype="application/geo+json")
        if gzip_ok:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
        response.set_etag(geo.etag)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
