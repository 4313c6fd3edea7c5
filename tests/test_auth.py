"""HTTP Basic auth for a deployment (``placeportrait_app.auth``) and ``serve``'s refusal
to listen beyond loopback without it.

The app is built on a small scored store (Trafford wards, one indicator) and driven with
the Flask test client; nothing here starts a server.
"""

from __future__ import annotations

import base64
import json
import logging
import re

import pytest
from conftest import DATA
from placeportrait_app import auth

from placeportrait.cli import main
from placeportrait.errors import ConfigError

SET = "trafford-wards-2023"
ALTRINCHAM = "E05015239"
DEMO = DATA.parent.parent / "src" / "placeportrait" / "data" / "demo"
USER, PASSWORD = "planner", "correct-Horse-battery-9f2c"
SECRET_ENV = {auth.USER_ENV: USER, auth.PASSWORD_ENV: PASSWORD}


def cli(*args) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    return exit_info.value.code


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    """Trafford's 21 wards with one indicator (gigabit broadband, by code) scored."""
    home = tmp_path_factory.mktemp("home")
    url = str(home / "auth.gpkg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLACEPORTRAIT_HOME", str(home))
        mp.delenv("PLACEPORTRAIT_DATABASE_URL", raising=False)
        assert cli("--database-url", url, "boundaries", "load",
                   DEMO / "trafford_wards_dec2023_bsc.geojson", "--set", SET, "--level", "ward") == 0
        assert cli("--database-url", url, "indicators", "run", "gigabit_broadband", "--boundary-set",
                   SET, "--input",
                   f"gigabit_broadband={DATA / 'indicators' / 'gigabit-capable-broadband.csv'}") == 0
        assert cli("--database-url", url, "score", "--boundary-set", SET) == 0
    return url


@pytest.fixture(scope="module")
def app(store_url):
    from placeportrait_app import create_app

    with pytest.MonkeyPatch.context() as mp:
        for name, value in SECRET_ENV.items():
            mp.setenv(name, value)
        return create_app(store_url, warm=False)


def routes(app) -> dict[str, tuple[str, str, dict | None]]:
    """One URL of every kind the app serves: (method, path, JSON body)."""
    http = app.server.test_client()
    page = http.get("/", headers=basic(USER, PASSWORD)).get_data(as_text=True)
    script = re.search(r'src="(/_dash-component-suites/[^"]+)"', page).group(1)
    repo = app.placeportrait
    callback = {"output": "..ward-list.children...ward-list-shown.data..."
                          "ward-list-summary.children..",
                "outputs": [{"id": "ward-list", "property": "children"},
                            {"id": "ward-list-shown", "property": "data"},
                            {"id": "ward-list-summary", "property": "children"}],
                "inputs": [{"id": "map-shown", "property": "data", "value": {}}],
                "state": [{"id": "map-state", "property": "data",
                           "value": {"set": SET, "indicator": "gigabit_broadband", "la": None,
                                     "highlight": []}},
                          {"id": "ward-list-shown", "property": "data", "value": None}],
                "changedPropIds": ["map-shown.data"]}
    return {
        "page": ("GET", "/", None),
        "ward page": ("GET", f"/ward/{ALTRINCHAM}", None),
        "layout": ("GET", "/_dash-layout", None),
        "dependencies": ("GET", "/_dash-dependencies", None),
        "script": ("GET", script, None),
        "callback": ("POST", "/_dash-update-component", callback),
        "tiles": ("GET", f"/_placeportrait/tiles/{SET}/{repo.geometry_version(SET)}/0/0/0.mvt",
                  None),
        "report": ("GET", f"/report/{SET}/{ALTRINCHAM}.html", None),
        "unknown": ("GET", "/no/such/page.txt", None),
    }


def send(app, method, path, body, headers=None):
    http = app.server.test_client()
    return http.open(path, method=method, json=body, headers=headers or {})


