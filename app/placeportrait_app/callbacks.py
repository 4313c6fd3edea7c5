"""The callbacks. One router keeps the URL, the controls and two small state stores in
step; the map and the panel render from those stores.

    URL, a control or a map click ──► route ──► map-state ──► draw_map ──► map-spec
                                             │        (whole spec, or a Patch) ──► the
                                             │        browser's MapLibre map (clientside)
                                             │                         └─► map-shown ──►
                                             │        draw_ward_list (the map's text alternative)
                                             └─► panel-state ──► draw_panel (portrait / compare)

Every input is validated by :mod:`placeportrait_app.routes` against the store's known
values. A failure while drawing shows a one-line message in place, never a traceback.
While the store cannot be reached, every callback shows the same one-line temporary message
(in the messages area, the map caption and the panel) and the next request after the store
is back draws the page again.
"""

from __future__ import annotations

import logging

from dash import ClientsideFunction, Input, Output, Patch, State, ctx, html, no_update, set_props

from placeportrait import links
from placeportrait.errors import PlacePortraitError, StoreUnavailableError
from placeportrait.missing import text
from placeportrait_app import downloads, inside, panels, routes, tables, tiles
from placeportrait_app import map as map_lib
from placeportrait_app.data import unavailable_reason
from placeportrait_app.metrics import Metric
from placeportrait_app.rawhtml import freeze

log = logging.getLogger("placeportrait.app")

NO_METRIC = Metric(id="none", kind="indicator", label="No scored indicators", unit="",
                   higher_is_worse=True)


class Hrefs:
    """Links that keep the current set, indicator and authority filter."""

    def __init__(self, app, state: dict):
        self.app, self.state = app, state

    def _href(self, **changes) -> str:
        path, search = routes.to_url({**self.state, **changes})
        return self.app.get_relative_path(path) + search

    def ward(self, code: str) -> str:
        return self._href(view="ward", ward=code)

    def compare(self, codes: list[str]) -> str:
        return self._href(view="compare", wards=list(codes))

    def here(self) -> str:
        return self._href()


def _message(exc: Exception) -> str:
    if isinstance(exc, PlacePortraitError):
        return str(exc)
    return f"Something went wrong ({type(exc).__name__}); reload the page to try again."


def _unavailable(exc: StoreUnavailableError, what: str) -> str:
    """Log a passing outage in one line (no traceback) and return the page's message."""
    log.warning("%s: store unavailable: %s", what, unavailable_reason(exc))
    return str(exc)


def _failed(exc: Exception, what: str) -> str | None:
    """For a store outage, the page's one line (logged without a traceback). For any other
    failure, log it with its traceback and return None: the caller words the message."""
    if isinstance(exc, StoreUnavailableError):
        return _unavailable(exc, what)
    log.exception("%s failed", what)
    return None


def _rejected(exc: routes.InvalidStateError, what: str) -> str:
    """Log forged or stale callback state in one line (no traceback) and return the page's
    message; what the client sent is only described, never echoed."""
    log.warning("%s: refused callback state: %s", what, exc.detail)
    return str(exc)


class Incoming:
    """A map or panel state as a callback receives it, sorted before anything uses it:
    the store's outage message, nothing to show yet, or a state checked by
    :func:`routes.check_state` (which raises ``InvalidStateError`` for a forged one)."""

    def __init__(self, repo, data):
        self.unavailable = self.state = None
        if isinstance(data, dict) and data.get("unavailable"):
            self.unavailable = str(data["unavailable"])[:routes.MAX_VALUE_LENGTH]
        elif data and not (isinstance(data, dict) and data.get("set") is None):
            self.state = routes.check_state(data, repo.known())


def _options(mapping) -> list[dict]:
    return [{"label": label, "value": value} for value, label in mapping.items()]


def _clicked(click) -> str | None:
    """The code of the area clicked on the map (``{"code": ..., "at": ...}`` from the browser)."""
    code = click.get("code") if isinstance(click, dict) else None
    return code if isinstance(code, str) else None


