"""The GeoPackage a GIS officer opens: one layer per boundary set, styled by default.

The embedded store keeps every boundary set in one ``areas`` table, which QGIS would show
as one layer mixing vintages. :func:`refresh_store_layers` adds, for each set, a spatial
view ``portrait_<set>``: the set's areas beside their doughnut summary over each
indicator's latest period. The summaries (a small table, no geometry) are recomputed in
every write of the store, so they always match the scores they summarise. The export's GeoPackage gets the same summary as a layer of its
own (:func:`summary_layer`). Both carry QGIS's ``layer_styles`` table with two styles:
mean shortfall (the default) and mean overshoot, each a graduated renderer with a
"No data" class, so a ward without data is grey, never drawn as zero.

The summary follows :func:`placeportrait.doughnut.summarise` (O'Neill et al. 2018): for each
area, the social indicators with data and those achieving their threshold, the ecological
indicators with data and those overshooting, and the means of shortfall and overshoot (as
percentages) over the indicators with data.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr

import pandas as pd

from placeportrait import doughnut

VIEW_PREFIX = "portrait_"
SUMMARY_FIELDS = ("social_indicators", "thresholds_achieved", "mean_shortfall_pct",
                  "ecological_indicators", "boundaries_transgressed", "mean_overshoot_pct")
NO_DATA_VALUE = -1  # stands for a missing mean in the style's expression only
NO_DATA_COLOUR = "189,189,189"
# Viridis, light (least) to dark (most), as the app's map: colour-blind safe.
VIRIDIS = ("253,231,37", "94,201,98", "33,145,140", "59,82,139", "68,1,84")
STYLES = (  # (field, style name, class edges in %, default?)
    ("mean_shortfall_pct", "Mean shortfall (social foundation)", (0, 5, 10, 20, 40, 100), True),
    ("mean_overshoot_pct", "Mean overshoot (ecological ceiling)", (0, 10, 25, 50, 100, 1e9), False),
)


# -- the summary, for the export ----------------------------------------------------------
def summary_layer(scores: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """``areas`` (``code`` and any other columns) with the summary fields of its scores.

    An area with no scores keeps its row, with counts of 0 and means missing.
    """
    summary = doughnut.summarise(doughnut.latest_rows(scores).drop(columns="period"))
    summary = summary.assign(mean_shortfall_pct=100 * summary["mean_shortfall"],
                             mean_overshoot_pct=100 * summary["mean_overshoot"])
    out = areas.merge(summary[["area_code", *SUMMARY_FIELDS]], left_on="code",
                      right_on="area_code", how="left").drop(columns="area_code")
    counts = [f for f in SUMMARY_FIELDS if not f.endswith("_pct")]
    out[counts] = out[counts].fillna(0).astype(int)
    return out


# -- views in the embedded store ------------------------------------------------------------
def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


SUMMARY_TABLE = "portrait_summaries"
SUMMARY_DDL = f"""
    CREATE TABLE {SUMMARY_TABLE} (
        boundary_set TEXT NOT NULL, area_code TEXT NOT NULL,
        social_indicators INTEGER NOT NULL, thresholds_achieved INTEGER NOT NULL,
        mean_shortfall_pct REAL, ecological_indicators INTEGER NOT NULL,
        boundaries_transgressed INTEGER NOT NULL, mean_overshoot_pct REAL,
        PRIMARY KEY (boundary_set, area_code))"""
# The latest period of each indicator of each set, indexed for the summary's lookups.
NEWEST_SQL = (
    "CREATE TEMP TABLE portrait_newest AS SELECT boundary_set, indicator, "
    "MAX(period) AS period FROM scores GROUP BY boundary_set, indicator",
    "CREATE UNIQUE INDEX temp.portrait_newest_key ON portrait_newest "
    "(boundary_set, indicator, period)")
# Each scored area's summary over its indicators' latest periods; scanning scores in their
# key order lets SQLite group without sorting (0.5 s for 278,553 national scores).
SUMMARY_SQL = f"""
    INSERT INTO {SUMMARY_TABLE}
    SELECT s.boundary_set, s.area_code,
        SUM(s.ring = 'social' AND s.status != 'no data'),
        SUM(s.status = 'achieved'),
        100.0 * AVG(CASE WHEN s.ring = 'social' AND s.status != 'no data' THEN s.shortfall END),
        SUM(s.ring = 'ecological' AND s.status != 'no data'),
        SUM(s.status = 'overshoot'),
        100.0 * AVG(CASE WHEN s.ring = 'ecological' AND s.status != 'no data' THEN s.overshoot END)
    FROM scores s
    WHERE EXISTS (SELECT 1 FROM portrait_newest n WHERE n.boundary_set = s.boundary_set
                  AND n.indicator = s.indicator AND n.period = s.period)
    GROUP BY s.boundary_set, s.area_code"""
# Areas without scores: counted as nothing, their means no data.
UNSCORED_SQL = f"""
    INSERT INTO {SUMMARY_TABLE}
    SELECT a.boundary_set, a.code, 0, 0, NULL, 0, 0, NULL FROM areas a
    WHERE NOT EXISTS (SELECT 1 FROM {SUMMARY_TABLE} x
                      WHERE x.boundary_set = a.boundary_set AND x.area_code = a.code)"""


def view_sql(boundary_set: str) -> str:
    """The view of one set: its areas beside their summaries (plain column references, so
    GDAL and QGIS see each column's type)."""
    fields = ", ".join(f"s.{f} AS {f}" for f in SUMMARY_FIELDS)
    return (f"CREATE VIEW {_identifier(VIEW_PREFIX + boundary_set)} AS "
            "SELECT a.fid AS fid, a.geom AS geom, a.code AS code, a.name AS name, "
            f"a.parent_code AS parent_code, a.area_m2 AS area_m2, {fields} "
            f"FROM areas a JOIN {SUMMARY_TABLE} s "
            "ON s.boundary_set = a.boundary_set AND s.area_code = a.code "
            f"WHERE a.boundary_set = {_literal(boundary_set)}")


def refresh_store_layers(conn: sqlite3.Connection) -> None:
    """Make the summaries, views and styles match the store (within the caller's write).

    The summaries are recomputed from the scores in the same write as the scores, so they
    never describe other values. Views of deleted sets go; each current set gets its view,
    registered in ``gpkg_contents`` and ``gpkg_geometry_columns`` as GDAL and QGIS
    require; ``layer_styles`` is rewritten for them.
    """
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if not {"areas", "boundary_sets", "scores", "score_thresholds"} <= tables:
        return  # a store not yet initialised
    state = _state(conn)
    if STATE_TABLE in tables and conn.execute(f"SELECT state FROM {STATE_TABLE}").fetchone() == (state,):
        return  # nothing they describe has changed (a run's start, a cached crosswalk)
    conn.execute(f"DROP TABLE IF EXISTS {STATE_TABLE}")
    conn.execute(f"CREATE TABLE {STATE_TABLE} (state TEXT NOT NULL)")
    conn.execute(f"INSERT INTO {STATE_TABLE} VALUES (?)", (state,))
    old = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE ?", (VIEW_PREFIX + "%",))]
    for view in old:
        conn.execute(f"DROP VIEW {_identifier(view)}")
        conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (view,))
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (view,))
    conn.execute(f"DROP TABLE IF EXISTS {SUMMARY_TABLE}")
    conn.execute(SUMMARY_DDL)
    conn.execute("DROP TABLE IF EXISTS temp.portrait_newest")
    for statement in NEWEST_SQL:
        conn.execute(statement)
    conn.execute(SUMMARY_SQL)
    conn.execute(UNSCORED_SQL)
    conn.execute("DROP TABLE temp.portrait_newest")
    conn.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                 "description, last_change) VALUES (?, 'attributes', ?, ?, ?)",
                 (SUMMARY_TABLE, SUMMARY_TABLE, "doughnut summary of each area (placeportrait)",
                  _now()))
    sets = list(conn.execute("SELECT name, level, vintage FROM boundary_sets ORDER BY name"))
    for name, level, vintage in sets:
        _add_view(conn, name, f"{name}: {level} areas" + (f" ({vintage})" if vintage else "")
                  + ", with their doughnut summary (placeportrait)")
    write_styles(conn, [VIEW_PREFIX + name for name, _, _ in sets])


