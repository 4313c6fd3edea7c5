"""Gzip for the app's text responses (callback JSON, HTML, scripts) when the browser
accepts it, without another dependency. Responses already encoded (the display GeoJSON is
stored gzipped) are left alone; static files are compressed once.

The compressed static files are kept by path and ETag, never by the query string: the
file served does not depend on it, and a cache keyed on it grew by every distinct query a
client made up. The cache holds at most ``MAX_CACHED`` files, least recently used first out.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

import flask

TEXT_TYPES = ("application/json", "application/javascript", "text/javascript", "text/html",
              "text/css", "text/csv", "text/plain", "application/geo+json", "image/svg+xml")
MIN_SIZE = 1024
MAX_CACHED = 128  # Dash and the app serve a few dozen static files


def accepts_gzip() -> bool:
    """Whether the request's client takes gzipped answers."""
    return "gzip" in flask.request.headers.get("Accept-Encoding", "").lower()


def enable(server: flask.Flask, level: int = 6) -> None:
    """Compress the server's text answers. The static cache is ``server.extensions["gzip_cache"]``."""
    cache: OrderedDict[tuple, bytes] = OrderedDict()
    server.extensions["gzip_cache"] = cache
    lock = threading.Lock()

    def cached(key) -> bytes | None:
        with lock:
            body = cache.get(key)
            if body is not None:
                cache.move_to_end(key)
            return body

    def keep(key, body: bytes) -> None:
        with lock:
            cache[key] = body
            cache.move_to_end(key)
            while len(cache) > MAX_CACHED:
                cache.popitem(last=False)

    @server.after_request
    def _gzip(response: flask.Response):
        if (response.status_code != 200 or "Content-Encoding" in response.headers
                or response.mimetype not in TEXT_TYPES
                or not accepts_gzip()):
            return response
        static = flask.request.path.startswith(("/_dash-component-suites/", "/assets/"))
        key = (flask.request.path, response.headers.get("ETag"))
        body = cached(key) if static else None
        if body is None:
            if response.direct_passthrough:
                response.direct_passthrough = False
            data = response.get_data()
            if len(data) < MIN_SIZE:
                return response
            body = gzip.compress(data, level)
            if static:
                keep(key, body)
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(body))
        response.vary.add("Accept-Encoding")
        return response
