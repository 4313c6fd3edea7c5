"""Inside the ward: the small areas (LSOAs, ...) of the indicator on the map, on its scale.

The section sits in the ward portrait. For an indicator published for small areas whose
values a run kept (:mod:`placeportrait.inside_ward`), it shows those areas inside the ward
on a small map coloured with the ward map's classes and colours, the ward's outline over
them, and a table of the same values (the map's text alternative), each with its share of
the ward. The browser draws the map from the small areas' own vector tiles, as the main
map (``assets/placeportrait_map.js``, ``drawInside``).
"""

from __future__ import annotations

import pandas as pd
from dash import html

from placeportrait import inside_ward, missing
from placeportrait_app import fmt, tables, tiles
from placeportrait_app import map as map_lib
from placeportrait_app.rawhtml import freeze

LEVELS = {"lsoa": "LSOA", "msoa": "MSOA", "oa": "output area", "dz": "data zone",
          "soa": "SOA", "sdz": "super data zone"}


def level_names(set_meta: dict) -> tuple[str, str]:
    """``("LSOA (2021)", "LSOAs (2021)")`` for a set of level ``lsoa``, vintage 2021."""
    level = LEVELS.get(str(set_meta.get("level") or "").lower(), "small area")
    vintage = f" ({set_meta['vintage']})" if set_meta.get("vintage") else ""
    return f"{level}{vintage}", f"{level}s{vintage}"


def rows(repo, set_name: str, code: str, layer: map_lib.MapLayer) -> tuple[pd.DataFrame, str] | None:
    """The small areas inside the ward with their kept values, and their set's name; None
    when the indicator kept none or their boundaries are gone from the store."""
    kept = repo.source_values(set_name, layer.metric.id)
    if kept.empty:
        return None
    period = layer.metric.period if layer.metric.period in set(kept["period"]) \
        else max(kept["period"])
    kept = kept.loc[kept["period"] == period]
    source = kept["source_set"].iloc[0]
    if source not in repo.set_names():
        return None
    small = repo.small_areas(source)
    ward = repo.full_geometry(set_name, [code])
    if ward.empty:
        return None
    inside = inside_ward.pieces(ward.geometry, small)
    values = kept.set_index("source_code")["value"]
    names = repo.areas(source).set_index("code")["name"]
    inside = inside.assign(name=inside["code"].map(names),
                           value=inside["code"].map(values).astype(float),
                           period=period)
    return inside, source


def section(repo, app, set_name: str, code: str, ward_name: str,
            layer: map_lib.MapLayer) -> tuple[html.Section, dict | None]:
    """The section and the spec of its map (None when there is nothing to draw)."""
    heading = html.H3(f"Inside the ward: {layer.metric.label}", id="inside-heading")
    found = rows(repo, set_name, code, layer) if layer.metric.kind == "indicator" else None
    if found is None:
        note = html.P(
            f"The map shows {layer.metric.label}, which has no values for small areas here. "
            "Choose an indicator published for LSOAs or data zones (for example a Census "
            "2021 table or the Indices of Deprivation) to see the neighbourhoods inside "
            f"{ward_name}.", className="note")
        return html.Section([heading, note], id="inside",
                            **{"aria-labelledby": "inside-heading"}), None
    inside, source = found
    one, level = level_names(repo.set_meta(source))
    ordered = inside.sort_values("value", ascending=not layer.metric.higher_is_worse,
                                 na_position="last")
    z = layer.class_of(ordered["value"])
    display = [fmt.with_unit(v, layer.metric.unit) for v in ordered["value"]]
    spec = {
        "tiles": tiles.source(app, repo, source),
        "ward_tiles": tiles.source(app, repo, set_name),
        "layer": map_lib.vector_tiles.LAYER, "ward": code,
        "codes": ordered["code"].tolist(),
        "names": map_lib.spec_names(ordered["name"]),
        "z": z, "hover": [[d, f"{fmt.percent(s)} of it in the ward", ""]
                          for d, s in zip(display, ordered["share_of_area"])],
        "colours": layer.colours, "no_data_colour": map_lib.NO_DATA_COLOUR,
        "outline_colour": map_lib.OUTLINE_COLOUR, "highlight_colour": map_lib.HIGHLIGHT_COLOUR,
        "line_width": 0.8, "extent": repo.tiles(set_name).extent([code]),
        "view_key": f"{set_name}|{code}|{layer.metric.id}", "style": map_lib.BLANK_STYLE,
        "selected": [],
    }
    caption = (f"The {len(ordered)} {level} with ground in {ward_name}, coloured by "
               f"{layer.metric.label} ({ordered['period'].iloc[0]}) on the ward map's scale; "
               f"the ward's outline in magenta; {map_lib.NO_DATA_COLOUR_NAME} = no data. Each "
               f"value is the {one}'s own, as published; the ward's value combines them "
               "(its method is in the table of indicators). A sliver under 1 % of both the "
               f"{one} and the ward is boundary noise and left out.")
    table = html.Table([
        html.Caption(f"{level} inside {ward_name}: {layer.metric.label}"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in
                            (one, "Code", "Value",
                             "Share of it in the ward", "Share of the ward")])),
        html.Tbody([html.Tr([html.Th(n if isinstance(n, str) else c, scope="row"), html.Td(c),
                             html.Td(d, className="num"),
                             html.Td(fmt.percent(a), className="num"),
                             html.Td(fmt.percent(w), className="num")])
                    for n, c, d, a, w in zip(ordered["name"], ordered["code"], display,
                                             ordered["share_of_area"],
                                             ordered["share_of_ward"])]),
    ], className="data compact", id="inside-table")
    return html.Section([
        heading,
        html.Figure([html.Div(id="inside-map", className="inside-map"),
                     html.Figcaption(caption, className="caption")]),
        freeze(html.Div(table, className="scroll", tabIndex=0, role="region",
                        **{"aria-label": f"{level} inside {ward_name} (scrollable)"})),
        _provenance(repo, set_name, layer.metric.id),
    ], id="inside", **{"aria-labelledby": "inside-heading"}), spec


def _provenance(repo, set_name: str, indicator: str) -> html.P:
    """Where the small areas' values come from: the source file and its licence, as the
    indicator table says for the ward."""
    table = repo.table(set_name)
    row = table.loc[table["indicator"] == indicator].head(1)
    if row.empty:
        return html.P()
    r = next(row.itertuples())
    return html.P(["Values as published in ", *tables.source_link(r),
                   f". Licence: {missing.text(r.licence, 'not recorded')}."], className="note")
