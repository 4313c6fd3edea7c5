"""The Dash app in a real browser (headless Chromium through dash[testing]'s dash_duo).

These tests need Chromium and chromedriver (Debian: ``chromium``, ``chromium-driver``); CI
installs them, and in CI a skip is a failure. Unit tests without a browser are in
test_app_units.py.
"""

from __future__ import annotations

import csv
import re
import shutil
import socket
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from placeportrait.cli import main

from conftest import demo_in_fresh_home

SET = "trafford-wards-2023"
ALTRINCHAM, OLD_TRAFFORD, TRAFFORD = "E05015239", "E05015253", "E08000009"

if not (shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("google-chrome"))):
    pytest.skip("the browser tests need chromium and chromedriver", allow_module_level=True)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return demo_in_fresh_home(tmp_path_factory)


@pytest.fixture
def dash_duo(request, dash_thread_server, tmp_path):
    """dash[testing]'s dash_duo, always headless (Chromium also gets --no-sandbox etc.
    from dash itself), downloading into a folder of the test's own."""
    from dash.testing.composite import DashComposite

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with DashComposite(dash_thread_server, browser="Chrome", headless=True,
                       download_path=str(downloads), wait_timeout=20) as dc:
        dc.driver.set_window_size(1400, 1000)
        yield dc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(dash_duo, url, path="/", served: list | None = None, answers: list | None = None):
    """Serve the app on the store ``url`` and open ``path``; ``served`` collects the path
    of every request the app answers, ``answers`` the body of every callback's answer."""
    import flask

    from placeportrait_app import create_app

    app = create_app(url)

    def record(response):
        if served is not None:
            served.append(flask.request.path)
        if answers is not None and flask.request.path.endswith("_dash-update-component"):
            answers.append(response.get_data(as_text=True))  # before the app gzips it
        return response

    app.server.after_request(record)
    dash_duo.start_server(app, port=free_port())
    if path != "/":
        open_page(dash_duo, path)
    wait_for_map(dash_duo)
    return app


def open_page(dash_duo, path):
    dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element("#react-entry-point")


