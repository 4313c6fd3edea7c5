"""Similar wards (#16): each ward's context profile from the 2021 Output Area
Classification and the rural-urban classification, its nearest wards in its nation, and
their median beside each value, checked against the profile and distances worked here
from the shipped Trafford extracts, on both stores."""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeportrait import export, similar_wards, ward_context
from placeportrait.store import open_store

from test_indicator_runs import cli

DEMO = Path(str(resources.files("placeportrait") / "data" / "demo"))
WARDS = "trafford-wards-2023"


def _rows(name: str) -> list[dict]:
    with open(DEMO / name, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def profiles_worked_here() -> dict[str, dict[str, float]]:
    """Each ward's shares, with the csv module: OA → LSOA (ONS lookup) → ward (best fit)."""
    lsoa_of = {r["oa21cd"]: r["lsoa21cd"] for r in _rows("oa21_lsoa21_lookup_trafford.csv")}
    ward_of = {r["lsoa21_code"]: r["ward24_code"] for r in _rows("lsoa21_ward24_trafford.csv")}
    rural = {r["lsoa21_code"]: r["ruc"] == "Rural" for r in _rows("ruc21_lsoa21_trafford.csv")}
    further = {r["lsoa21_code"]: "Further from" in r["classification"]
               for r in _rows("ruc21_lsoa21_trafford.csv")}
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in _rows("uk_oac2021_oa_trafford.csv"):
        lsoa = lsoa_of[r["Geography_Code"]]
        c = counts[ward_of[lsoa]]
        c["all"] += 1
        c[f"supergroup_{r['Supergroup']}"] += 1
        c["rural"] += rural[lsoa]
        c["further"] += further[lsoa]
    return {ward: {f: c[f] / c["all"] for f in ward_context.FEATURES} for ward, c in counts.items()}


def nearest_worked_here(profiles, k=10) -> dict[str, list[str]]:
    out = {}
    for a, pa in profiles.items():
        d = sorted((math.dist([pa[f] for f in ward_context.FEATURES],
                              [pb[f] for f in ward_context.FEATURES]), b)
                   for b, pb in profiles.items() if b != a)
        out[a] = [b for _, b in d[:k]]
    return out


def test_the_demo_profiles_and_similar_wards_match_a_calculation_done_here(demo_store_url):
    store = open_store(demo_store_url)
    expected = profiles_worked_here()
    stored = similar_wards.context_table(store.read_ward_context(WARDS))
    assert len(expected) == 21 and set(stored.index) == set(expected)
    for ward, shares in expected.items():
        for feature, share in shares.items():
            assert stored.at[ward, feature] == pytest.approx(share, abs=1e-9), (ward, feature)
    similar = store.read_similar_wards(WARDS)
    got = similar.sort_values(["area_code", "rank"]).groupby("area_code")["similar_code"].agg(list)
    want = nearest_worked_here(expected)
    assert got.to_dict() == want
    # provenance: the build is a run with its sources
    runs = store.runs("ward_context")
    assert runs.iloc[0]["status"] == "succeeded" and "UK_OAC" in runs.iloc[0]["messages"]


def test_each_value_sits_beside_the_median_of_its_similar_wards(demo_store_url):
    store = open_store(demo_store_url)
    tidy = export.tidy_scores(store, WARDS)
    similar = store.read_similar_wards(WARDS)
    values = tidy.set_index(["area_code", "indicator", "period"])["value"]
    checked = 0
    for row in tidy.sample(60, random_state=1).itertuples():
        codes = similar.loc[similar["area_code"] == row.area_code, "similar_code"]
        theirs = [values.get((c, row.indicator, row.period)) for c in codes]
        theirs = [v for v in theirs if v is not None and not np.isnan(v)]
        assert row.similar_count == len(theirs)
        if theirs:
            assert row.similar_median == pytest.approx(float(np.median(theirs)))
            checked += 1
        else:
            assert np.isnan(row.similar_median)
    assert checked > 40


def test_medians_count_only_similar_wards_with_a_value(monkeypatch):
    """The median and count of each ward's similar wards that have a value, per indicator
    and period, worked here by hand; wards without similar wards or whose similar wards
    have no value get no data and a count of 0; the chunking changes nothing."""
    values = pd.DataFrame(
        [("A", "x", "2020", 1.0), ("B", "x", "2020", 3.0), ("C", "x", "2020", 10.0),
         ("D", "x", "2020", None), ("A", "x", "2021", 5.0), ("B", "y", "2020", 7.0)],
        columns=["area_code", "indicator", "period", "value"])
    similar = pd.DataFrame(
        [("A", 1, "B"), ("A", 2, "C"), ("A", 3, "D"), ("B", 1, "A"), ("C", 1, "D"),
         ("C", 2, "Z")],  # Z: not in the set, so no value
        columns=["area_code", "rank", "similar_code"]).assign(distance=0.0, run_id="r")
    table = values[["area_code", "indicator", "period"]]
    expected = {("A", "x", "2020"): (6.5, 2), ("B", "x", "2020"): (1.0, 1),
                ("C", "x", "2020"): (None, 0), ("D", "x", "2020"): (None, 0),
                ("A", "x", "2021"): (None, 0), ("B", "y", "2020"): (None, 0)}
    for chunk in (4096, 1):
        monkeypatch.setattr(similar_wards, "MEDIAN_CHUNK", chunk)
        got = similar_wards.medians(table, values, similar)
        assert list(got["area_code"]) == list(table["area_code"])
        for row in got.itertuples():
            median, count = expected[(row.area_code, row.indicator, row.period)]
            assert row.similar_count == count
            assert (np.isnan(row.similar_median) if median is None
                    else row.similar_median == median)
    none = similar_wards.medians(table, values, similar.iloc[:0])
    assert none["similar_median"].isna().all() and (none["similar_count"] == 0).all()


def test_nearest_stays_within_each_nation_and_breaks_ties_by_code():
    f = list(ward_context.FEATURES)
    rows = {
        "E05000003": [0.5, 0.5] + [0] * 6 + [0, 0],
        "E05000001": [0.6, 0.4] + [0] * 6 + [0, 0],
        "E05000002": [0.4, 0.6] + [0] * 6 + [0, 0],   # as far from ...03 as ...01: a tie
        "E05000004": [0, 0, 1] + [0] * 5 + [1, 1],
        "W05000001": [0.5, 0.5] + [0] * 6 + [0, 0],   # identical to ...03, but Welsh
        "W05000002": [1] + [0] * 7 + [0, 0],
        "N08000001": [0.5, 0.5] + [0] * 6 + [np.nan, np.nan],  # no rurality in NI
        "N08000002": [0, 1] + [0] * 6 + [np.nan, np.nan],
        "S13000001": [1] + [0] * 9,                    # alone in its nation: no neighbours
    }
    profiles = pd.DataFrame.from_dict(rows, orient="index", columns=f)
    got = similar_wards.nearest(profiles, k=2)
    by = got.groupby("area_code")["similar_code"].agg(list).to_dict()
    assert by["E05000003"] == ["E05000001", "E05000002"]  # tie: the lower code first
    assert by["W05000001"] == ["W05000002"]
    assert by["N08000001"] == ["N08000002"]
    assert "S13000001" not in by
    assert not (got["area_code"] == got["similar_code"]).any()
    assert set(got["area_code"].str[:1]) == set(got["similar_code"].str[:1])
    # the order of the rows does not matter
    shuffled = similar_wards.nearest(profiles.sample(frac=1, random_state=3), k=2)
    pd.testing.assert_frame_equal(shuffled.sort_values(["area_code", "rank"]).reset_index(drop=True),
                                  got.sort_values(["area_code", "rank"]).reset_index(drop=True))


def test_similar_show_in_an_80_column_terminal(demo_store_url, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(capsys, demo_store_url, "similar", "show", "E05015246",
                         "--boundary-set", WARDS)
    assert code == 0, err
    assert out.startswith("Flixton (E05015246): OAC supergroups 2 (42%), 1 (40%)")
    assert "Davyhulme" in out and max(len(line) for line in out.splitlines()) <= 80
    code, out, err = cli(capsys, demo_store_url, "similar", "show", "E99999999",
                         "--boundary-set", WARDS)
    assert code == 1 and "not in boundary set" in err and len(err.strip().splitlines()) == 1


def test_a_bad_classification_is_one_line_and_keeps_the_previous_similar_wards(
        demo_store_url, capsys, tmp_path):
    before = open_store(demo_store_url).read_similar_wards(WARDS)
    bad = tmp_path / "uk_oac2021_oa.csv"
    text = (DEMO / "uk_oac2021_oa_trafford.csv").read_text().splitlines()
    text[5] = text[5].split(",")[0] + ",9,9z,9z9"
    bad.write_text("\n".join(text) + "\n")
    code, out, err = cli(capsys, demo_store_url, "similar", "build", "--boundary-set", WARDS,
                         "--input", f"classification={bad}",
                         "--input", f"oa_lookup={DEMO / 'oa21_lsoa21_lookup_trafford.csv'}",
                         "--lookup", str(DEMO / "lsoa21_ward24_trafford.csv"))
    assert code == 1
    assert err.strip() == (f"error: {bad}: row 6, column 'Supergroup': supergroup '9' is not 1 to 8")
    after = open_store(demo_store_url).read_similar_wards(WARDS)
    pd.testing.assert_frame_equal(before, after)


def test_rebuilding_without_rurality_and_reloading_the_set(demo_store_url, capsys):
    code, out, err = cli(capsys, demo_store_url, "similar", "build", "--boundary-set", WARDS,
                         "--input", f"classification={DEMO / 'uk_oac2021_oa_trafford.csv'}",
                         "--input", f"oa_lookup={DEMO / 'oa21_lsoa21_lookup_trafford.csv'}",
                         "--lookup", str(DEMO / "lsoa21_ward24_trafford.csv"))
    assert code == 0, err
    assert "21 of 21 wards" in out and "England 21 of 21" in out
    store = open_store(demo_store_url)
    assert set(store.read_ward_context(WARDS)["feature"]) == {
        f"supergroup_{s}" for s in range(1, 9)}
    # new boundaries: the profiles and neighbours came from the old ones, so they go
    areas = store.read_areas(WARDS)
    store.replace_boundary_set(store.boundary_set(WARDS), areas)
    assert store.read_similar_wards(WARDS).empty and store.read_ward_context(WARDS).empty


def test_the_published_parquet_without_pyarrow_is_one_clear_line(demo_store_url, capsys,
                                                                tmp_path):
    """The classification is published as Parquet (UK_OAC_Final.parquet); pyarrow is not a
    dependency (with it, pandas 3 backs text with Arrow), so the CSV conversion is read and
    the Parquet file gets a one-line error that says so."""
    published = tmp_path / "UK_OAC_Final.parquet"
    published.write_bytes(b"PAR1 a parquet file")
    before = open_store(demo_store_url).read_similar_wards(WARDS)
    code, out, err = cli(capsys, demo_store_url, "similar", "build", "--boundary-set", WARDS,
                         "--input", f"classification={published}",
                         "--input", f"oa_lookup={DEMO / 'oa21_lsoa21_lookup_trafford.csv'}")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "UK_OAC_Final.parquet: reading Parquet needs pyarrow" in err
    pd.testing.assert_frame_equal(before, open_store(demo_store_url).read_similar_wards(WARDS))
