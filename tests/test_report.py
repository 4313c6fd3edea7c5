"""Ward reports (issue #7): `placeportrait report` as a user runs it, on both stores, and the
pieces (doughnut, locator map, summary, formatting) on their own."""

import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from placeportrait import cli as main_cli
from placeportrait.report import content, doughnut_svg, locator_svg, render_ward_report
from placeportrait.report.cli import report as report_command
from placeportrait.store import open_store

from test_boundaries import run

WARDS = "trafford-wards-2023"
ALTRINCHAM = "E05015239"
TRAFFORD = "E08000009"

# Until the main CLI registers the command itself, register it for these tests.
if not any(c.name == "report" for c in main_cli.app.registered_commands):
    main_cli.app.command("report")(report_command)


def cli(capsys, url, *args):
    return run(capsys, "--database-url", url, *args)


@pytest.fixture
def demo(demo_store_url):
    """The demo place (Trafford's 21 wards, scored) in the store under test."""
    return demo_store_url


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def drawn(data: bytes) -> dict:
    """What a PDF draws, decompressed: each page's content stream, each font's widths,
    character map and embedded subset, the text, and the tagged structure tree. (The
    bytes of two renderings differ in object order even when they draw the same.)"""
    reader = PdfReader(BytesIO(data))
    out = {"text": [page.extract_text() for page in reader.pages]}
    for i, page in enumerate(reader.pages):
        out[f"page {i}"] = page.get_contents().get_data()
        for name, ref in page["/Resources"]["/Font"].items():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            out[f"page {i} font {name}"] = (
                font["/BaseFont"], font["/ToUnicode"].get_object().get_data(), str(descendant["/W"]),
                descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data())

    def tree(node, depth, acc):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, int):
            acc.append((depth, node))
        elif isinstance(node, list):
            for kid in node:
                tree(kid, depth, acc)
        elif hasattr(node, "keys"):
            acc.append((depth, str(node.get("/S", "")), str(node.get("/Alt", "")), node.get("/MCID")))
            if "/K" in node:
                tree(node["/K"], depth + 1, acc)
        return acc

    out["structure"] = tree(reader.trailer["/Root"]["/StructTreeRoot"], 0, [])
    return out


def squash(text: str) -> str:
    """Text without whitespace, so a title wrapped over two lines still matches."""
    return re.sub(r"\s+", "", text)