def register(app, repo, *, map_style: str = map_lib.BLANK_STYLE) -> None:

    def warm_layers(name, metric_ids):
        # the state as the router makes it, so that the map finds these under its key
        for metric_id in metric_ids:
            view = routes.ViewState(set=name, indicator=metric_id)
            _layer(repo, map_state_of(view, repo.version(name)))

    repo.on_warm = warm_layers

    @app.callback(
        Output("url", "pathname"), Output("url", "search"),
        Output("set", "options"), Output("set", "value"),
        Output("indicator", "options"), Output("indicator", "value"),
        Output("la", "options"), Output("la", "value"),
        Output("period", "options"), Output("period", "value"),
        Output("search", "value"),
        Output("map-state", "data"), Output("panel-state", "data"),
        Output("messages", "children"), Output("share-link", "href"),
        Input("url", "pathname"), Input("url", "search"),
        Input("set", "value"), Input("indicator", "value"), Input("la", "value"),
        Input("period", "value"), Input("search", "value"), Input("map-click", "data"),
        State("set", "options"), State("indicator", "options"), State("la", "options"),
        State("period", "options"), State("map-state", "data"), State("panel-state", "data"),
    )
    def route(pathname, search, set_value, indicator_value, la_value, period_value,
              search_value, click, set_options, indicator_options, la_options, period_options,
              map_state, panel_state):
        try:
            for value, what in ((pathname, "pathname"), (search, "search"), (set_value, "set"),
                                (indicator_value, "indicator"), (la_value, "la"),
                                (period_value, "period"), (search_value, "search box")):
                routes.check_input(value, what)
        except routes.InvalidStateError as exc:
            return (no_update,) * 13 + ([html.P(_rejected(exc, "routing"))], no_update)
        try:
            return _route(pathname, search, set_value, indicator_value, la_value, period_value,
                          search_value, click, set_options, indicator_options, la_options,
                          period_options, map_state, panel_state)
        except StoreUnavailableError as exc:
            # Say so once in the messages area; the map and panel show it too. The states
            # differ from any real view, so the next working request redraws both.
            message = _unavailable(exc, "routing")
            down = {"set": None, "unavailable": message}
            return (no_update,) * 11 + (down, down, [html.P(message)], no_update)

    def _route(pathname, search, set_value, indicator_value, la_value, period_value,
               search_value, click, set_options, indicator_options, la_options, period_options,
               map_state, panel_state):
        trigger = ctx.triggered_id
        known = repo.known()
        path = "/" + (app.strip_relative_path(pathname or "/") or "")
        state = routes.parse(path, search, known)
        push = False
        if trigger not in (None, "url") and state.set:
            push = True
            state.messages = []  # a choice made on the page replaces complaints about the address
            catalog = known.catalog(state.set)
            if trigger == "set":
                if set_value in known.sets and set_value != state.set:
                    new_catalog = known.catalog(set_value)
                    keep = state.indicator if state.indicator in new_catalog.metrics else None
                    state = routes.ViewState(set=set_value,
                                             indicator=keep or new_catalog.default_metric)
                else:
                    push = False
            elif trigger == "indicator":
                if indicator_value in catalog.metrics:
                    state.indicator = indicator_value
                else:
                    push = False
            elif trigger == "la":
                state.la = la_value if la_value in catalog.authorities else None
            elif trigger == "period":
                if period_value in catalog.periods:
                    state.period = period_value
                else:
                    push = False
            elif trigger in ("search", "map-click"):
                code = search_value if trigger == "search" else _clicked(click)
                if code in catalog.wards:
                    if state.view == "compare":
                        routes.toggle_compare(state, code)
                    else:
                        state.view, state.ward = "ward", code
                else:
                    push = False
        url_path, url_search = routes.to_url(state)
        new_path = app.get_relative_path(url_path)
        changed_url = push and (new_path != pathname or url_search != (search or ""))

        set_opts = _set_options(repo, state.set)
        if state.set:
            catalog = known.catalog(state.set)
            ind_opts, la_opts = _options(catalog.metrics), _options(catalog.authorities)
            period_opts = _options(catalog.periods)
            version = repo.version(state.set)
        else:
            ind_opts, la_opts, period_opts, version = [], [], [], None
        new_map = map_state_of(state, version)
        new_panel = {**state.as_dict(), "version": version}
        messages = [html.P(m) for m in state.messages] or None

        def same(new, old):
            return no_update if new == old else new

        return (
            new_path if changed_url else no_update,
            url_search if changed_url else no_update,
            same(set_opts, set_options), same(state.set, set_value),
            same(ind_opts, indicator_options), same(state.indicator, indicator_value),
            same(la_opts, la_options), same(state.la, la_value),
            same(period_opts, period_options), same(state.period, period_value),
            None if trigger == "search" else no_update,
            same(new_map, map_state), same(new_panel, panel_state),
            messages, new_path + url_search,
        )

    @app.callback(
        Output("map-spec", "data"), Output("map-shown", "data"), Output("map-title", "children"),
        Output("legend", "children"), Output("map-caption", "children"),
        Input("map-state", "data"), State("map-shown", "data"),
    )
    def draw_map(state, shown):
        try:
            incoming = Incoming(repo, state)
            if incoming.unavailable:
                return no_update, None, "Map", None, incoming.unavailable
            if not incoming.state:
                return no_update, None, "Map", None, "No boundary set to show."
            state = incoming.state
            return _draw_map(app, repo, state, shown, map_style)
        except routes.InvalidStateError as exc:
            return no_update, None, "Map", None, _rejected(exc, "drawing the map")
        except Exception as exc:  # noqa: BLE001 - shown to the user in one line
            message = _failed(exc, f"drawing the map of {state['set']}")
            return (no_update, None, "Map", None,
                    message or f"The map could not be drawn: {_message(exc)}")

    app.clientside_callback(ClientsideFunction("placeportrait", "drawMap"),
                            Output("map-drawn", "data"), Input("map-spec", "data"))

    @app.callback(Output("ward-list", "children"), Output("ward-list-shown", "data"),
                  Output("ward-list-summary", "children"),
                  Input("map-shown", "data"), State("map-state", "data"),
                  State("ward-list-shown", "data"))
    def draw_ward_list(_map_shown, state, shown):
        """The map's text alternative, asked for once the map has answered: fired with the
        map's request, it took the server from the map on a switch of indicator (two cores,
        one interpreter lock). A ward click changes only the map's outline, so the table
        (8,441 rows for the UK) is not sent again unless what it lists changed."""
        try:
            incoming = Incoming(repo, state)
            if not incoming.state:
                return None, None, no_update
            state = incoming.state
            key = [state["set"], repo.version(state["set"]), state.get("indicator"),
                   state.get("la"), state.get("period")]
            if key == shown:
                return no_update, no_update, no_update
            summary = f"Table of the {repo.area_noun(state['set'])[1]} on the map"
            return _ward_list(app, repo, state), key, summary
        except routes.InvalidStateError as exc:
            return html.P(_rejected(exc, "listing the wards")), None, no_update
        except Exception as exc:  # noqa: BLE001
            message = _failed(exc, "listing the wards")
            return (html.P(message or f"The table of wards could not be drawn: {_message(exc)}"),
                    None, no_update)

    @app.callback(
        Output("panel-title", "children"), Output("panel-body", "children"),
        Output("panel-actions", "style"), Output("attribution", "children"),
        Output("attribution-shown", "data"), Output("inside-spec", "data"),
        Input("panel-state", "data"), State("attribution-shown", "data"),
    )
    def draw_panel(state, attribution_shown):
        # Not after the map (as the table of wards is): a ward's own address then showed
        # its portrait 0.7 s later, behind the map's values (bench/first_render.py).
        try:
            incoming = Incoming(repo, state)
            if incoming.unavailable:
                return ("Ward portrait", html.P(incoming.unavailable), {"display": "none"},
                        no_update, no_update, None)
            if not incoming.state:
                return "Ward portrait", None, {"display": "none"}, None, None, None
            state = incoming.state
            title, body, actions, inside_spec = _draw_panel(app, repo, state)
            # the footer only changes with the set or the store's version
            key = [state["set"], state.get("version")]
            if key == attribution_shown:
                return title, body, actions, no_update, no_update, inside_spec
            return title, body, actions, _attribution(repo, state["set"]), key, inside_spec
        except routes.InvalidStateError as exc:
            return ("Ward portrait", html.P(_rejected(exc, "drawing the panel")),
                    {"display": "none"}, no_update, no_update, None)
        except Exception as exc:  # noqa: BLE001
            message = _failed(exc, "drawing the panel")
            return ("Ward portrait",
                    html.P(message or f"This view could not be drawn: {_message(exc)}"),
                    {"display": "none"}, no_update, no_update, None)

    app.clientside_callback(ClientsideFunction("placeportrait", "drawInside"),
                            Output("inside-drawn", "data"), Input("inside-spec", "data"))

    def tell(exc: StoreUnavailableError, what: str):
        """For callbacks without a place of their own: say it in the messages area."""
        set_props("messages", {"children": [html.P(_unavailable(exc, what))]})
        return no_update

    def refuse(exc: routes.InvalidStateError, what: str):
        set_props("messages", {"children": [html.P(_rejected(exc, what))]})
        return no_update

    @app.callback(
        Output("search", "options"),
        Input("search", "search_value"), State("map-state", "data"),
        prevent_initial_call=True,
    )
    def search_options(term, state):
        try:
            term = routes.check_input(term, "search term")
            incoming = Incoming(repo, state)
            if not term or not incoming.state:
                return no_update
            return repo.search(incoming.state["set"], term)
        except routes.InvalidStateError as exc:
            return refuse(exc, "searching")
        except StoreUnavailableError as exc:
            return tell(exc, "searching")

    @app.callback(
        Output("download-map", "data"),
        Input("dl-map-csv", "n_clicks"), Input("dl-map-geojson", "n_clicks"),
        State("map-state", "data"), prevent_initial_call=True,
    )
    def download_map(_csv, _geojson, state):
        try:
            state = Incoming(repo, state).state
            if not state or not state.get("indicator"):
                return no_update
            layer = _layer(repo, state)
            at = repo.at(state.get("period"))
            if ctx.triggered_id == "dl-map-geojson":
                return downloads.map_geojson(at, state["set"], layer)
            return downloads.map_csv(at, state["set"], layer)
        except routes.InvalidStateError as exc:
            return refuse(exc, "downloading the map data")
        except StoreUnavailableError as exc:
            return tell(exc, "downloading the map data")

    @app.callback(
        Output("download-panel", "data"),
        Input("dl-panel-csv", "n_clicks"), State("panel-state", "data"),
        prevent_initial_call=True,
    )
    def download_panel(_clicks, state):
        try:
            state = Incoming(repo, state).state
            if not state:
                return no_update
            return downloads.panel_csv(repo.at(state.get("period")), state["set"], state) or no_update
        except routes.InvalidStateError as exc:
            return refuse(exc, "downloading the table")
        except StoreUnavailableError as exc:
            return tell(exc, "downloading the table")


