"""Wales: residents in Wales's most deprived 10 % of neighbourhoods (WIMD 2019), put on
Cardiff's 2019 wards through the ONS LSOA 2011 → ward 2019 best-fit lookup, checked
against the same aggregation done here with the csv module."""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import pytest

from placeportrait import plugins
from placeportrait.errors import InputError
from placeportrait.indicator_run import RunLookup, run_indicator

from test_builtin_support import IND, UK_2019, csv_rows, load_set, number

WIMD = IND / "wimd2019_wales_lsoa11_cardiff.csv"
POPULATION = IND / "population_mid2019_lsoa11_cardiff.csv"
RANKS_BOOK = IND / "format_fixtures" / "wimd2019_ranks_cardiff_FORMAT_FIXTURE.xlsx"
LOOKUP = IND / "lsoa11_ward19_lookup_trafford_cardiff.csv"
CARDIFF = "W06000015"
CASES = {"wimd_most_deprived": "IMD_rank", "wimd_income_most_deprived": "Income_rank",
         "wimd_health_most_deprived": "Health_rank",
         "wimd_community_safety_most_deprived": "Crime_rank"}


def by_hand(rank_column: str) -> dict[str, float]:
    """Per ward 2019: the share of mid-2019 residents in LSOAs ranked 1–191 in Wales."""
    rank = {r["lsoa11_code"]: number(r[rank_column]) for r in csv_rows(WIMD)}
    people = {r["lsoa11_code"]: number(r["total_population"]) for r in csv_rows(POPULATION)}
    deprived, total = defaultdict(float), defaultdict(float)
    for r in csv_rows(LOOKUP):
        lsoa, ward = r["LSOA11CD"], r["WD19CD"]
        if lsoa in rank:
            total[ward] += people[lsoa]
            deprived[ward] += people[lsoa] * (rank[lsoa] <= 191)
    return {w: 100 * deprived[w] / total[w] for w in total}


@pytest.mark.parametrize("pid", sorted(CASES))
def test_cardiff_wards_by_lookup_match_the_aggregation_by_hand(store, pid):
    wards = gpd.read_file(f"zip://{UK_2019}")
    cardiff = wards[wards["LAD19CD"] == CARDIFF].reset_index(drop=True)
    load_set(store, UK_2019, "cardiff-wards-2019", "ward", gdf=cardiff)
    result = run_indicator(store, plugins.load(pid), "cardiff-wards-2019",
                           inputs={pid: str(WIMD), f"{pid}.population": str(POPULATION)},
                           lookups=[RunLookup(LOOKUP)])
    assert result.method.startswith("lookup")
    values = store.read_values("cardiff-wards-2019", [pid]).set_index("area_code")["value"]
    expected = by_hand(CASES[pid])
    assert len(expected) == len(cardiff) == 29
    for ward, share in expected.items():
        assert values[ward] == pytest.approx(share, abs=1e-9), ward
    assert 0 < sum(v > 0 for v in expected.values()) < len(expected)  # it varies by ward


def test_the_published_ranks_workbook_reads_like_the_copy():
    plugin = plugins.load("wimd_income_most_deprived")
    book = plugin.load(RANKS_BOOK, population=POPULATION)
    copy = plugin.load(WIMD, population=POPULATION)
    assert book.equals(copy) and len(copy) == 214
    # W01001741 is ranked 2nd of Wales's 1,909 LSOAs on income: all its residents count
    row = copy.set_index("code").loc["W01001741"]
    assert row["value"] == 100 and row["weight"] > 0


def test_an_english_file_is_refused_in_one_line(tmp_path):
    english = tmp_path / "wimd.csv"
    english.write_text("lsoa11_code,Income_rank\nE01006184,5\n")
    with pytest.raises(InputError) as caught:
        plugins.load("wimd_income_most_deprived").load(english, population=POPULATION)
    assert "not Welsh LSOAs" in str(caught.value) and "\n" not in str(caught.value)
