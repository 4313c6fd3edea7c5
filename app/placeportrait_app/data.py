"""Read-only, cached queries on the store.

The app never writes: it reaches the store only through :class:`ReadOnlyStore`, which
exposes the store's read methods and nothing else, and a PostGIS session is opened with
``default_transaction_read_only``. Everything the app derives from a boundary set (its
tidy table, metrics, map layers, vector tiles) is cached under the set's *version*: a
hash of its ``loaded_at``, its latest run ``finished_at``, its latest ``scored_at`` and the
latest indicator ``updated_at``. The version is re-read at most every ``ttl`` seconds, so a
new load or a re-score shows up without a restart.

When the store cannot be reached (the database is down or restarting, the GeoPackage file
is missing or unreadable), every read raises :class:`StoreUnavailableError` with a one-line
message for the page. Nothing is cached from a failed read, and the PostGIS pool checks
each connection before use, so the first request after the store is back works again.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from contextlib import contextmanager

import numpy as np
import pandas as pd
import sqlalchemy as sa

from placeportrait import dimensions, doughnut, export, trends
from placeportrait.doughnut import latest_rows
from placeportrait.errors import InputError, StoreError, StoreUnavailableError
from placeportrait.store import open_store, schema
from placeportrait_app import fmt
from placeportrait_app import metrics as metric_lib
from placeportrait_app.routes import LATEST, Known, SetCatalog

# Levels whose areas can name a ward set's parents (local authorities).
AUTHORITY_LEVELS = {"lad", "ltla", "utla", "la", "local_authority", "authority", "county", "cty"}
WARD_LEVELS = {"ward", "wd", "electoral_ward"}


def is_ward_level(level) -> bool:
    """Whether a boundary set's ``level`` says its areas are wards."""
    return str(level).lower() in WARD_LEVELS


TABLE_COLUMNS = [*export.COLUMNS, "loaded_at", "rank_ties", "geography", "nation_has_data",
                 "nation_rank_ties"]


log = logging.getLogger("placeportrait.app")

# What the page says while the store cannot be reached.
UNAVAILABLE = {
    "postgis": "The database is not reachable just now; the page will work again when it is "
               "back. Try again in a moment.",
    "geopackage": "The store file is missing or cannot be read just now; the page will work "
                  "again when it is back. Try again in a moment.",
}


class ReadOnlyStore:
    """The read side of a :class:`placeportrait.store.Store`; writes are not reachable.

    Every read turns the driver's "cannot reach the store" errors into
    :class:`StoreUnavailableError` (see :meth:`reachable`).
    """

    READS = ("kind", "location", "describe", "exists", "engine", "schema_version",
             "require_current", "boundary_sets", "boundary_set", "read_areas",
             "read_area_table", "read_indicators", "read_values", "read_scores", "runs",
             "read_local_dimensions", "read_references", "read_similar_wards",
             "read_series_breaks", "read_tiles", "read_source_values",
             "read_ward_context")

    def __init__(self, store):
        self._store = store
        # A GeoPackage that vanishes later is unavailable; one never there is just empty.
        self._file = getattr(store, "path", None) if store.kind == "geopackage" else None
        if self._file is not None and not store.exists():
            self._file = None
        if store.kind == "postgis":
            _read_only_sessions(store.engine())

    def __getattr__(self, name):
        if name not in self.READS:
            raise AttributeError(f"the placeportrait app is read-only: store.{name} is not available")
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def read(*args, **kwargs):
            with self.reachable():
                return attr(*args, **kwargs)
        return read

    @contextmanager
    def reachable(self):
        """Raise :class:`StoreUnavailableError` in place of an error that means the store
        cannot be reached; let every other error through."""
        message = UNAVAILABLE[self._store.kind]
        try:
            yield
        except Exception as exc:
            if isinstance(exc, StoreUnavailableError) and str(exc) == message:
                raise  # already said
            if isinstance(exc, StoreUnavailableError) or self._unreachable(exc):
                raise StoreUnavailableError(message) from exc
            raise

    @contextmanager
    def connect(self):
        """A read connection, for the app's own queries."""
        with self.reachable(), self._store.engine().connect() as conn:
            yield conn

    def _unreachable(self, exc: Exception) -> bool:
        if isinstance(exc, sa.exc.DBAPIError):
            if exc.connection_invalidated or isinstance(
                    exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
                return True  # refused, dropped, server shutting down or starting up
            exc = exc.orig
        if isinstance(exc, sqlite3.DatabaseError):  # "unable to open", "not a database"
            return True
        if type(exc).__module__.startswith("psycopg"):
            import psycopg

            return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))
        if self._file is not None:  # the GeoPackage was there when the app started
            import pyogrio

            return (isinstance(exc, (OSError, pyogrio.errors.DataSourceError))
                    or not os.access(self._file, os.R_OK))
        return False


