"""Load test: simulated users against the app under gunicorn, over real HTTP on loopback.

    python bench/load.py [--users 20] [--seconds 60] [--database-url URL] [--boundary-set NAME]
                         [--workers 2] [--threads 4] [--no-auth] [--out bench/results]

Without --database-url it builds the demo store (Trafford, 21 wards) with
``placeportrait demo --no-serve`` in a temporary PLACEPORTRAIT_HOME. It starts
``gunicorn placeportrait_app.wsgi:server`` on 127.0.0.1 and a free port, with HTTP Basic
auth on (a random password, from the environment, as in a deployment) unless --no-auth.
Then each simulated user (a thread with its own HTTP session) repeats what a browser does,
with no pause between requests:

1. open the map: the page, ``_dash-layout``, ``_dash-dependencies``, and the callbacks the
   page sends on load: the router, the map, the table of wards and the panel. The set's
   zoom-0 vector tile (one of the tiles a browser fetches) is fetched on a user's first
   visit, and on one visit in four after that (a new visitor whose browser has not cached
   it yet);
2. click a ward: the router, then the map (a Patch), the panel (the ward portrait) and the
   table of wards;
3. switch the indicator: the router, then the callbacks whose input changed;
4. download the ward's HTML report (``/report/<set>/<code>.html``).

Callback bodies are built from ``_dash-dependencies``, as the browser builds them. An
error is a failed connection, an unexpected status, or a response that lacks what the
browser needs or carries the app's own error message. Requests started in the warm-up are
not counted. The report gives requests, errors, throughput and p50/p95/p99 per kind of
request and overall, as Markdown and JSON (``bench/results/load.md`` and ``.json``) with
the machine. The client runs on the same machine as the server and takes CPU from it.
Benchmarks measure; the tests never assert on time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import machine

HERE = Path(__file__).resolve().parent
KINDS = ["page", "layout", "dependencies", "tiles", "route", "map", "ward_list", "panel",
         "report"]
APP_ERRORS = ("could not be drawn", "Traceback", "Internal Server Error")
TIMEOUT = 120.0
NEW_VISITOR = 0.25  # the share of visits from a browser without the tiles cached


# -- the store and the server -------------------------------------------------------------
def build_demo_store(home: Path) -> str:
    """``placeportrait demo --no-serve`` into ``home``; returns the GeoPackage's path."""
    env = {**os.environ, "PLACEPORTRAIT_HOME": str(home)}
    env.pop("PLACEPORTRAIT_DATABASE_URL", None)
    url = str(home / "placeportrait.gpkg")
    done = subprocess.run([sys.executable, "-m", "placeportrait.cli", "--database-url", url,
                           "demo", "--no-serve"], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building the demo store failed: {done.stderr.strip()[-500:]}")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn placeportrait_app.wsgi:server`` on 127.0.0.1, logging to ``folder``."""

    def __init__(self, store_url: str, folder: Path, *, workers: int = 2, threads: int = 4,
                 boundary_set: str | None = None, credentials: tuple[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        self.credentials = credentials
        env = {**os.environ, "PLACEPORTRAIT_DATABASE_URL": store_url}
        for name in ("PLACEPORTRAIT_APP_USER", "PLACEPORTRAIT_APP_PASSWORD",
                     "PLACEPORTRAIT_BOUNDARY_SET"):
            env.pop(name, None)
        if credentials:
            env["PLACEPORTRAIT_APP_USER"], env["PLACEPORTRAIT_APP_PASSWORD"] = credentials
        if boundary_set:
            env["PLACEPORTRAIT_BOUNDARY_SET"] = boundary_set
        self.command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                        "--workers", str(workers), "--threads", str(threads),
                        "--worker-class", "gthread", "--timeout", "120",
                        "--access-logfile", "-", "--error-logfile", "-",
                        "placeportrait_app.wsgi:server"]
        self.workers, self.threads = workers, threads
        self._out = open(self.log, "wb")  # noqa: SIM115 - open while gunicorn runs; closed in stop()
        self.proc = subprocess.Popen(self.command, env=env, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Poll ``/`` until it answers 200; returns the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                response = requests.get(self.base + "/", auth=self.credentials, timeout=30)
                if response.status_code == 200:
                    return time.monotonic() - start
            except requests.ConnectionError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group (gunicorn's)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._out.close()


# -- one simulated user ---------------------------------------------------------------------
class AppError(Exception):
    """The response came but is not what the browser needs."""


@dataclass
class Sample:
    kind: str
    started: float
    seconds: float
    error: str | None = None


@dataclass
class Callbacks:
    """The callbacks of ``_dash-dependencies``, keyed by their first output."""

    specs: dict = field(default_factory=dict)

    @classmethod
    def from_dependencies(cls, dependencies: list) -> Callbacks:
        specs = {}
        for dep in dependencies:
            key = dep["output"]
            parts = key[2:-2].split("...") if key.startswith("..") else [key]
            outputs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]
            specs[parts[0]] = {"key": key, "outputs": outputs, "multi": key.startswith(".."),
                               "inputs": dep["inputs"], "state": dep["state"]}
        return cls(specs)

    def body(self, first_output: str, values: dict, changed: list[str]) -> dict:
        spec = self.specs[first_output]

        def props(items):
            return [{"id": i["id"], "property": i["property"],
                     "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

        return {"output": spec["key"],
                "outputs": spec["outputs"] if spec["multi"] else spec["outputs"][0],
                "inputs": props(spec["inputs"]), "state": props(spec["state"]),
                "changedPropIds": changed}


class User:
    """A browser session: the page's state (component props) and the requests it sends."""

    def __init__(self, base: str, credentials, record, rng: random.Random):
        self.base, self.record, self.rng = base, record, rng
        self.http = requests.Session()
        self.http.auth = credentials
        self.tiles_cached = False
        self.props: dict = {}
        self.callbacks: Callbacks | None = None
        self.set_name: str | None = None
        self.wards: list[str] = []

    def _request(self, kind: str, method: str, path: str, check, **kwargs):
        started = time.monotonic()
        t0 = time.perf_counter()
        error = result = None
        try:
            response = self.http.request(method, self.base + path, timeout=TIMEOUT, **kwargs)
            seconds = time.perf_counter() - t0
            if response.status_code not in (200, 204, 206):
                raise AppError(f"HTTP {response.status_code}")
            result = check(response)
        except (requests.RequestException, AppError, ValueError, KeyError, TypeError) as exc:
            seconds = time.perf_counter() - t0
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        self.record(Sample(kind, started, seconds, error))
        if error:
            raise AppError(error)
        return result

    def get(self, kind: str, path: str, check=lambda r: r) -> requests.Response:
        return self._request(kind, "GET", path, check)

    def callback(self, kind: str, first_output: str, changed: list[str]) -> dict:
        body = self.callbacks.body(first_output, self.props, changed)

        def check(response):
            if response.status_code == 204:
                return {}
            text = response.text
            if any(marker in text for marker in APP_ERRORS):
                raise AppError(f"the app reported an error in {first_output}")
            return response.json()["response"]

        updated = self._request(kind, "POST", "/_dash-update-component", check, json=body)
        touched = []
        for component, values in updated.items():
            for prop, value in values.items():
                self.props[f"{component}.{prop}"] = value
                touched.append(f"{component}.{prop}")
        return {"touched": touched, "response": updated}

    # -- what the page sends ----------------------------------------------------------------
    def route(self, changed: list[str]) -> list[str]:
        result = self.callback("route", "url.pathname", changed)
        if self.props.get("messages.children"):
            raise AppError(f"the router complained: {self.props['messages.children']}")
        state = self.props.get("map-state.data") or {}
        if not state.get("set"):
            raise AppError("the router chose no boundary set")
        self.set_name = state["set"]
        return result["touched"]

    def follow(self, touched: list[str]) -> None:
        """The callbacks the browser fires because the router changed their input."""
        if "map-state.data" in touched:
            spec = self.callback("map", "map-spec.data", ["map-state.data"])["response"]
            spec = spec.get("map-spec", {}).get("data")
            if spec is None:
                raise AppError("the map callback sent no spec")
            if "codes" in spec:  # a whole spec, not a Patch
                self.wards = list(spec["codes"])
                tile = spec["tiles"]["tiles"][0].replace("{z}/{x}/{y}", "0/0/0")
                if not self.tiles_cached:
                    self._request("tiles", "GET", tile if tile.startswith("/") else "/" + tile,
                                  self._check_tiles)
                    self.tiles_cached = True
            # asked for once the map has answered, as the browser does
            self.callback("ward_list", "ward-list.children", ["map-shown.data"])
        if "panel-state.data" in touched:
            self.callback("panel", "panel-title.children", ["panel-state.data"])
            title = self.props.get("panel-title.children")
            panel = self.props.get("panel-state.data") or {}
            if panel.get("view") == "ward" and not str(title).startswith("Ward portrait:"):
                raise AppError(f"the ward portrait did not open: {title!r}")

    @staticmethod
    def _check_tiles(response):
        if response.status_code != 200 or not response.content:
            raise AppError(f"the zoom-0 tile answered {response.status_code} without a tile")

    def visit(self) -> None:
        """One session: open the map, open a ward, switch the indicator, get its report."""
        self.props = {"url.pathname": "/", "url.search": ""}
        if self.rng.random() < NEW_VISITOR:
            self.tiles_cached = False  # a new visitor: nothing in the browser's cache
        self.get("page", "/", self._check_page)
        self.get("layout", "/_dash-layout", lambda r: r.json())
        self.callbacks = self.get("dependencies", "/_dash-dependencies",
                                  lambda r: Callbacks.from_dependencies(r.json()))
        self.follow(self.route([]))
        if not self.wards:
            raise AppError("the map showed no wards")
        ward = self.rng.choice(self.wards)
        self.props["map.clickData"] = {"points": [{"location": ward}]}
        self.follow(self.route(["map.clickData"]))
        options = [o["value"] for o in self.props.get("indicator.options") or []]
        others = [o for o in options if o != self.props.get("indicator.value")]
        if others:
            self.props["indicator.value"] = self.rng.choice(others)
            self.follow(self.route(["indicator.value"]))
        self.get("report", f"/report/{self.set_name}/{ward}.html",
                 lambda r: self._check_report(r, ward))

    @staticmethod
    def _check_page(response):
        if "react-entry-point" not in response.text:
            raise AppError("the page has no Dash entry point")

    @staticmethod
    def _check_report(response, ward):
        if ward not in response.text or "<html" not in response.text[:500].lower():
            raise AppError(f"the report of {ward} is not an HTML report")


# -- the run ---------------------------------------------------------------------------------
def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
    return {"p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1),
            "p99_ms": round(float(p99), 1), "max_ms": round(max(seconds) * 1000, 1)}


def summarise(samples: list[Sample], elapsed: float) -> dict:
    kinds = {}
    for kind in KINDS + sorted({s.kind for s in samples} - set(KINDS)):
        mine = [s for s in samples if s.kind == kind]
        kinds[kind] = {"requests": len(mine), "errors": sum(s.error is not None for s in mine),
                       "per_second": round(len(mine) / elapsed, 2) if elapsed else None,
                       **_percentiles([s.seconds for s in mine if s.error is None])}
    overall = {"requests": len(samples), "errors": sum(s.error is not None for s in samples),
               "per_second": round(len(samples) / elapsed, 2) if elapsed else None,
               **_percentiles([s.seconds for s in samples if s.error is None])}
    return {"kinds": kinds, "overall": overall}


def run_load(*, users: int = 20, seconds: float = 60.0, warmup: float = 5.0,
             database_url: str | None = None, boundary_set: str | None = None,
             workers: int = 2, threads: int = 4, auth: bool = True,
             credentials: tuple[str, str] | None = None, seed: int = 1,
             keep_log: bool = False) -> dict:
    """Start gunicorn, run ``users`` simulated users for ``seconds``, and summarise.

    ``credentials`` (user, password) are used when ``auth`` is on; by default a random
    password is made. The result holds no password. With ``keep_log`` it carries the
    server's log text (``server_log``), e.g. to check that no secret was logged.
    """
    folder = Path(tempfile.mkdtemp(prefix="pp-load-"))
    load_before = [round(x, 2) for x in os.getloadavg()]  # others' work on a shared machine
    try:
        started = time.monotonic()
        if database_url is None:
            home = folder / "home"
            home.mkdir()
            database_url = build_demo_store(home)
            store = "demo store (Trafford, 21 wards), GeoPackage, built by `placeportrait demo --no-serve`"
        else:
            store = "PostGIS" if database_url.startswith("postgresql") else "GeoPackage"
        build_seconds = time.monotonic() - started
        if auth:
            credentials = credentials or ("loadtest", secrets.token_urlsafe(18))
        else:
            credentials = None
        server = Gunicorn(database_url, folder, workers=workers, threads=threads,
                          boundary_set=boundary_set, credentials=credentials)
        try:
            ready = server.wait_ready()
            samples, errors, lock = [], [], threading.Lock()
            measure_from = time.monotonic() + warmup
            deadline = measure_from + seconds
            sessions = [0]

            def record(sample: Sample) -> None:
                if sample.started >= measure_from:
                    with lock:
                        samples.append(sample)
                        if sample.error and len(errors) < 20:
                            errors.append(f"{sample.kind}: {sample.error}")

            def simulate(index: int) -> None:
                user = User(server.base, credentials, record, random.Random(seed * 1000 + index))
                while time.monotonic() < deadline:
                    try:
                        user.visit()
                        if time.monotonic() >= measure_from:
                            with lock:
                                sessions[0] += 1
                    except AppError:
                        pass  # recorded; the user starts a new session
                    except Exception as exc:  # noqa: BLE001 - the run goes on, the error counts
                        record(Sample("client", time.monotonic(), 0.0,
                                      f"{type(exc).__name__}: {exc}"))

            pool = [threading.Thread(target=simulate, args=(i,), daemon=True) for i in range(users)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join(timeout=seconds + warmup + 2 * TIMEOUT)
            elapsed = time.monotonic() - measure_from
            load_after = [round(x, 2) for x in os.getloadavg()]
        finally:
            server.stop()
        result = {
            "users": users, "seconds": seconds, "warmup_seconds": warmup,
            "measured_seconds": round(elapsed, 2), "sessions": sessions[0],
            "server": {"command": "gunicorn placeportrait_app.wsgi:server", "bind": "127.0.0.1",
                       "worker_class": "gthread", "workers": workers, "threads": threads,
                       "auth": "HTTP Basic" if credentials else "none",
                       "ready_seconds": round(ready, 1)},
            "store": store, "boundary_set": boundary_set,
            "store_build_seconds": round(build_seconds, 1),
            "client": f"{users} threads with requests.Session, on the same machine, no think time",
            **summarise(samples, elapsed), "first_errors": errors,
            "load_average": {"before": load_before, "after": load_after}, "machine": machine(),
        }
        if keep_log:
            result["server_log"] = server.log.read_text(errors="replace")
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def markdown(result: dict) -> str:
    info = result["machine"]
    server = result["server"]
    lines = [
        "# Load test: the app under gunicorn", "",
        (f"`python bench/load.py --users {result['users']} --seconds {result['seconds']:g}` · "
         f"{info['when']}"), "",
        (f"Machine: {info['cores']} cores, {info['memory']} memory, {info['cpu']}; "
         f"Python {info['python']}; {info['platform']}. The load client runs on the same "
         "machine and takes CPU from the server. Load average (1, 5, 15 min) before the "
         f"run: {', '.join(map(str, result['load_average']['before']))}; at its end: "
         f"{', '.join(map(str, result['load_average']['after']))}."), "",
        (f"Server: `{server['command']}` on {server['bind']}, {server['workers']} "
         f"{server['worker_class']} workers × {server['threads']} threads, auth: "
         f"{server['auth']}. Store: {result['store']}."), "",
        (f"{result['users']} simulated users, each repeating a session with no pause: open "
         "the map (page, layout, dependencies, router, map, table of wards, panel; the zoom-0 tile "
         "on a user's first visit and one visit in four after), click a ward (router, map "
         "Patch, portrait, table), switch the indicator, download the ward's HTML report. "
         f"{result['measured_seconds']:g} s measured after a {result['warmup_seconds']:g} s "
         f"warm-up; {result['sessions']:,} sessions completed."), "",
        "| request | requests | errors | per second | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name, k):
        def ms(v):
            return "" if v is None else f"{v:,.0f}"
        lines.append(f"| {name} | {k['requests']:,} | {k['errors']:,} | {k['per_second']:,.1f} | "
                     f"{ms(k['p50_ms'])} | {ms(k['p95_ms'])} | {ms(k['p99_ms'])} | {ms(k['max_ms'])} |")

    for kind, k in result["kinds"].items():
        row(kind, k)
    row("**all requests**", result["overall"])
    if result["first_errors"]:
        lines += ["", "First errors:", ""] + [f"- {e}" for e in result["first_errors"]]
    return "\n".join(lines) + "\n"


def write_results(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.md").write_text(markdown(result))
    public = {k: v for k, v in result.items() if k != "server_log"}
    (out / "load.json").write_text(json.dumps(public, indent=2) + "\n")


def run(context) -> list[dict]:
    """For ``bench/run.py``: rows of p95 per request kind (20 users, 60 s, demo store)."""
    result = run_load(users=int(context.get("users", 20)), seconds=float(context.get("seconds", 60)))
    rows = []
    for kind, k in [*result["kinds"].items(), ("all requests", result["overall"])]:
        if k["requests"]:
            rows.append({"step": "app load", "case": f"{kind}, p95 ({result['users']} users)",
                         "seconds": k["p95_ms"] / 1000 if k["p95_ms"] is not None else None,
                         "note": f"{k['requests']} requests, {k['errors']} errors, "
                                 f"{k['per_second']}/s, p50 {k['p50_ms']} ms, p99 {k['p99_ms']} ms"})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="simulated users (threads)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured duration")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not counted first")
    parser.add_argument("--database-url", help="an existing store (default: build the demo store)")
    parser.add_argument("--boundary-set", help="the set shown first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--no-auth", action="store_true", help="run the app without Basic auth")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for load.md/.json")
    args = parser.parse_args(argv)
    result = run_load(users=args.users, seconds=args.seconds, warmup=args.warmup,
                      database_url=args.database_url, boundary_set=args.boundary_set,
                      workers=args.workers, threads=args.threads, auth=not args.no_auth)
    write_results(result, Path(args.out))
    print(markdown(result))
    sys.exit(1 if result["overall"]["errors"] else 0)


if __name__ == "__main__":
    main()