def map_state_of(state: routes.ViewState, version: str | None) -> dict:
    """What the map shows for a view (the map callback's input, ``map-state``)."""
    highlight = [state.ward] if state.view == "ward" and state.ward else (
        list(state.wards) if state.view == "compare" else [])
    return {"set": state.set, "version": version, "indicator": state.indicator,
            "la": state.la, "highlight": highlight, "period": state.period}


def first_map(app, repo, pathname: str, search: str, map_style: str) -> dict | None:
    """The map a page opened at ``pathname?search`` first shows, as the router and the map
    callback will make it: ``spec``, the router's ``state`` for the map and what the map
    callback would then record as ``shown`` (None: the store has no set to show)."""
    known = repo.known()
    view = routes.parse("/" + (app.strip_relative_path(pathname) or ""), search, known)
    if not view.set:
        return None
    state = map_state_of(view, repo.version(view.set))
    spec, shown, *_ = _draw_map(app, repo, state, None, map_style)
    return {"spec": spec, "state": state, "shown": shown}


def _layer(repo, state: dict) -> map_lib.MapLayer:
    name, metric_id, la = state["set"], state.get("indicator"), state.get("la")
    key = ("layer", name, repo.version(name), metric_id, la, state.get("period"))
    repo = repo.at(state.get("period"))

    def compute():
        areas = repo.areas(name)
        metrics = repo.metrics(name)
        if metric_id in metrics:
            metric, values = metrics[metric_id], repo.metric_values(name, metric_id)
        else:
            import pandas as pd

            metric = NO_METRIC
            values = pd.DataFrame({"value": float("nan"), "status": "no data",
                                   "display": "no data"}, index=areas["code"])
        return map_lib.build_layer(areas, values, metric, la)

    return repo.memo(key, compute)