def until(check, timeout=20, message="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - the page may be mid-render
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {message} (last: {last!r})")


def map_spec(dash_duo):
    """What the browser's map was last told to draw (see placeportrait_map.js)."""
    return dash_duo.driver.execute_script(
        "const v = window.placeportraitMap; return v && v.ready && v.spec ? v.spec : null;")


def drawn_codes(dash_duo):
    """The codes of the areas MapLibre has drawn with a colour from the spec."""
    return dash_duo.driver.execute_script(
        "const m = window.placeportraitMap.map;"
        "const f = m.queryRenderedFeatures({layers: ['areas-fill']})"
        "  .filter(f => f.state && f.state.fill);"
        "return [...new Set(f.map(f => f.id))].sort();")


def wait_for_map(dash_duo, wards=21):
    until(lambda: len((map_spec(dash_duo) or {}).get("codes") or []) == wards,
          message=f"a map of {wards} wards")
    until(lambda: len(drawn_codes(dash_duo)) == wards, message=f"{wards} wards drawn")


def hover_of(dash_duo, code):
    spec = map_spec(dash_duo)
    return spec["hover"][spec["codes"].index(code)][:2]  # value, status


def selected_on_map(dash_duo):
    """The codes outlined on the map (the filter of MapLibre's selection layer)."""
    return dash_duo.driver.execute_script(
        "return window.placeportraitMap.map.getFilter('areas-selected')[2][1];")


def text(dash_duo, selector):
    return dash_duo.find_element(selector).text


def test_map_every_ward_no_data_legend_and_indicator_switch(dash_duo, demo_url):
    served: list[str] = []
    answers: list[str] = []
    start(dash_duo, demo_url, f"/?set={SET}&indicator=gigabit_broadband", served, answers)
    spec = map_spec(dash_duo)
    assert {c[0] for c in spec["hover"]} == {"94.0 % of premises"}
    # the page carried the map and its values: no callback sent them again
    until(lambda: any('"map-shown"' in a for a in answers), message="the map callback")
    assert not any('"map-spec"' in a for a in answers)
    dash_duo.wait_for_contains_text("#legend", "No data", timeout=20)
    legend = text(dash_duo, "#legend")
    assert "No data (0 wards)" in legend and "94.0 (21 wards)" in legend
    # the shapes come from the set's tiles, one request each (MapLibre's worker asks for
    # them, so the page's resource timings do not list them), and nothing else
    template = re.escape(spec["tiles"]["tiles"][0]).replace(r"\{z\}/\{x\}/\{y\}",
                                                            r"\d+/\d+/\d+")
    fetched = [p for p in served if p.startswith("/_placeportrait/")]
    assert fetched and all(re.fullmatch(template, p) for p in fetched), fetched
    assert drawn_codes(dash_duo) == sorted(spec["codes"])

    dash_duo.select_dcc_dropdown("#indicator", "Households in fuel poverty (% of households)")
    until(lambda: "indicator=fuel_poverty" in dash_duo.driver.current_url, message="the URL")
    until(lambda: hover_of(dash_duo, OLD_TRAFFORD) == ["19.0 % of households", "shortfall"],
          message="Old Trafford's fuel poverty on the map")
    dash_duo.wait_for_contains_text("#legend-title", "Households in fuel poverty", timeout=10)
    assert len(map_spec(dash_duo)["codes"]) == 21 and len(drawn_codes(dash_duo)) == 21
    # no new shapes were fetched: only the values changed
    assert [p for p in served if p.startswith("/_placeportrait/")] == fetched
    # the table of wards (the map's text alternative) follows
    dash_duo.wait_for_text_to_equal("#ward-list-summary", "Table of the wards on the map",
                                    timeout=10)
    dash_duo.find_element("#ward-list-details summary").click()
    dash_duo.wait_for_contains_text("#ward-table", "19.0 % of households", timeout=10)
    assert dash_duo.get_logs() == []


def test_hover_and_click_a_ward(dash_duo, demo_url):
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    from placeportrait.store import open_store

    start(dash_duo, demo_url, "/?indicator=fuel_poverty")
    point = open_store(demo_url).read_areas(SET, codes=[OLD_TRAFFORD]).geometry.iloc[0]
    point = point.representative_point()
    driver = dash_duo.driver
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                          dash_duo.find_element("#map"))

    def pixel():  # where Old Trafford is on screen, once MapLibre has drawn it
        x, y = driver.execute_script(
            "const m = window.placeportraitMap.map;"
            "const p = m.project([arguments[0], arguments[1]]);"
            "const c = m.getCanvas().getBoundingClientRect();"
            "return [c.left + p.x, c.top + p.y];", point.x, point.y)
        return int(x), int(y)

    def hover():
        x, y = pixel()
        for dx in (0, 1):  # a second move makes sure the map sees the pointer arrive
            action = ActionBuilder(driver)
            action.pointer_action.move_to_location(x + dx, y + dx)
            action.perform()
        time.sleep(0.4)
        return driver.execute_script(
            "const p = document.querySelector('#map .maplibregl-popup');"
            "return p && p.textContent")

    label = until(lambda: "Old Trafford" in (hover() or "") and hover(), message="a hover label")
    assert f"Old Trafford ({OLD_TRAFFORD})" in label  # the name as sent, the code added here
    assert "19.0 % of households" in label and "shortfall" in label  # value, unit, status
    x, y = pixel()
    action = ActionBuilder(driver)
    action.pointer_action.move_to_location(x, y)
    action.pointer_action.click()
    action.perform()
    until(lambda: f"/ward/{OLD_TRAFFORD}" in driver.current_url, message="the ward's URL")
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Old Trafford", timeout=20)


