"""WSGI entry point: ``gunicorn placeportrait_app.wsgi:server``.

The store comes from ``PLACEPORTRAIT_DATABASE_URL`` (else the embedded default, as for the
CLI); ``PLACEPORTRAIT_BOUNDARY_SET`` picks the set shown first. Read-only.
"""

from __future__ import annotations

import os

from placeportrait_app import create_app

app = create_app(os.environ.get("PLACEPORTRAIT_DATABASE_URL") or None,
                 boundary_set=os.environ.get("PLACEPORTRAIT_BOUNDARY_SET") or None)
server = app.server