def _draw_map(app, repo, state, shown, map_style):
    shown = shown if isinstance(shown, dict) else None  # client state: trusted only if sound
    name, la = state["set"], state.get("la")
    layer = _layer(repo, state)
    set_tiles = repo.tiles(name)
    geom_version = repo.geometry_version(name)
    view_key = map_lib.view_key(name, la)
    selected = [c for c in state.get("highlight") or [] if c in set_tiles.bounds.index]
    if shown and shown.get("set") == name and shown.get("geom") == geom_version:
        la_changed = shown.get("la") != la
        values_changed = la_changed or shown.get("indicator") != state.get("indicator") \
            or shown.get("version") != state.get("version") \
            or shown.get("period") != state.get("period")
        selected_changed = shown.get("highlight") != state.get("highlight")
        if values_changed:
            spec = map_lib.patch(Patch(), layer, areas=la_changed,
                                 selected=selected if selected_changed else None,
                                 extent=set_tiles.extent(layer.codes) if la_changed else None,
                                 view_key=view_key if la_changed else None)
        elif selected_changed:
            spec = Patch()
            spec["selected"] = selected
        else:
            spec = no_update
    else:
        spec = map_lib.spec(layer, tiles.source(app, repo, name), selected,
                            set_tiles.extent(layer.codes), view_key, map_style)
    new_shown = {"set": name, "geom": geom_version, "la": la, "indicator": state.get("indicator"),
                 "version": state.get("version"), "highlight": state.get("highlight"),
                 "period": state.get("period")}
    metric = layer.metric
    authority = repo.authority_label(name, la) if la else None
    one, many = repo.area_noun(name)
    legend = [
        html.P(map_lib.legend_title(metric), id="legend-title"),
        html.Ul([html.Li([html.Span(className="swatch" + (" nodata" if item.get("no_data") else ""),
                                    style={"backgroundColor": item["colour"]},
                                    **{"aria-hidden": "true"}),
                          f"{item['label']} ({item['count']:,} {many})"],
                         className="legend-no-data" if item.get("no_data") else "legend-class")
                 for item in layer.legend], id="legend-items"),
    ]
    where = f"the {len(layer.codes):,} {many} of {authority}" if authority else \
        f"all {len(layer.codes):,} {many}"
    when = _as_of(state)
    caption = (f"Map of {where} in boundary set {name}, coloured by {metric.label}{when} "
               f"({layer.scheme}; {map_lib.NO_DATA_COLOUR_NAME} = no data: {layer.no_data:,} {many}). "
               f"Hover over {one} for its value, unit and status; "
               f"click it for its portrait. The same values are in the table of {many} below "
               "the map.")
    title = f"Map: {metric.label}{when}" + (f" ({metric.caveat})" if metric.caveat else "")
    return spec, new_shown, title, legend, caption


