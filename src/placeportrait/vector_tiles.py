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

import multiprocessing
import tempfile
import uuid
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import geopandas as gpd
from pyogrio import set_gdal_config_options, write_dataframe

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
    # GDAL's MVT writer (under the PMTiles one) stages features in a temporary SQLite
    # database; in memory that takes a third less time for England's 35,672 LSOAs
    # (bench/results/national_refresh.md). The PMTiles driver passes the option on but
    # does not list it, hence the warning silenced here.
    staging = f"/vsimem/placeportrait-tiles-{uuid.uuid4().hex}.db"
    with tempfile.TemporaryDirectory(prefix="placeportrait-tiles-") as folder:
        path = Path(folder) / "areas.pmtiles"
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "driver PMTiles does not support creation option")
            write_dataframe(
                gpd.GeoDataFrame(shown, geometry="geometry", crs=areas.crs), path,
                driver="PMTiles", layer=LAYER,
                dataset_options={"MINZOOM": str(MIN_ZOOM), "MAXZOOM": str(max_zoom),
                                 "TEMPORARY_DB": staging, **SIMPLIFICATION},
            )
        return path.read_bytes()


def _one_thread() -> None:
    """GDAL's tile writer uses every core by default; alongside a refresh that would take
    the core the refresh runs on. On one thread it spends a quarter less CPU in all
    (no contention, no system time) and still finishes long before the plugins."""
    set_gdal_config_options({"GDAL_NUM_THREADS": "1"})


class BuiltAlongside:
    """Tiles built in a second process while this one goes on, then kept in the store.

    A refresh that loads national source geometry (35,672 LSOAs, ...) would otherwise wait
    about a minute for their tiles before running any plugin, on a machine whose second
    core sits idle. Use as a context manager around the work: :meth:`later` replaces a set
    without tiles and queues them; :meth:`submit` gives the second process other work
    (a refresh's crosswalks, which its first plugins need), run before the queued tiles;
    :meth:`start` sends the tiles after it. On a clean exit each archive is attached to the
    load it was built for (:meth:`~placeportrait.store.base.Store.attach_tiles`), so a set
    reloaded meanwhile never gets another load's tiles. On an error nothing is attached,
    and the app builds a set's tiles itself when it finds none, as for a set loaded before
    tiles were kept.
    """

    def __init__(self, store, report):
        self.store, self.report = store, report
        self.queued: list[tuple[str, str, gpd.GeoDataFrame]] = []
        self.pending: list[tuple[str, str, Future]] = []
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> BuiltAlongside:
        return self

    def later(self, meta: dict, areas: gpd.GeoDataFrame) -> None:
        """Replace a set now (:meth:`Store.replace_boundary_set`) and queue its tiles."""
        loaded_at = self.store.replace_boundary_set(meta, areas, tiles=False)
        self._second_process()
        shown = gpd.GeoDataFrame(areas[["code"]], geometry=areas.geometry.values, crs=areas.crs)
        self.queued.append((meta["name"], loaded_at, shown))

    def submit(self, fn, *args) -> Future:
        """``fn(*args)`` in the second process (both picklable), before queued tiles."""
        return self._second_process().submit(fn, *args)

    def _second_process(self) -> ProcessPoolExecutor:
        if self.pool is None:  # spawn: a fork would copy this process's open connections
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_one_thread)
            # the pool starts its process on the first task: start it now, so its imports
            # (two seconds) overlap the loading of the other sets
            self.pool.submit(_one_thread)
        return self.pool

    def start(self) -> None:
        """Send the queued tiles to the second process."""
        for name, loaded_at, shown in self.queued:
            self.pending.append((name, loaded_at, self.submit(build, shown)))
        self.queued.clear()

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self.start()
                for name, loaded_at, future in self.pending:
                    self._attach(name, loaded_at, future)
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)

    def _attach(self, name: str, loaded_at: str, future: Future) -> None:
        try:
            archive = future.result()
        except Exception as exc:  # noqa: BLE001 - the set is loaded; only its tiles are lost
            self.report(f"source geometry: tiles of {name!r} not kept ({exc}); the app builds "
                        "them when it first shows the set")
            return
        if not self.store.attach_tiles(name, loaded_at, archive):
            self.report(f"source geometry: tiles of {name!r} not kept: the set was reloaded "
                        "meanwhile")
