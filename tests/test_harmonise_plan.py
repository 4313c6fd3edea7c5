"""The harmonisation planner (issue 13): which route a source takes, decided before it runs.

The planner is pure, so most tests give it facts directly; the last ones run it through
the CLI (`indicators run --explain`) on the demo store and check that nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from placeportrait.errors import HarmoniseError, InputError, MissingGeographyError
from placeportrait.harmonise import Facts, plan_route
from placeportrait.indicator_run import RunLookup
from placeportrait.store import open_store

from test_indicator_runs import IND, WARDS, cli, load_trafford

WARDS_23 = frozenset({"E05015239", "E05015240", "E05015241"})
WARDS_19 = {"E05000819", "E05000820", "E05015239"}
LSOAS = {"E01006074", "E01006075", "E01006076", "E01006077"}


def facts(**changes) -> Facts:
    sets = {"wards-2023": set(WARDS_23), "wards-2019": WARDS_19, "lsoa-2011": LSOAS}
    base = dict(plugin="p", geography="lsoa2011", kind="intensive", has_weights=True,
                source_codes=frozenset(LSOAS), example_code="E01006074",
                boundary_set="wards-2023", target_level="ward", target_codes=WARDS_23,
                target_parents=frozenset({"E08000009"}), known_sets=frozenset(sets),
                set_codes=lambda name: sets[name])
    base.update(changes)
    return Facts(**base)


def lookup_columns(columns):
    return lambda path: columns


def test_ward_codes_are_matched():
    plan = plan_route(facts(geography="ward", source_codes=WARDS_23 | {"E05999999"}))
    assert [s.method for s in plan.steps] == ["code_match"] and plan.method == "code_match"
    assert "75.0% of source codes" in plan.describe()[0]
    assert plan.warnings == ("1 source codes are outside boundary set 'wards-2023'",)


def test_ward_codes_of_another_vintage_are_area_weighted_and_flagged():
    plan = plan_route(facts(geography="ward", source_codes=frozenset(WARDS_19 - WARDS_23),
                            source_sets=("wards-2019",)))
    (step,) = plan.steps
    assert (step.method, step.source_set) == ("area_weighted", "wards-2019")
    assert step.flag == "other vintage: area-weighted from wards-2019"
    with pytest.raises(InputError, match="wrong boundary vintage"):
        plan_route(facts(geography="ward", source_codes=frozenset(WARDS_19 - WARDS_23)))


def test_authority_values_are_apportioned_and_missing_authorities_reported():
    plan = plan_route(facts(geography="lad", source_codes=frozenset({"E08000010"})))
    assert plan.method == "apportion"
    assert plan.warnings[0].startswith("1 local authorities of the set have no source row")
    with pytest.raises(HarmoniseError, match="no parent"):
        plan_route(facts(geography="lad", target_parents=frozenset()))


def test_a_lookup_holding_the_codes_beats_source_geometry():
    columns = {"LSOA11CD": LSOAS, "WD23CD": set(WARDS_23)}
    plan = plan_route(facts(lookups=(RunLookup(Path("l.csv")),),
                            lookup_columns=lookup_columns(columns)))
    assert plan.method == "lookup (l.csv: LSOA11CD to WD23CD)"
    assert plan.describe() == ["1. LSOA11CD → WD23CD by lookup l.csv: 100.0% of source codes, "
                               "onto wards-2023"]


def test_a_lookup_to_older_wards_continues_by_area():
    columns = {"LSOA11CD": LSOAS, "WD19CD": WARDS_19}
    plan = plan_route(facts(lookups=(RunLookup(Path("l.csv")),), source_sets=("wards-2019",),
                            lookup_columns=lookup_columns(columns)))
    assert [s.method for s in plan.steps] == ["lookup", "area_weighted"]
    assert plan.method == "lookup (l.csv: LSOA11CD to WD19CD), then area_weighted from wards-2019"
    assert plan.steps[0].onto == "wards-2019" and plan.steps[1].carried
    assert plan.steps[1].flag.startswith("other vintage: through wards-2019 by lookup")


def test_a_lookup_is_not_used_for_a_rate_without_weights():
    columns = {"LSOA11CD": LSOAS, "WD23CD": set(WARDS_23)}
    plan = plan_route(facts(has_weights=False, lookups=(RunLookup(Path("l.csv")),),
                            lookup_columns=lookup_columns(columns),
                            declared_source_set="lsoa-2011"))
    assert plan.method == "area_weighted" and "--lookup not used" in plan.warnings[0]


def test_a_wrong_lookup_column_is_one_line():
    with pytest.raises(InputError, match="no column 'WARD'"):
        plan_route(facts(lookups=(RunLookup(Path("l.csv"), "LSOA11CD", "WARD"),),
                         lookup_columns=lookup_columns({"LSOA11CD": LSOAS})))


def test_the_plugins_declared_lookup_is_used_when_no_run_time_lookup_applies():
    plan = plan_route(facts(declared_lookup={"source": "lookup", "from": "A", "to": "B"},
                            extra_paths={"lookup": Path("/cache/declared.csv")}))
    (step,) = plan.steps
    assert step.lookup.declared and plan.method == "lookup (declared.csv: A to B)"


def test_sub_ward_sources_need_their_geometry_or_a_lookup():
    plan = plan_route(facts(declared_source_set="lsoa-2011"))
    assert plan.steps[0].source_set == "lsoa-2011" and plan.method == "area_weighted"
    with pytest.raises(MissingGeographyError, match="--lookup"):
        plan_route(facts(known_sets=frozenset({"wards-2023"}), declared_source_set="lsoa-2011"))


@pytest.mark.parametrize("geography, method", [("grid", "zonal_grid"), ("points", "points"),
                                               ("postcode", "points"), ("raster", "zonal_raster")])
def test_located_sources(geography, method):
    assert plan_route(facts(geography=geography)).method == method


# -- through the CLI ---------------------------------------------------------------------------
def test_explain_prints_each_plan_and_writes_nothing(store_url, capsys):
    url = load_trafford(store_url, capsys)
    inputs = ["--input", f"fuel_poverty={IND / 'fuel_poverty_trafford_2017.csv'}",
              "--input", f"gigabit_broadband={IND / 'gigabit-capable-broadband.csv'}"]
    before = open_store(url).status()
    code, out, err = cli(capsys, url, "indicators", "run", "fuel_poverty", "gigabit_broadband",
                         "--boundary-set", WARDS, "--explain", *inputs)
    assert code in (0, None), err
    assert "fuel_poverty: by area_weighted" in out and "gigabit_broadband: by apportion" in out
    assert "area-weighted from the geometry of lsoa-2011 (100.0% of source codes)" in " ".join(out.split())
    assert open_store(url).status() == before  # no run recorded, no value written
    assert open_store(url).runs().empty


def test_a_run_prints_and_stores_the_plan_it_used(store_url, capsys):
    url = load_trafford(store_url, capsys)
    code, out, err = cli(capsys, url, "indicators", "run", "fuel_poverty", "--boundary-set", WARDS,
                         "--input", f"fuel_poverty={IND / 'fuel_poverty_trafford_2017.csv'}")
    assert code in (0, None), err
    assert "1. lsoa2011 → trafford-wards-2023: area-weighted" in out
    messages = json.loads(open_store(url).runs().iloc[0]["messages"])
    assert messages["method"] == "area_weighted"
    assert messages["plan"] == ["1. lsoa2011 → trafford-wards-2023: area-weighted from the "
                                "geometry of lsoa-2011 (100.0% of source codes)"]
