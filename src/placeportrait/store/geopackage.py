"""The embedded backend: one GeoPackage file, no server.

Atomicity: every write works on a copy of the file and renames it over the original
(``os.replace`` is atomic on POSIX). A crash, a kill -9, a full disk or a failed
validation at any point leaves the original file as it was; readers never see a
half-written store. Writers are serialised by an exclusive lock on a sidecar file.
GDAL (through pyogrio) writes the ``areas`` feature layer so QGIS and ``ogrinfo``
see a proper GeoPackage; the other tables are GeoPackage "attributes" tables.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from placeportrait import qgis_layers
from placeportrait.errors import PlacePortraitError, StoreError
from placeportrait.store import migrations, schema
from placeportrait.store.base import Store

GPKG_OPTIONS = {"VERSION": "1.2"}  # readable by older GDAL and QGIS releases


def _write_engine(path: Path) -> sa.Engine:
    """An engine on a private work copy. Its commits need not reach the disk one by one:
    the finished copy is fsynced before it replaces the store, and a copy that never
    does is thrown away, so ``synchronous=OFF`` loses nothing. For the same reason its
    rollback journal is kept in memory (``journal_mode=MEMORY``): a failed write still
    rolls back, and a crashed writer's half-written copy is discarded whole. That takes
    about a sixth off inserting a national refresh's scores."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    sa.event.listen(engine, "connect", _work_copy_pragmas)
    return engine


def _work_copy_pragmas(conn, _record) -> None:
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=MEMORY")


def _unique_key(table: sa.Table) -> list[str]:
    """The columns of ``table``'s unique key (each table that is replaced by scope has one)."""
    unique = next(c for c in table.constraints if isinstance(c, sa.UniqueConstraint))
    return [c.name for c in unique.columns]


def _check_integrity(path: Path, thorough: bool) -> None:
    """Refuse a working copy that SQLite does not find sound.

    ``PRAGMA quick_check`` (every page and b-tree, O(N)) on each write; the full
    ``integrity_check``, which also matches every index entry to its row and costs about
    six times as much (1.5 s on a national store), when a killed writer's leftovers were
    found: the case where a stale journal could have reached a copy.
    """
    conn = sqlite3.connect(path)
    try:
        pragma = "integrity_check" if thorough else "quick_check"
        problems = [row[0] for row in conn.execute(f"PRAGMA {pragma}")]
    finally:
        conn.close()
    if problems != ["ok"]:
        lines = [line for p in problems for line in str(p).splitlines()
                 if line.strip() and not line.startswith("***")]
        raise StoreError(
            f"the new copy of the embedded store failed its integrity check ({lines[0]}); "
            "the store is unchanged"
        )


def _refresh_qgis_layers(path: Path) -> None:
    """Per-set views and QGIS styles, rebuilt in the copy so they match what it holds."""
    if not path.exists():
        return
    conn = sqlite3.connect(path)
    try:
        with conn:
            qgis_layers.refresh_store_layers(conn)
    finally:
        conn.close()


