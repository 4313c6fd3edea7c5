"""Versioned schema migrations.

Each migration names the tables it adds; a store records the versions it has applied
in ``schema_migrations`` and ``migrate`` applies the missing ones in order, so an
existing database upgrades in place. Append new migrations; never edit an old one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from placeportrait.store import schema


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    tables: tuple[str, ...]
    indexes: tuple[str, ...] = ()  # indexes added to tables of earlier migrations
    dropped_indexes: tuple[str, ...] = ()  # indexes of earlier migrations it replaces
    then: Callable | None = None  # moves existing rows into its tables, given a Connection


# Before migration 9 every score row carried its threshold, baseline, citation and time.
MOVED_SCORE_COLUMNS = ("threshold", "baseline", "threshold_source", "scored_at")


def move_score_thresholds(conn) -> None:
    """Migration 9: each (set, indicator, period)'s threshold, baseline, citation and
    scoring time, from the score rows that repeated them into ``score_thresholds``; then
    those columns are dropped. A store created at version 9 has nothing to move."""
    held = {c["name"] for c in sa.inspect(conn).get_columns("scores")}
    if "threshold_source" not in held:
        return
    conn.exec_driver_sql(
        "INSERT INTO score_thresholds (boundary_set, indicator, period, threshold, baseline, "
        "threshold_source, scored_at) SELECT boundary_set, indicator, period, MAX(threshold), "
        "MAX(baseline), MAX(threshold_source), MAX(scored_at) FROM scores "
        "GROUP BY boundary_set, indicator, period")
    for column in MOVED_SCORE_COLUMNS:  # names of ours, not input
        conn.exec_driver_sql(f"ALTER TABLE scores DROP COLUMN {column}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "boundary sets and areas", ("schema_migrations", "boundary_sets", "areas")),
    Migration(
        2,
        "indicators, their values, load runs, scores and crosswalk cache",
        ("indicators", "runs", "indicator_values", "scores", "crosswalks"),
    ),
    Migration(3, "council dimensions", ("local_dimensions",)),
    Migration(4, "authority and nation reference values", ("reference_values",),
              indexes=("scores_indicator",)),
    Migration(5, "ward context profiles and similar wards", ("ward_context", "similar_wards")),
    Migration(6, "breaks in indicator series", ("series_breaks",)),
    Migration(7, "vector tiles of boundary sets; values as published for small areas",
              ("area_tiles", "source_values")),
    Migration(8, "indexes of values and scores by indicator and period",
              (), indexes=("indicator_values_scope", "scores_scope"),
              dropped_indexes=("indicator_values_indicator", "scores_indicator")),
    Migration(9, "thresholds and scoring times kept once per indicator and period, not per score",
              ("score_thresholds",), then=move_score_thresholds),
)

LATEST = MIGRATIONS[-1].version


def table(name: str):
    return schema.metadata.tables[name]


def index(name: str):
    """The schema's index ``name``, or None if a later migration replaced it."""
    return next((i for t in schema.metadata.tables.values() for i in t.indexes
                 if i.name == name), None)


def complete(conn, migration: Migration) -> None:
    """After a migration's tables exist: its indexes on existing tables (a new table
    already has its own), the indexes it replaces dropped, and its rows moved."""
    create_indexes(conn, migration)
    if migration.then is not None:
        migration.then(conn)


def create_indexes(conn, migration: Migration) -> None:
    """A migration's indexes on existing tables, and the indexes it replaces dropped."""
    for name in migration.dropped_indexes:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")  # a name of ours, not input
    for name in migration.indexes:
        found = index(name)
        if found is not None:
            found.create(conn, checkfirst=True)


def pending(applied: set[int], target: int = LATEST) -> list[Migration]:
    """Migrations not yet applied, up to ``target``, in order."""
    return [m for m in MIGRATIONS if m.version not in applied and m.version <= target]
