"""The PostGIS backend: SQLAlchemy 2 + GeoAlchemy2 + psycopg 3, bulk loads by COPY."""

from __future__ import annotations

import geopandas as gpd
import shapely
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError, ProgrammingError

from placeportrait.errors import StoreError, StoreUnavailableError
from placeportrait.store import migrations, schema
from placeportrait.store.base import Store, has_own_table

# Serialises concurrent `db init`s on one database; the number is arbitrary but fixed.
MIGRATION_LOCK = 7_301_172

AREA_COPY_COLUMNS = ("boundary_set", "code", "name", "level", "parent_code", "area_m2", "geom")


class PostGISStore(Store):
    kind = "postgis"

    def __init__(self, location):
        super().__init__(location)
        self._engine = sa.create_engine(location.url, pool_pre_ping=True, future=True)

    def engine(self):
        return self._engine

    def exists(self) -> bool:
        try:
            with self._engine.connect():
                return True
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreUnavailableError(f"cannot connect to {self.describe()}: {reason}") from None

    def _apply_migrations(self, todo):
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
                # Another process may have migrated while we waited for the lock.
                done = set()
                if has_own_table(conn, "schema_migrations"):
                    done = {r[0] for r in conn.execute(sa.select(schema.schema_migrations.c.version))}
                todo = [m for m in todo if m.version not in done]
                for m in todo:
                    for name in m.tables:
                        if not has_own_table(conn, name):
                            migrations.table(name).create(conn)
                    migrations.complete(conn, m)
                self._record_migrations(conn, todo)
        except ProgrammingError as exc:
            raise StoreError(f"cannot create the schema in {self.describe()}: {exc.orig}") from None

    def _write_boundary_set(self, meta, areas, tiles=None):
        geoms = shapely.to_wkb(
            shapely.set_srid(areas.geometry.values, 4326), hex=True, include_srid=True
        )
        rows = zip(
            [meta["name"]] * len(areas),
            areas["code"],
            areas["name"].where(areas["name"].notna(), None),
            areas["level"],
            areas["parent_code"].where(areas["parent_code"].notna(), None),
            areas["area_m2"].astype(float),
            geoms,
        )
        copy_sql = f"COPY areas ({', '.join(AREA_COPY_COLUMNS)}) FROM STDIN"
        with self._engine.begin() as conn:
            self._serialise(conn, "boundary_set", meta["name"])
            self._delete_set_rows(conn, meta["name"])
            self._insert_set_rows(conn, meta, tiles)
            with conn.connection.dbapi_connection.cursor() as cur:
                with cur.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)

    def _write(self):
        return self._engine.begin()

    def _serialise(self, conn, *key):
        # A statement of its own: the deletes that follow take their snapshot after the
        # other writer has committed, so they see (and replace) its rows.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                     {"k": "placeportrait:" + ":".join(key)})

    def _insert_frame(self, conn, table, frame):
        """Bulk insert by COPY, inside the caller's transaction."""
        if frame.empty:
            return
        columns = list(frame.columns)
        cells = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in columns]
        with conn.connection.dbapi_connection.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in zip(*cells):
                    copy.write_row(row)

    def _read_areas_frame(self, name):
        query = sa.text(
            "SELECT code, name, level, parent_code, area_m2, geom "
            "FROM areas WHERE boundary_set = :name"
        )
        with self._engine.connect() as conn:
            gdf = gpd.read_postgis(query, conn, geom_col="geom", params={"name": name})
        return gdf.rename_geometry("geometry").set_crs(schema.STORE_CRS, allow_override=True)
