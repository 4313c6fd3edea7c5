"""The page: header controls, the map with its legend and text alternative, the panel,
and the sources-and-licences footer. Static ids only; callbacks fill the content."""

from __future__ import annotations

from dash import dcc, html

from placeportrait_app.rawhtml import SCRIPT

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
{%css%}
<style>
""" + """
:root { --ink:#1a1a1a; --muted:#555; --line:#d0d0d0; --bg:#fafafa; --accent:#1d5c8f; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color:var(--ink); background:#fff; font-size:15px; line-height:1.45; }
a { color: var(--accent); }
a:focus, button:focus, summary:focus, [tabindex]:focus { outline: 3px solid #ffbf47; outline-offset: 2px; }
.skip { position:absolute; left:-9999px; top:0; background:#fff; padding:.5em; z-index:10; }
.skip:focus { left: .5em; }
header.top { padding: .6rem 1rem .4rem; border-bottom:1px solid var(--line); background:var(--bg); }
header.top h1 { font-size: 1.35rem; margin: 0 0 .1rem; }
header.top p.tagline { margin: 0 0 .5rem; color: var(--muted); font-size: .9rem; }
.controls { display:grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap:.6rem 1rem; }
.control label { display:block; font-weight:600; font-size:.85rem; margin-bottom:.15rem; }
#messages:empty { display:none; }
#messages { margin:0 0 .6rem; padding:.6rem .8rem; border-left:5px solid #b35900;
            background:#fff4e5; }
#messages p { margin:.2rem 0; }
main { padding: .6rem 1rem; }
.columns { display:grid; grid-template-columns: minmax(0, 11fr) minmax(0, 10fr); gap:1rem; }
@media (max-width: 1200px) { .columns { grid-template-columns: 1fr; } }
section h2 { font-size:1.15rem; margin:.2rem 0 .4rem; }
section h3 { font-size:1rem; margin:1rem 0 .3rem; }
#map { height: 560px; border:1px solid var(--line); }
.map-holder { width:100%; height:100%; }
.inside-map { height: 360px; border:1px solid var(--line); }
.legend { margin:.4rem 0; }
.legend p { margin:0 0 .2rem; font-weight:600; font-size:.9rem; }
.legend ul { list-style:none; margin:0; padding:0; display:flex; flex-wrap:wrap; gap:.2rem .9rem; }
.legend li { display:flex; align-items:center; gap:.35rem; font-size:.88rem; }
.swatch { display:inline-block; width:1.4rem; height:.95rem; border:1px solid #888; }
.swatch.nodata { background-image: repeating-linear-gradient(45deg, #8c8c8c 0 1px, transparent 1px 5px); }
.caption, .note { color:var(--muted); font-size:.85rem; margin:.3rem 0; }
.meta { color:var(--muted); font-size:.88rem; margin:.1rem 0 .4rem; }
.actions { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; margin:.5rem 0; }
button.dl { font:inherit; font-size:.88rem; padding:.3rem .7rem; border:1px solid var(--accent);
            background:#fff; color:var(--accent); border-radius:3px; cursor:pointer; }
button.dl:hover { background:#eef4fa; }
.placeholder { font-size:.85rem; color:var(--muted); border:1px dashed var(--line); padding:.3rem .6rem; }
.scroll { overflow-x:auto; max-width:100%; }
.scroll.tall { max-height: 420px; overflow-y:auto; }
table.data { border-collapse:collapse; font-size:.85rem; width:100%; }
table.data caption { text-align:left; font-weight:600; padding:.2rem 0; }
table.data th, table.data td { border-bottom:1px solid var(--line); padding:.3rem .45rem;
                               text-align:left; vertical-align:top; }
table.data thead th { background:var(--bg); font-size:.8rem; }
table.data td.num { text-align:right; }
table.data small { color:var(--muted); }
table.data tr.main th, table.data tr.main td { border-bottom:none; }
#portrait-table { table-layout: fixed; }
#portrait-table td { overflow-wrap: break-word; }
#portrait-table tbody th { overflow-wrap: break-word; hyphens: auto; }
#portrait-table thead th:nth-child(1) { width: 21%; }
#portrait-table thead th:nth-child(2) { width: 15%; }
#portrait-table thead th:nth-child(3) { width: 12%; }
#portrait-table thead th:nth-child(4), #portrait-table thead th:nth-child(5),
#portrait-table thead th:nth-child(6) { width: 11%; }
#portrait-table thead th:nth-child(7) { width: 19%; }
.nowrap { white-space:nowrap; }
table.data td.prov { font-size:.78rem; color:var(--muted); padding-top:0; }
table.data td.prov strong { color:#333; font-weight:600; }
table.compact th, table.compact td { padding:.2rem .4rem; }
.status { font-weight:600; white-space:nowrap; }
.st-bad { color:#a1261b; } .st-good { color:#1e6b3a; } .st-none { color:#595959; font-style:italic; }
figure { margin:0; }
.doughnut-figure { border:1px solid var(--line); padding:.3rem; }
.doughnut-box svg { width:100%; height:auto; display:block; }
.dn-legend { font-size:.82rem; color:var(--muted); margin:.2rem 0; }
.dn-legend .swatch { width:1rem; height:.8rem; vertical-align:-.1rem; margin:0 .25rem 0 .6rem; }
.sw-met { background:#009E73; } .sw-gap { background:#D55E00; } .sw-none { background:#E6E6E6; }
.sw-copied { background: repeating-linear-gradient(45deg, #D55E00 0 3px, #F2BE9A 3px 5px); }
.mini-title { font-weight:600; font-size:.85rem; }
table.trends { border-collapse:collapse; font-size:.85rem; width:100%; }
table.trends th, table.trends td { text-align:left; vertical-align:top; padding:.3rem .4rem;
                                   border-bottom:1px solid var(--line); }
table.trends .note { display:inline; }
.trend-worsening { color:#a63603; } .trend-improving { color:#005a8c; }
.visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden;
                   clip:rect(0 0 0 0); white-space:nowrap; }
.minis { display:grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap:.5rem; }
.minis .caption { font-size:.75rem; }
details { margin:.5rem 0; }
summary { cursor:pointer; font-weight:600; }
footer.sources { border-top:1px solid var(--line); background:var(--bg); padding:.6rem 1rem 1rem; font-size:.82rem; }
footer.sources h2 { font-size:.95rem; margin:.2rem 0; }
footer.sources ul { margin:.2rem 0; padding-left:1.1rem; }
.small-link { font-size:.8rem; }
""" + """
</style>
</head>
<body>
{%app_entry%}
{%config%}
{%scripts%}
<script>""" + SCRIPT + """</script>
{%renderer%}
<script>
// Plotly measures text in an off-screen SVG; hide it from assistive technology.
new MutationObserver(function () {
  var t = document.getElementById("js-plotly-tester");
  if (t && !t.hasAttribute("aria-hidden")) { t.setAttribute("aria-hidden", "true"); }
}).observe(document.body, {childList: true});
</script>
</body>
</html>
"""


def _control(label: str, component) -> html.Div:
    return html.Div([html.Label(label, htmlFor=component.id), component], className="control")


def build(title: str = "placeportrait") -> html.Div:
    """The page; every id here is filled or read by a callback."""
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="map-state"), dcc.Store(id="panel-state"), dcc.Store(id="map-shown"),
        dcc.Store(id="map-spec"), dcc.Store(id="map-click"), dcc.Store(id="map-drawn"),
        dcc.Store(id="ward-list-shown"), dcc.Store(id="inside-spec"), dcc.Store(id="inside-drawn"),
        dcc.Store(id="attribution-shown"),
        html.Header([
            html.A("Skip to the ward panel", href="#panel", className="skip"),
            html.H1(title),
            html.P("Doughnut-economics portraits of wards: is each ward above the social "
                   "foundation and within the ecological ceiling?", className="tagline"),
            html.Div([
                _control("Boundary set", dcc.Dropdown(id="set", clearable=False, searchable=False)),
                _control("Show on the map", dcc.Dropdown(id="indicator", clearable=False,
                                                         searchable=True)),
                _control("Local authority", dcc.Dropdown(id="la", clearable=True,
                                                         placeholder="All local authorities")),
                _control("Period", dcc.Dropdown(id="period", clearable=False,
                                                searchable=False)),
                _control("Find a ward by name or code", dcc.Dropdown(
                    id="search", options=[], clearable=True, searchable=True,
                    placeholder="Type at least 2 letters")),
            ], className="controls"),
        ], className="top"),
        html.Main([
            html.Div(id="messages", role="alert"),
            html.Div([
            html.Section([
                html.H2("Map", id="map-title"),
                html.Figure([
                    html.Div(id="map"),  # drawn by assets/placeportrait_map.js
                    html.Figcaption(id="map-caption", className="caption"),
                ]),
                html.Div(id="legend", className="legend", role="group",
                         **{"aria-labelledby": "legend-title"}),
                html.Div([
                    html.Button("Download map data (CSV)", id="dl-map-csv", className="dl",
                                n_clicks=0),
                    html.Button("Download map data (GeoJSON)", id="dl-map-geojson", className="dl",
                                n_clicks=0),
                    html.A("Link to this view", id="share-link", href="/",
                           title="The address of this view: share it to show the same map and ward"),
                ], className="actions"),
                dcc.Download(id="download-map"),
                html.Details([html.Summary("Table of the wards on the map", id="ward-list-summary"),
                              html.Div(id="ward-list")], id="ward-list-details"),
            ], id="map-section", **{"aria-labelledby": "map-title"}),
            html.Section([
                html.H2("Ward portrait", id="panel-title"),
                html.Div(id="panel-body"),
                html.Div([
                    html.Button("Download this table (CSV)", id="dl-panel-csv", className="dl",
                                n_clicks=0),
                    html.Span(id="report-links"),
                ], className="actions", id="panel-actions", style={"display": "none"}),
                dcc.Download(id="download-panel"),
            ], id="panel", tabIndex=-1, **{"aria-labelledby": "panel-title"}),
            ], className="columns"),
        ]),
        html.Footer(id="attribution", className="sources"),
    ])
