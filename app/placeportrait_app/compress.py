"""Gzip for the app's text responses (callback JSON, HTML, scripts) when the browser
accepts it, without another dependency. Responses already encoded (the display GeoJSON is
stored gzipped) are left alone; fingerprinted static files are compressed once."""

from __future__ import annotations

import gzip
import threading

import flask

TEXT_TYPES = ("application/json", "application/javascript", "text/javascript", "text/html",
              "text/css", "text/csv", "text/plain", "application/geo+json", "image/svg+xml")
MIN_SIZE = 1024


def enable(server: flask.Flask, level: int = 6) -> None:
    cache: dict[tuple, bytes] = {}
    lock = threading.Lock()

    @server.after_request
    def _gzip(response: flask.Response):
        if (response.status_code != 200 or "Content-Encoding" in response.headers
                or response.mimetype not in TEXT_TYPES
                or "gzip" not in flask.request.headers.get("Accept-Encoding", "").lower()):
            return response
        static = flask.request.path.startswith(("/_dash-component-suites/", "/assets/"))
        key = (flask.request.full_path, response.headers.get("ETag"))
        if static and key in cache:
            body = cache[key]
        else:
            if response.direct_passthrough:
                response.direct_passthrough = False
            data = response.get_data()
            if len(data) < MIN_SIZE:
                return response
            body = gzip.compress(data, level)
            if static:
                with lock:
                    cache[key] = body
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(body))
        response.vary.add("Accept-Encoding")
        return response
