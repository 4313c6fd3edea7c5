"""The placeportrait Dash app: a read-only explorer of a store's wards.

``create_app(store_url)`` builds the app; ``placeportrait serve`` runs it on
127.0.0.1:8050 and ``gunicorn placeportrait_app.wsgi:server`` serves it in production.
See ``docs/app.md``.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import dash
import flask

from placeportrait.errors import StoreUnavailableError
from placeportrait_app import auth, callbacks, compress, layout, reports, tiles
from placeportrait_app.data import Repository
from placeportrait_app.map import BLANK_STYLE

__all__ = ["create_app"]

MAP_START_ID = "placeportrait-map-start"
_MAP_START = re.compile(f'<script type="application/json" id="{MAP_START_ID}">(.*?)</script>',
                        re.S)
log = logging.getLogger("placeportrait.app")


def page_map(page: str) -> dict | None:
    """The first map a page carries (``spec``, ``state``, ``shown``; None: none), as
    :func:`_start_map_with_the_page` puts it there."""
    found = _MAP_START.search(page)
    return json.loads(found.group(1)) if found else None


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
        # the map callback's first request says that the page's own first map is shown
        # (placeportrait_map.js), so its answer does not carry it again
        hooks={"request_pre": "function (payload) { if (window.placeportraitRequestPre) "
                              "{ window.placeportraitRequestPre(payload); } }"},
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
    """Put the map the page first shows (``callbacks.first_map``: tiles, view and values,
    as the first callbacks will send them) in the page itself, Dash's index HTML, as
    ``<script type="application/json" id="placeportrait-map-start">``. The browser then
    creates the map, fetches its tiles and colours them as soon as its scripts have run,
    without waiting for Dash to draw the page and ask the router and the map for their
    first answers (about half a second on the UK map)."""
    interpolate = app.interpolate_index

    def interpolate_index(**parts):
        try:
            first = callbacks.first_map(app, repo, flask.request.path,
                                        flask.request.query_string.decode("latin-1"), map_style)
        except StoreUnavailableError:
            first = None  # the map starts with the first values, which say why
        except Exception:  # noqa: BLE001 - the page still comes; the map callback says why
            log.exception("the page's first map could not be made")
            first = None
        if first is not None:
            data = json.dumps(first).replace("<", "\\u003c")  # no "</script>" from data
            parts["app_entry"] += (f'<script type="application/json" id="{MAP_START_ID}">'
                                   f"{data}</script>")
        return interpolate(**parts)

    app.interpolate_index = interpolate_index