def unavailable_reason(exc: BaseException) -> str:
    """One line for the log: the driver's own words behind a StoreUnavailableError."""
    cause = getattr(exc.__cause__, "orig", None) or exc.__cause__ or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def unavailable_response(exc: StoreUnavailableError):
    """The Flask answer to a request the store could not serve: 503, Retry-After and the
    one-line message as plain text (registered for every route by ``create_app``)."""
    import flask

    log.warning("store unavailable for %s: %s", flask.request.path, unavailable_reason(exc))
    response = flask.Response(f"{exc}\n", status=503, mimetype="text/plain")
    response.headers["Retry-After"] = str(exc.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def _read_only_sessions(engine: sa.Engine) -> None:
    """Every PostGIS connection the app opens refuses writes."""

    @sa.event.listens_for(engine, "connect")
    def _set_read_only(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
        dbapi_connection.commit()

    engine.dispose()  # connections opened before the listener are dropped


class _Memo:
    """A small thread-safe LRU: compute outside the lock, keep the newest ``size`` values.

    One computation per key at a time: callbacks that fire together on a new view (the map,
    the panel) ask for the same layer, and a second thread waits for the first's answer
    rather than computing it again beside it, which under the GIL slowed both.
    """

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._pending: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self.on_warm: Callable | None = None  # e.g. build the map layers too (callbacks)

    def get(self, key: Hashable, compute: Callable):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = Future()
                pending.set_running_or_notify_cancel()
                owner = True
            else:
                owner = False
        if not owner:
            return pending.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            del self._pending[key]
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        pending.set_result(value)
        return value

    def clear(self):
        with self._lock:
            self._items.clear()


def _digest(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:12]


TIDY_COLUMNS = [*export.COLUMNS, "geography"]


def load_tables(store, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy scores of a set (``export.tidy_scores``): the latest period per indicator,
    with each ward's authority, nation and set means and ranks, and the load date
    (:func:`shown_table`); and every period of the indicators that have more than one
    (their series), sorted by code."""
    try:
        table = export.tidy_scores(store, name, TIDY_COLUMNS)
    except InputError:  # no scores yet
        return pd.DataFrame(columns=TABLE_COLUMNS), pd.DataFrame(columns=TIDY_COLUMNS)
    several = table.groupby("indicator")["period"].transform("nunique") > 1
    series = table.loc[several].reset_index(drop=True)
    return shown_table(store, latest_rows(table)), series


def as_of_table(store, latest: pd.DataFrame, series: pd.DataFrame, year: int) -> pd.DataFrame:
    """The set as it stood in ``year`` (:func:`placeportrait.trends.as_of`), from the
    tables :func:`load_tables` keeps: no second read of the store."""
    single = latest.loc[~latest["indicator"].isin(series["indicator"].unique()), TIDY_COLUMNS]
    every = pd.concat([single, series], ignore_index=True)
    shown = trends.as_of(every, year).sort_values(["area_code", "indicator"], kind="stable")
    return shown_table(store, shown.reset_index(drop=True))


def shown_table(store, table: pd.DataFrame) -> pd.DataFrame:
    """The rows shown (one period per indicator) with their load date, tie counts and
    whether the nation has data."""
    runs = store.runs()
    finished = dict(zip(runs["run_id"], runs["finished_at"])) if not runs.empty else {}
    table["loaded_at"] = table["run_id"].map(finished)
    # how many areas share each rank, so a tie reads "=1 of 21" as in the reports
    table["rank_ties"] = table.groupby(["indicator", "rank"], dropna=False)["area_code"].transform("size")
    table["nation_has_data"] = doughnut.nation_has_data(table)
    table["nation_rank_ties"] = doughnut.nation_rank_ties(table)
    for column in TABLE_COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    return table[TABLE_COLUMNS].reset_index(drop=True)


class Repository:
    """Cached read-only access to one store for the app's callbacks."""

    def __init__(self, store, *, ttl: float = 2.0, default_set: str | None = None):
        self.store = store if isinstance(store, ReadOnlyStore) else ReadOnlyStore(store)
        self.ttl = ttl
        self.configured_set = default_set
        self._memo = _Memo(512)
        self._versions: dict[str, tuple[float, str | None, str | None]] = {}
        self._sets: tuple[float, pd.DataFrame | None] = (0.0, None)
        self._scored: tuple[float, set[str] | None] = (0.0, None)
        self._lock = threading.Lock()
        self.period = LATEST  # the portrait as it stands now, or as it stood in a year
        self._base = self

    def at(self, period: str | None) -> Repository:
        """This repository showing each set as it stood in ``period`` (a year: each
        indicator's latest period ending in or before it, :func:`placeportrait.trends.as_of`),
        or as it stands now (``latest``). Both share one cache."""
        if not period or period == LATEST:
            return self._base
        view = copy.copy(self._base)
        view.period = period
        return view

    @classmethod
    def open(cls, url: str | None = None, **kwargs) -> Repository:
        return cls(open_store(url), **kwargs)

    @staticmethod
    def answer_unavailable(server) -> None:
        """Answer every request the store could not serve with a 503 (see
        :func:`unavailable_response`) instead of a 500 and a traceback."""
        server.register_error_handler(StoreUnavailableError, unavailable_response)

    def check(self) -> None:
        """Raise a one-line StoreError if the store is missing, empty or out of date."""
        try:
            self.store.require_current()
            if self.configured_set is not None:
                self.store.boundary_set(self.configured_set)  # UnknownNameError names the known ones
        except StoreUnavailableError as exc:  # at start-up, name the store and the reason
            if isinstance(exc.__cause__, StoreError):
                raise exc.__cause__ from None
            raise StoreError(f"cannot read {self.store.describe()}: "
                             f"{unavailable_reason(exc)}") from None

    # -- versions ----------------------------------------------------------------------
    def sets(self) -> pd.DataFrame:
        checked, frame = self._sets
        if frame is None or time.monotonic() - checked > self.ttl:
            frame = self.store.boundary_sets()
            self._sets = (time.monotonic(), frame)
        return frame

    def area_noun(self, name: str) -> tuple[str, str]:
        """("a ward", "wards") for a set of wards, else ("an area", "areas"): what the
        map's legend and caption call the set's areas."""
        level = self.sets().set_index("name")["level"].get(name)
        return ("a ward", "wards") if is_ward_level(level) else ("an area", "areas")

    def set_names(self) -> tuple[str, ...]:
        return tuple(self.sets()["name"])

    def _read_version(self, name: str) -> tuple[str | None, str | None]:
        b, r, s, i = (schema.boundary_sets.c, schema.runs.c, schema.score_thresholds.c,
                      schema.indicators.c)
        query = sa.select(
            sa.select(b.loaded_at).where(b.name == name).scalar_subquery(),
            sa.select(sa.func.max(r.finished_at)).where(r.boundary_set == name).scalar_subquery(),
            sa.select(sa.func.max(s.scored_at)).where(s.boundary_set == name).scalar_subquery(),
            sa.select(sa.func.max(i.updated_at)).scalar_subquery(),
        )
        with self.store.connect() as conn:
            loaded, finished, scored, updated = conn.execute(query).one()
        if loaded is None:
            return None, None
        return _digest(name, loaded, finished, scored, updated), _digest(name, loaded)

    def _version_pair(self, name: str) -> tuple[str | None, str | None]:
        hit = self._versions.get(name)
        now = time.monotonic()
        if hit is None or now - hit[0] > self.ttl:
            version, geometry = self._read_version(name)
            hit = (now, version, geometry)
            self._versions[name] = hit
        return hit[1], hit[2]

    def version(self, name: str) -> str | None:
        """The data version of a set (None if the set is gone)."""
        return self._version_pair(name)[0]

    def geometry_version(self, name: str) -> str | None:
        """Changes only when the set's boundaries are reloaded."""
        return self._version_pair(name)[1]

    def memo(self, key: Hashable, compute: Callable):
        """Cache ``compute()`` under ``key`` (include the set's version in it)."""
        return self._memo.get(key, compute)

    def _cached(self, kind: str, name: str, compute: Callable, *args, geometry: bool = False):
        if geometry:  # the same boundaries in every period's view
            return self._memo.get((kind, name, self.geometry_version(name), *args), compute)
        return self._memo.get((kind, name, self.version(name), self.period, *args), compute)

    # -- what exists ---------------------------------------------------------------------
    def scored_sets(self) -> set[str]:
        checked, found = self._scored
        if found is None or time.monotonic() - checked > self.ttl:
            s = schema.score_thresholds.c  # a row per indicator and period scored
            with self.store.connect() as conn:
                found = {row[0] for row in conn.execute(sa.select(s.boundary_set).distinct())}
            self._scored = (time.monotonic(), found)
        return found

    def default_set(self) -> str | None:
        names = self.set_names()
        if not names:
            return None
        if self.configured_set in names:
            return self.configured_set
        sets = self.sets()
        scored = self.scored_sets()
        ranked = sorted(sets.itertuples(), key=lambda r: (r.name not in scored,
                                                          not is_ward_level(r.level),
                                                          r.name))
        return ranked[0].name

    def known(self) -> Known:
        return Known(sets=self.set_names(), default_set=self.default_set(), catalog=self.catalog)

    def catalog(self, name: str) -> SetCatalog:
        def compute():
            areas = self.areas(name)
            return SetCatalog(
                name=name,
                metrics={m.id: m.label for m in self.metrics(name).values()},
                wards=dict(zip(areas["code"], areas["name"].fillna(areas["code"]))),
                authorities=self.authorities(name),
                periods=self.periods(name),
            )
        return self._base._cached("catalog", name, compute)

    def periods(self, name: str) -> dict[str, str]:
        """``latest`` and each year the portrait can be seen as it stood then."""
        def compute():
            years = trends.years_with_series(self._base._tables(name)[1])
            return {LATEST: "Latest", **{str(y): f"As of {y}" for y in years}}
        return self._base._cached("periods", name, compute)

    def set_meta(self, name: str) -> dict:
        frame = self.sets()
        row = frame.loc[frame["name"] == name]
        return row.iloc[0].to_dict() if len(row) else {}

    # -- tables ---------------------------------------------------------------------------
    def areas(self, name: str) -> pd.DataFrame:
        """code, name, level, parent_code, area_m2 of every area, sorted by code."""
        return self._cached("areas", name, lambda: self.store.read_area_table(name))

    def table(self, name: str) -> pd.DataFrame:
        """Tidy scores with provenance, one period per indicator: the latest, or the
        latest in or before the view's year (see :func:`load_tables`)."""
        latest, series = self._tables(name)
        if self.period == LATEST:
            return latest
        return self._cached("table", name, lambda: as_of_table(self.store, latest, series,
                                                                int(self.period)))

    def _tables(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self._base._cached("tables", name, lambda: load_tables(self.store, name))

    def ward_series(self, name: str, code: str) -> pd.DataFrame:
        """Every period of the ward's indicators that have several (:func:`load_tables`)."""
        series = self._tables(name)[1]
        codes = self._base._cached("series-codes", name, lambda: series["area_code"].to_numpy())
        a, b = np.searchsorted(codes, code, "left"), np.searchsorted(codes, code, "right")
        return series.iloc[a:b]

    def series_breaks(self, name: str) -> pd.DataFrame:
        return self._cached("breaks", name, self.store.read_series_breaks)

    def metrics(self, name: str) -> dict[str, metric_lib.Metric]:
        """What the map can show: the same in every period (an indicator without data in
        an earlier year is no data there)."""
        base = self._base
        return base._cached("metrics", name, lambda: metric_lib.catalogue(
            base.table(name), base.extra_dimensions(name)))

    def extra_dimensions(self, name: str) -> tuple:
        """The council dimensions in the set's data, as the store recorded them."""
        def compute():
            found = self.table(name)[["dimension", "ring"]].drop_duplicates()
            return dimensions.extra_for(found.itertuples(index=False),
                                        self.store.read_local_dimensions())
        return self._cached("extra-dimensions", name, compute)

    def dimension_table(self, name: str) -> pd.DataFrame:
        return self._cached("dimensions", name, lambda: metric_lib.dimension_table(
            self.table(name), self.extra_dimensions(name)))

    def summary_table(self, name: str) -> pd.DataFrame:
        return self._cached("summary", name, lambda: metric_lib.summary_table(self.table(name)))

    def metric_values(self, name: str, metric_id: str) -> pd.DataFrame:
        """value/status/display for every area of the set, indexed by code."""
        def compute():
            metric = self.metrics(name)[metric_id]
            dims = self.dimension_table(name) if metric.kind == "dimension" else None
            summary = self.summary_table(name) if metric.kind == "summary" else None
            return metric_lib.values(metric, self.table(name), dims, summary,
                                     self.areas(name)["code"])
        return self._cached("values", name, compute, metric_id)

    def _codes(self, name: str) -> np.ndarray:
        """The table's area codes (the table is sorted by code), for slicing by ward."""
        return self._cached("codes", name, lambda: self.table(name)["area_code"].to_numpy())

    def ward_rows(self, name: str, code: str) -> pd.DataFrame:
        """The tidy rows of one area (one per indicator)."""
        codes = self._codes(name)
        a, b = np.searchsorted(codes, code, "left"), np.searchsorted(codes, code, "right")
        return self.table(name).iloc[a:b]

    def ward_wedges(self, name: str, code: str) -> list[dict]:
        """The wedges of a ward's doughnut (:func:`placeportrait.doughnut.wedge_records`,
        as the reports draw them)."""
        return doughnut.wedge_records(self.ward_rows(name, code), self.extra_dimensions(name),
                                      percent=fmt.percent)

    def neighbours(self, name: str, code: str):
        """The ward's similar wards (:func:`placeportrait.similar_wards.neighbours`)."""
        from placeportrait import similar_wards

        profiles = self._cached("profiles", name, lambda: similar_wards.context_table(
            self.store.read_ward_context(name)))
        return similar_wards.neighbours(self._similar(name), profiles, self.areas(name), code,
                                        self.authority_names())

    def no_neighbours_reason(self, name: str, code: str) -> str:
        from placeportrait import similar_wards

        return similar_wards.missing_reason(self._similar(name), code)

    def _similar(self, name: str) -> pd.DataFrame:
        return self._cached("similar", name, lambda: self.store.read_similar_wards(name))

    def authorities(self, name: str) -> dict[str, str]:
        """Parent code -> label, named from any authority-level set in the store."""
        def compute():
            codes = sorted(self.areas(name)["parent_code"].dropna().unique())
            names = self.authority_names()
            return {c: (f"{names[c]} ({c})" if c in names else c) for c in codes}
        return self._cached("authorities", name, compute, self._sets_key())

    def authority_names(self) -> dict[str, str]:
        """ONS's names of the authorities (shipped with the reports), overridden by any
        authority-level set in the store."""
        def compute():
            from placeportrait.report.content import shipped_authority_names

            found: dict[str, str] = dict(shipped_authority_names())
            for row in self.sets().itertuples():
                if str(row.level).lower() in AUTHORITY_LEVELS:
                    table = self.store.read_area_table(row.name)
                    found.update(zip(table["code"], table["name"].fillna(table["code"])))
            return found
        return self._memo.get(("authority-names", self._sets_key()), compute)

    def _sets_key(self) -> tuple:
        frame = self.sets()
        return tuple(zip(frame["name"], frame["loaded_at"]))

    def authority_name(self, code) -> str:
        """An authority's name alone (``Trafford``), or its code when none is known."""
        if not isinstance(code, str) or not code:
            return "its authority"
        return self.authority_names().get(code, code)

    def authority_label(self, name: str, code) -> str:
        if not isinstance(code, str) or not code:
            return "no authority"
        return self.authorities(name).get(code, code)

    # -- geometry -----------------------------------------------------------------------------
    def tiles(self, name: str):
        """The set's vector tiles and area bounds (see :mod:`placeportrait_app.tiles`)."""
        from placeportrait_app import tiles

        return self._cached("tiles", name, lambda: tiles.set_tiles(self.store, name),
                            geometry=True)

    def source_values(self, name: str, indicator: str) -> pd.DataFrame:
        """An indicator's values as published for small areas, kept by its runs onto the
        set (see :mod:`placeportrait.inside_ward`)."""
        return self._cached("source-values", name,
                            lambda: self.store.read_source_values(name, indicator), indicator)

    def small_areas(self, name: str):
        """The areas of a set of small areas (code, geometry in EPSG:27700, with its spatial
        index built), read and projected once per load of the set."""
        def compute():
            areas = self.store.read_areas(name)[["code", "geometry"]].to_crs(schema.AREA_CRS)
            areas.sindex  # built once here, not again for every ward
            return areas
        return self._cached("small-areas", name, compute, geometry=True)

    def full_geometry(self, name: str, codes):
        """Store geometry (not simplified) of some areas, for downloads."""
        return self.store.read_areas(name, codes=list(codes))

    # -- search ---------------------------------------------------------------------------------
    def search(self, name: str, term: str, limit: int = 20) -> list[dict]:
        """Wards whose name or code contains ``term`` (names starting with it first)."""
        term = (term or "").strip().lower()[:100]
        if len(term) < 2:
            return []
        areas = self.areas(name)
        names = areas["name"].fillna("").str.lower()
        codes = areas["code"].str.lower()
        hit = names.str.contains(term, regex=False) | codes.str.contains(term, regex=False)
        found = areas.loc[hit].assign(_starts=~names[hit].str.startswith(term))
        found = found.sort_values(["_starts", "name", "code"]).head(limit)
        return [{"label": f"{r.name} ({r.code}) · {self.authority_label(name, r.parent_code)}",
                 "value": r.code} for r in found.itertuples()]

    def warm(self, name: str | None, *, background: bool = True) -> threading.Thread | None:
        """Compute a set's caches before the first request asks for them.

        The table, geometry and first metric are computed now; the other metrics, the
        dimension tables and the doughnut scores follow in a daemon thread (or now, with
        ``background=False``), so no user waits for them later.
        """
        if not name:
            return None
        self.table(name)
        self.tiles(name)
        self.known()
        metric_ids = list(self.metrics(name))
        if metric_ids:
            self.metric_values(name, metric_ids[0])

        def rest():
            try:
                for metric_id in metric_ids:
                    self.metric_values(name, metric_id)
                if self.on_warm:
                    self.on_warm(name, metric_ids)
            except StoreUnavailableError as exc:  # best effort; requests recompute
                log.warning("warming %s stopped: %s", name, unavailable_reason(exc))
            except Exception:
                log.exception("warming %s failed", name)

        if not background:
            rest()
            return None
        thread = threading.Thread(target=rest, name=f"warm-{name}", daemon=True)
        thread.start()
        return thread
