"""The store interface, and the SQL both backends share."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import datetime, timezone

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from placeportrait.config import StoreLocation
from placeportrait.errors import StoreError, UnknownNameError
from placeportrait.store import migrations, schema

SET_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
AREA_COLUMNS = ["code", "name", "level", "parent_code", "area_m2"]


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_set_name(name: str) -> str:
    """Boundary set names are lower-case slugs; they end up in file and layer names."""
    if not isinstance(name, str) or not SET_NAME.match(name):
        raise UnknownNameError(
            f"invalid boundary set name {name!r}: use lower-case letters, digits, '.', '_' or '-'"
        )
    return name


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

    @abstractmethod
    def _apply_migrations(self, todo: list[migrations.Migration]) -> None:
        """Create the tables of ``todo`` and record them, atomically."""

    @abstractmethod
    def _write_boundary_set(self, meta: dict, areas: gpd.GeoDataFrame) -> None:
        """Replace one boundary set and its areas in one atomic unit."""

    @abstractmethod
    def _read_areas_frame(self, name: str) -> gpd.GeoDataFrame:
        """All areas of a set, with geometry in EPSG:4326."""

    @abstractmethod
    def _delete_boundary_set(self, name: str) -> None:
        """Remove a set, its areas and everything derived from it, atomically."""

    def describe(self) -> str:
        return f"{self.kind} store at {self.location.display()}"

    # -- schema ----------------------------------------------------------------------
    def applied_versions(self) -> set[int]:
        if not self.exists():
            return set()
        with self.engine().connect() as conn:
            if not sa.inspect(conn).has_table("schema_migrations"):
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
                insp = sa.inspect(conn)
                for m in migrations.MIGRATIONS:
                    for name in m.tables:
                        if name != "schema_migrations" and insp.has_table(name):
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

    def replace_boundary_set(self, meta: dict, areas: gpd.GeoDataFrame) -> None:
        """Load ``areas`` as boundary set ``meta['name']``, replacing any set of that name.

        ``areas`` has columns ``code, name, level, parent_code, area_m2, geometry``
        (MultiPolygon, EPSG:4326). Atomic: a failure leaves the previous set intact.
        """
        check_set_name(meta["name"])
        self.init()
        meta = {**meta, "loaded_at": utcnow(), "area_count": len(areas)}
        self._write_boundary_set(meta, areas)

    def delete_boundary_set(self, name: str) -> None:
        self.boundary_set(name)  # raises if unknown
        self._delete_boundary_set(name)

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
        return pd.DataFrame(rows, columns=AREA_COLUMNS)
