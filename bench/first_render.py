"""Benchmark: time to first render of the app in headless Chromium.

    python bench/first_render.py [--repeat 3]    # prints a Markdown table

Two stores, each built in a temporary folder: the 8,441 UK wards of December 2023 with six
synthetic indicators, scored (``bench/app.py``'s bench store), and the Trafford demo
(``placeportrait demo --no-serve``: 21 wards, real indicators). For each, the app runs as
``placeportrait serve`` in a subprocess on 127.0.0.1 and a free port, and Debian's headless
Chromium (``/usr/bin/chromium`` through ``/usr/bin/chromedriver``, driven by selenium; nothing
is downloaded) opens it. Times are measured in the page, from navigation start
(``performance.timeOrigin``), by a script installed before the page loads that checks on every
animation frame:

- **map drawn**: the map's graph div has its Plotly data with a location for every ward, and
  its MapLibre map has loaded and renders ward polygons (``queryRenderedFeatures``);
- **ward table**: the table of wards (the map's text alternative) has rows;
- **ward portrait**: the panel title is "Ward portrait: …", the doughnut's SVG and the
  portrait table are there.

Measured: a first visit to ``/`` with an empty browser cache (a fresh browser each time);
clicking a ward in the table (in-app navigation, from the click); a repeat visit with the
browser's cache warm (the geometry is cached); and opening ``/ward/<code>`` directly with an
empty cache. Each is repeated (``--repeat``) and the median reported with min and max; the very
first visit after the server starts is reported on its own. Figures include the browser's
own work (software WebGL) and are noisy on a busy machine: the load average is printed.
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
  function check() {
    const now = performance.now();
    const gd = document.querySelector('#map .js-plotly-plot');
    const trace = gd && gd.data && gd.data[0];
    const n = trace && trace.locations ? trace.locations.length : 0;
    if (n && marks.figure === undefined) { marks.figure = now; marks.locations = n; }
    if (marks.figure !== undefined && marks.drawn === undefined) {
      const sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
      const map = sub && sub.map;
      try {
        if (map && map.loaded() && map.queryRenderedFeatures().length) marks.drawn = now;
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
           and k != "locations"}
    out["locations"] = marks.get("locations")
    out["title"] = marks.get("title")
    return out


def measure_store(url: str, env: dict, repeat: int) -> dict:
    """Every figure for one store: lists of seconds per measure."""
    res: dict = {"home": [], "click": [], "repeat_visit": [], "ward_url": [], "load_before": load_average()}
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


def stats(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} s"
    return f"median of {len(values)}; min {min(values):.2f}, max {max(values):.2f} s"


def rows_of(label: str, r: dict) -> list[dict]:
    def col(key, mark):
        return [v[mark] for v in r[key]]

    n = r["home"][0]["locations"]
    first = r["first_after_start"]
    load = f"load average {r['load_before']} before, {r['load_after']} after"
    home_drawn = col("home", "drawn")
    peak = round(r["server_peak_mb"]) if r.get("server_peak_mb") else ""
    rows = [
        {"step": "first_render", "case": f"{label}: server start-up (`placeportrait serve` until / answers)",
         "seconds": r["server_startup"], "note": load},
        {"step": "first_render", "case": f"{label}: first visit after the server started, map drawn",
         "seconds": first["drawn"], "note": f"{n:,} wards; ward table {first['table']:.2f} s"},
        {"step": "first_render", "case": f"**{label}: first visit to /, map drawn** (empty browser cache)",
         "seconds": statistics.median(home_drawn),
         "note": (f"{stats(home_drawn)}; from navigation start: DOMContentLoaded "
                  f"{statistics.median(col('home', 'dcl')):.2f}, load {statistics.median(col('home', 'load')):.2f}, "
                  f"map figure data {statistics.median(col('home', 'figure')):.2f}, ward table "
                  f"{statistics.median(col('home', 'table')):.2f} s (medians)")},
        {"step": "first_render", "case": f"**{label}: click a ward in the table until its portrait shows**",
         "seconds": statistics.median(r["click"]), "note": f"{stats(r['click'])}; in-app, from the click"},
        {"step": "first_render", "case": f"{label}: repeat visit to /, map drawn (browser cache warm)",
         "seconds": statistics.median(col("repeat_visit", "drawn")), "note": stats(col("repeat_visit", "drawn"))},
        {"step": "first_render", "case": f"**{label}: open /ward/{WARD} directly, portrait shown** (empty cache)",
         "seconds": statistics.median(col("ward_url", "portrait")),
         "note": (f"{stats(col('ward_url', 'portrait'))}; map drawn "
                  f"{statistics.median(col('ward_url', 'drawn')):.2f} s (median); {r['ward_url'][0]['title']}")},
    ]
    rows[0]["note"] += f"; peak MB here: the app server process ({peak} MB), not Chromium"
    return [{**row, "peak_mb": peak} for row in rows]


def run(context) -> list[dict]:
    """For ``bench/run.py`` (step ``first_render``)."""
    from bench.app import build_store, run_cli

    repeat = int(context.get("first_render_repeat") or 3)
    folder = Path(tempfile.mkdtemp(prefix="pp-bench-render-"))
    env = {k: v for k, v in os.environ.items() if k != "PLACEPORTRAIT_DATABASE_URL"}
    env["PLACEPORTRAIT_HOME"] = str(folder / "home")
    os.environ["PLACEPORTRAIT_HOME"] = env["PLACEPORTRAIT_HOME"]
    try:
        rows = []
        uk = str(folder / "uk.gpkg")
        build_store(uk)
        rows += rows_of("UK 2023 (8,441 wards, 6 synthetic indicators), geopackage",
                        measure_store(uk, env, repeat))
        demo = str(folder / "demo.gpkg")
        run_cli("--database-url", demo, "demo", "--no-serve")
        rows += rows_of("Trafford demo (21 wards), geopackage", measure_store(demo, env, repeat))
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    from bench.machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = run({"first_render_repeat": args.repeat})
    info = machine()
    print(f"## Time to first render (headless Chromium)\n\n{info['cores']} cores ({info['cpu']}), "
          f"{info['memory']} memory, Python {info['python']}, {info['when']}\n")
    print("| case | seconds | note |\n|---|---:|---|")
    for r in rows:
        print(f"| {r['case']} | {r['seconds']:.2f} | {r.get('note', '')} |")


if __name__ == "__main__":
    main()