class Assets(HTMLParser):
    """Collects every tag, every URL an asset would load, headings and SVG titles."""

    ASSET_ATTRS = {("img", "src"), ("img", "srcset"), ("script", "src"), ("link", "href"),
                   ("iframe", "src"), ("embed", "src"), ("object", "data"), ("source", "src"),
                   ("audio", "src"), ("video", "src"), ("video", "poster"), ("image", "href"),
                   ("image", "xlink:href"), ("use", "href"), ("use", "xlink:href"), ("input", "src")}

    def __init__(self):
        super().__init__()
        self.tags, self.asset_urls, self.styles, self.links = [], [], [], []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if (tag, name) in self.ASSET_ATTRS:
                self.asset_urls.append(value or "")
            if name == "style":
                self.styles.append(value or "")
            if tag == "a" and name == "href":
                self.links.append(value or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def check_self_contained(html: str) -> Assets:
    parser = Assets()
    parser.feed(html)
    parser.close()
    assert parser.asset_urls == [], f"reports load nothing: {parser.asset_urls}"
    for style in parser.styles:
        assert "url(" not in style and "@import" not in style
    assert "<script" not in html.lower()
    return parser


# -- the real ward, on both stores ------------------------------------------------------------

def test_altrincham_report_pdf_and_html(demo, capsys, tmp_path, monkeypatch):
    store = open_store(demo)
    indicators = store.read_indicators()
    scored = set(store.read_scores(WARDS)["indicator"])
    indicators = indicators[indicators["id"].isin(scored)]
    assert len(indicators) >= 3

    out = tmp_path / "reports"
    code, stdout, err = cli(capsys, demo, "report", ALTRINCHAM, "--format", "pdf", "--out", out)
    assert code == 0, err
    path = out / "E05015239-altrincham.pdf"
    assert [p.name for p in out.iterdir()] == [path.name]
    assert str(path) in stdout

    reader, text = pdf_text(path.read_bytes())
    page = reader.pages[0].mediabox
    assert (round(float(page.width)), round(float(page.height))) == (595, 842)  # A4 in points
    assert reader.metadata.title == "Altrincham (E05015239): ward doughnut report"
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged: headings and tables for screen readers
    flat = squash(text)
    for needle in ["Altrincham", ALTRINCHAM, "Trafford", "2023 vintage", "Summary",
                   "What matters most here", "Known only for Trafford as a whole",
                   "Indicators", "Data quality", "Sources, licences and methods"]:
        assert squash(needle) in flat, needle
    for title in indicators["title"]:  # every indicator, by its title
        assert squash(title) in flat, title
    for publisher in indicators["publisher"]:  # every source, with its licence
        assert squash(publisher) in flat, publisher
    assert "Open Government Licence v3.0" in text

    # A value and its source, straight from the store.
    tidy = content.load_set(store, WARDS).latest
    row = tidy[(tidy["area_code"] == ALTRINCHAM) & (tidy["indicator"] == "fuel_poverty")].iloc[0]
    assert content.fmt_number(row["value"]) == "9.12"
    assert "9.12" in text and squash(row["source"]) in flat
    # Comparison, rank, data-quality flags and the plain-English summary.
    assert "Trafford" in text and "England" in text and "of 21" in text
    assert squash("never averages of the wards") in flat
    assert squash("Apportioned from local authority") in flat  # gigabit broadband: LAD data
    assert squash("Older vintage") in flat and squash("(2017 data on 2023 boundaries)") in flat
    # The summary is written from the numbers: its dimensions in shortfall, in order.
    data = content.load_set(store, WARDS)
    dims = content.select(content.dimension_scores(data, ALTRINCHAM), lens="all", ring="social")
    short = sorted((d for d in dims if d["status"] == "shortfall"), key=lambda d: -d["shortfall"])
    listed = ", ".join(f"{d['label']} ({content.fmt_percent(d['shortfall'])})" for d in short[:2])
    assert squash(f"falls short of the social foundation in {len(short)} dimension") in flat
    assert squash(listed) in flat
    # energy: the mean shortfall of its indicators with data (two fuel-poverty measures and
    # homes without central heating), each share deprived, so shortfall = value / 100
    energy = data.latest[(data.latest["area_code"] == ALTRINCHAM)
                         & (data.latest["dimension"] == "energy")]["value"].dropna()
    assert len(energy) == 3
    assert squash(f"Energy ({content.fmt_percent(energy.mean() / 100)})") in flat

    # The same report as HTML: one self-contained file that parses.
    html = render_ward_report(store, WARDS, ALTRINCHAM, "html")
    assert isinstance(html, str)
    parsed = check_self_contained(html)
    # the locator, the doughnut and one chart per series in the trends section
    series = data.tidy[data.tidy["area_code"] == ALTRINCHAM].groupby(
        "indicator")["period"].nunique()
    assert parsed.tags.count("svg") == 2 + int((series > 1).sum()) == 7
    assert parsed.tags.count("title") >= 3
    assert parsed.tags.count("h1") == 1 and parsed.tags.count("h2") >= 5
    assert "th" in parsed.tags and 'scope="col"' in html and 'scope="row"' in html
    assert all(link.startswith("https://") for link in parsed.links)  # sources, as links
    assert '<html lang="en-GB">' in html and "Altrincham" in html
    for title in indicators["title"]:
        assert title.replace("'", "&#39;") in html or title in html
    # every file a value came from, extra sources too, with its checksum (hashed here)
    import hashlib

    demo_files = Path(content.__file__).parents[1] / "data" / "demo"
    for name, file in [("co2", "co2_emissions_2005-19_uk_2019.csv.gz"),
                       ("electricity", "LSOA_ELEC_2019.csv.gz"),
                       ("population", "population_mid2019_lsoa11.csv.gz")]:
        digest = hashlib.sha256((demo_files / file).read_bytes()).hexdigest()[:12]
        assert f"{name}: {file} (SHA-256 {digest}…)" in html, file

    # The stylesheet, parsed once and applied to the PDF's page: A4 above, footers here.
    assert "Page 1" in text and "Altrincham (E05015239) · ward doughnut report · Trafford" in text
    assert f"Sources, licences and methods · boundary set {WARDS}" in text
    from placeportrait.report import html_to_pdf, report_html

    page_html, _ = report_html(content.load_set(store, WARDS, codes=[ALTRINCHAM]), ALTRINCHAM,
                               for_pdf=True)
    assert "<style>" not in page_html and 'src="data:image/svg+xml;base64,' in page_html
    assert "Altrincham (E05015239) · ward doughnut report · Trafford" in pdf_text(html_to_pdf(page_html))[1]

    # The app's download: bytes for a PDF.
    pdf = render_ward_report(store, WARDS, ALTRINCHAM, "pdf")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")

    # The pages of sources are drawn once per process and replayed into each PDF: the PDF
    # is the one drawn afresh, page for page, glyph for glyph, tag for tag.
    from datetime import UTC, datetime

    from placeportrait.report import paint_cache, ward_pdf

    when = datetime(2025, 1, 1, tzinfo=UTC)
    replayed = content.load_set(store, WARDS)
    assert paint_cache.supported()
    first, _ = ward_pdf(replayed, ALTRINCHAM, generated_at=when)
    again, _ = ward_pdf(replayed, "E05015253", generated_at=when)  # another ward: replayed
    shared = [page for document in replayed._documents.values() for page in document.pages]
    assert shared and all("paint" in vars(page) for page in shared)
    monkeypatch.setattr(paint_cache, "ENABLED", False)
    fresh = content.load_set(store, WARDS)
    assert drawn(ward_pdf(fresh, ALTRINCHAM, generated_at=when)[0]) == drawn(first)
    assert drawn(ward_pdf(fresh, "E05015253", generated_at=when)[0]) == drawn(again)

    # Bad input: one line, exit 1, nothing written.
    bad = tmp_path / "never"
    for args, message in [
        (["E05999999"], "no ward 'E05999999' in boundary set 'trafford-wards-2023'"),
        ([ALTRINCHAM, "E05999999"], "no ward 'E05999999'"),
        (["--lad", "E08999999"], "no wards of authority 'E08999999'"),
        ([ALTRINCHAM, "--boundary-set", "nope"], "no boundary set 'nope'"),
        ([ALTRINCHAM, "--lad", TRAFFORD], "give ward codes or --lad, not both"),
        ([], "give one or more ward codes, or --lad"),
    ]:
        code, stdout, err = cli(capsys, demo, "report", *args, "--format", "pdf", "--out", bad)
        assert code == 1, (args, err)
        assert err.strip() == f"error: {err.strip()[7:]}" and message in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert not bad.exists()
    code, _, err = cli(capsys, demo, "report", ALTRINCHAM, "--format", "docx", "--out", bad)
    assert code == 1 and "unknown report format 'docx'" in err and not bad.exists()
    if store.kind == "postgis":
        store.engine().dispose()


def test_lad_writes_every_ward_and_an_index(demo, capsys, tmp_path):
    out = tmp_path / "trafford"
    code, stdout, err = cli(capsys, demo, "report", "--lad", TRAFFORD, "--format", "html",
                            "--out", out, "--workers", "2")
    assert code == 0, err
    store = open_store(demo)
    wards = store.read_area_table(WARDS)
    expected = {content.report_filename(c, n, "html") for c, n in zip(wards["code"], wards["name"])}
    written = {p.name for p in out.iterdir()}
    assert len(expected) == 21 and written == expected | {"index.html"}
    assert "wrote 21 HTML reports and index.html" in stdout
    assert "E05015244-bucklow-st-martins.html" in written  # "Bucklow-St Martins", slugified
    index = (out / "index.html").read_text()
    parsed = check_self_contained(index)
    assert sorted(parsed.links) == sorted(expected)  # every ward, linked relatively
    old_trafford = (out / "E05015253-old-trafford.html").read_text()
    assert "<h1" in old_trafford and "Old Trafford</h1>" in old_trafford
    check_self_contained(old_trafford)

    # PDFs rendered by two worker processes, each with its own store; and a PDF index.
    pdfs = tmp_path / "pdf"
    code, stdout, err = cli(capsys, demo, "report", ALTRINCHAM, "E05015253", "--format", "pdf",
                            "--out", pdfs, "--workers", "2")
    assert code == 0, err
    assert sorted(p.name for p in pdfs.iterdir()) == ["E05015239-altrincham.pdf",
                                                      "E05015253-old-trafford.pdf"]
    _, text = pdf_text((pdfs / "E05015253-old-trafford.pdf").read_bytes())
    assert "Old Trafford" in text and "E05015253" in text
    from placeportrait.report import _write_index

    data = content.load_set(store, WARDS, codes=[ALTRINCHAM])
    entries = [content.index_entry(content.gather(data, ALTRINCHAM), "E05015239-altrincham.pdf")]
    from placeportrait.report import _index_entries

    # The PDF index renders in the pool from entries the parent computes, as the reports do.
    assert _index_entries(data, [ALTRINCHAM], "pdf") == entries
    from datetime import datetime, timezone

    paths = _write_index(data, entries, "pdf", pdfs, TRAFFORD, datetime.now(timezone.utc))
    assert [p.name for p in paths] == ["index.html", "index.pdf"]
    _, index_text = pdf_text((pdfs / "index.pdf").read_bytes())
    assert "Trafford: ward reports" in index_text and "E05015239-altrincham.pdf" in squash(index_text)
    if store.kind == "postgis":
        store.engine().dispose()


def test_missing_data_is_no_data_never_zero(demo):
    """A ward whose value is missing says "no data" everywhere, and is left out of counts."""
    store = open_store(demo)
    data = content.load_set(store, WARDS)
    before = content.gather(data, ALTRINCHAM)
    for frame in (data.latest, data.tidy):
        hit = (frame["area_code"] == ALTRINCHAM) & (frame["indicator"] == "fuel_poverty")
        frame.loc[hit, ["value", "ratio", "shortfall", "rank"]] = None
        frame.loc[hit, "status"] = "no data"
    data.dimensions = content.score_set_dimensions(data.latest, data.extra_dimensions)
    report = content.gather(data, ALTRINCHAM)
    row = next(r for r in report["indicators"] if r.id == "fuel_poverty")
    assert (row.value_text, row.status_text, row.rank_text) == ("no data", "No data", "not ranked (no data)")
    assert row.value_with_unit == "no data" and math.isnan(row.value)
    energy = {d["lens"]: d for d in report["dimensions"] if d["dimension"] == "energy"}
    others = [r for r in report["indicators"] if r.dimension == "energy" and r.id != "fuel_poverty"
              and r.status != "no data"]
    if not others:  # fuel poverty was energy's only indicator: the dimension has no data
        assert energy["all"]["status"] == "no data" and math.isnan(energy["all"]["shortfall"])
        assert report["counts"]["social_with_data"] == before["counts"]["social_with_data"] - 1
    summary = " ".join(report["summary"])
    assert "No data for this ward on Households in fuel poverty" in summary
    from placeportrait.report import report_html

    html, _ = report_html(data, ALTRINCHAM)
    fp = html[html.index("Households in fuel poverty<span"):]
    fp = fp[:fp.index("</tr>")]
    assert "<td>no data</td>" in fp and ">0<" not in fp.replace('class="n">0<', "")

    # A ward with no recorded authority still gets a report, without inventing one.
    data.table.loc[data.table["code"] == ALTRINCHAM, "parent_code"] = None
    data.areas.loc[data.areas["code"] == ALTRINCHAM, "parent_code"] = None
    report = content.gather(data, ALTRINCHAM)
    assert report["summary"][0].startswith("Altrincham has no recorded local authority.")
    assert report["authority_label"] == "Authority"
    html, _ = report_html(data, ALTRINCHAM)
    check_self_contained(html)
    if store.kind == "postgis":
        store.engine().dispose()


# -- the pieces, without a store --------------------------------------------------------------

def dims_fixture():
    """Every dimension in every lens: a few with data, the rest no data."""
    records = []
    values = {("local-social", "food"): ("shortfall", 0.4), ("local-social", "housing"): ("achieved", 0.0),
              ("local-ecological", "air_pollution"): ("overshoot", 2.5),
              ("local-ecological", "land_conversion"): ("within", 0.0),
              ("global-ecological", "climate_change"): ("overshoot", 0.5)}
    from placeportrait.dimensions import BUILT_IN_DIMENSIONS

    for lens in ("all", "local-social", "local-ecological", "global-social", "global-ecological"):
        for d in BUILT_IN_DIMENSIONS:
            status, gap = values.get((lens, d.id), ("no data", math.nan))
            if lens == "all":
                hits = [v for (l_, i), v in values.items() if i == d.id]
                status, gap = hits[0] if hits else ("no data", math.nan)
            records.append({"lens": lens, "dimension": d.id, "label": d.label, "ring": d.ring,
                            "shortfall": gap if d.ring == "social" else math.nan,
                            "overshoot": gap if d.ring == "ecological" else math.nan,
                            "indicators_with_data": 0 if status == "no data" else 1,
                            "indicators": 1, "status": status})
    return records


def wedges_of(dims):
    """The "all lens" records as :func:`placeportrait.doughnut.wedge_records` gives them."""
    return [{"dimension": d["dimension"], "label": d["label"], "ring": d["ring"],
             "status": d["status"], "copied": False, "title": f"{d['label']}: tooltip",
             "gap": d["shortfall"] if d["ring"] == "social" else d["overshoot"]}
            for d in dims if d["lens"] == "all"]


def test_doughnut_svg_draws_gaps_to_scale():
    from placeportrait import doughnut_layout as L

    dims = dims_fixture()
    svg = doughnut_svg.render(wedges_of(dims), "Testward")
    root = ET.fromstring(svg)  # well-formed XML
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.find("s:title", ns).text.startswith("Doughnut of Testward")
    desc = root.find("s:desc", ns).text
    assert ("Social foundation: Food shortfall of 40%; Housing foundation met; no data for "
            "Water,") in desc
    assert "Ecological ceiling: Climate change overshoot of 50%; Land conversion within" in desc
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "Food: tooltip" in titles and "Climate change: tooltip" in titles
    fills = {p.get("fill") for p in root.iter("{http://www.w3.org/2000/svg}path")}
    assert {doughnut_svg.GREEN, doughnut_svg.VERMILLION, doughnut_svg.NO_DATA_FILL} <= fills
    # Wedge geometry: a 40% shortfall reaches 40% of the way from the foundation to the hole.
    r = doughnut_svg._f(L.R_FOUNDATION - 0.4 * (L.R_FOUNDATION - L.R_HOLE))
    assert f"A{r},{r} 0 0 0" in svg
    # ... and a 250% overshoot is capped at 100%, broken, and labelled with its value.
    r = doughnut_svg._f(L.R_OVERSHOOT)
    assert f"A{r},{r} 0 0 1" in svg and "+250%" in svg
    # For the PDF: the same picture without the invisible hit areas for tooltips.
    pdf_root = ET.fromstring(doughnut_svg.render(wedges_of(dims), "Testward", for_pdf=True))
    assert pdf_root.find("s:desc", ns).text == desc
    pdf_paths = list(pdf_root.iter("{http://www.w3.org/2000/svg}path"))
    assert not [p for p in pdf_paths if p.get("fill-opacity") == "0"]
    assert [p.get("d") for p in pdf_paths] == [p.get("d") for p in root.iter("{http://www.w3.org/2000/svg}path")
                                               if p.get("fill-opacity") != "0"]

    key = {k["lens"]: k for k in doughnut_svg.lens_key(dims)}
    assert [(m["label"], m["text"]) for m in key["local-social"]["measured"]] == [
        ("Food", "40% short"), ("Housing", "met")]
    assert len(key["local-social"]["missing"]) == 10
    assert [m["text"] for m in key["local-ecological"]["measured"]] == ["within", "250% over"]
    assert key["global-social"]["measured"] == [] and key["global-social"]["total"] == 12


def test_summary_names_overshoot_and_largest_gaps():
    dims = dims_fixture()
    text = " ".join(content.summary_paragraphs("Testward", "Testshire", dims, [], None))
    assert "Of the doughnut's 21 dimensions, 5 have data for this ward: 2 of the 12 social and 3 of the 9 ecological." in text
    assert "falls short of the social foundation in 1 dimension: Food (40%)" in text
    assert "meets the foundation in Housing" in text
    assert "overshoots the ecological ceiling in 2 dimensions: Air pollution (250% over) and Climate change (50% over)" in text


def test_locator_svg_is_a_real_map(tmp_path):
    import geopandas as gpd

    from conftest import DATA

    wards = gpd.read_file(DATA / "boundaries" / "greater_manchester_wards_dec2023_bsc.geojson")
    trafford = wards[wards["LAD23CD"] == TRAFFORD].rename(columns={"WD23CD": "code"})
    svg = locator_svg.render(trafford, ALTRINCHAM, ward_name="Altrincham", authority="Trafford")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "Locator map: Altrincham within Trafford"
    paths = list(root.iter(f"{ns}path"))
    assert sum(p.get("fill") == locator_svg.WARD_FILL for p in paths) == 1
    assert sum(p.get("fill") is None for p in paths) == 20  # the other wards, grey from their group
    assert "2 km" in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert len(svg) < 20_000
    # Many wards of one authority: projected and simplified once, the same map each time.
    prepared = locator_svg.prepare(trafford)
    assert locator_svg.render(None, ALTRINCHAM, ward_name="Altrincham", authority="Trafford",
                              prepared=prepared) == svg
    # For the PDF: the same map with the other wards as one path and the "N" placed by hand.
    pdf_svg = locator_svg.render(None, ALTRINCHAM, ward_name="Altrincham", authority="Trafford",
                                 prepared=prepared, for_pdf=True)
    pdf_paths = list(ET.fromstring(pdf_svg).iter(f"{ns}path"))
    grey = [p for p in pdf_paths if p.get("fill") is None]
    assert len(grey) == 1 and grey[0].get("d") == " ".join(p.get("d") for p in paths if p.get("fill") is None)
    assert [p.get("d") for p in pdf_paths if p.get("fill") is not None] == [
        p.get("d") for p in paths if p.get("fill") is not None]
    assert "text-anchor" not in pdf_svg and ">N</text>" in pdf_svg and "2 km" in pdf_svg


@pytest.mark.parametrize("value, text", [
    (float("nan"), "no data"), (None, "no data"), (0.0, "0"), (9.117593, "9.12"), (94.0, "94"),
    (11.164619, "11.2"), (1234567.8, "1,234,568"), (0.00012, "1.20e-04"), (-3.5, "-3.5")])
def test_numbers_are_formatted_and_missing_is_no_data(value, text):
    assert content.fmt_number(value) == text


def test_file_names_are_code_and_slug():
    assert content.report_filename("E05015239", "Altrincham", "pdf") == "E05015239-altrincham.pdf"
    assert content.report_filename("W05000001", "Ynys Môn / Anglesey", "html") == "W05000001-ynys-mon-anglesey.html"
    assert content.report_filename("E05015247", "Gorse Hill & Cornbrook", "pdf") == "E05015247-gorse-hill-cornbrook.pdf"
    assert content.report_filename("../x", "", "pdf") == "x-ward.pdf"
    assert content.fmt_with_unit(9.1234, "% of households") == "9.12% of households"
    assert content.fmt_with_unit(2.3, "t CO2 per person") == "2.3 t CO2 per person"
    assert content.fmt_percent(0.0912) == "9.1%" and content.fmt_percent(0.06) == "6%"
    assert content.geography_name("lsoa2011") == "LSOAs (2011)"
    assert content.shipped_authority_names()[TRAFFORD] == "Trafford"


def test_package_ships_its_templates_and_authority_names():
    from importlib import resources

    folder = resources.files("placeportrait.report")
    for name in ("templates/report.html.j2", "templates/index.html.j2", "templates/report.css",
                 "authorities.csv"):
        assert (folder / name).is_file(), name
    assert Path(str(folder / "templates" / "report.css")).read_text().count("url(") == 0