def _remove_copy(work: Path) -> None:
    """The working copy, if it was not renamed into place, and any SQLite sidecar of it."""
    for path in (work, *(work.with_name(work.name + s) for s in ("-journal", "-wal", "-shm"))):
        path.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _compact(path: Path) -> None:
    """Give back the pages a migration freed by moving rows (SQLite keeps them for reuse),
    so every later write copies a smaller file."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("VACUUM")
    finally:
        conn.close()


class GeoPackageStore(Store):
    kind = "geopackage"

    def __init__(self, location):
        super().__init__(location)
        self.path = Path(location.url)
        # NullPool: each read opens the file anew, so it sees the latest rename.
        self._engine = sa.create_engine(
            f"sqlite:///file:{self.path}?mode=ro&uri=true", poolclass=NullPool
        )
        self._batch: Path | None = None  # the work copy of a batch in progress

    def engine(self):
        return self._engine if self._batch is None else _write_engine(self._batch)

    @contextmanager
    def batch(self):
        """Many writes in one work copy, checked and renamed into place once at the end.

        Copying and checking the whole file is each write's fixed cost (seconds on a
        national store); a refresh of every indicator pays it once. Within the batch,
        reads see the batch's own writes; other processes see the store as it was until
        the batch lands, all at once, and a batch that fails or is killed leaves it
        untouched.
        """
        if self._batch is not None:
            yield self
            return
        with self._writing() as work:
            self._batch = work
            try:
                yield self
            finally:
                self._batch = None

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def _writing(self):
        """Yield a private copy of the store; on success it replaces the original.

        The copy's name is unique to this write, not to this process: a writer killed
        mid-write leaves a copy and a rollback journal behind, and a later writer that
        reused the name (PIDs repeat, in containers especially) would have SQLite roll
        that stale journal into its fresh copy. Leftovers are removed under the lock, and
        the copy must pass SQLite's check (:func:`_check_integrity`) before it replaces
        the store.
        """
        if self._batch is not None:  # within a batch: its work copy is the store
            yield self._batch
            return
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            lock = open(directory / f".{self.path.name}.lock", "w")
        except OSError as exc:
            raise StoreError(f"cannot write embedded store {self.path}: {exc.strerror}") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            leftovers = self._remove_leftovers(directory)
            work = directory / f".{self.path.name}.{uuid.uuid4().hex}.tmp.gpkg"
            try:
                if self.path.exists():
                    shutil.copyfile(self.path, work)
                yield work
                _refresh_qgis_layers(work)
                _check_integrity(work, thorough=leftovers > 0)
                with open(work, "rb+") as fh:
                    os.fsync(fh.fileno())
                os.replace(work, self.path)
                _fsync_directory(directory)
            except PlacePortraitError:
                raise
            except (OSError, sqlite3.Error, sa.exc.OperationalError, sa.exc.DatabaseError,
                    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
                raise StoreError(
                    f"cannot write embedded store {self.path}: {reason}; the store is unchanged"
                ) from None
            finally:
                _remove_copy(work)

    def _remove_leftovers(self, directory: Path) -> int:
        """Copies and their journals left by a killed writer: we hold the lock, so none is
        live. Returns how many there were."""
        stale = list(directory.glob(f".{self.path.name}.*.tmp.gpkg*"))
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def _apply_migrations(self, todo):
        with self._writing() as work:
            if any(m.version == 1 for m in todo) and not self._has_layer(work, "areas"):
                empty = gpd.GeoDataFrame(
                    {
                        "boundary_set": pd.Series([], dtype="str"),
                        "code": pd.Series([], dtype="str"),
                        "name": pd.Series([], dtype="str"),
                        "level": pd.Series([], dtype="str"),
                        "parent_code": pd.Series([], dtype="str"),
                        "area_m2": pd.Series([], dtype="float64"),
                    },
                    geometry=gpd.GeoSeries([], crs=schema.STORE_CRS),
                )
                pyogrio.write_dataframe(
                    empty, work, driver="GPKG", layer="areas", geometry_type="MultiPolygon",
                    spatial_index=True, dataset_options=GPKG_OPTIONS if not work.exists() else None,
                )
            engine = _write_engine(work)
            try:
                with engine.begin() as conn:
                    for m in todo:
                        for name in m.tables:
                            if name == "areas":
                                conn.exec_driver_sql(
                                    "CREATE UNIQUE INDEX IF NOT EXISTS areas_set_code_key "
                                    "ON areas (boundary_set, code)"
                                )
                                continue
                            migrations.table(name).create(conn, checkfirst=True)
                            conn.execute(
                                sa.text(
                                    "INSERT OR IGNORE INTO gpkg_contents "
                                    "(table_name, data_type, identifier, description) "
                                    "VALUES (:t, 'attributes', :t, :d)"
                                ),
                                {"t": name, "d": f"placeportrait: {m.description}"},
                            )
                        migrations.complete(conn, m)
                    self._record_migrations(conn, todo)
            finally:
                engine.dispose()
            if any(m.then is not None for m in todo):
                _compact(work)

    @staticmethod
    def _has_layer(path: Path, layer: str) -> bool:
        return path.exists() and path.stat().st_size > 0 and layer in set(pyogrio.list_layers(path)[:, 0])

    def _write_boundary_set(self, meta, areas, tiles=None):
        frame = gpd.GeoDataFrame(
            {
                "boundary_set": meta["name"],
                "code": areas["code"].astype(str).values,
                "name": areas["name"].values,
                "level": areas["level"].values,
                "parent_code": areas["parent_code"].values,
                "area_m2": areas["area_m2"].astype(float).values,
            },
            geometry=areas.geometry.values,
            crs=schema.STORE_CRS,
        )
        with self._writing() as work:
            engine = _write_engine(work)
            try:
                with engine.begin() as conn:
                    self._delete_set_rows(conn, meta["name"])
                    self._insert_set_rows(conn, meta, tiles)
            finally:
                engine.dispose()
            pyogrio.write_dataframe(frame, work, driver="GPKG", layer="areas", append=True,
                                    geometry_type="MultiPolygon")

    def _replace_rows(self, conn, table, frame, scope):
        """Upsert ``frame``, then delete the rows of ``scope`` it does not hold.

        A refresh mostly rewrites rows that are already there. Deleting and reinserting
        them removes and re-adds every key in the table's indexes, at random places: on a
        national set that was the refresh's costliest step. A row updated in place only
        rewrites its other columns (2.7× faster for the values and scores of 44
        indicators, bench/results/national_refresh.md). Rows of the scope that the new
        rows lack (an area that lost its value) are found by counting, and only then
        deleted by key.
        """
        if frame.empty:
            conn.execute(sa.delete(table).where(*scope))
            return
        key = _unique_key(table)
        update = ", ".join(f"{c} = excluded.{c}" for c in frame.columns if c not in key)
        self._insert_frame(conn, table, frame,
                           f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}")
        held = conn.execute(sa.select(sa.func.count()).select_from(table).where(*scope)).scalar()
        if held != len(frame):
            self._delete_all_but(conn, table, frame[key], scope)

    def _delete_all_but(self, conn, table: sa.Table, keys: pd.DataFrame, scope: list) -> None:
        """Within a write: delete the rows of ``scope`` whose key is not one of ``keys``."""
        kept = sa.Table("placeportrait_kept_keys", sa.MetaData(),
                        *[sa.Column(c, table.c[c].type) for c in keys.columns],
                        prefixes=["TEMPORARY"])
        kept.drop(conn, checkfirst=True)
        kept.create(conn)
        self._insert_frame(conn, kept, keys)
        row_key = sa.tuple_(*[table.c[c] for c in keys.columns])
        conn.execute(sa.delete(table).where(*scope, row_key.not_in(sa.select(*kept.c))))
        kept.drop(conn)

    @contextmanager
    def _write(self):
        with self._writing() as work:
            engine = _write_engine(work)
            try:
                with engine.begin() as conn:
                    yield conn
            finally:
                engine.dispose()

    def _read_areas_frame(self, name):
        # `name` passed check_set_name (a strict slug), so it cannot break out of the quotes.
        gdf = pyogrio.read_dataframe(
            self._batch or self.path, layer="areas", where=f"boundary_set = '{name}'",
            columns=["code", "name", "level", "parent_code", "area_m2"],
        )
        return gdf.set_crs(schema.STORE_CRS, allow_override=True)
