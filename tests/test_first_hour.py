"""What an analyst new to the project meets in their first hour (issue 14), on both stores.

Each test reproduces one defect an analyst or an auditor met, through the CLI as they used
it; expected values come from the source files, read here with pandas or the csv module.
"""

from __future__ import annotations

import csv
import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from placeportrait import readers
from placeportrait.cli import main
from placeportrait.missing import is_missing, text
from placeportrait.store import open_store

from test_indicator_runs import (IND, WARDS, cli, load_trafford, run_fuel_poverty,  # noqa: F401
                                 trafford)

FUEL = IND / "fuel_poverty_trafford_2017.csv"
WARD_FILE = IND / "ward_profile_residents_no_qualifications.csv"


def fuel_values_by_hand(path=FUEL) -> dict[str, float]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return {r["lsoa11cd"]: float(r["value"]) for r in csv.DictReader(fh)}


# -- 1. council dimensions --------------------------------------------------------------------
MOBILITY_PLUGIN = """\
id: no_qualifications_mobility
title: Residents with no qualifications (council mobility lens)
description: Share of residents with no qualifications, filed under a council dimension.
ring: social
dimension: mobility
lens: local-social
unit: "% of residents"
polarity: lower_is_better
threshold: {value: 0, baseline: 100, citation: "Trafford Council social mobility strategy"}
source:
  publisher: Office for National Statistics (Census 2021) via Trafford Data Lab
  url: https://www.trafforddatalab.io/
  licence: Open Government Licence v3.0
  attribution: Contains public sector information licensed under the OGL v3.0.
geography: ward
measure: {kind: intensive, denominator: residents}
periods: ["2021"]
read: {format: csv, code_column: area_code, value_column: value, period_column: period,
       filter: {measure: Percentage}}
"""


def write_council_folder(folder):
    """A plugin folder with a council dimension, as docs/indicators.md describes."""
    folder.mkdir()
    (folder / "local_dimensions.yaml").write_text(
        "dimensions:\n  - {id: mobility, label: Social mobility, ring: social}\n")
    (folder / "mobility.yaml").write_text(MOBILITY_PLUGIN)
    return folder


@pytest.fixture
def council_folder(tmp_path, monkeypatch):
    from placeportrait import dimensions

    folder = write_council_folder(tmp_path / "council")
    monkeypatch.setenv("PLACEPORTRAIT_INDICATORS_PATH", str(folder))
    yield folder
    dimensions.unregister_local_dimension("mobility")


def test_a_council_dimension_is_recorded_and_drawn_without_the_plugin_folder(
        trafford, council_folder, capsys):
    from placeportrait import dimensions
    from placeportrait_app.data import Repository

    code, out, err = cli(capsys, trafford, "indicators", "run", "no_qualifications_mobility",
                         "--boundary-set", WARDS, "--input",
                         f"no_qualifications_mobility={WARD_FILE}")
    assert code == 0, err
    # The app runs in another process, without the plugin folder: forget the registration.
    dimensions.unregister_local_dimension("mobility")
    store = open_store(trafford)
    assert [(d.id, d.label, d.ring) for d in store.read_local_dimensions()] == [
        ("mobility", "Social mobility", "social")]
    repo = Repository(store)
    metrics = repo.metrics(WARDS)
    assert metrics["dimension:mobility"].label == "Dimension: Social mobility (shortfall)"
    values = repo.metric_values(WARDS, "dimension:mobility")
    source = pd.read_csv(WARD_FILE).query("measure == 'Percentage'").set_index("area_code")["value"]
    # one indicator in the dimension: its shortfall is the share deprived (baseline 100)
    got = values["value"].astype(float)
    assert len(got) == 21
    for ward, share in source.items():
        assert got[ward] == pytest.approx(share, abs=1e-9), ward
    wedges = repo.ward_wedges(WARDS, "E05015239")
    mobility = next(w for w in wedges if w["dimension"] == "mobility")
    assert mobility["label"] == "Social mobility"
    assert mobility["gap"] == pytest.approx(source["E05015239"] / 100)


# -- 2. scores never go stale -----------------------------------------------------------------
def test_a_run_rescores_what_it_changed(trafford, capsys, tmp_path):
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    assert cli(capsys, trafford, "score", "--boundary-set", WARDS)[0] == 0
    before = open_store(trafford).read_scores(WARDS)
    halved = tmp_path / "fuel_poverty_halved.csv"
    table = pd.read_csv(FUEL, dtype=str)
    table["value"] = (table["value"].astype(float) / 2).map(repr)
    table.to_csv(halved, index=False)
    assert run_fuel_poverty(capsys, trafford, halved)[0] == 0
    store = open_store(trafford)
    values = store.read_values(WARDS, ["fuel_poverty"]).set_index("area_code")["value"]
    scores = store.read_scores(WARDS).set_index("area_code")
    # No `score` was run: the scores follow the new values (shortfall = share / 100).
    assert (scores["value"] - values).abs().max() < 1e-12
    assert (scores["shortfall"] - values / 100).abs().max() < 1e-12
    assert (values * 2 - before.set_index("area_code")["value"]).abs().max() < 1e-9
    code, _, err = cli(capsys, trafford, "export", "--out", tmp_path / "x.csv")
    exported = pd.read_csv(tmp_path / "x.csv").set_index("area_code")
    assert code == 0, err
    assert (exported["shortfall"] - values / 100).abs().max() < 1e-9


