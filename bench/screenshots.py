"""Look at the app: the home map, a ward portrait and the compare view, as PNGs.

    python bench/screenshots.py [--out bench/results/screens] [--database-url URL]

Builds the demo (``placeportrait demo --no-serve``) unless a store is given, serves it as
``placeportrait serve`` on 127.0.0.1, and opens each page in Debian's headless Chromium with
software WebGL (``--use-gl=angle --use-angle=swiftshader --enable-unsafe-swiftshader``),
so the MapLibre map draws as a planner sees it. Each page is captured once its content is
there (the map's polygons, the portrait's doughnut, the compare view's doughnuts), at
1400 × 1000, and written as a PNG to look at before a change lands. Nothing is asserted:
the browser tests (``tests/test_app.py``) do that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.first_render import CHROMEDRIVER, CHROMIUM, Server

WARD = "E05015253"  # Old Trafford, in the demo
MAP_DRAWN = """
const v = window.placeportraitMap;  // placeportrait_map.js: MapLibre from vector tiles
try {
  return !!(v && v.spec && v.map && v.map.loaded() && v.map.areTilesLoaded() &&
    v.map.queryRenderedFeatures({layers: ['areas-fill']}).some(f => f.state && f.state.fill));
} catch (e) { return false; }
"""
PAGES = {  # file: (path, CSS selector that says the page is drawn)
    "home-map.png": ("/", "#ward-table tbody tr"),
    "ward-portrait.png": (f"/ward/{WARD}", "#doughnut svg"),
    "compare.png": (f"/compare?wards=E05015239,{WARD}", "#panel .doughnut-box svg"),
}


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--use-gl=angle", "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader", "--no-first-run"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def capture(base: str, out: Path) -> list[Path]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser()
    written = []
    try:
        for name, (path, selector) in PAGES.items():
            driver.get(base + path)
            WebDriverWait(driver, 60).until(
                ready.presence_of_element_located((By.CSS_SELECTOR, selector)))
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(MAP_DRAWN))
            time.sleep(2)  # let the map finish its tiles and the fonts settle
            driver.save_screenshot(str(out / name))
            written.append(out / name)
    finally:
        driver.quit()
    return written


def main() -> None:
    from bench.app import run_cli

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/screens"))
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="pp-bench-screens-"))
    env = {k: v for k, v in os.environ.items() if k != "PLACEPORTRAIT_DATABASE_URL"}
    env["PLACEPORTRAIT_HOME"] = str(folder / "home")
    os.environ["PLACEPORTRAIT_HOME"] = env["PLACEPORTRAIT_HOME"]
    try:
        url = args.database_url
        if url is None:
            url = str(folder / "demo.gpkg")
            run_cli("--database-url", url, "demo", "--no-serve")
        with Server(url, env) as server:
            for path in capture(server.base, args.out):
                print(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
