"""WSGI entry point: ``gunicorn -b 127.0.0.1:8050 placeportrait_app.wsgi:server``.

Everything comes from the environment, never from a file or the command line:
``PLACEPORTRAIT_DATABASE_URL`` is the store (else the embedded default, as for the CLI);
``PLACEPORTRAIT_BOUNDARY_SET`` picks the set shown first; ``PLACEPORTRAIT_APP_USER`` and
``PLACEPORTRAIT_APP_PASSWORD`` turn on HTTP Basic auth for every route (see ``auth``).
Read-only, never in debug mode. Bind gunicorn to loopback and terminate TLS at a reverse
proxy (README, "Deploying").
"""

from __future__ import annotations

import logging
import os

from placeportrait_app import auth, create_app

app = create_app(os.environ.get("PLACEPORTRAIT_DATABASE_URL") or None,
                 boundary_set=os.environ.get("PLACEPORTRAIT_BOUNDARY_SET") or None)
server = app.server
if server.config.get("PLACEPORTRAIT_AUTH") is None:
    logging.getLogger(__name__).warning(
        "placeportrait: %s and %s are not set, so the app asks for no password; serve it "
        "on loopback only, behind a reverse proxy that authenticates users",
        auth.USER_ENV, auth.PASSWORD_ENV)