def test_a_run_keeps_a_council_threshold_in_force(trafford, capsys, tmp_path):
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    overrides = tmp_path / "trafford.yaml"
    overrides.write_text("thresholds:\n  fuel_poverty: {threshold: 5, baseline: 100, "
                         "citation: \"Trafford fuel poverty target\"}\n")
    assert cli(capsys, trafford, "score", "--boundary-set", WARDS, "--thresholds", overrides)[0] == 0
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    scores = open_store(trafford).read_scores(WARDS)
    assert scores["threshold"].eq(5).all()
    assert scores["threshold_source"].str.contains("override: trafford.yaml").all()
    expected = (scores["value"] - 100) / (5 - 100)
    assert (scores["ratio"] - expected).abs().max() < 1e-12


# -- 3. text columns read back as NaN ---------------------------------------------------------
def test_boundaries_list_with_a_set_loaded_without_a_licence(store_url, capsys):
    code, _, err = cli(capsys, store_url, "boundaries", "load",
                       "tests/data/boundaries/trafford_wards_2013_ons.json", "--set", "w13",
                       "--level", "ward")
    assert code == 0, err
    code, out, err = cli(capsys, store_url, "boundaries", "list")
    assert code == 0, err
    assert "w13" in out and "not recorded" in out and "Traceback" not in err


def test_missing_text_is_blank_not_nan():
    assert text(float("nan"), "none") == "none" and text(None) == "" and text(pd.NA) == ""
    assert text("OGL v3") == "OGL v3" and is_missing(np.nan) and not is_missing("")


# -- 4. compressed sources ---------------------------------------------------------------------
def test_gzip_and_one_file_zip_sources_give_the_same_values(trafford, capsys, tmp_path):
    gz = tmp_path / "fuel_poverty.csv.gz"
    gz.write_bytes(gzip.compress(FUEL.read_bytes()))
    zipped = tmp_path / "fuel_poverty.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FUEL, "data/fuel_poverty_trafford_2017.csv")
    results = {}
    for path in (FUEL, gz, zipped):
        code, out, err = run_fuel_poverty(capsys, trafford, path)
        assert code == 0, err
        store = open_store(trafford)
        results[path.name] = store.read_values(WARDS, ["fuel_poverty"]).set_index("area_code")["value"]
        run = store.runs().iloc[0]
        assert run["source"] == str(path)  # provenance names the file given, not the copy
    assert results["fuel_poverty.csv.gz"].equals(results[FUEL.name])
    assert results["fuel_poverty.zip"].equals(results[FUEL.name])


def test_a_compressed_source_with_a_bad_column_names_the_plugin_and_the_file_given(
        trafford, capsys, tmp_path):
    table = pd.read_csv(FUEL, dtype=str).rename(columns={"value": "percent"})
    gz = tmp_path / "renamed.csv.gz"
    gz.write_bytes(gzip.compress(table.to_csv(index=False).encode()))
    code, _, err = run_fuel_poverty(capsys, trafford, gz)
    assert code == 1
    assert err.startswith("error: plugin fuel_poverty: ") and f"{gz} (unpacked)" in err
    assert "missing column 'value'" in err and len(err.strip().splitlines()) == 1


