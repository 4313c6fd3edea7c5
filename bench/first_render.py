"""Benchmark: time to first render of the app in headless Chromium, beside a baseline.

    python bench/first_render.py [--repeat 3] [--baseline REV] [--database-url postgresql+psycopg://…]

Two stores, each built in a temporary folder: the 8,441 UK wards of December 2023 with six
synthetic indicators, scored (``bench/app.py``'s bench store), and the Trafford demo
(``placeportrait demo --no-serve``: 21 wards, real indicators); with ``--database-url``, the
UK store again in that PostGIS database (tiles from the store there too; give it a database
that holds nothing else, or the PostGIS rows measure a bigger store than the GeoPackage's:
other sets' scores are read at start-up and warmed beside the visits); and, when
``../shared`` has them, England and Wales's 35,672 LSOAs of 2021 with one synthetic
indicator. For each, the app runs as
``placeportrait serve`` in a subprocess on 127.0.0.1 and a free port, and Debian's headless
Chromium (``/usr/bin/chromium`` through ``/usr/bin/chromedriver``, driven by selenium; nothing
is downloaded) opens it. In the same run the app of ``--baseline`` (default: the release
before tiles were served one by one; its code from ``git archive``, on ``PYTHONPATH``)
serves the same store, so each figure has a ratio to it. Times
are measured in the page, from navigation start (``performance.timeOrigin``), by a script
installed before the page loads that checks on every animation frame:

- **map drawn**: the map has its data for every ward and MapLibre has loaded and renders
  coloured ward polygons (``queryRenderedFeatures``), with the bytes transferred so far
  (``transferSize`` of the page and every resource: compressed, as on the wire; the tiles
  MapLibre's worker fetched, which the page's timings do not list, are asked for again
  and counted the same way);
- **ward table**: the table of wards (the map's text alternative) has rows;
- **ward portrait**: the panel title is "Ward portrait: …", the doughnut's SVG and the
  portrait table are there.

Measured: a first visit to ``/`` with an empty browser cache (a fresh browser each time);
clicking a ward in the table (in-app navigation, from the click); choosing another
indicator (in-app, until the map shows its values and has repainted); a repeat visit with
the browser's cache warm; and opening ``/ward/<code>`` directly with an empty cache. Each is
repeated (``--repeat``) and the median reported with min and max; the very first visit after
the server starts is reported on its own. Figures include the browser's own work (software
WebGL) and are noisy on a busy machine: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHROMIUM = os.environ.get("PLACEPORTRAIT_BENCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PLACEPORTRAIT_BENCH_CHROMEDRIVER", "/usr/bin/chromedriver")
WARD = "E05015239"  # Altrincham: a 2023 ward code, in both stores

# Installed before every page loads: records when each milestone is first seen.
MARKS_JS = """
(() => {
  const marks = window.__ppMarks = {};
  const tiles = marks.tileUrls = [];  // fetched by MapLibre's worker: not in the timings
  function recordTiles(map) {
    map.__ppRecorded = true;
    map.on('data', (e) => {
      const source = e.dataType === 'source' && e.tile && map.getSource(e.sourceId);
      if (!source || !source.tiles || !/^https?:/.test(source.tiles[0])
          || marks.drawn !== undefined) return;  // (pmtiles:// byte ranges are timed)
      const c = e.tile.tileID.canonical;
      tiles.push(source.tiles[0].replace('{z}', c.z).replace('{x}', c.x).replace('{y}', c.y));
    });
  }
  function tilesDrawn() {  // MapLibre from vector tiles (placeportrait_map.js)
    const v = window.placeportraitMap;
    if (v && v.map && !v.map.__ppRecorded) recordTiles(v.map);
    if (!v || !v.spec || !v.map) return false;
    if (marks.figure === undefined) { marks.figure = performance.now(); marks.locations = v.spec.codes.length; }
    return v.map.loaded() && v.map.areTilesLoaded() &&
      v.map.queryRenderedFeatures({layers: ['areas-fill']}).some(f => f.state && f.state.fill);
  }
  function bytes() {  // what crossed the network so far (compressed), page included
    const entries = performance.getEntriesByType('navigation').concat(
      performance.getEntriesByType('resource'));
    return entries.reduce((sum, e) => sum + (e.transferSize || 0), 0);
  }
  function check() {
    const now = performance.now();
    if (marks.drawn === undefined) {
      try {
        if (tilesDrawn()) { marks.drawn = now; marks.bytes = bytes(); }
      } catch (e) { /* the map is still being set up */ }
    }
    if (marks.table === undefined && document.querySelector('#ward-table tbody tr')) marks.table = now;
    if (marks.portrait === undefined) {
      const title = document.querySelector('#panel-title');
      const doughnut = document.querySelector('#doughnut svg');
      if (title && title.textContent.startsWith('Ward portrait: ') && doughnut
          && document.querySelector('#portrait-table')) {
        marks.portrait = now; marks.title = title.textContent;
      }
    }
    requestAnimationFrame(check);
  }
  requestAnimationFrame(check);
})();
"""

# In an open page: choose another indicator and time until the map shows its values.
SWITCH_JS = """
const [value, done] = [arguments[0], arguments[arguments.length - 1]];
function hoverText() {
  return JSON.stringify(window.placeportraitMap.spec.hover);
}
function painted() {
  const v = window.placeportraitMap;
  return v.map.loaded() && v.drawnAt !== null && v.drawnAt > t0;
}
const before = hoverText();
const t0 = performance.now();
window.dash_clientside.set_props('indicator', {value: value});
function check() {
  if (hoverText() !== before && painted()) {
    done({seconds: (performance.now() - t0) / 1000, value: value});
  } else if (performance.now() - t0 > 60000) {
    done({error: 'the map did not switch to ' + value + ' after 60 s'});
  } else {
    requestAnimationFrame(check);
  }
}
requestAnimationFrame(check);
"""

# In an open page: click the ward table's link to a ward and time until its portrait shows.
CLICK_JS = """
const [index, done] = [arguments[0], arguments[arguments.length - 1]];
const links = document.querySelectorAll('#ward-table tbody th a');
const link = links[index % links.length];
const name = link.textContent;
const code = link.closest('tr').querySelector('td').textContent;  // names repeat, codes do not
const t0 = performance.now();
link.click();
function check() {
  const title = document.querySelector('#panel-title');
  const meta = document.querySelector('#panel-body .meta');
  const doughnut = document.querySelector('#doughnut svg');
  if (title && title.textContent === 'Ward portrait: ' + name && meta
      && meta.textContent.startsWith(code) && doughnut
      && document.querySelector('#portrait-table')) {
    done({seconds: (performance.now() - t0) / 1000, name: name, code: code});
  } else if (performance.now() - t0 > 60000) {
    done({error: 'no portrait of ' + name + ' (' + code + ') after 60 s'});
  } else {
    requestAnimationFrame(check);
  }
}
requestAnimationFrame(check);
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