def test_ward_portrait_doughnut_table_sources_and_history(dash_duo, demo_url):
    start(dash_duo, demo_url, f"/ward/{ALTRINCHAM}")
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Altrincham", timeout=20)
    drawn = until(lambda: dash_duo.driver.execute_script(
        "const svg = document.querySelector('#doughnut svg');"
        "return svg ? [svg.querySelectorAll('text').length, "
        "svg.getBoundingClientRect().width, svg.querySelector('desc').textContent] : null;"),
        message="doughnut")
    labels, width, desc = drawn
    assert labels >= 21 and width > 400  # every wedge labelled, drawn at the panel's width
    assert desc.startswith("Doughnut of Altrincham")
    table = text(dash_duo, "#portrait-table")
    for expected in ("Households in fuel poverty", "9.1 % of households", "shortfall",
                     "Source:", "Method:", "coverage", "Licence:", "Open Government Licence v3.0",
                     "Date:", "period 2017", "Threshold:", "1 of 21"):
        assert expected in table, expected
    gigabit = dash_duo.find_element('#portrait-table td[data-indicator="gigabit_broadband"] .value')
    assert gigabit.text == "94.0 % of premises"
    footer = text(dash_duo, "#attribution")
    assert "Sources and licences" in footer and "Contains OS data" in footer
    pdf = dash_duo.find_element("#report-pdf").get_attribute("href")
    assert pdf.endswith("/report/trafford-wards-2023/E05015239.pdf")
    import urllib.request

    with urllib.request.urlopen(pdf) as response:
        body = response.read()
    assert body.startswith(b"%PDF") and response.headers["Content-Type"] == "application/pdf"
    for bad in ("/report/trafford-wards-2023/E99999999.pdf", "/report/nope/E05015239.pdf",
                "/report/trafford-wards-2023/E05015239.exe"):
        try:
            urllib.request.urlopen(dash_duo.server_url + bad)
            raise AssertionError(f"{bad} was served")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
    # A traversal attempt never reaches a file: at most Dash's own page comes back.
    with urllib.request.urlopen(dash_duo.server_url + "/report/..%2F..%2Fetc/passwd.html") as page:
        assert b"root:" not in page.read() and page.headers["Content-Type"].startswith("text/html")
    # the selected ward is outlined on the map
    until(lambda: selected_on_map(dash_duo) == [ALTRINCHAM], message="the outline")

    # find another ward by name with the search box, then go back
    dash_duo.find_element("#search").click()
    box = dash_duo.find_element(".dash-dropdown-content input.dash-dropdown-search")
    box.send_keys("old traf")
    until(lambda: "Old Trafford" in text(dash_duo, ".dash-dropdown-options"), message="options")
    dash_duo.find_element(".dash-dropdown-options .dash-dropdown-option").click()
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Old Trafford", timeout=20)
    assert f"/ward/{OLD_TRAFFORD}" in dash_duo.driver.current_url
    dash_duo.driver.back()
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Altrincham", timeout=20)
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("path, message", [
    ("/ward/E05999999", "There is no ward with code 'E05999999'"),
    ("/?indicator=no_such_thing", "There is no indicator 'no_such_thing'"),
    ("/?set=no-such-set", "There is no boundary set 'no-such-set'"),
    ("/compare?wards=E05015239,NOPE", "There is no ward with code 'NOPE'"),
    ("/ward/<b>x</b>", "There is no page '/ward/<b>x</b>'"),
])
def test_unknown_values_in_the_url_show_a_clear_message(dash_duo, demo_url, path, message):
    start(dash_duo, demo_url, path)
    dash_duo.wait_for_contains_text("#messages", message, timeout=20)
    page = dash_duo.driver.page_source
    assert "Traceback" not in page and "<b>x</b>" not in dash_duo.find_element("#messages").get_attribute("innerHTML")
    wait_for_map(dash_duo)  # the map still works


