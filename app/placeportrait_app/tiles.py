"""The map's geometry: each boundary set's vector tiles, served from the store.

A set's tiles are one PMTiles archive (see :mod:`placeportrait.vector_tiles`) built when
the set was loaded and kept in the store beside its areas; a set loaded before the store
kept tiles has them built here, once per process. The archive is served whole at
``/_placeportrait/tiles/<set>/<geometry version>.pmtiles`` with HTTP range requests, which
the browser's ``pmtiles`` library uses to fetch each tile it needs, so no tile server runs
and a tile costs one small request. The versioned URL lets the browser keep what it
fetched for a year; a reload of the set changes the version, so stale tiles are never
asked for. While the store cannot be reached the answer is a 503 with Retry-After
(``data.unavailable_response``).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

import flask
import numpy as np
import pandas as pd
import shapely

from placeportrait import vector_tiles

ROUTE = "_placeportrait/tiles/"
YEAR = 31536000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetTiles:
    archive: bytes  # PMTiles
    etag: str
    bounds: pd.DataFrame  # index code; minx, miny, maxx, maxy (EPSG:4326)
    kept: bool  # False: built here, the store kept none for this load of the set

    def extent(self, codes) -> list[float] | None:
        """``[west, south, east, north]`` around the areas ``codes`` (None: none known)."""
        b = self.bounds.reindex(list(codes)).dropna()
        if b.empty:
            return None
        return [round(float(v), 5) for v in
                (b["minx"].min(), b["miny"].min(), b["maxx"].max(), b["maxy"].max())]


def set_tiles(store, name: str) -> SetTiles:
    """The set's tiles as the store keeps them (or built now) and its areas' bounds."""
    areas = store.read_areas(name)
    kept = store.read_tiles(name)
    loaded_at = store.boundary_set(name)["loaded_at"]
    if kept is not None and kept["loaded_at"] == loaded_at:
        archive = kept["tiles"]
    else:
        log.info("boundary set %s has no stored tiles (loaded before the store kept them): "
                 "building them now; reload the set to keep them", name)
        archive = vector_tiles.build(areas)
    has = areas.geometry.notna() & ~areas.geometry.is_empty
    bounds = pd.DataFrame(shapely.bounds(areas.geometry.values[has.to_numpy()])
                          if has.any() else np.empty((0, 4)),
                          index=pd.Index(areas.loc[has, "code"], name="code"),
                          columns=["minx", "miny", "maxx", "maxy"])
    return SetTiles(archive=archive, etag=hashlib.sha1(archive).hexdigest()[:16],
                    bounds=bounds, kept=kept is not None and kept["loaded_at"] == loaded_at)


def url(app, repo, name: str) -> str:
    """The URL the browser reads a set's tiles from."""
    return app.get_relative_path(f"/{ROUTE}{name}/{repo.geometry_version(name)}.pmtiles")


def register(app, repo) -> None:
    """Serve each set's PMTiles archive, with byte ranges."""
    prefix = app.config.routes_pathname_prefix

    @app.server.route(f"{prefix}{ROUTE}<name>/<version>.pmtiles")
    def placeportrait_tiles(name: str, version: str):
        if name not in repo.set_names() or version != repo.geometry_version(name):
            return flask.Response("unknown or out-of-date boundary set tiles\n", status=404,
                                  mimetype="text/plain")
        tiles = repo.tiles(name)
        response = flask.send_file(io.BytesIO(tiles.archive), mimetype=vector_tiles.MEDIA_TYPE,
                                   conditional=True, etag=tiles.etag, max_age=YEAR)
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response
