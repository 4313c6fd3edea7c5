"""The placeportrait Dash app: a read-only explorer of a store's wards.

``create_app(store_url)`` builds the app; ``placeportrait serve`` runs it on
127.0.0.1:8050 and ``gunicorn placeportrait_app.wsgi:server`` serves it in production.
See ``docs/app.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import dash
import flask

from placeportrait.errors import StoreUnavailableError
from placeportrait_app import auth, callbacks, compress, layout, reports, tiles
from placeportrait_app import map as map_lib
from placeportrait_app.data import Repository
from placeportrait_app.map import BLANK_STYLE

__all__ = ["create_app"]

MAP_START_ID = "placeportrait-map-start"


def create_app(store_url: str | None = None, boundary_set: str | None = None, *,
               map_style: str = BLANK_STYLE, title: str = "placeportrait", warm: bool = True,
               ttl: float = 2.0, **dash_options) -> dash.Dash:
    """Build the app on the store at ``store_url`` (default: as the CLI resolves it).

    ``boundary_set`` is shown when a URL names none (default: a scored ward set). The
    store is only read. Raises a one-line ``PlacePortraitError`` if the store is missing,
    empty or the boundary set unknown. ``map_style`` is a MapLibre style name; the default
    ``white-bg`` needs no tiles (use e.g. ``carto-positron`` where tiles are reachable).
    When ``PLACEPORTRAIT_APP_USER`` and ``PLACEPORTRAIT_APP_PASSWORD`` are set, every route
    asks for them (HTTP Basic auth, see ``auth``).
    """
    credentials = auth.from_environment()
    repo = Repository.open(store_url, ttl=ttl, default_set=boundary_set)
    repo.check()
    app = dash.Dash(
        __name__, title=title, update_title=None,
        assets_folder=str(Path(__file__).parent / "assets"),
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
                   {"name": "description",
                    "content": "Doughnut-economics portraits of wards: social foundation "
                               "and ecological ceiling"}],
        **dash_options,
    )
    if credentials:
        auth.enable(app.server, credentials)
    app.index_string = layout.INDEX
    app.layout = layout.build(title)
    _start_map_with_the_page(app, repo, map_style)
    app.placeportrait = repo  # for tests and benchmarks
    tiles.register(app, repo)
    reports.register(app, repo)
    compress.enable(app.server)
    repo.answer_unavailable(app.server)  # 503 + Retry-After while the store is down
    callbacks.register(app, repo, map_style=map_style)
    if warm:
        app.placeportrait_warming = repo.warm(repo.default_set())
    return app


def _start_map_with_the_page(app, repo, map_style: str) -> None:
    """Put the map's start (:func:`_map_start`) in the page itself, Dash's index HTML, as
    ``<script type="application/json" id="placeportrait-map-start">``: the browser then
    creates the map and fetches its tiles as soon as its scripts have run, before Dash has
    asked for the layout and the first values (a third of a second on the UK map)."""
    interpolate = app.interpolate_index

    def interpolate_index(**parts):
        start = _map_start(app, repo, map_style, flask.request.args.get("set"))
        if start is not None:
            data = json.dumps(start).replace("<", "\\u003c")  # no "</script>" from a name
            parts["app_entry"] += (f'<script type="application/json" id="{MAP_START_ID}">'
                                   f"{data}</script>")
        return interpolate(**parts)

    app.interpolate_index = interpolate_index


def _map_start(app, repo, map_style: str, name: str | None = None) -> dict | None:
    """The map of the set ``name`` (if the app shows it, else the default set), whole, for
    the page to start with (None: the store is unreachable or empty; the map then starts
    with the first values)."""
    try:
        if name not in repo.known().sets:
            name = repo.default_set()
        if name is None:
            return None
        set_tiles = repo.tiles(name)
        return map_lib.start(tiles.source(app, repo, name),
                             set_tiles.extent(set_tiles.bounds.index),
                             map_lib.view_key(name, None), len(set_tiles.bounds), map_style)
    except StoreUnavailableError:
        return None
