"""`placeportrait score` and `export`, as a user runs them, on both stores."""

import geopandas as gpd
import pandas as pd
import pytest

from placeportrait.store import open_store

from test_indicator_runs import IND, WARDS, cli, run_fuel_poverty, trafford  # noqa: F401

REQUIRED = ["area_code", "area_name", "indicator", "ring", "dimension", "period", "value", "unit",
            "threshold", "ratio", "shortfall", "overshoot", "status", "method", "coverage", "source"]


@pytest.fixture
def scored(trafford, capsys):
    assert run_fuel_poverty(capsys, trafford)[0] == 0
    code, _, err = cli(capsys, trafford, "indicators", "run", "gigabit_broadband", "--boundary-set",
                       WARDS, "--input", f"gigabit_broadband={IND / 'gigabit-capable-broadband.csv'}")
    assert code == 0, err
    code, out, err = cli(capsys, trafford, "score", "--boundary-set", WARDS)
    assert code == 0, err
    assert "scored 42 values of 2 indicators" in out
    return trafford


def test_scores_follow_the_method(scored):
    scores = open_store(scored).read_scores(WARDS)
    fp = scores[scores["indicator"] == "fuel_poverty"]
    # share deprived: baseline 100, threshold 0, so shortfall = value / 100
    assert ((fp["shortfall"] - fp["value"] / 100).abs() < 1e-12).all()
    assert (fp["status"] == "shortfall").all()
    gb = scores[scores["indicator"] == "gigabit_broadband"]
    assert gb["ratio"].round(12).eq(0.94).all() and gb["shortfall"].round(12).eq(0.06).all()
    assert gb["threshold_source"].str.contains("Project Gigabit").all()


def test_export_csv_is_tidy_with_provenance_and_comparisons(scored, capsys, tmp_path):
    out = tmp_path / "scores.csv"
    code, _, err = cli(capsys, scored, "export", "--format", "csv", "--out", out)
    assert code == 0, err
    table = pd.read_csv(out)
    assert set(REQUIRED) <= set(table.columns)
    assert len(table) == 42 and not table.duplicated(["area_code", "indicator", "period"]).any()
    assert table["licence"].eq("Open Government Licence v3.0").all()
    # each value names the file its run read (not the folder it sat in)
    read = table.groupby("indicator")["source_file"].unique().to_dict()
    assert {k: list(v) for k, v in read.items()} == {
        "fuel_poverty": ["fuel_poverty_trafford_2017.csv"],
        "gigabit_broadband": ["gigabit-capable-broadband.csv"]}
    fp = table[table["indicator"] == "fuel_poverty"]
    # the mean of the set's wards is labelled as such; the 2017 file gives no household
    # counts, so there is no authority or England value, and the export says why
    assert fp["set_mean"].round(9).eq(round(fp["value"].mean(), 9)).all()
    assert fp["authority_value"].isna().all() and fp["nation_value"].isna().all()
    assert fp["nation_method"].str.startswith("no data: ").all()
    assert sorted(fp["rank"]) == list(range(1, 22))
    best = fp.loc[fp["value"].idxmin()]
    assert best["rank"] == 1 and best["percentile"] == 100
    assert (fp["nation"] == "England").all()


@pytest.mark.parametrize("fmt, suffix", [("geojson", ".geojson"), ("gpkg", ".gpkg")])
def test_export_with_geometry(scored, capsys, tmp_path, fmt, suffix):
    out = tmp_path / f"scores{suffix}"
    assert cli(capsys, scored, "export", "--format", fmt, "--out", out)[0] == 0
    frame = gpd.read_file(out, **({"layer": "scores"} if fmt == "gpkg" else {}))
    assert len(frame) == 42 and frame.crs.to_epsg() == 4326
    assert set(REQUIRED) <= set(frame.columns)


def test_threshold_overrides_are_recorded(scored, capsys, tmp_path):
    overrides = tmp_path / "trafford.yaml"
    overrides.write_text(
        "name: Trafford digital strategy\n"
        "thresholds:\n"
        "  gigabit_broadband: {threshold: 99, citation: \"Trafford Digital Strategy 2030\"}\n")
    code, _, err = cli(capsys, scored, "score", "--boundary-set", WARDS, "--thresholds", overrides)
    assert code == 0, err
    scores = open_store(scored).read_scores(WARDS)
    gb = scores[scores["indicator"] == "gigabit_broadband"]
    assert gb["threshold"].eq(99).all()
    assert gb["ratio"].round(12).eq(round(94 / 99, 12)).all()
    assert gb["threshold_source"].str.contains("override: trafford.yaml").all()
    fp = scores[scores["indicator"] == "fuel_poverty"]
    assert not fp["threshold_source"].str.contains("override").any()


def test_bad_override_file_is_one_line(scored, capsys, tmp_path):
    overrides = tmp_path / "bad.yaml"
    overrides.write_text("name: x\nthresholds:\n  gigabit_broadband: {threshold: lots, citation: c}\n")
    code, _, err = cli(capsys, scored, "score", "--boundary-set", WARDS, "--thresholds", overrides)
    assert code == 1 and "bad.yaml" in err and len(err.strip().splitlines()) == 1


def test_score_without_values_and_export_without_scores(store_url, capsys, tmp_path):
    assert cli(capsys, store_url, "boundaries", "load",
               "tests/data/boundaries/trafford_wards_2013_ons.json", "--set", "w", "--level", "ward")[0] == 0
    code, _, err = cli(capsys, store_url, "score", "--boundary-set", "w")
    assert code == 1 and "no indicator values" in err
    code, _, err = cli(capsys, store_url, "export", "--boundary-set", "w", "--out", tmp_path / "x.csv")
    assert code == 1 and "no scores" in err and not (tmp_path / "x.csv").exists()
