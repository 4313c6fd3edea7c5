"""The panel beside the map: a ward's portrait, or wards compared with their authorities."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from placeportrait import doughnut
from placeportrait_app import doughnut_figure, reports, tables
from placeportrait_app.rawhtml import freeze

GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def intro(href_compare: str) -> list:
    return [
        html.P("Click a ward on the map, or find it by name or code above, to see its doughnut: "
               "the social foundation's shortfalls reach inward from the green ring, the "
               "ecological ceiling's overshoots reach outward, and grey hatched wedges have "
               "no data."),
        html.P(["To set wards side by side with their local authority, open ",
                dcc.Link("Compare wards", href=href_compare), "."]),
    ]


def doughnut_block(slots: pd.DataFrame, scopes: list[str], name: str, *, compact=False,
                   graph_id=None, title=None) -> html.Figure:
    fig = doughnut_figure.figure(slots, scopes, compact=compact, title=title)
    text = doughnut_figure.caption(slots, name)
    extra = {"id": graph_id} if graph_id else {}
    graph = dcc.Graph(figure=fig, config={**GRAPH_CONFIG, "displayModeBar": False},
                      className="doughnut", responsive=True,
                      style={"height": f"{fig['layout']['height']}px"}, **extra)
    return html.Figure([graph, html.Figcaption(text, className="caption")],
                       className="doughnut-figure", **{"aria-label": text})


def portrait(repo, set_name: str, code: str, hrefs) -> list:
    """The ward's doughnut, the doughnut as a table, and its indicator table."""
    rows = repo.ward_rows(set_name, code)
    areas = repo.areas(set_name)
    area = areas.loc[areas["code"] == code].iloc[0]
    name = area["name"] if isinstance(area["name"], str) else code
    authority = repo.authority_label(set_name, area["parent_code"])
    scopes = repo.scopes(set_name)
    dims = repo.ward_slots(set_name, code)
    return [
        html.P([f"{code} · local authority {authority} · boundary set {set_name} · ",
                dcc.Link("Compare with its authority and other wards",
                         href=hrefs.compare([code]), id="compare-link")], className="meta"),
        html.P(["Ward report: ",
                html.A("PDF", href=reports.url(hrefs.app, set_name, code, "pdf"), id="report-pdf",
                       download=reports.file_name(repo, set_name, code, "pdf")), " · ",
                html.A("HTML (works offline)", href=reports.url(hrefs.app, set_name, code, "html"),
                       id="report-html", download=reports.file_name(repo, set_name, code, "html"))],
               className="report-links"),
        doughnut_block(dims, scopes, name, graph_id="doughnut"),
        # static tables as one component each: see rawhtml for why
        freeze(tables.dimension_table(dims, name)),
        html.H3("Indicators"),
        freeze(tables.portrait_table(rows, f"{name} ({code})", authority)),
    ]


def reference_rows(rows: pd.DataFrame, column: str, key: str, where) -> pd.DataFrame:
    """An authority's or nation's value from the source (``authority_value`` or
    ``nation_value``), scored against the same thresholds as a ward's own."""
    part = rows.loc[where].drop_duplicates("indicator")
    if part.empty:
        return part
    frame = part[["indicator", "title", "ring", "dimension", "lens", "unit", "threshold",
                  "baseline"]].assign(area_code=key, value=part[column].to_numpy())
    return doughnut.score_table(frame)


def compare(repo, set_name: str, codes: list[str], hrefs) -> list:
    """Wards side by side: doughnuts, then a table with their authorities and nations."""
    if not codes:
        return [html.P("Choose wards to compare: click them on the map or find them with the "
                       "search box (each one you pick is added here; up to six)."),
                html.P("Example: open a ward's portrait and follow “Compare with its authority”.")]
    table = repo.table(set_name)
    areas = repo.areas(set_name).set_index("code")
    scopes = repo.scopes(set_name)
    rows = table.loc[table["area_code"].isin(codes)]
    blocks, columns, cells = [], [], {}
    for code in codes:
        name = areas.at[code, "name"] if isinstance(areas.at[code, "name"], str) else code
        ward = rows.loc[rows["area_code"] == code]
        blocks.append(html.Div(doughnut_block(repo.ward_slots(set_name, code), scopes, name,
                                              compact=True, title=name), className="mini"))
        columns.append({"key": code, "label": f"{name} ({code})", "kind": "ward",
                        "remove": hrefs.compare([c for c in codes if c != code])})
        for r in ward.itertuples():
            cells[(r.indicator, f"{code}:value")] = r.value
            cells[(r.indicator, f"{code}:status")] = r.status
    parents = [p for p in dict.fromkeys(areas.loc[codes, "parent_code"]) if isinstance(p, str)]
    for parent in parents:
        label = repo.authority_label(set_name, parent)
        scored = reference_rows(rows, "authority_value", parent, rows["parent_code"] == parent)
        slots = doughnut_figure.slots_for(scored, scopes, repo.extra_dimensions(set_name))
        blocks.append(html.Div(doughnut_block(slots, scopes, f"{label} (authority)",
                                              compact=True, title=f"{label}: whole authority"),
                               className="mini authority"))
        columns.append({"key": parent, "label": f"{label}: whole authority",
                        "kind": "authority", "remove": None})
        for r in scored.itertuples():
            cells[(r.indicator, f"{parent}:value")] = r.value
            cells[(r.indicator, f"{parent}:status")] = r.status
    nations = [n for n in dict.fromkeys(rows["nation"]) if isinstance(n, str)]
    for nation in nations:
        columns.append({"key": f"nation-{nation}", "label": nation,
                        "kind": "nation", "remove": None})
        scored = reference_rows(rows, "nation_value", nation, rows["nation"] == nation)
        for r in scored.itertuples():
            cells[(r.indicator, f"nation-{nation}:value")] = r.value
            cells[(r.indicator, f"nation-{nation}:status")] = r.status
    meta = rows.drop_duplicates("indicator").set_index("indicator")
    wide = pd.DataFrame(index=meta.index)
    wide["title"], wide["unit"], wide["threshold"] = meta["title"], meta["unit"], meta["threshold"]
    for (indicator, key), value in cells.items():
        wide.loc[indicator, key] = value
    wide = wide.loc[tables._order(meta.reset_index())["indicator"]]
    note = ("Authority and nation columns are each indicator's value for the whole authority "
            "or nation, from its source (published, or the source aggregated with the same "
            "weights as the wards), scored against the same thresholds; “no data” where the "
            "source does not give one. Each ward's portrait says how each was made.")
    return [
        html.Div(blocks, className="minis"),
        freeze(tables.compare_table(columns, wide)),
        html.P(note, className="note"),
        html.P("Click wards on the map or use the search box to add them; "
               "“remove” takes one out.", className="note"),
    ]
