"""Accessible HTML tables: the ward portrait, the comparison and the map's text alternative.

Real ``<table>`` elements with captions and header scopes, so screen readers and keyboard
users get everything the map and the doughnut show. Every value carries its source,
method, coverage, licence and date.
"""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from placeportrait import doughnut, links, missing
from placeportrait.dimensions import all_dimensions
from placeportrait.report.content import method_text
from placeportrait_app import fmt

MAX_LIST_ROWS = 100
STATUS_CLASS = {"shortfall": "st-bad", "overshoot": "st-bad", "achieved": "st-good",
                "within": "st-good", "no data": "st-none"}


def status(value) -> html.Span:
    text = value if isinstance(value, str) and value else "no data"
    return html.Span(text, className=f"status {STATUS_CLASS.get(text, '')}")


def _th(text, **kw):
    return html.Th(text, scope="col", **kw)


def _order(rows: pd.DataFrame) -> pd.DataFrame:
    order = {d.id: i for i, d in enumerate(all_dimensions())}
    return (rows.assign(_ring=(rows["ring"] != "social").astype(int),
                        _dim=rows["dimension"].map(order).fillna(999))
            .sort_values(["_ring", "_dim", "title"]).drop(columns=["_ring", "_dim"]))


def source_link(row) -> list:
    """The row's source, a link where its URL is a web address."""
    source = row.source if isinstance(row.source, str) else "unknown source"
    link = links.web_link(row.source_url)
    if link:
        return [html.A(source, href=link, rel="noopener", target="_blank")]
    return [source]


def _method(row) -> list:
    parts = [method_text(row.method, row.geography)]
    if not fmt.is_missing(row.coverage):
        parts.append(f"coverage {fmt.percent(row.coverage)}")
    out: list = [" · ".join(parts)]
    if isinstance(row.flags, str) and row.flags:
        out += [html.Br(), html.Small(row.flags)]
    return out


def _date(row) -> list:
    out: list = [f"period {row.period}"]
    if isinstance(row.loaded_at, str) and row.loaded_at:
        out += [html.Br(), html.Small(f"loaded {row.loaded_at[:10]}")]
    return out


def _licence(row) -> list:
    out: list = [row.licence if isinstance(row.licence, str) else "licence not recorded"]
    if isinstance(row.attribution, str) and row.attribution:
        out += [html.Br(), html.Small(row.attribution)]
    return out


def _provenance(row) -> list:
    """Where a value comes from, in one line under it."""
    citation = row.threshold_source if isinstance(row.threshold_source, str) else "not recorded"
    return [
        html.Strong("Source: "), *source_link(row), " · ",
        html.Strong("Method: "), *_method(row), " · ",
        html.Strong("Licence: "), row.licence if isinstance(row.licence, str) else "not recorded",
        " (attribution below)" if isinstance(row.attribution, str) and row.attribution else "", " · ",
        html.Strong("Date: "), *_date(row), html.Br(),
        html.Strong("Threshold: "), citation, html.Br(),
        html.Strong("Authority value: "), missing.text(row.authority_method, "not recorded"),
        " · ", html.Strong(f"{missing.text(row.nation, 'Nation')} value: "),
        missing.text(row.nation_method, "not recorded"),
    ]


def portrait_table(rows: pd.DataFrame, ward_label: str, authority: str) -> html.Div:
    """The ward's indicators: value, threshold, status, comparisons, rank, and under each
    its source, method, coverage, licence and date."""
    nation = next((n for n in rows["nation"] if isinstance(n, str)), None) if len(rows) else None
    header = html.Tr([
        _th("Indicator"), _th(["Value", html.Br(), html.Small("threshold")]), _th("Status"),
        _th([authority, html.Br(), html.Small("authority")]),
        _th(nation or "Nation"),
        _th(["Similar wards", html.Br(), html.Small("median")]), _th("Rank in set (1 = best)"),
    ])
    body = []
    for row in _order(rows).itertuples():
        unit = row.unit if isinstance(row.unit, str) else ""
        body.append(html.Tr([
            html.Th([row.title, html.Br(),
                     html.Small(f"{str(row.dimension).replace('_', ' ')} · "
                                f"{row.lens if isinstance(row.lens, str) else row.ring}")],
                    scope="row", rowSpan=2),
            html.Td([html.Span(fmt.with_unit(row.value, unit), className="value"), html.Br(),
                     html.Small(f"threshold {fmt.with_unit(row.threshold, unit)}")],
                    className="num", **{"data-indicator": row.indicator}),
            html.Td(status(row.status)),
            html.Td(fmt.number(row.authority_value), className="num"),
            html.Td(fmt.number(row.nation_value), className="num"),
            html.Td(_similar(row), className="num"),
            html.Td(_rank(row), className="num"),
        ], className="main"))
        body.append(html.Tr(html.Td(_provenance(row), colSpan=6, className="prov"),
                            className="prov"))
    if not body:
        body = [html.Tr(html.Td("No indicators have been scored for this ward's boundary set.",
                                colSpan=7))]
    table = html.Table([
        html.Caption(f"Indicators of {ward_label}: value, threshold, status, comparison and "
                     "where each value comes from"),
        html.Thead(header), html.Tbody(body)], className="data", id="portrait-table")
    return html.Div(table, className="scroll", tabIndex=0, role="region",
                    **{"aria-label": f"Indicators of {ward_label} (scrollable)"})


