"""The store interface, and the SQL both backends share."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from contextlib import contextmanager
from datetime import datetime, timezone

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from placeportrait.config import StoreLocation
from placeportrait.errors import StoreError, UnknownNameError
from placeportrait import vector_tiles
from placeportrait.store import migrations, schema

SET_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
AREA_COLUMNS = ["code", "name", "level", "parent_code", "area_m2"]


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def has_own_table(conn: Connection, name: str) -> bool:
    """Whether the store's own schema has the table.

    PostgreSQL's plain ``has_table`` also sees tables elsewhere on the ``search_path``
    (e.g. ``public``), which would mix two stores in one database.
    """
    insp = sa.inspect(conn)
    return insp.has_table(name, schema=insp.default_schema_name)


def check_set_name(name: str) -> str:
    """Boundary set names are lower-case slugs; they end up in file and layer names."""
    if not isinstance(name, str) or not SET_NAME.match(name):
        raise UnknownNameError(
            f"invalid boundary set name {name!r}: use lower-case letters, digits, '.', '_' or '-'"
        )
    return name


SCORE_COLUMNS = ["boundary_set", "area_code", "indicator", "period", "ring", "dimension",
                 "value", "threshold", "baseline", "threshold_source", "ratio", "shortfall",
                 "overshoot", "status", "scored_at"]


def _score_terms(scores: pd.DataFrame) -> pd.DataFrame:
    """``boundary_set, indicator, period, threshold, baseline, threshold_source``: what
    each indicator's scores of a period were scored against. One row each: a period
    scored against two thresholds is refused, since one row could not say which."""
    key = ["boundary_set", "indicator", "period"]
    terms = scores[[*key, "threshold", "baseline", "threshold_source"]].drop_duplicates()
    twice = terms.duplicated(key, keep=False)
    if twice.any():
        first = terms.loc[twice].iloc[0]
        raise StoreError(f"scores of {first['indicator']} for {first['period']} use more "
                         "than one threshold; score each indicator against one")
    return terms


def _scope(table: sa.Table, boundary_set: str, indicator: str | None = None,
           periods=None) -> list:
    """WHERE clauses for ``table``'s rows of a set, of one indicator and of some periods
    (each where given): what a run or a scoring replaces."""
    c = table.c
    return [c.boundary_set == boundary_set,
            *([] if indicator is None else [c.indicator == indicator]),
            *([] if periods is None else [c.period.in_(periods)])]


def _crosswalk_scope(fingerprint: str, boundary_set: str) -> list:
    """WHERE clauses of one cached crosswalk: a source geometry onto a boundary set."""
    c = schema.crosswalks.c
    return [c.source_fingerprint == fingerprint, c.boundary_set == boundary_set]


def _frame(result, table: sa.Table) -> pd.DataFrame:
    """A result as a DataFrame; plain tuples build one 5× faster than Row objects, and
    one ``fetchall`` saves psycopg a Python call per row (3-4 s of 1.7 million rows)."""
    return pd.DataFrame.from_records([tuple(row) for row in result.fetchall()],
                                     columns=[c.name for c in table.columns])


class Store(ABC):
    """One schema, two backends: PostGIS and the embedded GeoPackage.

    Reads go through ``engine()``; every write is one atomic unit: it either lands
    whole or leaves the store as it was.
    """

    kind: str

    def __init__(self, location: StoreLocation):
        self.location = location

    # -- backend hooks -------------------------------------------------------------
    @abstractmethod
    def engine(self) -> Engine:
        """An engine for reading."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the store has been created at all."""

    @contextmanager
    def batch(self):
        """Writes within land together where the backend gains by it (the GeoPackage);
        on PostGIS each write is already its own cheap transaction."""
        yield self

    @abstractmethod
    def _apply_migrations(self, todo: list[migrations.Migration]) -> None:
        """Create the tables of ``todo`` and record them, atomically."""

    @abstractmethod
    def _write_boundary_set(self, meta: dict, areas: gpd.GeoDataFrame,
                            tiles: dict | None = None) -> None:
        """Replace one boundary set, its areas and its tiles in one atomic unit (no
        tiles: as a release before they were kept would)."""

    @abstractmethod
    def _read_areas_frame(self, name: str) -> gpd.GeoDataFrame:
        """All areas of a set, with geometry in EPSG:4326."""

    @abstractmethod
    def _write(self):
        """Context manager yielding a Connection in one atomic write unit."""

    def _serialise(self, conn: Connection, *key: str) -> None:
        """Within a write: wait until no other write of the same ``key`` is in progress.

        The GeoPackage serialises every write with its file lock, so this is a no-op
        there; PostGIS overrides it with a transaction-scoped advisory lock, so two runs
        of one indicator replace its rows one after the other instead of both inserting.
        """

    def _replace_rows(self, conn, table: sa.Table, frame: pd.DataFrame, scope: list) -> None:
        """Within a write: make ``table``'s rows matching ``scope`` (WHERE clauses) exactly
        the rows of ``frame``, each of which matches it. Here, by deleting and inserting;
        a backend overrides this where another way is faster."""
        conn.execute(sa.delete(table).where(*scope))
        self._insert_frame(conn, table, frame)

    def _insert_frame(self, conn, table: sa.Table, frame: pd.DataFrame, then: str = "") -> None:
        """Insert every row of ``frame`` (columns named as ``table``'s) in one executemany;
        ``then`` is SQL that follows the VALUES clause (an ON CONFLICT clause).

        Values go through each column type's bind processor, as SQLAlchemy would, without
        building a dict per row (3-4× faster on a national set). NaN is stored as NULL.
        """
        if frame.empty:
            return
        columns = list(frame.columns)
        dialect = conn.dialect
        data = []
        for name in columns:
            series = frame[name]
            cells = series.astype(object).where(series.notna(), None).tolist()
            process = table.c[name].type.bind_processor(dialect)
            if process is not None:
                cells = [None if c is None else process(c) for c in cells]
            data.append(cells)
        marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
                             f"{then}", list(zip(*data)))

    def describe(self) -> str:
        return f"{self.kind} store at {self.location.display()}"

    # -- schema ----------------------------------------------------------------------
    def applied_versions(self) -> set[int]:
        if not self.exists():
            return set()
        with self.engine().connect() as conn:
            if not has_own_table(conn, "schema_migrations"):
                return set()
            rows = conn.execute(sa.select(schema.schema_migrations.c.version))
            return {r[0] for r in rows}

    def schema_version(self) -> int:
        """The highest applied migration, 0 for an empty store."""
        return max(self.applied_versions(), default=0)

    def init(self, target: int = migrations.LATEST) -> list[migrations.Migration]:
        """Create the store or upgrade it in place; returns the migrations applied."""
        applied = self.applied_versions()
        if applied and max(applied) > migrations.LATEST:
            raise StoreError(
                f"{self.describe()} is at schema version {max(applied)}, newer than this "
                f"placeportrait ({migrations.LATEST}); upgrade placeportrait"
            )
        todo = migrations.pending(applied, target)
        if todo:
            self._apply_migrations(todo)
        return todo

    def require_current(self) -> None:
        version = self.schema_version()
        if version == 0:
            raise StoreError(f"{self.describe()} is empty: run `placeportrait db init` and load "
                             "boundaries (or `placeportrait demo`)")
        if version != migrations.LATEST:
            raise StoreError(
                f"{self.describe()} is at schema version {version}, expected "
                f"{migrations.LATEST}: run `placeportrait db init`"
            )

    @staticmethod
    def _record_migrations(conn: Connection, todo: list[migrations.Migration]) -> None:
        conn.execute(
            sa.insert(schema.schema_migrations),
            [{"version": m.version, "description": m.description, "applied_at": utcnow()}
             for m in todo],
        )

    def status(self) -> dict:
        """Schema version, pending migrations and row counts, for ``db status``."""
        applied = self.applied_versions()
        out = {
            "store": self.describe(),
            "exists": self.exists(),
            "schema_version": max(applied, default=0),
            "latest_version": migrations.LATEST,
            "pending": [m.version for m in migrations.pending(applied)],
            "counts": {},
        }
        if applied:
            with self.engine().connect() as conn:
                for m in migrations.MIGRATIONS:
                    for name in m.tables:
                        if name != "schema_migrations" and has_own_table(conn, name):
                            count = conn.execute(
                                sa.select(sa.func.count()).select_from(schema.metadata.tables[name])
                            ).scalar_one()
                            out["counts"][name] = count
        return out

    # -- boundary sets -----------------------------------------------------------------
    def boundary_sets(self) -> pd.DataFrame:
        """Every boundary set, one row each."""
        self.require_current()
        with self.engine().connect() as conn:
            query = sa.select(schema.boundary_sets).order_by(schema.boundary_sets.c.name)
            return pd.DataFrame(conn.execute(query).mappings().all(),
                                columns=[c.name for c in schema.boundary_sets.columns])

    def boundary_set(self, name: str) -> dict:
        check_set_name(name)
        self.require_current()
        with self.engine().connect() as conn:
            row = conn.execute(
                sa.select(schema.boundary_sets).where(schema.boundary_sets.c.name == name)
            ).mappings().first()
        if row is None:
            known = ", ".join(self.boundary_sets()["name"]) or "none loaded"
            raise UnknownNameError(f"no boundary set {name!r} (known: {known})")
        return dict(row)

    def replace_boundary_set(self, meta: dict, areas: gpd.GeoDataFrame, *,
                             tiles: bool = True) -> str:
        """Load ``areas`` as boundary set ``meta['name']``, replacing any set of that name;
        returns the load's ``loaded_at``.

        ``areas`` has columns ``code, name, level, parent_code, area_m2, geometry``
        (MultiPolygon, EPSG:4326). Atomic: a failure leaves the previous set intact.
        ``tiles=False`` leaves the set's vector tiles to a later :meth:`attach_tiles`
        (until then the app builds them itself, as for a set loaded before tiles were kept).
        """
        check_set_name(meta["name"])
        self.init()
        meta = {**meta, "loaded_at": utcnow(), "area_count": len(areas)}
        kept = None
        if tiles:
            kept = self._tiles_row(meta["name"], meta["loaded_at"], vector_tiles.build(areas))
        self._write_boundary_set(meta, areas, kept)
        return meta["loaded_at"]

    @staticmethod
    def _tiles_row(name: str, loaded_at: str, archive: bytes) -> dict:
        return {"boundary_set": name, "loaded_at": loaded_at,
                "media_type": vector_tiles.MEDIA_TYPE, "tiles": archive}

    def attach_tiles(self, name: str, loaded_at: str, archive: bytes) -> bool:
        """Keep ``archive`` as the vector tiles of set ``name`` as loaded at ``loaded_at``.

        Returns False, writing nothing, when the set has since been reloaded or removed:
        tiles of other boundaries are never kept.
        """
        b, t = schema.boundary_sets.c, schema.area_tiles
        with self._write() as conn:
            self._serialise(conn, "boundary_set", name)
            now = conn.execute(sa.select(b.loaded_at).where(b.name == name)).scalar()
            if now != loaded_at:
                return False
            conn.execute(sa.delete(t).where(t.c.boundary_set == name))
            conn.execute(sa.insert(t), [self._tiles_row(name, loaded_at, archive)])
        return True

    @staticmethod
    def _insert_set_rows(conn: Connection, meta: dict, tiles: dict | None) -> None:
        """Within a write: the set's metadata row and its vector tiles."""
        conn.execute(sa.insert(schema.boundary_sets), [meta])
        if tiles is not None:
            conn.execute(sa.insert(schema.area_tiles), [tiles])

    def read_tiles(self, name: str) -> dict | None:
        """The set's vector tiles (``loaded_at``, ``media_type``, ``tiles`` bytes), or None
        for a set loaded before the store kept tiles."""
        self.require_current()
        t = schema.area_tiles
        with self.engine().connect() as conn:
            row = conn.execute(sa.select(t.c.loaded_at, t.c.media_type, t.c.tiles)
                               .where(t.c.boundary_set == name)).mappings().first()
        return None if row is None else {**row, "tiles": bytes(row["tiles"])}

    @staticmethod
    def _delete_set_rows(conn: Connection, name: str) -> None:
        """Within a write: drop a set's areas, cached crosswalks and metadata row."""
        for table in (schema.crosswalks, schema.ward_context, schema.similar_wards,
                      schema.area_tiles, schema.areas):
            # a store at an older schema has no crosswalks or context yet
            if has_own_table(conn, table.name):
                conn.execute(sa.delete(table).where(table.c.boundary_set == name))
        conn.execute(sa.delete(schema.boundary_sets).where(schema.boundary_sets.c.name == name))

    def delete_boundary_set(self, name: str) -> None:
        """Remove a set, its areas and everything derived from it, atomically."""
        self.boundary_set(name)  # raises if unknown
        with self._write() as conn:
            for table in (schema.scores, schema.score_thresholds, schema.indicator_values,
                          schema.reference_values, schema.source_values):
                conn.execute(sa.delete(table).where(table.c.boundary_set == name))
            self._delete_set_rows(conn, name)

    # -- load runs and indicator values ----------------------------------------------------
    def start_run(self, *, plugin: str, plugin_version: str, boundary_set: str,
                  source: str | None) -> str:
        """Record a run as ``running``; returns its id. Committed on its own, so a
        killed run stays visible (and is marked failed by ``mark_interrupted_runs``)."""
        import os
        import socket
        import uuid

        self.require_current()
        run_id = str(uuid.uuid4())
        with self._write() as conn:
            conn.execute(sa.insert(schema.runs), [{
                "run_id": run_id, "plugin": plugin, "plugin_version": plugin_version,
                "boundary_set": boundary_set, "source": source, "started_at": utcnow(),
                "status": "running", "host": socket.gethostname(), "pid": os.getpid(),
            }])
        return run_id

    def fail_run(self, run_id: str, message: str, source_checksum: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(sa.update(schema.runs).where(schema.runs.c.run_id == run_id).values(
                status="failed", finished_at=utcnow(), messages=message,
                source_checksum=source_checksum))

    def commit_values(self, run_id: str, boundary_set: str, indicator: str,
                      values: pd.DataFrame, *, source_checksum: str | None, messages: str,
                      indicator_meta: dict | None = None,
                      scores: pd.DataFrame | None = None,
                      local_dimension: dict | None = None,
                      references: pd.DataFrame | None = None,
                      source_values: pd.DataFrame | None = None) -> None:
        """Replace an indicator's values for the periods in ``values`` and mark the run
        succeeded, in one atomic unit: readers see the old values or the new, never a mix.

        ``values`` has columns ``area_code, period, value, unit, method, coverage,
        source_rows, flags``; a NaN value is stored as NULL (no data). ``scores``, the
        same rows scored (:func:`placeportrait.scoring.score_new_values`), replace the
        indicator's scores for those periods in the same unit, so scores never describe
        values that are gone. ``local_dimension`` (``id, label, ring``) records the
        council dimension the indicator belongs to, if it is not one of Raworth's.
        ``references`` (:func:`placeportrait.references.for_run`) replace the indicator's
        authority and nation values for those periods. ``source_values`` (``source_set,
        source_code, period, value``: the source's rows as published for small areas, see
        :mod:`placeportrait.inside_ward`) replace those kept for those periods.
        """
        periods = sorted(values["period"].unique())

        def of_run(table: sa.Table, frame: pd.DataFrame | None):
            """``frame``'s rows of these periods, as rows of ``table``, and their scope."""
            scope = _scope(table, boundary_set, indicator, periods)
            if frame is None or not len(frame):
                return pd.DataFrame(columns=[col.name for col in table.columns]), scope
            rows = frame.loc[frame["period"].isin(periods)].assign(
                boundary_set=boundary_set, indicator=indicator, run_id=run_id)
            return rows[[col.name for col in table.columns]], scope

        rows, value_scope = of_run(schema.indicator_values, values)
        with self._write() as conn:
            self._serialise(conn, "indicator", indicator)
            if indicator_meta is not None:
                self._replace_indicator_meta(conn, indicator, indicator_meta)
            self._replace_rows(conn, schema.indicator_values, rows, value_scope)
            if scores is not None:
                self._replace_indicator_scores(conn, boundary_set, indicator, periods, scores)
            self._replace_rows(conn, schema.reference_values,
                               *of_run(schema.reference_values, references))
            self._replace_rows(conn, schema.source_values, *of_run(schema.source_values, source_values))
            if local_dimension is not None:
                d = schema.local_dimensions.c
                conn.execute(sa.delete(schema.local_dimensions).where(d.id == local_dimension["id"]))
                conn.execute(sa.insert(schema.local_dimensions),
                             [{**local_dimension, "updated_at": utcnow()}])
            conn.execute(sa.update(schema.runs).where(schema.runs.c.run_id == run_id).values(
                status="succeeded", finished_at=utcnow(), rows=len(rows), messages=messages,
                source_checksum=source_checksum))

    def mark_interrupted_runs(self) -> int:
        """Runs left ``running`` by a process on this host that no longer exists → failed."""
        import os
        import socket

        r = schema.runs.c
        with self.engine().connect() as conn:
            running = conn.execute(sa.select(r.run_id, r.pid).where(
                r.status == "running", r.host == socket.gethostname())).all()
        dead = []
        for run_id, pid in running:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                dead.append(run_id)
            except PermissionError:
                pass
        if dead:
            with self._write() as conn:
                conn.execute(sa.update(schema.runs).where(r.run_id.in_(dead)).values(
                    status="failed", finished_at=utcnow(),
                    messages="interrupted: the loading process ended without finishing"))
        return len(dead)

    def runs(self, plugin: str | None = None) -> pd.DataFrame:
        self.require_current()
        query = sa.select(schema.runs).order_by(schema.runs.c.started_at.desc())
        if plugin:
            query = query.where(schema.runs.c.plugin == plugin)
        with self.engine().connect() as conn:
            return pd.DataFrame(conn.execute(query).mappings().all(),
                                columns=[c.name for c in schema.runs.columns])

    def read_values(self, boundary_set: str, indicators=None) -> pd.DataFrame:
        """Tidy indicator values of a set; NULL values come back as NaN (no data)."""
        self.boundary_set(boundary_set)
        v = schema.indicator_values.c
        query = sa.select(schema.indicator_values).where(v.boundary_set == boundary_set)
        if indicators is not None:
            query = query.where(v.indicator.in_(list(indicators)))
        with self.engine().connect() as conn:
            frame = _frame(conn.execute(query.order_by(v.indicator, v.area_code, v.period)),
                           schema.indicator_values)
        frame["value"] = frame["value"].astype(float)
        frame["coverage"] = frame["coverage"].astype(float)
        return frame

    @staticmethod
    def _replace_indicator_meta(conn, indicator: str, indicator_meta: dict) -> None:
        """The indicator's metadata row and its series breaks, as of this run."""
        meta = dict(indicator_meta)
        breaks = meta.pop("series_breaks", None) or {}
        conn.execute(sa.delete(schema.indicators).where(schema.indicators.c.id == indicator))
        conn.execute(sa.insert(schema.indicators), [{**meta, "updated_at": utcnow()}])
        conn.execute(sa.delete(schema.series_breaks).where(
            schema.series_breaks.c.indicator == indicator))
        if breaks:
            conn.execute(sa.insert(schema.series_breaks), [
                {"indicator": indicator, "period": period, "reason": reason}
                for period, reason in breaks.items()])

    def read_series_breaks(self) -> pd.DataFrame:
        """Every indicator's declared series breaks (``indicator, period, reason``)."""
        b = schema.series_breaks.c
        with self.engine().connect() as conn:
            return _frame(conn.execute(sa.select(schema.series_breaks)
                                       .order_by(b.indicator, b.period)), schema.series_breaks)

    def read_indicators(self) -> pd.DataFrame:
        """Metadata of every indicator that has been run into the store."""
        self.require_current()
        with self.engine().connect() as conn:
            return pd.DataFrame(
                conn.execute(sa.select(schema.indicators).order_by(schema.indicators.c.id))
                .mappings().all(), columns=[c.name for c in schema.indicators.columns])

    def read_local_dimensions(self) -> tuple:
        """The council dimensions recorded by runs, as :class:`~placeportrait.dimensions.Dimension`."""
        from placeportrait.dimensions import local_dimension

        d = schema.local_dimensions.c
        with self.engine().connect() as conn:
            rows = conn.execute(sa.select(d.id, d.label, d.ring).order_by(d.id)).all()
        return tuple(local_dimension(*row) for row in rows)

    def read_source_values(self, boundary_set: str, indicator: str) -> pd.DataFrame:
        """An indicator's values as published for small areas, kept by the runs onto the
        set: ``period, source_set, source_code, value, run_id``."""
        self.require_current()
        t = schema.source_values
        query = sa.select(t.c.period, t.c.source_set, t.c.source_code, t.c.value, t.c.run_id) \
            .where(t.c.boundary_set == boundary_set, t.c.indicator == indicator)
        with self.engine().connect() as conn:
            return pd.DataFrame(conn.execute(query).all(),
                                columns=["period", "source_set", "source_code", "value", "run_id"])

    def read_references(self, boundary_set: str) -> pd.DataFrame:
        """The set's authority and nation values (:mod:`placeportrait.references`)."""
        r = schema.reference_values.c
        with self.engine().connect() as conn:
            return _frame(conn.execute(sa.select(schema.reference_values)
                                       .where(r.boundary_set == boundary_set)
                                       .order_by(r.indicator, r.period, r.level, r.code)),
                          schema.reference_values)

    # -- ward context and similar wards ----------------------------------------------------
    def commit_ward_context(self, run_id: str, boundary_set: str, context: pd.DataFrame,
                            similar: pd.DataFrame, *, messages: str,
                            inputs_key: str | None = None) -> None:
        """Replace a set's context profiles (``area_code, feature, value``) and similar
        wards (``area_code, rank, similar_code, distance``) and mark the run succeeded,
        in one atomic unit: the neighbours never outlive the profiles they came from.
        ``inputs_key`` (:func:`placeportrait.similar_wards.inputs_key`) is kept as the
        run's checksum, so an unchanged rebuild can be skipped."""
        with self._write() as conn:
            self._serialise(conn, "ward_context", boundary_set)
            for table, rows in ((schema.ward_context, context), (schema.similar_wards, similar)):
                conn.execute(sa.delete(table).where(table.c.boundary_set == boundary_set))
                self._insert_frame(conn, table, rows.assign(boundary_set=boundary_set,
                                                            run_id=run_id)[
                    [c.name for c in table.columns]])
            conn.execute(sa.update(schema.runs).where(schema.runs.c.run_id == run_id).values(
                status="succeeded", finished_at=utcnow(), rows=len(similar), messages=messages,
                source_checksum=inputs_key))

    def read_ward_context(self, boundary_set: str) -> pd.DataFrame:
        """The set's context profiles, long: ``area_code, feature, value``."""
        return self._set_rows(schema.ward_context, boundary_set, "feature").astype(
            {"value": float})

    def read_similar_wards(self, boundary_set: str) -> pd.DataFrame:
        """The set's similar wards: ``area_code, rank, similar_code, distance``."""
        return self._set_rows(schema.similar_wards, boundary_set, "rank").astype(
            {"rank": int, "distance": float})

    def _set_rows(self, table: sa.Table, boundary_set: str, then: str) -> pd.DataFrame:
        """A table's rows of one set, by area code and then ``then``."""
        c = table.c
        with self.engine().connect() as conn:
            return _frame(conn.execute(sa.select(table).where(c.boundary_set == boundary_set)
                                       .order_by(c.area_code, c[then])), table)

    # -- scores ------------------------------------------------------------------------------
    def replace_scores(self, boundary_set: str, scores: pd.DataFrame) -> None:
        """Replace all scores of a set in one atomic unit."""
        with self._write() as conn:
            self._swap_scores(conn, boundary_set, scores)

    def _replace_indicator_scores(self, conn, boundary_set, indicator, periods, scores) -> None:
        self._swap_scores(conn, boundary_set, scores, indicator, periods)

    def _swap_scores(self, conn, boundary_set: str, scores: pd.DataFrame,
                     indicator: str | None = None, periods=None) -> None:
        """Within a write: make the set's scores (of ``indicator`` in ``periods``, if
        given) exactly ``scores``; their thresholds are kept once per indicator and period
        (``score_thresholds``), stamped now."""
        self._serialise(conn, "scores", boundary_set)
        rows = scores.assign(boundary_set=boundary_set)
        terms = _score_terms(rows).assign(scored_at=utcnow())
        for table, frame in ((schema.scores, rows), (schema.score_thresholds, terms)):
            self._replace_rows(conn, table, frame[[c.name for c in table.columns]],
                               _scope(table, boundary_set, indicator, periods))

    def score_thresholds(self, boundary_set: str, indicator: str) -> tuple | None:
        """(threshold, baseline, threshold_source) the set's scores of ``indicator`` use now,
        or None when it has no scores."""
        t = schema.score_thresholds.c
        with self.engine().connect() as conn:
            row = conn.execute(sa.select(t.threshold, t.baseline, t.threshold_source).where(
                t.boundary_set == boundary_set, t.indicator == indicator).limit(1)).first()
        if row is None:
            return None
        return (None if row[0] is None else float(row[0]), float(row[1] or 0.0), row[2])

    def score_counts(self, boundary_set: str) -> pd.DataFrame:
        """The set's scores counted by ``indicator, period, status`` (column ``n``): what a
        summary line needs, without reading every score."""
        s = schema.scores.c
        query = (sa.select(s.indicator, s.period, s.status, sa.func.count().label("n"))
                 .where(s.boundary_set == boundary_set)
                 .group_by(s.indicator, s.period, s.status))
        with self.engine().connect() as conn:
            return pd.DataFrame(conn.execute(query).all(),
                                columns=["indicator", "period", "status", "n"])

    def read_scores(self, boundary_set: str) -> pd.DataFrame:
        """The set's scores (:data:`SCORE_COLUMNS`), each beside the threshold, baseline,
        citation and time it was scored with, by indicator, area and period."""
        self.boundary_set(boundary_set)
        s, t = schema.scores.c, schema.score_thresholds.c
        with self.engine().connect() as conn:
            frame = _frame(conn.execute(sa.select(schema.scores).where(s.boundary_set == boundary_set)
                                        .order_by(s.indicator, s.area_code, s.period)), schema.scores)
            terms = _frame(conn.execute(sa.select(schema.score_thresholds)
                                        .where(t.boundary_set == boundary_set)),
                           schema.score_thresholds)
        # one citation object per indicator and period, shared by its rows
        frame = frame.merge(terms.drop(columns="boundary_set"), on=["indicator", "period"],
                            how="left", validate="many_to_one")
        for column in ("value", "threshold", "baseline", "ratio", "shortfall", "overshoot"):
            frame[column] = frame[column].astype(float)
        return frame[SCORE_COLUMNS]

    # -- cached crosswalks -------------------------------------------------------------------
    def read_crosswalk(self, fingerprint: str, boundary_set: str) -> pd.DataFrame | None:
        c = schema.crosswalks.c
        cols = ["source_code", "area_code", "intersection_area_m2", "source_area_m2", "target_area_m2"]
        with self.engine().connect() as conn:
            rows = conn.execute(sa.select(*[getattr(c, n) for n in cols]).where(
                *_crosswalk_scope(fingerprint, boundary_set))).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=cols) if rows else None

    def has_crosswalk(self, fingerprint: str, boundary_set: str) -> bool:
        with self.engine().connect() as conn:
            return conn.execute(sa.select(sa.literal(1)).select_from(schema.crosswalks).where(
                *_crosswalk_scope(fingerprint, boundary_set)).limit(1)).first() is not None

    def write_crosswalk(self, fingerprint: str, boundary_set: str, table: pd.DataFrame) -> None:
        rows = table.assign(source_fingerprint=fingerprint, boundary_set=boundary_set)
        rows = rows[[col.name for col in schema.crosswalks.columns]]
        with self._write() as conn:
            self._serialise(conn, "crosswalk", fingerprint, boundary_set)
            conn.execute(sa.delete(schema.crosswalks).where(
                *_crosswalk_scope(fingerprint, boundary_set)))
            self._insert_frame(conn, schema.crosswalks, rows)

    def read_areas(self, name: str, codes=None) -> gpd.GeoDataFrame:
        """Areas of a boundary set as a GeoDataFrame in EPSG:4326, sorted by code."""
        self.boundary_set(name)
        gdf = self._read_areas_frame(name)
        if codes is not None:
            gdf = gdf[gdf["code"].isin(list(codes))]
        return gdf.sort_values("code").reset_index(drop=True)

    def read_area_table(self, name: str) -> pd.DataFrame:
        """Areas of a set without geometry: quick for lookups and validation."""
        self.boundary_set(name)
        a = schema.areas.c
        with self.engine().connect() as conn:
            rows = conn.execute(
                sa.select(a.code, a.name, a.level, a.parent_code, a.area_m2)
                .where(a.boundary_set == name).order_by(a.code)
            ).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=AREA_COLUMNS)
