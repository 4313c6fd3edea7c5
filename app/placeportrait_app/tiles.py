"""The map's geometry: each boundary set's vector tiles, served from the store.

A set's tiles are one PMTiles archive (see :mod:`placeportrait.vector_tiles`) built when
the set was loaded and kept in the store beside its areas; a set loaded before the store
kept tiles has them built here, once per process. Each tile is served on its own, read
from the archive by the ``pmtiles`` package's reader, at
``/_placeportrait/tiles/<set>/<geometry version>/<z>/<x>/<y>.mvt`` (gzipped, as the archive
holds it; 204 where the archive has no tile). So MapLibre's worker fetches and lays out
each tile itself, without a turn of the page's busy main thread between the archive's
header, its directory and the tile (the browser's ``pmtiles`` library needed three,
which put the UK map's first tiles a third of a second later). The versioned URL lets the
browser keep what it fetched for a year; a reload of the set changes the version, so
stale tiles are never asked for. While the store cannot be reached the answer is a 503
with Retry-After (``data.unavailable_response``).
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass

import flask
import numpy as np
import pandas as pd
import shapely
from pmtiles.tile import Compression, deserialize_directory, deserialize_header, zxy_to_tileid

from placeportrait import vector_tiles
from placeportrait_app import compress

ROUTE = "_placeportrait/tiles/"
YEAR = 31536000
log = logging.getLogger(__name__)


MEDIA_TYPE = "application/vnd.mapbox-vector-tile"


@dataclass
class SetTiles:
    archive: bytes  # PMTiles
    bounds: pd.DataFrame  # index code; minx, miny, maxx, maxy (EPSG:4326)
    kept: bool  # False: built here, the store kept none for this load of the set

    def __post_init__(self):
        self.header = deserialize_header(self.archive[:127])
        self._where = _tile_index(self.archive, self.header)

    @property
    def zooms(self) -> tuple[int, int]:
        """The archive's lowest and highest zoom: MapLibre scales the highest beyond."""
        return self.header["min_zoom"], self.header["max_zoom"]

    @property
    def gzipped(self) -> bool:
        return self.header["tile_compression"] == Compression.GZIP

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """Tile z/x/y as the archive holds it (None: no tile there)."""
        if not 0 <= z <= 31 or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
            return None
        where = self._where.get(zxy_to_tileid(z, x, y))
        return None if where is None else self.archive[where[0]:where[0] + where[1]]

    def extent(self, codes) -> list[float] | None:
        """``[west, south, east, north]`` around the areas ``codes`` (None: none known)."""
        b = self.bounds.reindex(list(codes)).dropna()
        if b.empty:
            return None
        return [round(float(v), 5) for v in
                (b["minx"].min(), b["miny"].min(), b["maxx"].max(), b["maxy"].max())]


def _tile_index(archive: bytes, header: dict) -> dict[int, tuple[int, int]]:
    """Where each tile's bytes are in the archive (offset, length), by PMTiles tile id.

    ``pmtiles.reader.Reader.get`` decompresses and parses the root directory on every
    call (5 ms for the UK's wards); reading the directories once makes a tile a lookup.
    """
    where: dict[int, tuple[int, int]] = {}

    def read(offset: int, length: int) -> None:
        for entry in deserialize_directory(archive[offset:offset + length]):
            if entry.run_length == 0:  # a leaf directory
                read(header["leaf_directory_offset"] + entry.offset, entry.length)
            for i in range(entry.run_length):
                where[entry.tile_id + i] = (header["tile_data_offset"] + entry.offset,
                                            entry.length)

    read(header["root_offset"], header["root_length"])
    return where


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
    return SetTiles(archive=archive, bounds=bounds,
                    kept=kept is not None and kept["loaded_at"] == loaded_at)


def source(app, repo, name: str) -> dict:
    """The set's tiles as MapLibre's vector source reads them: the URL template and the
    zooms the archive holds (none is asked for beyond them; MapLibre scales the highest)."""
    low, high = repo.tiles(name).zooms
    path = app.get_relative_path(f"/{ROUTE}{name}/{repo.geometry_version(name)}")
    return {"tiles": [path + "/{z}/{x}/{y}.mvt"], "minzoom": low, "maxzoom": high}


def register(app, repo) -> None:
    """Serve each set's tiles, one request each."""
    prefix = app.config.routes_pathname_prefix

    @app.server.route(f"{prefix}{ROUTE}<name>/<version>/<int:z>/<int:x>/<int:y>.mvt")
    def placeportrait_tile(name: str, version: str, z: int, x: int, y: int):
        if name not in repo.set_names() or version != repo.geometry_version(name):
            return flask.Response("unknown or out-of-date boundary set tiles\n", status=404,
                                  mimetype="text/plain")
        set_tiles = repo.tiles(name)
        tile = set_tiles.tile(z, x, y)
        if tile is None:  # outside the areas, or beyond the archive's zooms: nothing to draw
            response = flask.Response(status=204)
        elif set_tiles.gzipped and not compress.accepts_gzip():
            response = flask.Response(gzip.decompress(tile), mimetype=MEDIA_TYPE)
        else:
            response = flask.Response(tile, mimetype=MEDIA_TYPE)
            if set_tiles.gzipped:
                response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response