STATE_TABLE = "portrait_summaries_state"


def _state(conn: sqlite3.Connection) -> str:
    """What the summaries and views depend on: the sets as loaded, and the scores as
    written (every write of scores stamps them with its time)."""
    sets = conn.execute("SELECT group_concat(name || '@' || loaded_at, ',') FROM "
                        "(SELECT name, loaded_at FROM boundary_sets ORDER BY name)").fetchone()
    count = conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    scored = conn.execute("SELECT MAX(scored_at) FROM score_thresholds").fetchone()[0]
    return f"{sets[0]}|{count}|{scored}|{VIEW_PREFIX}{len(SUMMARY_FIELDS)}"


def _add_view(conn: sqlite3.Connection, boundary_set: str, description: str) -> None:
    view = VIEW_PREFIX + boundary_set
    conn.execute(view_sql(boundary_set))
    # The extent is left NULL (the GeoPackage standard allows it): readers compute it.
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change,"
        " srs_id) VALUES (?, 'features', ?, ?, ?, 4326)", (view, view, description, _now()))
    conn.execute(
        "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id,"
        " z, m) VALUES (?, 'geom', 'MULTIPOLYGON', 4326, 0, 0)", (view,))


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- QGIS styles ---------------------------------------------------------------------------
LAYER_STYLES_DDL = """
    CREATE TABLE IF NOT EXISTS layer_styles (
        id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
        f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
        styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
        description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"""