KINDS = ["page", "ward page", "layout", "dependencies", "script", "callback", "tiles", "report",
         "unknown"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_route_asks_for_the_password(app, kind, caplog):
    caplog.set_level(logging.DEBUG)
    method, path, body = routes(app)[kind]
    refused = [send(app, method, path, body),
               send(app, method, path, body, basic(USER, "wrong")),
               send(app, method, path, body, basic("someone", PASSWORD)),
               send(app, method, path, body, basic(USER, PASSWORD + "x")),
               send(app, method, path, body, basic(USER.upper(), PASSWORD))]
    for response in refused:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="placeportrait"')
        assert response.get_data(as_text=True) == "authentication required\n"
        assert PASSWORD not in response.get_data(as_text=True)
        assert PASSWORD not in str(response.headers)
    allowed = send(app, method, path, body, basic(USER, PASSWORD))
    assert allowed.status_code == 200  # an unknown path gets the page, which says "no page"
    if kind == "callback":
        assert "ward-list" in json.loads(allowed.get_data())["response"]
    if kind == "report":
        assert ALTRINCHAM in allowed.get_data(as_text=True)
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize("header", [
    "Bearer " + PASSWORD,
    "Basic",
    "Basic not-base64!!",
    "Basic " + base64.b64encode(f"{USER}{PASSWORD}".encode()).decode(),  # no colon
    "Basic " + base64.b64encode(f"{USER}:{PASSWORD}:".encode()).decode(),
    "Digest username=\"planner\"",
    "basic " + base64.b64encode(b":").decode(),
])
def test_malformed_credentials_are_refused(app, header):
    response = app.server.test_client().get("/", headers={"Authorization": header})
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


def test_the_scheme_name_is_case_insensitive(app):
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert app.server.test_client().get("/", headers={"Authorization": f"basic {token}"}).status_code == 200


def test_non_ascii_passwords_work():
    creds = auth.Credentials("wardløw", "pässwörd-✓")
    token = base64.b64encode("wardløw:pässwörd-✓".encode()).decode()
    assert auth.check(f"Basic {token}", creds)
    assert not auth.check(f"Basic {base64.b64encode(b'wardl:pass').decode()}", creds)
    assert not auth.check(None, creds)


def test_without_credentials_in_the_environment_there_is_no_auth(store_url, monkeypatch):
    from placeportrait_app import create_app

    monkeypatch.delenv(auth.USER_ENV, raising=False)
    monkeypatch.delenv(auth.PASSWORD_ENV, raising=False)
    app = create_app(store_url, warm=False)
    assert app.server.test_client().get("/").status_code == 200


@pytest.mark.parametrize("env", [{auth.USER_ENV: USER}, {auth.PASSWORD_ENV: PASSWORD},
                                 {auth.USER_ENV: USER, auth.PASSWORD_ENV: ""},
                                 {auth.USER_ENV: "a:b", auth.PASSWORD_ENV: PASSWORD}])
def test_half_set_credentials_are_a_one_line_error_without_the_secret(env):
    with pytest.raises(ConfigError) as error:
        auth.from_environment(env)
    message = str(error.value)
    assert "\n" not in message and PASSWORD not in message
    assert auth.USER_ENV in message


def test_the_password_is_not_in_the_credentials_repr():
    creds = auth.from_environment(SECRET_ENV)
    assert creds.user == USER and creds.password == PASSWORD
    assert PASSWORD not in repr(creds) and PASSWORD not in str(creds)


def test_the_comparison_is_constant_time(monkeypatch):
    """Both the user and the password go through hmac.compare_digest, whatever the first gives."""
    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    creds = auth.Credentials(USER, PASSWORD)
    for header in (None, basic("x", "y")["Authorization"], basic(USER, PASSWORD)["Authorization"]):
        calls.clear()
        auth.check(header, creds)
        assert len(calls) == 2


# -- placeportrait serve ---------------------------------------------------------------------
@pytest.fixture
def no_server(monkeypatch):
    """dash.Dash.run records its arguments instead of serving."""
    import dash

    seen = {}
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: seen.update(kw))
    return seen


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "[::]", "example.org"])
def test_serve_refuses_other_hosts_without_a_password(host, monkeypatch, capsys, no_server, tmp_path):
    monkeypatch.delenv(auth.USER_ENV, raising=False)
    monkeypatch.delenv(auth.PASSWORD_ENV, raising=False)
    # the refusal comes before the store is opened: this one does not exist
    assert cli("--database-url", tmp_path / "absent.gpkg", "serve", "--host", host) == 1
    _out, err = capsys.readouterr()
    assert no_server == {}
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert auth.USER_ENV in lines[0] and "--behind-proxy" in lines[0]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_serve_on_loopback_needs_no_password(store_url, host, monkeypatch, capsys, no_server):
    monkeypatch.delenv(auth.USER_ENV, raising=False)
    monkeypatch.delenv(auth.PASSWORD_ENV, raising=False)
    assert cli("--database-url", store_url, "serve", "--host", host) == 0
    assert no_server["host"] == host and no_server["debug"] is False


def test_serve_behind_a_proxy_may_listen_on_all_interfaces(store_url, monkeypatch, capsys, no_server):
    monkeypatch.delenv(auth.USER_ENV, raising=False)
    monkeypatch.delenv(auth.PASSWORD_ENV, raising=False)
    assert cli("--database-url", store_url, "serve", "--host", "0.0.0.0", "--behind-proxy") == 0
    assert no_server["host"] == "0.0.0.0" and no_server["debug"] is False
    out, err = capsys.readouterr()
    assert "reverse proxy must authenticate" in out and "TLS" in err


def test_serve_with_a_password_never_prints_it(store_url, monkeypatch, capsys, caplog, no_server):
    caplog.set_level(logging.DEBUG)
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    assert cli("--database-url", store_url, "serve", "--host", "0.0.0.0") == 0
    out, err = capsys.readouterr()
    assert no_server["host"] == "0.0.0.0" and no_server["debug"] is False
    assert "HTTP Basic auth" in out
    assert PASSWORD not in out + err + caplog.text


def test_serve_with_half_set_credentials_refuses(store_url, monkeypatch, capsys, no_server):
    monkeypatch.setenv(auth.PASSWORD_ENV, PASSWORD)
    monkeypatch.delenv(auth.USER_ENV, raising=False)
    assert cli("--database-url", store_url, "serve") == 1
    out, err = capsys.readouterr()
    assert no_server == {} and len(err.strip().splitlines()) == 1
    assert PASSWORD not in out + err


def test_wsgi_uses_the_environment_credentials(store_url, monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("PLACEPORTRAIT_DATABASE_URL", store_url)
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("placeportrait_app.wsgi", None)
    wsgi = importlib.import_module("placeportrait_app.wsgi")
    http = wsgi.server.test_client()
    assert http.get("/").status_code == 401
    assert http.get("/", headers=basic(USER, PASSWORD)).status_code == 200
    sys.modules.pop("placeportrait_app.wsgi", None)