class Server:
    """``placeportrait serve`` on 127.0.0.1 and a free port, in a subprocess of its own."""

    def __init__(self, url: str, env: dict):
        self.url, self.env = url, env

    def __enter__(self) -> Self:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        code = "import sys; from placeportrait.cli import main; main(sys.argv[1:])"
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "--database-url", self.url, "serve", "--host", "127.0.0.1",
             "--port", str(self.port)], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        while True:
            try:
                with urllib.request.urlopen(self.base + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.perf_counter() - t0 > 300:
                self.log.seek(0)
                tail = self.log.read().decode(errors="replace").strip().splitlines()[-3:]
                self.__exit__()
                raise RuntimeError(f"the app did not start: {' / '.join(tail)}")
            time.sleep(0.2)
        self.startup = time.perf_counter() - t0
        return self

    def peak_mb(self) -> float | None:
        """The server process's peak resident memory so far (Linux: VmHWM)."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--enable-unsafe-swiftshader",
                "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(90)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MARKS_JS})
    return driver


def visit(driver, url: str, wanted: tuple[str, ...], timeout: float = 120) -> dict:
    """Open ``url`` and wait until every mark in ``wanted`` is set; seconds since navigation."""
    driver.get(url)
    end = time.perf_counter() + timeout
    while True:
        marks = driver.execute_script("return window.__ppMarks || {};")
        if all(k in marks for k in wanted):
            break
        if time.perf_counter() > end:
            raise RuntimeError(f"{url}: no {', '.join(k for k in wanted if k not in marks)} "
                               f"after {timeout:.0f} s (marks {marks})")
        time.sleep(0.1)
    nav = driver.execute_script(
        "const t = performance.getEntriesByType('navigation')[0];"
        "return {dcl: t.domContentLoadedEventEnd, load: t.loadEventEnd};")
    out = {k: v / 1000 for k, v in {**marks, **nav}.items() if isinstance(v, (int, float))
           and k not in ("locations", "bytes")}  # milliseconds to seconds
    out["locations"] = marks.get("locations")
    out["bytes"] = (marks.get("bytes") or 0) + tile_bytes(marks.get("tileUrls") or [])
    out["title"] = marks.get("title")
    return out


def tile_bytes(urls: list[str]) -> int:
    """What the tiles MapLibre's worker fetched cost on the wire (gzipped body and
    headers): a worker's requests are not in the page's resource timings, so each is
    asked for again here."""
    total = 0
    for url in set(urls):
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
            total += len(response.read()) + headers
    return total


def measure_store(url: str, env: dict, repeat: int, switch_to: list[str]) -> dict:
    """Every figure for one store: lists of seconds per measure."""
    res: dict = {"home": [], "click": [], "switch": [], "repeat_visit": [], "ward_url": [],
                 "load_before": load_average()}
    with Server(url, env) as server:
        res["server_startup"] = server.startup
        base = server.base
        driver = browser()
        try:
            res["first_after_start"] = visit(driver, base + "/", ("drawn", "table"))
        finally:
            driver.quit()
        for i in range(repeat):
            driver = browser()
            try:
                res["home"].append(visit(driver, base + "/", ("drawn", "table")))
                for j in range(3):
                    clicked = driver.execute_async_script(CLICK_JS, 7 * (3 * i + j) + 1)
                    if "error" in clicked:
                        raise RuntimeError(clicked["error"])
                    res["click"].append(clicked["seconds"])
                for value in switch_to:
                    switched = driver.execute_async_script(SWITCH_JS, value)
                    if "error" in switched:
                        raise RuntimeError(switched["error"])
                    res["switch"].append(switched["seconds"])
                res["repeat_visit"].append(visit(driver, base + "/", ("drawn", "table")))
            finally:
                driver.quit()
            driver = browser()
            try:
                res["ward_url"].append(visit(driver, f"{base}/ward/{WARD}", ("drawn", "portrait")))
            finally:
                driver.quit()
        res["load_after"] = load_average()
        res["server_peak_mb"] = server.peak_mb()
    return res


LSOA_2021 = Path(__file__).resolve().parents[2] / "shared/data/boundaries/lsoa21_ew_bsc.gpkg"


def build_lsoa_store(url: str) -> str:
    """England and Wales's 35,672 LSOAs of 2021 with one synthetic indicator; the path of
    their map."""
    from bench.app import SYNTHETIC, add_synthetic, run_cli
    from placeportrait import scoring
    from placeportrait.store import open_store

    run_cli("--database-url", url, "boundaries", "load", LSOA_2021, "--set", "lsoa-2021",
            "--level", "lsoa", "--code-field", "lsoa21_code", "--name-field", "lsoa21_name")
    store = open_store(url)
    add_synthetic(store, "lsoa-2021", SYNTHETIC[1:2], geography="lsoa")
    scoring.score_boundary_set(store, "lsoa-2021")  # the map shows scored indicators
    return f"/?set=lsoa-2021&indicator={SYNTHETIC[1][0]}"


def measure_first_visits(url: str, env: dict, repeat: int, path: str) -> dict:
    """First visits to ``path`` with an empty browser cache, until the map is drawn."""
    res: dict = {"home": [], "load_before": load_average()}
    with Server(url, env) as server:
        res["server_startup"] = server.startup
        for _ in range(repeat):
            driver = browser()
            try:
                res["home"].append(visit(driver, server.base + path, ("drawn",)))
            finally:
                driver.quit()
        res["load_after"] = load_average()
        res["server_peak_mb"] = server.peak_mb()
    return res


def lsoa_rows(label: str, r: dict, peer: dict | None = None,
              peer_label: str = "") -> list[dict]:
    """The rows of the small-area map: start-up and first visits (with the baseline's
    figures from the same run, when given)."""
    drawn = [v["drawn"] for v in r["home"]]
    rows = [{"step": "first_render", "peak_mb": round(r["server_peak_mb"] or 0),
             "case": f"{label}: server start-up", "seconds": r["server_startup"],
             "note": f"load average {r['load_before']} before, {r['load_after']} after"},
            {"step": "first_render", "peak_mb": "",
             "case": f"**{label}: first visit, map drawn** (empty browser cache)",
             "seconds": statistics.median(drawn),
             "note": (f"{stats(drawn)}; {r['home'][0]['locations']:,} areas; "
                      f"{statistics.median(v['bytes'] for v in r['home']) / 1024:,.0f} KiB "
                      f"transferred until the map was drawn")}]
    if peer:
        before = [peer["server_startup"], statistics.median(v["drawn"] for v in peer["home"])]
        for row, seconds in zip(rows, before):
            row.update(ratio=seconds / row["seconds"], peer=peer_label)
            row["note"] += f"; baseline {seconds:.2f} s"
    return rows


def stats(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} s"
    return f"median of {len(values)}; min {min(values):.2f}, max {max(values):.2f} s"


def rows_of(label: str, r: dict, peer: dict | None = None, peer_label: str = "") -> list[dict]:
    """The rows of one store; with ``peer`` (the baseline's figures from the same run),
    each timed row also says how many times faster or slower than the baseline it is."""
    def col(res, key, mark):
        return [v[mark] for v in res[key]]

    def medians(res):
        return {
            "startup": res["server_startup"],
            "first": res["first_after_start"]["drawn"],
            "home": statistics.median(col(res, "home", "drawn")),
            "click": statistics.median(res["click"]),
            "switch": statistics.median(res["switch"]) if res["switch"] else None,
            "repeat": statistics.median(col(res, "repeat_visit", "drawn")),
            "ward": statistics.median(col(res, "ward_url", "portrait")),
            "bytes": statistics.median(col(res, "home", "bytes")),
        }

    n = r["home"][0]["locations"]
    first = r["first_after_start"]
    load = f"load average {r['load_before']} before, {r['load_after']} after"
    home_drawn = col(r, "home", "drawn")
    peak = round(r["server_peak_mb"]) if r.get("server_peak_mb") else ""
    m = medians(r)
    p = medians(peer) if peer else {}
    rows = [
        {"key": "startup", "case": f"{label}: server start-up (`placeportrait serve` until / answers)",
         "seconds": m["startup"], "note": load},
        {"key": "first", "case": f"{label}: first visit after the server started, map drawn",
         "seconds": m["first"], "note": f"{n:,} wards; ward table {first['table']:.2f} s"},
        {"key": "home", "case": f"**{label}: first visit to /, map drawn** (empty browser cache)",
         "seconds": m["home"],
         "note": (f"{stats(home_drawn)}; from navigation start: DOMContentLoaded "
                  f"{statistics.median(col(r, 'home', 'dcl')):.2f}, load "
                  f"{statistics.median(col(r, 'home', 'load')):.2f}, map data "
                  f"{statistics.median(col(r, 'home', 'figure')):.2f}, ward table "
                  f"{statistics.median(col(r, 'home', 'table')):.2f} s (medians); "
                  f"**{m['bytes'] / 1024:,.0f} KiB** transferred until the map was drawn"
                  + (f" (baseline {p['bytes'] / 1024:,.0f} KiB)" if p else ""))},
        {"key": "click", "case": f"**{label}: click a ward in the table until its portrait shows**",
         "seconds": m["click"], "note": f"{stats(r['click'])}; in-app, from the click"},
        {"key": "switch", "case": f"**{label}: switch indicator until the map shows it**",
         "seconds": m["switch"], "note": f"{stats(r['switch'])}; in-app, from the choice"},
        {"key": "repeat", "case": f"{label}: repeat visit to /, map drawn (browser cache warm)",
         "seconds": m["repeat"], "note": stats(col(r, "repeat_visit", "drawn"))},
        {"key": "ward", "case": f"**{label}: open /ward/{WARD} directly, portrait shown** (empty cache)",
         "seconds": m["ward"],
         "note": (f"{stats(col(r, 'ward_url', 'portrait'))}; map drawn "
                  f"{statistics.median(col(r, 'ward_url', 'drawn')):.2f} s (median); "
                  f"{r['ward_url'][0]['title']}")},
    ]
    rows[0]["note"] += f"; peak MB here: the app server process ({peak} MB), not Chromium"
    out = []
    for row in rows:
        key = row.pop("key")
        if row["seconds"] is None:
            continue
        if p.get(key):
            row.update(ratio=p[key] / row["seconds"], peer=peer_label)
            row["note"] += f"; baseline {p[key]:.2f} s"
        out.append({"step": "first_render", **row, "peak_mb": peak})
    return out


def baseline_code(rev: str, folder: Path) -> Path:
    """The app as it was at ``rev`` (``git archive``), to run beside this one."""
    root = folder / f"baseline-{rev}"
    root.mkdir(parents=True)
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "src", "app"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return root


# The release before tiles were served one by one: the browser's pmtiles library read one
# archive by byte ranges, and the map started when React had drawn the layout. It reads
# this release's stores as they are. (The Plotly GeoJSON map, 86b96ba, cannot read a store
# of schema 9.)
BASELINE = "5faa37b"


def run(context) -> list[dict]:
    """For ``bench/run.py`` (step ``first_render``)."""
    from bench.app import SYNTHETIC, build_store, run_cli

    repeat = int(context.get("first_render_repeat") or 3)
    rev = context.get("first_render_baseline", BASELINE)
    folder = Path(tempfile.mkdtemp(prefix="pp-bench-render-"))
    env = {k: v for k, v in os.environ.items() if k != "PLACEPORTRAIT_DATABASE_URL"}
    env["PLACEPORTRAIT_HOME"] = str(folder / "home")
    os.environ["PLACEPORTRAIT_HOME"] = env["PLACEPORTRAIT_HOME"]
    old_env = None
    if rev:
        old = baseline_code(rev, folder)
        old_env = {**env, "PYTHONPATH": f"{old / 'src'}{os.pathsep}{old / 'app'}"}
    peer_label = f"the previous release ({rev})"
    try:
        rows = []
        cases = [("UK 2023 (8,441 wards, 6 synthetic indicators), geopackage", "uk",
                  lambda url: build_store(url), [s[0] for s in SYNTHETIC[1:4]]),
                 ("Trafford demo (21 wards), geopackage", "demo",
                  lambda url: run_cli("--database-url", url, "demo", "--no-serve"),
                  ["fuel_poverty", "gigabit_broadband", "census21_bad_health"])]
        if context.get("database_url"):
            cases.append(("UK 2023 (8,441 wards, 6 synthetic indicators), PostGIS", None,
                          lambda url: build_store(url), [s[0] for s in SYNTHETIC[1:4]]))
        for label, name, build, switch_to in cases:
            store = folder / f"{name}.gpkg" if name else context["database_url"]
            build(str(store))
            now = measure_store(str(store), env, repeat, switch_to)
            before = None
            if old_env:  # the same store: both releases only read it
                before = measure_store(str(store), old_env, repeat, switch_to)
            rows += rows_of(label, now, before, peer_label)
        if LSOA_2021.exists():  # the national small-area map
            store = str(folder / "lsoa.gpkg")
            path = build_lsoa_store(store)
            res = measure_first_visits(store, env, repeat, path)
            before = measure_first_visits(store, old_env, repeat, path) if old_env else None
            rows += lsoa_rows("England and Wales LSOA 2021 (35,672 areas), geopackage", res,
                              before, peer_label)
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    from bench.machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE,
                        help="git revision to measure beside this one ('' for none)")
    parser.add_argument("--database-url", default=os.environ.get("PLACEPORTRAIT_BENCH_DATABASE_URL"),
                        help="a PostGIS store to measure too, best holding nothing else "
                             "(its UK set is replaced)")
    args = parser.parse_args()
    rows = run({"first_render_repeat": args.repeat, "first_render_baseline": args.baseline,
                "database_url": args.database_url})
    info = machine()
    print(f"## Time to first render (headless Chromium)\n\n{info['cores']} cores ({info['cpu']}), "
          f"{info['memory']} memory, Python {info['python']}, {info['when']}\n")
    print("| case | seconds | vs baseline | note |\n|---|---:|---:|---|")
    for r in rows:
        ratio = f"{r['ratio']:.1f}×" if r.get("ratio") else ""
        print(f"| {r['case']} | {r['seconds']:.2f} | {ratio} | {r.get('note', '')} |")


if __name__ == "__main__":
    main()