def test_a_gzip_that_expands_past_the_cap_is_refused(trafford, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PLACEPORTRAIT_DOWNLOAD_MAX_BYTES", "1000")
    gz = tmp_path / "fuel_poverty.csv.gz"
    gz.write_bytes(gzip.compress(FUEL.read_bytes()))
    code, _, err = run_fuel_poverty(capsys, trafford, gz)
    assert code == 1 and "decompresses to more than 1,000 bytes" in err
    assert not list((tmp_path / "home").rglob("*.part"))


def test_a_gzipped_boundary_file_loads_like_the_plain_one(gpkg_url, capsys, tmp_path):
    source = IND.parent / "boundaries" / "trafford_wards_2013_ons.json"
    gz = tmp_path / "trafford_wards_2013.geojson.gz"
    gz.write_bytes(gzip.compress(source.read_bytes()))
    for name, path in (("plain", source), ("gzipped", gz)):
        code, _, err = cli(capsys, gpkg_url, "boundaries", "load", path, "--set", name,
                           "--level", "ward")
        assert code == 0, err
    store = open_store(gpkg_url)
    plain, gzipped = store.read_area_table("plain"), store.read_area_table("gzipped")
    assert len(plain) == 21 and plain.equals(gzipped)


# -- 5. numbers from read_csv ------------------------------------------------------------------
def test_read_csv_gives_numbers_for_the_columns_asked(tmp_path):
    path = tmp_path / "households.csv"
    path.write_text('code,households\nE01000001,"1,296"\nE01000002,..\nE01000003,85\n')
    frame = readers.read_csv(path, numbers=["households"])
    assert frame["code"].tolist() == ["E01000001", "E01000002", "E01000003"]
    assert frame["households"].iloc[0] == 1296.0 and np.isnan(frame["households"].iloc[1])
    path.write_text("code,households\nE01000001,many\n")
    with pytest.raises(readers.InputError, match=r"row 2, column 'households': 'many'"):
        readers.read_csv(path, numbers=["households"])


# -- 7. messages -------------------------------------------------------------------------------
def test_score_counts_areas_not_area_periods(trafford, capsys):
    code, _, err = cli(capsys, trafford, "indicators", "run", "ghg_per_capita", "--boundary-set",
                       WARDS, "--input",
                       f"ghg_per_capita={IND / 'greenhouse-gas-emissions_2019_2023.csv'}")
    assert code == 0, err
    code, out, err = cli(capsys, trafford, "score", "--boundary-set", WARDS)
    assert code == 0, err
    periods = sorted(open_store(trafford).read_values(WARDS)["period"].unique())
    assert len(periods) > 1
    assert f"on 21 areas, periods {', '.join(periods)}:" in out  # not 21 x periods "areas"


def test_a_run_says_how_many_source_values_were_suppressed(trafford, capsys, tmp_path):
    table = pd.read_csv(FUEL, dtype=str)
    table.loc[[3, 17, 40], "value"] = ".."
    path = tmp_path / "fuel_poverty_suppressed.csv"
    table.to_csv(path, index=False)
    code, out, err = run_fuel_poverty(capsys, trafford, path)
    assert code == 0, err
    assert "3 source rows suppressed or missing (no data)" in out


def test_validate_with_input_reads_the_file_and_names_a_wrong_column(
        council_folder, capsys, tmp_path):
    def validate(*args):
        with pytest.raises(SystemExit) as info:
            main(["indicators", "validate", *map(str, args)])
        captured = capsys.readouterr()
        return info.value.code, captured.out, captured.err

    code, out, err = validate(council_folder / "mobility.yaml", "--input",
                              f"no_qualifications_mobility={WARD_FILE}")
    assert code in (0, None), err
    assert "21 rows, 21 areas, periods 2021" in out
    (council_folder / "mobility.yaml").write_text(
        MOBILITY_PLUGIN.replace("value_column: value", "value_column: percentage"))
    code, out, err = validate(council_folder / "mobility.yaml", "--input",
                              f"no_qualifications_mobility={WARD_FILE}")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "plugin no_qualifications_mobility" in err and WARD_FILE.name in err
    assert "'percentage'" in err


@pytest.mark.parametrize("placeholder", ["TODO", "todo: find the strategy", "...", "TBC"])
def test_a_placeholder_citation_is_refused(council_folder, capsys, placeholder):
    (council_folder / "mobility.yaml").write_text(MOBILITY_PLUGIN.replace(
        "Trafford Council social mobility strategy", placeholder))
    with pytest.raises(SystemExit) as info:
        main(["indicators", "validate", str(council_folder / "mobility.yaml")])
    err = capsys.readouterr().err
    assert info.value.code == 1 and "threshold.citation is a placeholder" in err


def test_help_shows_placeholders_not_python_types(capsys):
    for command in (["indicators", "run"], ["boundaries", "load"], ["score"], ["report"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        out = capsys.readouterr().out
        assert "<bool>" not in out and "<list[" not in out and "<str>" not in out, command


# -- 8. 80 columns -----------------------------------------------------------------------------
def test_indicators_list_fits_an_80_column_terminal(capsys, monkeypatch):
    from placeportrait import cli as cli_module, plugins

    monkeypatch.setattr(cli_module.out, "_width", 80)
    with pytest.raises(SystemExit) as info:
        main(["indicators", "list"])
    out = capsys.readouterr().out
    assert info.value.code in (0, None)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    for pid, plugin in plugins.discover().plugins.items():
        # one line a plugin, with its id, dimension and geography whole
        row = next(line for line in lines if f" {pid} " in f" {line} ")
        assert plugin.meta.dimension in row.split() and plugin.meta.geography in row.split(), row


# -- 9. the GeoPackage a GIS officer opens -----------------------------------------------------
def summary_by_hand(scores: pd.DataFrame) -> pd.DataFrame:
    """O'Neill et al.'s counts and the mean gaps (in %) over each indicator's latest period."""
    latest = scores[scores["period"] == scores.groupby("indicator")["period"].transform("max")]
    rows = {}
    for code, part in latest.groupby("area_code"):
        social = part[(part["ring"] == "social") & (part["status"] != "no data")]
        ecological = part[(part["ring"] == "ecological") & (part["status"] != "no data")]
        rows[code] = {"social_indicators": len(social),
                      "thresholds_achieved": int((social["status"] == "achieved").sum()),
                      "mean_shortfall_pct": 100 * social["shortfall"].mean(),
                      "ecological_indicators": len(ecological),
                      "boundaries_transgressed": int((ecological["status"] == "overshoot").sum()),
                      "mean_overshoot_pct": 100 * ecological["overshoot"].mean()}
    return pd.DataFrame.from_dict(rows, orient="index")


def check_styles(path, layers):
    import sqlite3
    import xml.etree.ElementTree as ET

    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT f_table_name, styleName, styleQML, useAsDefault "
                            "FROM layer_styles").fetchall()
    assert {r[0] for r in rows} == set(layers)
    for layer in layers:
        defaults = [r for r in rows if r[0] == layer and r[3]]
        assert len(defaults) == 1 and defaults[0][1].startswith("Mean shortfall")
    for _, _, qml, _ in rows:
        renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
        assert renderer.get("type") == "graduatedSymbol"
        labels = [r.get("label") for r in renderer.find("ranges")]
        assert labels[0] == "No data" and len(renderer.find("symbols")) == len(labels)


def test_the_embedded_store_opens_as_one_styled_layer_per_set(gpkg_url, capsys, tmp_path):
    import pyogrio

    trafford = load_trafford(gpkg_url, capsys)
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    code, _, err = cli(capsys, trafford, "indicators", "run", "gigabit_broadband",
                       "--boundary-set", WARDS, "--input",
                       f"gigabit_broadband={IND / 'gigabit-capable-broadband.csv'}")
    assert code == 0, err
    layers = {name for name, kind in pyogrio.list_layers(trafford) if kind}
    assert {f"portrait_{WARDS}", "portrait_lsoa-2011"} <= layers
    store = open_store(trafford)
    expected = summary_by_hand(store.read_scores(WARDS))
    view = pyogrio.read_dataframe(trafford, layer=f"portrait_{WARDS}").set_index("code")
    assert len(view) == 21 and view.crs.to_epsg() == 4326
    assert view["mean_shortfall_pct"].dtype == float and view["social_indicators"].dtype == "int64"
    for column in expected:
        assert np.allclose(view.loc[expected.index, column].astype(float), expected[column],
                           equal_nan=True), column
    lsoa = pyogrio.read_dataframe(trafford, layer="portrait_lsoa-2011")
    assert len(lsoa) == 138 and lsoa["mean_shortfall_pct"].isna().all()  # no data, not 0
    assert (lsoa["social_indicators"] == 0).all()
    check_styles(trafford, [f"portrait_{WARDS}", "portrait_lsoa-2011"])
    # a new run is in the layer at once; a deleted set's layer goes
    halved = tmp_path / "halved.csv"
    table = pd.read_csv(FUEL, dtype=str)
    table["value"] = (table["value"].astype(float) / 2).map(repr)
    table.to_csv(halved, index=False)
    assert run_fuel_poverty(capsys, trafford, halved)[0] == 0
    view = pyogrio.read_dataframe(trafford, layer=f"portrait_{WARDS}").set_index("code")
    expected = summary_by_hand(open_store(trafford).read_scores(WARDS))
    assert np.allclose(view.loc[expected.index, "mean_shortfall_pct"], expected["mean_shortfall_pct"])
    assert cli(capsys, trafford, "boundaries", "delete", "lsoa-2011")[0] == 0
    assert "portrait_lsoa-2011" not in {name for name, _ in pyogrio.list_layers(trafford)}
    check_styles(trafford, [f"portrait_{WARDS}"])


def test_the_exported_geopackage_has_a_styled_summary_layer(trafford, capsys, tmp_path):
    import pyogrio

    assert run_fuel_poverty(capsys, trafford)[0] == 0
    out = tmp_path / "portrait.gpkg"
    code, _, err = cli(capsys, trafford, "export", "--format", "gpkg", "--out", out)
    assert code == 0, err
    summary = pyogrio.read_dataframe(out, layer=f"portrait_{WARDS}").set_index("code")
    expected = summary_by_hand(open_store(trafford).read_scores(WARDS))
    assert len(summary) == 21
    for column in expected:
        assert np.allclose(summary.loc[expected.index, column].astype(float), expected[column],
                           equal_nan=True), column
    check_styles(out, [f"portrait_{WARDS}"])
