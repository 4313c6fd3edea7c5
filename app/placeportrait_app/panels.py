"""The panel beside the map: a ward's portrait, or wards compared with their authorities."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from placeportrait import doughnut, matters_most
from placeportrait.report import doughnut_svg, trend_chart
from placeportrait_app import fmt, reports, routes, tables
from placeportrait_app.rawhtml import RawHtml, freeze


def intro(href_compare: str) -> list:
    return [
        html.P("Click a ward on the map, or find it by name or code above, to see its doughnut: "
               "the social foundation's shortfalls reach inward from the green ring, the "
               "ecological ceiling's overshoots reach outward, striped wedges are authority "
               "values given to every ward, and grey wedges have no data."),
        html.P(["To set wards side by side with their local authority, open ",
                dcc.Link("Compare wards", href=href_compare), "."]),
    ]


def doughnut_block(records: list[dict], name: str, *, compact=False, block_id=None,
                   title=None) -> html.Figure:
    """The doughnut as the reports draw it (an SVG from :mod:`placeportrait.report.doughnut_svg`,
    every text in it escaped), with its text alternative as the caption."""
    svg = doughnut_svg.render(records, name, id_prefix=block_id or "dn",
                              compact=compact)
    text = doughnut_svg.describe(name, records)
    children = [html.Figcaption(title, className="mini-title")] if title else []
    children += [RawHtml(html=svg, id=block_id, className="doughnut-box"),
                 html.P(text, className="caption visually-hidden")]
    legend = None if compact else html.P([
        html.Span(className="swatch sw-met"), "met / within the ceiling ",
        html.Span(className="swatch sw-gap"), "shortfall (inward) / overshoot (outward) ",
        html.Span(className="swatch sw-copied"), "authority value given to every ward ",
        html.Span(className="swatch sw-none"), "no data"], className="dn-legend")
    return html.Figure([*children, legend] if legend else children,
                       className="doughnut-figure", **{"aria-label": f"Doughnut of {name}"})


def then_and_now(then: list[dict], now: list[dict], comparable: set[str], name: str,
                 year: str) -> html.Section:
    """The ward's doughnut as it stood in ``year`` beside the latest, and in words which
    dimensions' gaps grew and which shrank. A dimension is compared only when ``comparable``
    holds it: the same indicators in both, none across a series break."""
    grew, shrank, other = [], [], []
    for a, b in zip(then, now):
        if not (a["with_data"] and b["with_data"]):
            continue
        if a["dimension"] not in comparable:
            other.append(a["label"])
            continue
        words = f"{a['label']} ({fmt.percent(a['gap'])} → {fmt.percent(b['gap'])})"
        change = b["gap"] - a["gap"]
        if change > 0.0005:
            grew.append(words)
        elif change < -0.0005:
            shrank.append(words)
    said = [f"Gaps that grew since {year}: {'; '.join(grew)}." if grew else
            f"No comparable gap grew since {year}.",
            f"Gaps that shrank: {'; '.join(shrank)}." if shrank else "None shrank."]
    if other:
        said.append("Not compared, because their indicators or their methods changed: "
                    f"{', '.join(other)}.")
    return html.Section([
        html.H3(f"The doughnut in {year} and now", id="then-now-heading"),
        html.Div([doughnut_block(then, f"{name}, as of {year}", compact=True, block_id="doughnut",
                                 title=f"As of {year}"),
                  doughnut_block(now, f"{name}, latest", compact=True, block_id="doughnut-now",
                                 title="Latest")], className="minis"),
        html.P(" ".join(said), id="then-now-words"),
        html.P(f"Each indicator at its latest period ending in or before {year}; an indicator "
               "first published later is no data there.", className="note"),
    ], **{"aria-labelledby": "then-now-heading"})


def comparable_dimensions(repo, set_name: str, code: str) -> set[str]:
    """The dimensions whose indicators with data are the same at the view's year and now,
    each with both values in one comparable series (:func:`placeportrait.trends.comparable_between`)."""
    from placeportrait import trends

    then = repo.ward_rows(set_name, code)
    now = repo.at(routes.LATEST).ward_rows(set_name, code)
    every = repo.ward_series(set_name, code)
    every = pd.concat([every, now[~now["indicator"].isin(every["indicator"])][every.columns]])
    ok = trends.comparable_between(then, now, every, repo.series_breaks(set_name))
    with_data = lambda rows: rows.loc[rows["value"].notna()].groupby("dimension")["indicator"].agg(set)
    a, b = with_data(then), with_data(now)
    return {d for d in a.index.intersection(b.index)
            if a[d] == b[d] and all(ok.get(i, False) for i in a[d])}


def what_matters(rows: pd.DataFrame, name: str, authority: str) -> html.Section:
    """The portrait's opening: its largest gaps among measures of the ward itself, against
    its authority and nation, and what is only known for the authority
    (:mod:`placeportrait.matters_most`, as the report says it)."""
    words = matters_most.sentences(name, authority, matters_most.decide(rows), fmt.with_unit)
    children = [html.H3("What matters most here", id="matters-heading"), html.P(words["lead"])]
    if words["items"]:
        children.append(html.Ol([html.Li(item) for item in words["items"]]))
    if words["authority_only"]:
        children.append(html.P(words["authority_only"], className="note"))
    return html.Section(children, id="matters-most", **{"aria-labelledby": "matters-heading"})


def similar(found, name: str, code: str, hrefs, reason: str = "") -> html.Section:
    """The ward's most similar wards in its nation, each a link to its portrait, and a link
    comparing the ward with the nearest of them; else why it has none."""
    if found is None:
        return html.Section([html.H3("Similar wards", id="similar-heading"),
                             html.P(f"No similar wards. {reason}", className="note")],
                            id="similar-wards", **{"aria-labelledby": "similar-heading"})
    nearest = [c for c, _, _ in found.wards][: routes.MAX_COMPARE - 1]
    return html.Section([
        html.H3("Similar wards", id="similar-heading"),
        html.P(found.lead(name)),
        html.Ol([html.Li([dcc.Link(ward, href=hrefs.ward(c)), f" ({c}): {words}"])
                 for c, ward, words in found.wards], className="similar-list"),
        html.P(dcc.Link(f"Compare {name} with its {len(nearest)} most similar wards",
                        href=hrefs.compare([code, *nearest]), id="compare-similar")),
        html.P("The indicator table's “Similar wards” column is the median of their values.",
               className="note"),
    ], id="similar-wards", **{"aria-labelledby": "similar-heading"})


def lenses(rows: pd.DataFrame, code: str, extra) -> html.Details:
    """The four City Portrait lenses in words, as the report's key says them
    (:func:`placeportrait.report.doughnut_svg.lens_key`)."""
    from placeportrait.report.content import score_set_dimensions

    dims = score_set_dimensions(rows, extra).get(code, []) if len(rows) else []
    items = []
    for k in doughnut_svg.lens_key(dims):
        said = "; ".join(f"{m['label']} {m['text']}" for m in k["measured"])
        missing = ", ".join(m["label"] for m in k["missing"])
        text = (said + (f". No data: {missing}." if missing else ".") if said
                else f"no data for any of its {k['total']} dimensions.")
        items.append(html.Li([html.Strong(k["label"]), ": ", text]))
    return html.Details([html.Summary("The doughnut by City Portrait lens"),
                         html.Ul(items),
                         html.P("Local: the ward itself; global: its effect on people and "
                                "planet elsewhere. The doughnut above shows every lens "
                                "together.", className="note")])


def portrait(repo, set_name: str, code: str, hrefs, inside=None) -> list:
    """The ward's doughnut, the doughnut as a table, the small areas inside the ward
    (``inside``, see :mod:`placeportrait_app.inside`) and its indicator table."""
    rows = repo.ward_rows(set_name, code)
    areas = repo.areas(set_name)
    area = areas.loc[areas["code"] == code].iloc[0]
    name = area["name"] if isinstance(area["name"], str) else code
    authority = repo.authority_label(set_name, area["parent_code"])
    wedges = repo.ward_wedges(set_name, code)
    in_nation = rows["nation_has_data"].astype(bool)
    area_nation = doughnut.nation_of(pd.Series([code])).iloc[0]
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
        freeze(what_matters(rows, name, repo.authority_name(area["parent_code"]))),
        doughnut_block(wedges, name, block_id="doughnut") if repo.period == routes.LATEST
        else then_and_now(wedges, repo.at(routes.LATEST).ward_wedges(set_name, code),
                          comparable_dimensions(repo, set_name, code), name, repo.period),
        # static tables as one component each: see rawhtml for why
        freeze(tables.dimension_table(wedges, name)),
        *([inside] if inside is not None else []),
        freeze(lenses(rows, code, repo.extra_dimensions(set_name))),
        freeze(similar(repo.neighbours(set_name, code), name, code, hrefs,
                       repo.no_neighbours_reason(set_name, code))),
        html.H3("Indicators"),
        freeze(tables.portrait_table(rows[in_nation], f"{name} ({code})",
                                     repo.authority_name(area["parent_code"]))),
        *([html.P(doughnut.other_nations_note(rows.loc[~in_nation, "title"], area_nation)
                  + " The export has every row.", className="note")]
          if (~in_nation).any() else []),
        trends_section(repo, set_name, code, repo.authority_name(area["parent_code"])),
    ]


def trends_section(repo, set_name: str, code: str, authority: str) -> html.Section:
    """Each measure with several periods: its chart against the threshold, authority and
    nation, and its direction of travel (the report's table, :mod:`placeportrait.report.trend_chart`)."""
    from placeportrait.report.content import fmt_number

    rows = trend_chart.ward_trends(repo.ward_series(set_name, code),
                                   repo.series_breaks(set_name), fmt_number)
    return html.Section([
        html.H3("Trends", id="trends-heading"),
        html.P("The direction of travel of each measure's latest comparable series, how fast "
               "it is changing, and the change a year that would reach the threshold by 2030 "
               "or 2050. A series never joins periods whose method or measure changed.",
               className="note"),
        RawHtml(html=trend_chart.table_html(rows, authority), id="trends-table")],
        id="trends", **{"aria-labelledby": "trends-heading"})



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
    extra = repo.extra_dimensions(set_name)
    rows = table.loc[table["area_code"].isin(codes)]
    blocks, columns, cells = [], [], {}
    for code in codes:
        name = areas.at[code, "name"] if isinstance(areas.at[code, "name"], str) else code
        ward = rows.loc[rows["area_code"] == code]
        blocks.append(html.Div(doughnut_block(repo.ward_wedges(set_name, code), name,
                                              compact=True, block_id=f"dn-{code}", title=name),
                               className="mini"))
        columns.append({"key": code, "label": f"{name} ({code})", "kind": "ward",
                        "remove": hrefs.compare([c for c in codes if c != code])})
        for r in ward.itertuples():
            cells[(r.indicator, f"{code}:value")] = r.value
            cells[(r.indicator, f"{code}:status")] = r.status
            if r.similar_count:
                cells[(r.indicator, f"{code}:similar")] = r.similar_median
    parents = [p for p in dict.fromkeys(areas.loc[codes, "parent_code"]) if isinstance(p, str)]
    for parent in parents:
        label = repo.authority_label(set_name, parent)
        scored = reference_rows(rows, "authority_value", parent, rows["parent_code"] == parent)
        wedges = doughnut.wedge_records(scored, extra, percent=fmt.percent)
        blocks.append(html.Div(doughnut_block(wedges, f"{label} (authority)", compact=True,
                                              block_id=f"dn-{parent}",
                                              title=f"{label}: whole authority"),
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
            "source does not give one. Each ward's portrait says how each was made. Under a "
            "ward's value, “similar wards” is the median of the wards most like it in context "
            "(listed in its portrait).")
    return [
        html.Div(blocks, className="minis"),
        freeze(tables.compare_table(columns, wide)),
        html.P(note, className="note"),
        html.P("Click wards on the map or use the search box to add them; "
               "“remove” takes one out.", className="note"),
    ]