def test_compare_wards_side_by_side_with_their_authority(dash_duo, demo_url):
    start(dash_duo, demo_url, f"/compare?indicator=fuel_poverty&wards={ALTRINCHAM},{OLD_TRAFFORD}")
    dash_duo.wait_for_text_to_equal("#panel-title", "Compare 2 wards", timeout=20)

    def cell(area):
        return dash_duo.find_element(
            f'#compare-table td[data-area="{area}"][data-indicator="fuel_poverty"]').text

    assert cell(ALTRINCHAM).startswith("9.1") and cell(OLD_TRAFFORD).startswith("19.0")
    # the authority's own figure, not the mean of its wards (11.2): the 2017 file gives no
    # household counts to aggregate, so there is none
    assert cell(TRAFFORD).startswith("no data")
    header = text(dash_duo, "#compare-table thead")
    assert "Trafford (E08000009): whole authority" in header and "England" in header
    assert len(dash_duo.driver.find_elements("css selector", "#panel .doughnut")) == 3
    until(lambda: selected_on_map(dash_duo) == [ALTRINCHAM, OLD_TRAFFORD], message="outlines")
    # "remove" is a link: the URL holds the comparison
    dash_duo.find_element("#compare-table thead a").click()
    until(lambda: dash_duo.driver.current_url.endswith(f"wards={OLD_TRAFFORD}"), message="URL")
    dash_duo.wait_for_text_to_equal("#panel-title", "Compare 1 ward", timeout=20)


def test_shared_link_reproduces_the_view(dash_duo, demo_url):
    start(dash_duo, demo_url, f"/ward/{OLD_TRAFFORD}?set={SET}&indicator=dimension:energy&la={TRAFFORD}")
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Old Trafford", timeout=20)
    dash_duo.wait_for_contains_text("#indicator", "Dimension: Energy", timeout=10)
    assert TRAFFORD in text(dash_duo, "#la")
    assert "Dimension: Energy" in text(dash_duo, "#map-title")
    href = dash_duo.find_element("#share-link").get_attribute("href")
    assert href.endswith(f"/ward/{OLD_TRAFFORD}?set={SET}&indicator=dimension:energy&la={TRAFFORD}")