def _as_of(state) -> str:
    """`` as of 2019`` when the view shows an earlier year, else nothing."""
    period = state.get("period")
    return f" as of {period}" if period and period != routes.LATEST else ""


def _hrefs(app, state) -> Hrefs:
    """Links that keep the view's set, indicator, authority and period."""
    return Hrefs(app, {k: state.get(k) for k in ("set", "indicator", "la", "period")})


def _ward_list(app, repo, state):
    name, la = state["set"], state.get("la")
    key = ("ward-list", name, repo.version(name), state.get("indicator"), la, state.get("period"))

    def compute():
        layer = _layer(repo, state)
        hrefs = _hrefs(app, state)
        labels = repo.authorities(name)
        # one component, not ~8 a row: see rawhtml
        return freeze(tables.ward_list(layer, hrefs.ward,
                                       lambda c: labels.get(c, c) if isinstance(c, str) else "none",
                                       repo.area_noun(name)))
    return repo.memo(key, compute)


def _set_options(repo, current: str | None) -> list[dict]:
    """The boundary sets worth choosing: those with scores (a source-geometry set such as
    lsoa-2011 has none, and would draw an all-grey map), plus the one in the URL."""
    scored = repo.scored_sets()
    return [{"label": f"{r.name} ({r.level}, {int(r.area_count):,} areas)", "value": r.name}
            for r in repo.sets().itertuples()
            if r.name in scored or r.name == current or not scored]


