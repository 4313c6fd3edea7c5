"""HTTP Basic authentication for a deployment, switched on from the environment only.

Set ``PLACEPORTRAIT_APP_USER`` and ``PLACEPORTRAIT_APP_PASSWORD`` and every route of the
app asks for them: the page, Dash's callbacks and scripts, the geometry files and the
report downloads, and unknown URLs too. A request without them, or with wrong ones, gets
``401`` with ``WWW-Authenticate: Basic``. Both values are compared in constant time
(``hmac.compare_digest`` over SHA-256 digests, so not even the length leaks). Neither is
ever logged, printed or put in an error message.

Basic auth sends the password with every request, so TLS must be terminated in front of
the app by a reverse proxy. See "Deploying" in the README.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import flask

from placeportrait.errors import ConfigError

USER_ENV = "PLACEPORTRAIT_APP_USER"
PASSWORD_ENV = "PLACEPORTRAIT_APP_PASSWORD"
REALM = "placeportrait"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)  # never in a repr or a log line


def from_environment(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The credentials set in the environment, or None when neither variable is set.

    Setting only one of the two is a mistake, and a one-line ``ConfigError`` says so,
    rather than running the app without authentication.
    """
    environ = os.environ if environ is None else environ
    user, password = environ.get(USER_ENV, ""), environ.get(PASSWORD_ENV, "")
    if not user and not password:
        return None
    if not user or not password:
        missing = USER_ENV if not user else PASSWORD_ENV
        raise ConfigError(f"{missing} is empty or not set: set both {USER_ENV} and "
                          f"{PASSWORD_ENV} to turn on authentication, or neither")
    if ":" in user:
        raise ConfigError(f"{USER_ENV} must not contain ':' (HTTP Basic auth separates user "
                          "and password with it)")
    return Credentials(user, password)


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _given(header: str) -> tuple[bytes, bytes] | None:
    """The user and password of an ``Authorization: Basic …`` header, as bytes."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    return (user, password) if sep else None


def check(header: str | None, credentials: Credentials) -> bool:
    """True when ``header`` carries exactly these credentials (constant-time compare)."""
    given = _given(header or "")
    user, password = given if given else (b"", b"")
    user_ok = hmac.compare_digest(_digest(user), _digest(credentials.user.encode("utf-8")))
    password_ok = hmac.compare_digest(_digest(password),
                                      _digest(credentials.password.encode("utf-8")))
    return bool(given) & user_ok & password_ok  # both compared, whatever the first says


def enable(server: flask.Flask, credentials: Credentials) -> None:
    """Refuse every request to ``server`` that lacks the credentials.

    The check runs before any other request hook (Dash's own set-up included) and before
    URL routing, so it covers every route, those added later and unknown ones alike.
    """
    def require_credentials():
        if check(flask.request.headers.get("Authorization"), credentials):
            return None
        response = flask.Response("authentication required\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
        response.headers["Cache-Control"] = "no-store"
        return response

    server.before_request_funcs.setdefault(None, []).insert(0, require_credentials)
    server.config["PLACEPORTRAIT_AUTH"] = "basic"