def test_keyboard_alone_changes_the_indicator(dash_duo, demo_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    start(dash_duo, demo_url, "/?indicator=fuel_poverty")

    def keys(*sequence):
        ActionChains(dash_duo.driver).send_keys(*sequence).perform()
        time.sleep(0.3)

    open_page(dash_duo, "/?indicator=fuel_poverty")  # focus starts at the top of the page
    wait_for_map(dash_duo)
    for _ in range(6):  # skip link, boundary set, then the indicator menu
        keys(Keys.TAB)
        if dash_duo.driver.execute_script("return document.activeElement.id") == "indicator":
            break
    assert dash_duo.driver.execute_script("return document.activeElement.id") == "indicator"
    keys(Keys.ENTER)
    keys(Keys.ARROW_DOWN)
    keys(Keys.ENTER)
    def indicator():
        query = parse_qs(urlparse(dash_duo.driver.current_url).query)
        return query.get("indicator", [None])[0]

    until(lambda: indicator() not in (None, "fuel_poverty"), message="a new indicator")


def test_csv_download_is_the_data_on_screen(dash_duo, demo_url):
    start(dash_duo, demo_url, "/?indicator=gigabit_broadband")
    dash_duo.find_element("#dl-map-csv").click()
    folder = Path(dash_duo.download_path)
    path = until(lambda: next((p for p in folder.glob("*.csv")), None), message="the CSV")
    until(lambda: path.stat().st_size > 0 and not list(folder.glob("*.crdownload")))
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert path.name == f"{SET}_gigabit_broadband.csv" and len(rows) == 21
    assert {r["value"] for r in rows} == {"94.0"}
    assert {r["licence"] for r in rows} == {"Open Government Licence v3.0"}
    assert all(r["source"] and r["method"] and r["period"] for r in rows)


def test_axe_finds_no_serious_or_critical_violations(dash_duo, demo_url):
    from axe_selenium_python import Axe

    start(dash_duo, demo_url)
    pages = ["/?indicator=fuel_poverty", f"/ward/{ALTRINCHAM}",
             f"/compare?wards={ALTRINCHAM},{OLD_TRAFFORD}", "/ward/E05999999"]
    for path in pages:
        open_page(dash_duo, path)
        wait_for_map(dash_duo)
        dash_duo.wait_for_element("#attribution h2", timeout=20)
        for details in dash_duo.driver.find_elements("css selector", "details"):
            dash_duo.driver.execute_script("arguments[0].open = true", details)
        time.sleep(0.5)
        axe = Axe(dash_duo.driver)
        axe.inject()
        results = axe.run()
        bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == [], (path, bad)
        assert dash_duo.driver.find_element("css selector", "html").get_attribute("lang") == "en"


def test_the_app_on_both_stores(dash_duo, demo_store_url):
    store_url = demo_store_url
    app = start(dash_duo, store_url, f"/ward/{OLD_TRAFFORD}?indicator=fuel_poverty")
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Old Trafford", timeout=20)
    value = dash_duo.find_element('#portrait-table td[data-indicator="fuel_poverty"] .value')
    assert value.text == "19.0 % of households"
    assert hover_of(dash_duo, OLD_TRAFFORD) == ["19.0 % of households", "shortfall"]
    expected = "postgis" if store_url.startswith("postgresql") else "geopackage"
    assert app.placeportrait.store.kind == expected
    if app.placeportrait.store.kind == "postgis":
        app.placeportrait.store.engine().dispose()


def test_a_council_dimension_on_the_map_and_in_the_portrait(dash_duo, demo_store_url, tmp_path,
                                                            monkeypatch):
    """A dimension declared in local_dimensions.yaml (issue 14): the app, which has no plugin
    folder, draws it from the store like one of Raworth's, on both stores."""
    from placeportrait import dimensions

    from test_first_hour import WARD_FILE, write_council_folder

    store_url = demo_store_url
    folder = write_council_folder(tmp_path / "council")
    monkeypatch.setenv("PLACEPORTRAIT_INDICATORS_PATH", str(folder))
    with pytest.raises(SystemExit) as exit_info:
        main(["--database-url", store_url, "indicators", "run", "no_qualifications_mobility",
              "--boundary-set", SET, "--input", f"no_qualifications_mobility={WARD_FILE}"])
    assert exit_info.value.code in (0, None)
    dimensions.unregister_local_dimension("mobility")
    monkeypatch.delenv("PLACEPORTRAIT_INDICATORS_PATH")
    with open(WARD_FILE, newline="") as fh:
        share = next(float(r["value"]) for r in csv.DictReader(fh)
                     if r["area_code"] == ALTRINCHAM and r["measure"] == "Percentage")

    app = start(dash_duo, store_url, f"/ward/{ALTRINCHAM}?indicator=dimension:mobility")
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Altrincham", timeout=20)
    assert hover_of(dash_duo, ALTRINCHAM) == [f"{share:.1f} % shortfall", "shortfall"]
    panel = dash_duo.find_element("#panel").get_attribute("textContent")
    assert "could not be drawn" not in panel
    assert "Social mobility" in panel and f"{share:.1f}%" in panel.replace(" %", "%")
    doughnut = until(lambda: dash_duo.driver.execute_script(
        "const svg = document.querySelector('#doughnut svg');"
        "return svg ? svg.textContent : null;"), message="doughnut")
    assert "Social mobility" in doughnut
    menu = dash_duo.find_element("#indicator").get_attribute("textContent")
    assert "Dimension: Social mobility (shortfall)" in menu
    if app.placeportrait.store.kind == "postgis":
        app.placeportrait.store.engine().dispose()


def test_the_portrait_speaks_as_the_report_does(dash_duo, demo_url):
    """Issue 16's smaller things: ties, methods in words, the report's own file name, and
    a boundary-set menu without the source-geometry set (lsoa-2011 has no scores)."""
    start(dash_duo, demo_url, f"/ward/{ALTRINCHAM}?indicator=fuel_poverty")
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Altrincham", timeout=20)
    table = text(dash_duo, "#portrait-table")
    # Healthy life expectancy is the authority's value on every ward: all 21 tie for first.
    assert "=1 of 21" in table
    assert "Area-weighted interpolation from LSOAs (2011)" in table and "area_weighted" not in table
    assert dash_duo.find_element("#report-pdf").get_attribute("download") == "E05015239-altrincham.pdf"
    dash_duo.find_element("#set").click()
    options = until(lambda: text(dash_duo, ".dash-dropdown-options"), message="set options")
    assert SET in options and "lsoa-2011" not in options


def test_the_map_opens_on_a_ward_level_summary_and_says_when_values_are_copied(dash_duo, demo_url):
    """Issue 16: the first view is each ward's own summary, not an authority value copied to
    every ward; a copied indicator says so in the title, the legend and the hover."""
    start(dash_duo, demo_url)
    dash_duo.wait_for_contains_text("#map-title", "Summary: mean shortfall", timeout=20)
    assert "copied" not in text(dash_duo, "#map-title")
    open_page(dash_duo, f"/?set={SET}&indicator=gigabit_broadband")
    wait_for_map(dash_duo)
    copied = "the authority's value, copied to each of its wards"
    dash_duo.wait_for_contains_text("#map-title", copied, timeout=20)
    assert copied in text(dash_duo, "#legend-title")
    assert all(copied in c[2] for c in map_spec(dash_duo)["hover"])


def inside_drawn(dash_duo):
    """The inside map's spec and the codes it has drawn in colour, once it is idle."""
    return dash_duo.driver.execute_script(
        "const v = window.placeportraitInsideMap;"
        "if (!v || !v.ready || !v.spec || !v.map.loaded() || !v.map.areTilesLoaded()) return null;"
        "const f = v.map.queryRenderedFeatures({layers: ['areas-fill']})"
        "  .filter(f => f.state && f.state.fill);"
        "return {spec: v.spec, drawn: [...new Set(f.map(f => f.id))].sort(),"
        "  ward: v.map.getFilter('ward-outline')};")


def test_inside_a_ward_its_lsoas_on_the_ward_map_scale(dash_duo, demo_url):
    """Issue 19: the portrait shows the LSOAs inside the ward for an indicator published
    for them, with their own values (worked here from the shipped Census table), coloured
    with the ward map's classes, and follows the ward chosen."""
    from test_inside_ward import _bad_health_by_lsoa

    start(dash_duo, demo_url, f"/ward/{OLD_TRAFFORD}?indicator=census21_bad_health")
    dash_duo.wait_for_text_to_equal("#panel-title", "Ward portrait: Old Trafford", timeout=20)
    got = until(lambda: (lambda d: d if d and d["spec"]["ward"] == OLD_TRAFFORD
                         and d["drawn"] == sorted(d["spec"]["codes"]) else None)(
        inside_drawn(dash_duo)), message="the LSOAs inside Old Trafford drawn")
    spec = got["spec"]
    assert got["ward"] == ["==", ["get", "code"], OLD_TRAFFORD]  # the ward's outline
    assert len(spec["codes"]) >= 7 and spec["tiles"]["tiles"][0].split("/")[3] == "lsoa-2021"
    assert spec["colours"] == map_spec(dash_duo)["colours"]  # the ward map's scale
    expected = _bad_health_by_lsoa()
    values = [expected[c] for c in spec["codes"]]
    assert values == sorted(values, reverse=True)  # worst first
    assert spec["z"] == sorted(spec["z"], reverse=True)  # darker is worse, as on the map
    table = text(dash_duo, "#inside-table")
    for code in spec["codes"]:
        assert f"{code} {expected[code]:.1f} % of residents" in table
    assert "Values as published in" in text(dash_duo, "#inside")
    # another ward: the small map follows it
    open_page(dash_duo, f"/ward/{ALTRINCHAM}?indicator=census21_bad_health")
    until(lambda: (lambda d: d and d["spec"]["ward"] == ALTRINCHAM
                   and d["drawn"] == sorted(d["spec"]["codes"]))(inside_drawn(dash_duo)),
          message="the LSOAs inside Altrincham drawn")
    # a summary has no small areas: the section says what to choose instead
    open_page(dash_duo, f"/ward/{ALTRINCHAM}")
    dash_duo.wait_for_contains_text("#inside", "has no values for small areas", timeout=20)
    assert dash_duo.get_logs() == []