def write_styles(conn: sqlite3.Connection, layers: list[str]) -> None:
    """The ``layer_styles`` table QGIS reads, holding this module's styles for ``layers``.

    Rows placeportrait wrote before are replaced; styles a user saved (another owner)
    are kept.
    """
    conn.execute(LAYER_STYLES_DDL)
    conn.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                 "description, last_change) VALUES ('layer_styles', 'attributes', "
                 "'layer_styles', 'QGIS layer styles', ?)", (_now(),))
    conn.execute("DELETE FROM layer_styles WHERE owner = 'placeportrait'")
    for layer in layers:
        for field, name, edges, default in STYLES:
            conn.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, 'geom', ?, ?, '', ?, ?, "
                "'placeportrait', '', ?)",
                (layer, name, graduated_qml(field, edges), 1 if default else 0,
                 f"{name}: graduated, viridis, grey for no data", _now()))


def graduated_qml(field: str, edges: tuple[float, ...]) -> str:
    """A QGIS graduated renderer on ``field`` with classes between ``edges``, plus No data.

    A missing value stands in the renderer's expression as -1 and falls in a class of
    its own, drawn grey and labelled "No data", since a graduated renderer would leave
    it undrawn.
    """
    ranges = [(NO_DATA_VALUE, NO_DATA_VALUE, "No data", NO_DATA_COLOUR)]
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        label = f"{low:g} % or more" if high >= 1e9 else f"{low:g}–{high:g} %"
        ranges.append((low, high, label, VIRIDIS[i % len(VIRIDIS)]))
    range_xml = "\n".join(
        f'      <range lower="{low}" upper="{high}" symbol="{i}" label={quoteattr(label)} render="true"/>'
        for i, (low, high, label, _) in enumerate(ranges))
    symbols = "\n".join(_fill_symbol(i, colour) for i, (*_, colour) in enumerate(ranges))
    expression = quoteattr(f'coalesce("{field}", {NO_DATA_VALUE})')
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0-Firenze" styleCategories="Symbology">
  <renderer-v2 type="graduatedSymbol" attr={expression} graduatedMethod="GraduatedColor" symbollevels="0" forceraster="0" enableorderby="0">
    <ranges>
{range_xml}
    </ranges>
    <symbols>
{symbols}
    </symbols>
  </renderer-v2>
</qgis>
"""


def _fill_symbol(name: int, colour: str) -> str:
    options = {"color": f"{colour},255", "style": "solid", "outline_color": "255,255,255,255",
               "outline_style": "solid", "outline_width": "0.2", "outline_width_unit": "MM",
               "joinstyle": "bevel"}
    option_xml = "\n".join(f'            <Option type="QString" name="{k}" value="{v}"/>'
                           for k, v in options.items())
    return f"""      <symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
{option_xml}
          </Option>
        </layer>
      </symbol>"""