def _similar(row):
    """The median of the similar wards' values, and of how many."""
    count = int(getattr(row, "similar_count", 0) or 0)
    if not count:
        return fmt.NO_DATA
    return [fmt.number(row.similar_median), html.Br(), html.Small(f"of {count}")]


def _rank(row):
    """The rank in the set, and in the nation where the set holds all of its wards."""
    in_set = doughnut.rank_label(row.rank, row.ranked_areas, row.rank_ties)
    in_nation = doughnut.nation_rank_label(getattr(row, "nation_rank", None),
                                           getattr(row, "nation_ranked_areas", None),
                                           getattr(row, "nation", None),
                                           getattr(row, "nation_rank_ties", 1))
    return [html.Span(in_set, className="nowrap"), html.Br(), html.Small(in_nation)] \
        if in_nation else html.Span(in_set, className="nowrap")


def dimension_table(wedges: list[dict], name: str) -> html.Details:
    """The doughnut's wedges as a table (its text alternative)."""
    rows = []
    for r in wedges:
        known = ("no data" if r["status"] == "no data" else
                 "authority only" if r["copied"] else "ward")
        rows.append(html.Tr([
            html.Th(r["label"], scope="row"), html.Td(r["ring"]), html.Td(status(r["status"])),
            html.Td(fmt.NO_DATA if fmt.is_missing(r["gap"]) else fmt.percent(r["gap"]),
                    className="num"),
            html.Td(f"{r['with_data']} of {r['indicators']}", className="num"), html.Td(known),
        ]))
    return html.Details([
        html.Summary("The doughnut as a table"),
        html.Div(html.Table([
            html.Caption(f"Dimensions of {name}'s doughnut"),
            html.Thead(html.Tr([_th("Dimension"), _th("Ring"), _th("Status"),
                                _th("Shortfall / overshoot"), _th("Indicators with data"),
                                _th("Known for")])),
            html.Tbody(rows)], className="data compact"), className="scroll", tabIndex=0,
            role="region", **{"aria-label": "Doughnut dimensions (scrollable)"}),
    ])


def compare_table(columns: list[dict], rows_by_indicator: pd.DataFrame) -> html.Div:
    """Indicators down, areas across: each cell a value and its status.

    ``columns``: dicts with ``key``, ``label`` (header), ``kind`` (ward/authority/nation),
    ``remove`` (href or None). ``rows_by_indicator``: index indicator; columns title, unit,
    threshold, and for each key ``<key>:value`` / ``<key>:status`` (and for a ward
    ``<key>:similar``, the median of its similar wards).
    """
    head = [_th("Indicator"), _th("Threshold")]
    for col in columns:
        content: list = [col["label"]]
        if col.get("remove"):
            content += [html.Br(), dcc.Link("remove", href=col["remove"], className="small-link",
                                            title=f"Remove {col['label']} from the comparison")]
        head.append(_th(content, className=f"col-{col['kind']}"))
    body = []
    for indicator, row in rows_by_indicator.iterrows():
        unit = row["unit"] if isinstance(row["unit"], str) else ""
        cells = [html.Th([row["title"], html.Br(), html.Small(unit)], scope="row"),
                 html.Td(fmt.with_unit(row["threshold"], unit))]
        for col in columns:
            value = row.get(f"{col['key']}:value")
            st = row.get(f"{col['key']}:status")
            content = [fmt.number(value), html.Br(), status(st)]
            similar = row.get(f"{col['key']}:similar")
            if col["kind"] == "ward" and similar is not None and not fmt.is_missing(similar):
                content += [html.Br(), html.Small(f"similar wards {fmt.number(similar)}")]
            cells.append(html.Td(content, className="num",
                                 **{"data-area": col["key"], "data-indicator": indicator}))
        body.append(html.Tr(cells))
    table = html.Table([html.Caption("Wards side by side with their authorities and nations"),
                        html.Thead(html.Tr(head)), html.Tbody(body)],
                       className="data", id="compare-table")
    return html.Div(table, className="scroll", tabIndex=0, role="region",
                    **{"aria-label": "Comparison table (scrollable)"})


def ward_list(layer, href_for, authority_label,
              noun: tuple[str, str] = ("a ward", "wards")) -> html.Div:
    """The map's text alternative: the shown areas with their values (first 100);
    ``noun`` is what the set's areas are called (``Repository.area_noun``)."""
    one, many = noun[0].split()[-1], noun[1]
    frame = layer.values.sort_values(["name", "code"])
    total = len(frame)
    rows = []
    for r in frame.head(MAX_LIST_ROWS).itertuples():
        rows.append(html.Tr([
            html.Th(dcc.Link(r.name if isinstance(r.name, str) else r.code,
                             href=href_for(r.code)), scope="row"),
            html.Td(r.code), html.Td(authority_label(r.parent_code)),
            html.Td(r.display, className="num"), html.Td(status(r.status)),
        ]))
    note = (f"Showing the first {MAX_LIST_ROWS} of {total:,} {many}: choose a local authority "
            "or download the CSV for all." if total > MAX_LIST_ROWS else f"{total:,} {many}.")
    return html.Div([
        html.P(note, className="note"),
        html.Div(html.Table([
            html.Caption(f"{many.capitalize()} on the map: {layer.metric.label}"),
            html.Thead(html.Tr([_th(one.capitalize()), _th("Code"), _th("Local authority"), _th("Value"),
                                _th("Status")])),
            html.Tbody(rows)], className="data compact", id="ward-table"),
            className="scroll", tabIndex=0, role="region",
            **{"aria-label": f"{many.capitalize()} on the map (scrollable)"}),
    ])
