"""The store's tables, shared by both backends.

One SQLAlchemy ``MetaData`` describes every table. The PostGIS backend creates them
all with SQLAlchemy/GeoAlchemy2; the GeoPackage backend creates the non-spatial
tables the same way (SQLite dialect) and the ``areas`` feature table through GDAL, so
that QGIS and ``ogrinfo`` see it as a proper GeoPackage layer.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

STORE_CRS = "EPSG:4326"  # geometry as stored
AREA_CRS = "EPSG:27700"  # British National Grid, for areas in m²

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", Text, nullable=False),
)

boundary_sets = Table(
    "boundary_sets",
    metadata,
    Column("name", Text, primary_key=True),
    Column("level", Text, nullable=False),
    Column("vintage", Text),
    Column("source", Text, nullable=False),
    Column("source_checksum", Text),
    Column("licence", Text),
    Column("attribution", Text),
    Column("source_crs", Text, nullable=False),
    Column("code_field", Text, nullable=False),
    Column("name_field", Text),
    Column("parent_field", Text),
    Column("repaired_geometries", Integer, nullable=False, default=0),
    Column("loaded_at", Text, nullable=False),
    Column("area_count", Integer, nullable=False),
)

# ``geom`` is MultiPolygon in EPSG:4326; ``area_m2`` is computed in EPSG:27700.
areas = Table(
    "areas",
    metadata,
    Column("fid", Integer, primary_key=True),
    Column("boundary_set", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("name", Text),
    Column("level", Text, nullable=False),
    Column("parent_code", Text),
    Column("area_m2", Float, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)),
    UniqueConstraint("boundary_set", "code", name="areas_set_code_key"),
)

# A load run of one indicator plugin onto one boundary set.
runs = Table(
    "runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("plugin", Text, nullable=False),
    Column("plugin_version", Text),
    Column("boundary_set", Text, nullable=False),
    Column("source", Text),
    Column("source_checksum", Text),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text),
    Column("status", Text, nullable=False),  # running | succeeded | failed
    Column("host", Text),  # with pid: tells an interrupted run from a live one
    Column("pid", Integer),
    Column("rows", Integer),
    Column("messages", Text),
)

# What each stored indicator is, as its plugin described it at the last run: the store
# is self-describing, so the app and exports need no plugin code.
indicators = Table(
    "indicators",
    metadata,
    Column("id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("ring", Text, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("lens", Text),
    Column("unit", Text),
    Column("polarity", Text),
    Column("threshold", Float),
    Column("baseline", Float),
    Column("threshold_citation", Text),
    Column("publisher", Text),
    Column("url", Text),
    Column("licence", Text),
    Column("attribution", Text),
    Column("geography", Text),
    Column("measure_kind", Text),
    Column("denominator", Text),
    Column("version", Text),
    Column("updated_at", Text, nullable=False),
)

# Tidy indicator values: one row per area, indicator and period.
indicator_values = Table(
    "indicator_values",
    metadata,
    Column("boundary_set", Text, nullable=False),
    Column("area_code", Text, nullable=False),
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("value", Float),  # NULL means no data, never zero
    Column("unit", Text),
    Column("method", Text, nullable=False),
    Column("coverage", Float),
    Column("source_rows", Integer),
    Column("flags", Text),
    Column("run_id", Text, nullable=False),
    UniqueConstraint(
        "boundary_set", "area_code", "indicator", "period", name="indicator_values_key"
    ),
)
# A run replaces one indicator's values for its periods: without this, SQLite deletes them
# by scanning every value of the set (migration 8; before, (boundary_set, indicator)).
Index("indicator_values_scope", indicator_values.c.boundary_set, indicator_values.c.indicator,
      indicator_values.c.period)

# An indicator's values as published for small areas (LSOAs, data zones, ...), kept by the
# run that harmonised them onto ``boundary_set`` and replaced with its values, for the
# areas of ``source_set`` (the boundary set holding their geometry). See inside_ward.
source_values = Table(
    "source_values",
    metadata,
    Column("boundary_set", Text, nullable=False),
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("source_set", Text, nullable=False),
    Column("source_code", Text, nullable=False),
    Column("value", Float),  # NULL means no data, never zero
    Column("run_id", Text, nullable=False),
    UniqueConstraint("boundary_set", "indicator", "period", "source_code",
                     name="source_values_key"),
)

# Scores of each value against its threshold, and the thresholds used.
scores = Table(
    "scores",
    metadata,
    Column("boundary_set", Text, nullable=False),
    Column("area_code", Text, nullable=False),
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("ring", Text, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("value", Float),
    Column("ratio", Float),
    Column("shortfall", Float),
    Column("overshoot", Float),
    Column("status", Text, nullable=False),
    UniqueConstraint("boundary_set", "area_code", "indicator", "period", name="scores_key"),
)
# Runs replace one indicator's scores for its periods: without this, each delete scans
# every score of the set (migration 8; before, (boundary_set, indicator), which SQLite
# passed over for the unique key once the period was in the condition).
Index("scores_scope", scores.c.boundary_set, scores.c.indicator, scores.c.period)

# What each indicator's scores of a period were scored against, and when: one row for all
# the set's areas (migration 9; before, every score row repeated them, and the citation
# alone was 60% of a national store's scores). Written in the same unit as the scores.
score_thresholds = Table(
    "score_thresholds",
    metadata,
    Column("boundary_set", Text, nullable=False),
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("threshold", Float),
    Column("baseline", Float),
    Column("threshold_source", Text),
    Column("scored_at", Text, nullable=False),
    UniqueConstraint("boundary_set", "indicator", "period", name="score_thresholds_key"),
)

# A council's own dimensions (``local_dimensions.yaml``), written with the first run of an
# indicator in one, so the app and reports draw them without the plugin folder.
local_dimensions = Table(
    "local_dimensions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("label", Text, nullable=False),
    Column("ring", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

# Each indicator's value for the authorities and nations of a set's areas, aggregated
# from the whole source by `references` (or published by it), with the method in words;
# a NULL value is no data and its method says why. Replaced with the indicator's values.
reference_values = Table(
    "reference_values",
    metadata,
    Column("boundary_set", Text, nullable=False),
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("level", Text, nullable=False),  # "authority" or "nation"
    Column("code", Text, nullable=False),
    Column("name", Text),
    Column("value", Float),
    Column("method", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    UniqueConstraint("boundary_set", "indicator", "period", "level", "code",
                     name="reference_values_key"),
)

# Each ward's context profile (`ward_context`: shares of its output areas by OAC
# supergroup and rurality) and its most similar wards in its nation (`similar_wards`),
# written together by one build (migration 5), so the neighbours always match the
# profiles they came from; a reloaded or deleted set loses both.
ward_context = Table(
    "ward_context",
    metadata,
    Column("boundary_set", Text, nullable=False),
    Column("area_code", Text, nullable=False),
    Column("feature", Text, nullable=False),
    Column("value", Float, nullable=False),
    Column("run_id", Text, nullable=False),
    UniqueConstraint("boundary_set", "area_code", "feature", name="ward_context_key"),
)

similar_wards = Table(
    "similar_wards",
    metadata,
    Column("boundary_set", Text, nullable=False),
    Column("area_code", Text, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("similar_code", Text, nullable=False),
    Column("distance", Float, nullable=False),
    Column("run_id", Text, nullable=False),
    UniqueConstraint("boundary_set", "area_code", "rank", name="similar_wards_key"),
)

# Where an indicator's series breaks: a change of method or of the official measure, as the
# plugin declares it (``series_breaks``), so no trend is drawn across it. ``period`` is the
# first period after the break; "*" means no two periods are comparable.
series_breaks = Table(
    "series_breaks",
    metadata,
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("indicator", "period", name="series_breaks_key"),
)

# A boundary set's vector tiles (one PMTiles archive, see ``vector_tiles``), written in the
# same transaction as its areas; ``loaded_at`` is the set's, so a reader can tell they match.
area_tiles = Table(
    "area_tiles",
    metadata,
    Column("boundary_set", Text, primary_key=True),
    Column("loaded_at", Text, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("tiles", LargeBinary, nullable=False),
)

# Cached source→target area weights, keyed by a fingerprint of the source geometry.
crosswalks = Table(
    "crosswalks",
    metadata,
    Column("source_fingerprint", Text, nullable=False),
    Column("boundary_set", Text, nullable=False),
    # NULL area_code: a source overlapping no target; NULL source_code: the reverse.
    Column("source_code", Text),
    Column("area_code", Text),
    Column("intersection_area_m2", Float, nullable=False),
    Column("source_area_m2", Float),
    Column("target_area_m2", Float),
)
Index("crosswalks_key", crosswalks.c.source_fingerprint, crosswalks.c.boundary_set)