def _attribution(repo, name: str):
    meta = repo.set_meta(name)
    table = repo.table(name)
    items = [html.Li([html.Strong(f"Boundaries ({name}): "),
                      f"{text(meta.get('licence'), 'licence not recorded')}. ",
                      text(meta.get("attribution"))])]
    if not table.empty:
        for r in table.drop_duplicates("indicator").sort_values("title").itertuples():
            link = links.web_link(r.source_url)
            source = (html.A(r.source, href=link, rel="noopener", target="_blank") if link
                      else text(r.source, "unknown source"))
            read = f"Read from {r.source_file}. " if text(r.source_file) else ""
            items.append(html.Li([html.Strong(f"{r.title}: "), source, f" ({r.period}). ",
                                  read, f"{text(r.licence, 'licence not recorded')}. ",
                                  text(r.attribution)]))
    return freeze([
        html.H2("Sources and licences"),
        html.Ul(items),
        html.P("Map: no basemap, so no tiles are fetched. Missing data is shown as “no data”, "
               "never as zero. Downloads carry each value's source, method, coverage, licence "
               "and dates."),
    ])


def _draw_panel(app, repo, state):
    name = state["set"]
    hrefs = _hrefs(app, state)
    repo = repo.at(state.get("period"))
    hidden, shown = {"display": "none"}, {}
    if state.get("view") == "ward" and state.get("ward"):
        code = state["ward"]
        areas = repo.areas(name)
        match = areas.loc[areas["code"] == code, "name"]
        ward = match.iloc[0] if len(match) and isinstance(match.iloc[0], str) else code
        inside_section, inside_spec = inside.section(repo, app, name, code, ward,
                                                     _layer(repo, state))
        return (f"Ward portrait: {ward}{_as_of(state)}",
                panels.portrait(repo, name, code, hrefs, inside_section), shown, inside_spec)
    if state.get("view") == "compare":
        wards = state.get("wards") or []
        title = f"Compare {len(wards)} ward{'s' if len(wards) != 1 else ''}" if wards else "Compare wards"
        return title, panels.compare(repo, name, wards, hrefs), shown if wards else hidden, None
    return "Ward portrait", panels.intro(hrefs.compare([])), hidden, None
