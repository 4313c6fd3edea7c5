"""What a ward report says: the numbers gathered from the store, and the words written from them.

:func:`load_set` reads everything a boundary set's reports need once (the tidy scores with
comparisons and ranks, the areas, the runs); :func:`gather` then builds one ward's report
content from it as plain Python data, which the HTML template turns into a page. Nothing
here draws or formats HTML, so the same content could feed another renderer.

Missing data is "no data" everywhere, never zero: a NaN value or threshold is shown as
such, counts only include indicators with data, and the summary says what is unknown.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources

import pandas as pd

from placeportrait import (__version__, dimensions, doughnut, links, matters_most, missing,
                           similar_wards)
from placeportrait.dimensions import (
    ECOLOGICAL,
    LENSES,
    SOCIAL,
    all_dimensions,
)
from placeportrait.errors import InputError, UnknownNameError
from placeportrait.missing import is_missing
from placeportrait.report import trend_chart

NO_DATA = "no data"
NO_AUTHORITY = "no recorded authority"
#: Below this share of a ward covered by its source, a value is flagged "low coverage".
LOW_COVERAGE = 0.9
#: How many indicators the summary names as the largest gaps.

STATUS_TEXT = {
    "shortfall": "Shortfall",
    "achieved": "Achieved",
    "overshoot": "Overshoot",
    "within": "Within ceiling",
    NO_DATA: "No data",
}

METHODS = {
    "code_match": "copied by area code (the source is published for these wards)",
    "lookup": "aggregated from {geography} by a best-fit lookup",
    "area_weighted": "area-weighted interpolation from {geography}",
    "zonal": "zonal statistics from {geography}, weighted by cell coverage",
    "points": "points from {geography} counted in the ward",
    "apportion": "apportioned from the local authority: every ward of the authority gets its value",
}

GEOGRAPHIES = {
    "lad": "local authorities", "lsoa": "LSOAs", "msoa": "MSOAs", "oa": "output areas",
    "ward": "wards", "grid": "a grid", "raster": "a raster", "points": "point locations",
    "postcode": "postcodes",
}


# -------------------------------------------------------------------------- formatting

def fmt_number(value, missing: str = NO_DATA) -> str:
    """A value to about three significant figures; NaN is "no data", never 0."""
    if is_missing(value):
        return missing
    value = float(value)
    if not math.isfinite(value):
        return missing
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 0.001:
        text = f"{value:.3g}"
        return text if "e" not in text else f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:.2e}"


def fmt_with_unit(value, unit: str | None) -> str:
    """``9.12% of households``; ``no data`` when missing."""
    text = fmt_number(value)
    if text == NO_DATA or not unit:
        return text
    unit = str(unit)
    return f"{text}{unit}" if unit.startswith("%") else f"{text} {unit}"


def fmt_percent(fraction, signed: bool = False) -> str:
    """A 0–1 gap as a percentage: 0.0912 → ``9.1%``."""
    if is_missing(fraction):
        return NO_DATA
    pct = 100.0 * float(fraction)
    text = f"{pct:.0f}" if abs(pct) >= 10 else f"{pct:.1f}".rstrip("0").rstrip(".")
    return f"{'+' if signed and pct > 0 else ''}{text}%"


def fmt_date(value) -> str:
    """``2026-11-24T19:46:31+00:00`` → ``24 November 2026``; unknown → ``unknown``."""
    if is_missing(value) or not value:
        return "unknown"
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)[:10]
    return f"{stamp.day} {stamp:%B %Y}"


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def periods_text(periods: list[str]) -> str:
    """``2005–2019 (15 periods)`` for a run of years, else the list; one period: ``""``."""
    if len(periods) < 2:
        return ""
    years = [_year(p) for p in periods]
    if all(y is not None and str(y) == str(p) for y, p in zip(years, periods)) and \
            years == list(range(years[0], years[0] + len(years))):
        return f"{years[0]}\u2013{years[-1]} ({len(years)} periods)"
    return ", ".join(periods)


def join_words(items: list[str], conjunction: str = "and") -> str:
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def short_list(items: list[str], limit: int = 3) -> str:
    """``a, b and c``; beyond ``limit`` items, ``a, b, c and 4 more``."""
    if len(items) <= limit:
        return join_words(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural_word or word + 's')}"


def slugify(text: str) -> str:
    """``Ashton upon Mersey`` → ``ashton-upon-mersey``; ``Ynys Môn`` → ``ynys-mon``."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "ward"


def report_filename(code: str, name: str, fmt: str) -> str:
    """``E05015239-altrincham.pdf``: the code keeps names unique, the name keeps them readable."""
    # Codes are checked at load (boundaries.CODE_PATTERN), so this keeps them as they are.
    safe_code = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(code)).strip("-.") or "area"
    return f"{safe_code}-{slugify(name)}.{fmt}"


def _year(text) -> int | None:
    """The first year in a period: ``2019`` → 2019, ``2026-01-01`` → 2026."""
    match = re.match(r"\s*(\d{4})", str(text)) if not is_missing(text) else None
    return int(match.group(1)) if match else None


def _last_year(text) -> int | None:
    """The last year a period covers: ``2022-2024`` → 2024, ``2024/25`` → 2024."""
    if is_missing(text):
        return None
    years = [int(y) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", str(text)) if 1800 <= int(y) <= 2200]
    return max(years) if years else None


def geography_name(geography: str | None) -> str:
    """``lsoa2011`` → ``LSOAs (2011)``."""
    if is_missing(geography) or not geography:
        return "its source geography"
    match = re.match(r"^([a-z]+?)(\d{2,4})?$", str(geography).lower())
    if not match:
        return str(geography)
    base, year = match.groups()
    name = GEOGRAPHIES.get(base, base.upper())
    if year:
        year = year if len(year) == 4 else f"20{year}"
        return f"{name} ({year})"
    return name


def method_text(method: str | None, geography: str | None) -> str:
    if is_missing(method) or not method:
        return "Not recorded"
    template = METHODS.get(str(method))
    if template is None:
        return str(method).replace("_", " ").capitalize()
    text = template.format(geography=geography_name(geography))
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------ authority names

_AUTHORITY_NAMES: dict[str, str] | None = None


def shipped_authority_names() -> dict[str, str]:
    """ONS local authority names (Dec 2019 and Dec 2023), shipped with the package."""
    global _AUTHORITY_NAMES
    if _AUTHORITY_NAMES is None:
        path = resources.files("placeportrait.report") / "authorities.csv"
        frame = pd.read_csv(path.open("r", encoding="utf-8"), dtype=str)
        _AUTHORITY_NAMES = dict(zip(frame["code"], frame["name"]))
    return _AUTHORITY_NAMES


def authority_names(store, codes) -> dict[str, str]:
    """Names of the parent codes: from a LAD boundary set in the store, else ONS's list."""
    codes = {c for c in codes if isinstance(c, str) and c}
    names = {c: shipped_authority_names()[c] for c in codes if c in shipped_authority_names()}
    try:
        sets = store.boundary_sets()
    except Exception:  # noqa: BLE001 - names are a nicety; the code is always shown
        return names
    for row in sets.itertuples():
        if str(row.level).lower() not in ("lad", "lau", "authority", "local_authority", "la"):
            continue
        table = store.read_area_table(row.name)
        found = table[table["code"].isin(codes)]
        names.update({c: n for c, n in zip(found["code"], found["name"]) if isinstance(n, str)})
    return names


# ------------------------------------------------------------------------ the set's data

@dataclass
class SetData:
    """Everything the reports of one boundary set need, read from the store once."""

    boundary_set: str
    meta: dict
    table: pd.DataFrame  # every area of the set: code, name, level, parent_code, area_m2
    areas: pd.DataFrame  # GeoDataFrame of the areas the reports draw (the wards' authorities)
    tidy: pd.DataFrame  # export.tidy_scores: one row per area, indicator and period
    latest: pd.DataFrame  # tidy rows of each indicator's latest period
    indicators: pd.DataFrame  # indicator metadata by id
    runs: pd.DataFrame  # runs by run_id
    authorities: dict[str, str]
    dimensions: dict[str, list[dict]]  # area code → score_set_dimensions records
    extra_dimensions: tuple = ()
    store_kind: str = ""
    similar: pd.DataFrame = field(default_factory=pd.DataFrame)  # similar_wards rows
    profiles: pd.DataFrame = field(default_factory=pd.DataFrame)  # similar_wards.context_table
    breaks: pd.DataFrame = field(default_factory=pd.DataFrame)  # store.read_series_breaks
    _provenance: dict | None = None
    _documents: dict = field(default_factory=dict)  # rendered provenance pages, by first page
    _cache: dict = field(default_factory=dict)  # lookups derived from the read-only tables

    def area(self, code: str) -> pd.Series:
        rows = self.table[self.table["code"] == code]
        if rows.empty:
            raise unknown_ward(self.table, self.boundary_set, code)
        return rows.iloc[0]

    def codes_of_authority(self, lad: str) -> list[str]:
        return sorted(self.table.loc[self.table["parent_code"] == lad, "code"])


def unknown_ward(table: pd.DataFrame, boundary_set: str, code: str) -> UnknownNameError:
    """The one-line error for a code that is not in the set, with an example of one that is."""
    example = table.iloc[0] if len(table) else None
    hint = f", e.g. {example['code']} {example['name']}" if example is not None else ""
    return UnknownNameError(
        f"no ward {code!r} in boundary set {boundary_set!r} ({len(table):,} areas{hint})")


def default_boundary_set(store) -> str:
    """The only boundary set with scores; otherwise the user must choose."""
    store.require_current()
    names = [n for n in store.boundary_sets()["name"] if not store.read_scores(n).empty]
    if len(names) != 1:
        raise InputError("choose --boundary-set (sets with scores: "
                         f"{', '.join(names) or 'none: run `placeportrait score` first'})")
    return names[0]


def load_set(store, boundary_set: str, codes=None) -> SetData:
    """Read a boundary set's scores, areas, indicator metadata and runs.

    ``codes``, when given, limits the geometry read to those areas' authorities (the
    locator maps need nothing else); the scores always cover the whole set, because
    ranks and comparisons do.
    """
    from placeportrait.export import tidy_scores

    meta = store.boundary_set(boundary_set)
    table = store.read_area_table(boundary_set)
    tidy = tidy_scores(store, boundary_set)
    if codes is not None:
        parents = set(table.loc[table["code"].isin(list(codes)), "parent_code"].dropna())
        wanted = table.loc[table["code"].isin(list(codes)) | table["parent_code"].isin(parents), "code"]
        areas = store.read_areas(boundary_set, codes=list(wanted))
    else:
        areas = store.read_areas(boundary_set)
    indicators = store.read_indicators().set_index("id")
    runs = store.runs()
    runs = runs[runs["run_id"].isin(set(tidy["run_id"].dropna()))].set_index("run_id")
    latest = doughnut.latest_rows(tidy)
    latest["nation_has_data"] = doughnut.nation_has_data(latest)
    latest["nation_rank_ties"] = doughnut.nation_rank_ties(latest)
    found = tidy[["dimension", "ring"]].drop_duplicates().itertuples(index=False)
    extra = dimensions.extra_for(found, store.read_local_dimensions())
    return SetData(
        boundary_set=boundary_set, meta=meta, table=table, areas=areas, tidy=tidy, latest=latest,
        indicators=indicators, runs=runs,
        authorities=authority_names(store, set(table["parent_code"].dropna())),
        dimensions=score_set_dimensions(latest, extra),
        extra_dimensions=extra, store_kind=getattr(store, "kind", ""),
        similar=store.read_similar_wards(boundary_set),
        profiles=similar_wards.context_table(store.read_ward_context(boundary_set)),
        breaks=store.read_series_breaks())


# ------------------------------------------------------------------------ one ward

@dataclass
class IndicatorRow:
    id: str
    title: str
    description: str
    ring: str
    dimension: str
    dimension_label: str
    lens: str
    lens_label: str
    period: str
    periods: list[str]
    periods_text: str
    value: float
    value_text: str
    value_with_unit: str
    unit: str
    threshold: float
    threshold_text: str
    baseline_text: str
    threshold_source: str
    status: str
    status_text: str
    gap: float
    gap_text: str
    authority_text: str
    nation_text: str
    similar_text: str
    similar_count: int
    comparison: str  # better / same / worse / "" vs the authority average
    rank_text: str
    nation_rank_text: str
    rank_position: str  # "first" / "last" when alone there (not a tie of every ward), else ""
    flags: list[str]
    source: str
    source_url: str
    licence: str
    attribution: str
    method: str
    coverage_text: str
    coverage: float | None
    source_rows: str
    run: dict = field(default_factory=dict)


def _gap(row) -> float:
    if row["status"] == NO_DATA:
        return float("nan")
    value = row["shortfall"] if row["ring"] == SOCIAL else row["overshoot"]
    return float(value) if not is_missing(value) else float("nan")


def _without_references(latest: pd.DataFrame, code: str) -> list[str]:
    """Titles of the ward's indicators that have neither an authority nor a nation value."""
    rows = latest.loc[latest["area_code"] == code]
    none = rows["authority_value"].isna() & rows["nation_value"].isna() & rows["value"].notna()
    return sorted(missing.text(t) or i for t, i in zip(rows.loc[none, "title"],
                                                      rows.loc[none, "indicator"]))


def _comparison(row) -> str:
    """Whether the ward does better than its authority as a whole, by the indicator's direction."""
    value, parent = row["value"], row["authority_value"]
    threshold, baseline = row["threshold"], row["baseline"]
    if any(is_missing(x) for x in (value, parent, threshold)):
        return ""
    baseline = 0.0 if is_missing(baseline) else float(baseline)
    direction = float(threshold) - baseline
    if direction == 0:
        return ""
    delta = (float(value) - float(parent)) / direction  # > 0: ratio higher than the average
    if abs(delta) < 1e-9 or fmt_number(value) == fmt_number(parent):
        return "same"
    better = delta > 0 if row["ring"] == SOCIAL else delta < 0
    return "better" if better else "worse"


def _rank_text(row, ties: int) -> str:
    return doughnut.rank_label(row["rank"], row["ranked_areas"], ties)


def _nation_rank_text(row) -> str:
    """``248 of 355 in Scotland`` where the set holds the nation; else empty."""
    return doughnut.nation_rank_label(row.get("nation_rank"), row.get("nation_ranked_areas"),
                                      row.get("nation"), row.get("nation_rank_ties", 1))


def _flags(row, boundary_year: int | None, coverage) -> list[str]:
    flags = []
    stored = row.get("flags")
    if not is_missing(stored) and stored:
        flags.extend(f.strip() for f in re.split(r"[;|]", str(stored)) if f.strip())
    if not is_missing(coverage) and float(coverage) < LOW_COVERAGE:
        pct = fmt_percent(coverage)
        if is_missing(row["value"]):
            flags.append(f"low coverage: the source covers {pct} of the ward, too little for a value")
        else:
            flags.append(f"low coverage: the source covers only {pct} of the ward")
    year = _last_year(row["period"])
    if year is not None and boundary_year is not None and year < boundary_year:
        flags.append(f"older vintage: {year} data on {boundary_year} boundaries")
    return flags


def _run_info(data: SetData, run_id) -> dict:
    if is_missing(run_id):
        return {}
    key = ("run", run_id)
    if key not in data._cache:  # the same few runs for every ward of the set
        data._cache[key] = _read_run_info(data, run_id)
    return dict(data._cache[key])


def _indicator_meta(data: SetData) -> dict[str, dict]:
    """The indicators' metadata as plain dicts, by id (read once per set)."""
    if "indicators" not in data._cache:
        data._cache["indicators"] = {i: dict(r) for i, r in
                                     zip(data.indicators.index, data.indicators.to_dict("records"))}
    return data._cache["indicators"]


def _read_run_info(data: SetData, run_id) -> dict:
    if run_id not in data.runs.index:
        return {}
    run = data.runs.loc[run_id]
    source = run.get("source")
    source_text = ""
    if not is_missing(source) and source:
        source = str(source)
        source_text = _file_name(source)
    checksum = run.get("source_checksum")
    return {
        "id": str(run_id)[:8],
        "date": fmt_date(run.get("finished_at") or run.get("started_at")),
        "source": source_text,
        "checksum": "" if is_missing(checksum) or not checksum else str(checksum)[:12],
        "plugin_version": "" if is_missing(run.get("plugin_version")) else str(run.get("plugin_version")),
        "extras": _extra_sources(run.get("messages")),
    }


def _extra_sources(messages) -> list[dict]:
    """The extra sources a run read (a plugin's ``source.extra``: populations, lookups,
    a second file), from the provenance the run stored, so a value is traceable to every
    file that made it."""
    try:
        extras = json.loads(messages).get("extra_sources") or {}
    except (TypeError, ValueError, AttributeError):
        return []
    return [{"name": name, "file": _file_name(str(item.get("source") or "")),
             "checksum": str(item.get("sha256") or "")[:12]}
            for name, item in sorted(extras.items()) if isinstance(item, dict)]


def _file_name(source: str) -> str:
    return source if "://" in source else source.replace("\\", "/").rsplit("/", 1)[-1]


def _lens_label(lens: str) -> str:
    for item in LENSES:
        if item.id == lens:
            return item.label
    return str(lens).replace("-", " ").capitalize() if lens else "No lens"


def indicator_rows(data: SetData, code: str) -> list[IndicatorRow]:
    """One row per indicator (its latest period) for the ward, in doughnut order."""
    mine = data.latest["area_code"] == code
    rows = data.latest[mine & data.latest["nation_has_data"]].to_dict("records")
    labels = {d.id: d.label for d in all_dimensions(data.extra_dimensions)}
    order = {d.id: i for i, d in enumerate(all_dimensions(data.extra_dimensions))}
    lens_order = {lens.id: i for i, lens in enumerate(LENSES)}
    boundary_year = _year(data.meta.get("vintage"))
    periods: dict[str, list] = {}
    tidy = data.tidy[data.tidy["area_code"] == code]
    for indicator, period in zip(tidy["indicator"], tidy["period"]):
        periods.setdefault(indicator, []).append(period)
    periods = {indicator: sorted(found) for indicator, found in periods.items()}
    ranks: dict[tuple, list] = {}
    latest = data.latest
    for key in zip(latest["indicator"], latest["period"], latest["rank"]):
        peers = ranks.setdefault(key[:2], [])
        if not is_missing(key[2]):
            peers.append(int(key[2]))
    metas = _indicator_meta(data)
    out = []
    for row in rows:
        meta = metas.get(row["indicator"], {})
        same_rank, position = 0, ""
        if not is_missing(row["rank"]):
            peers = ranks.get((row["indicator"], row["period"]), [])
            same_rank = peers.count(row["rank"])
            if same_rank < len(peers):  # a tie of every ward says nothing
                worst = max(peers)
                position = ("first" if row["rank"] == 1 else "last" if row["rank"] == worst else "")
        gap = _gap(row)
        status = str(row["status"])
        if status == "shortfall":
            gap_text = f"{fmt_percent(gap)} short"
        elif status == "overshoot":
            gap_text = f"{fmt_percent(gap)} over"
        else:
            gap_text = ""
        baseline = row["baseline"]
        unit = missing.text(row["unit"]) or missing.text(meta.get("unit") if len(meta) else "")
        coverage = row["coverage"]
        out.append(IndicatorRow(
            id=row["indicator"], title=missing.text(row["title"]) or row["indicator"],
            description=missing.text(meta.get("description")) if len(meta) else "",
            ring=row["ring"], dimension=row["dimension"],
            dimension_label=labels.get(row["dimension"], str(row["dimension"])),
            lens=missing.text(row["lens"]), lens_label=_lens_label(missing.text(row["lens"])),
            period=missing.text(row["period"]), periods=list(periods.get(row["indicator"], [])),
            periods_text=periods_text(list(periods.get(row["indicator"], []))),
            value=float(row["value"]) if not is_missing(row["value"]) else float("nan"),
            value_text=fmt_number(row["value"]), value_with_unit=fmt_with_unit(row["value"], unit),
            unit=unit,
            threshold=float(row["threshold"]) if not is_missing(row["threshold"]) else float("nan"),
            threshold_text=fmt_number(row["threshold"]),
            baseline_text=fmt_number(0.0 if is_missing(baseline) else baseline),
            threshold_source=missing.text(row["threshold_source"]),
            status=status, status_text=STATUS_TEXT.get(status, status), gap=gap, gap_text=gap_text,
            authority_text=fmt_number(row["authority_value"]), nation_text=fmt_number(row["nation_value"]),
            similar_text=fmt_number(row["similar_median"]), similar_count=int(row["similar_count"]),
            comparison=_comparison(row), rank_text=_rank_text(row, same_rank),
            nation_rank_text=_nation_rank_text(row),
            rank_position=position,
            flags=_flags(row, boundary_year, coverage),
            source=missing.text(row["source"]), source_url=missing.text(row["source_url"]),
            licence=missing.text(row["licence"]), attribution=missing.text(row["attribution"]),
            method=method_text(row["method"], meta.get("geography") if len(meta) else None),
            coverage_text=fmt_percent(coverage) if not is_missing(coverage) else "not recorded",
            coverage=None if is_missing(coverage) else float(coverage),
            source_rows="" if is_missing(row["source_rows"]) else f"{int(row['source_rows']):,}",
            run=_run_info(data, row["run_id"]),
        ))
    out.sort(key=lambda r: (0 if r.ring == SOCIAL else 1, lens_order.get(r.lens, 9),
                            order.get(r.dimension, 99), r.title))
    return out


DIMENSION_KEYS = ("lens", "dimension", "label", "ring", "shortfall", "overshoot",
                  "indicators_with_data", "indicators", "status")


def score_set_dimensions(latest: pd.DataFrame, extra=()) -> dict[str, list[dict]]:
    """Every area's dimensions, overall (``lens == "all"``) and per lens, as plain records.

    Scored once per boundary set (five vectorised :func:`doughnut.score_dimensions` calls),
    so a report only looks its ward up. A dimension with no indicator with data is
    ``no data`` with NaN gaps, never 0.
    """
    cols = ["area_code", "indicator", "ring", "dimension", "value", "threshold", "baseline",
            "ratio", "shortfall", "overshoot", "status"]
    dims = all_dimensions(extra)
    areas = list(dict.fromkeys(latest["area_code"]))
    out: dict[str, list[dict]] = {code: [] for code in areas}
    for lens in ["all", *(lens.id for lens in LENSES)]:
        part = latest if lens == "all" else latest[latest["lens"] == lens]
        scored = {}
        if not part.empty:
            frame = doughnut.score_dimensions(part[cols], extra=extra, include_all_dimensions=True)
            for record in frame.to_dict("records"):
                scored[(record["area_code"], record["dimension"])] = record
        for code in areas:
            for d in dims:
                record = scored.get((code, d.id))
                if record is None:
                    record = {"dimension": d.id, "label": d.label, "ring": d.ring,
                              "shortfall": float("nan"), "overshoot": float("nan"),
                              "indicators_with_data": 0, "indicators": 0, "status": NO_DATA}
                out[code].append({"lens": lens, **{k: record[k] for k in DIMENSION_KEYS if k != "lens"}})
    return out


def _mode(values: pd.Series):
    values = values.dropna()
    return values.mode().iloc[0] if len(values) else None


def provenance(data: SetData) -> dict:
    """The part of every report that is the same for each ward of the set: each indicator's
    source, licence, attribution, method, threshold and load run.

    Sources that share publisher, address, licence and attribution are listed once, and so
    are identical threshold citations. Computed once per :class:`SetData`.
    """
    if data._provenance is not None:
        return data._provenance
    order = {d.id: i for i, d in enumerate(all_dimensions(data.extra_dimensions))}
    lens_order = {lens.id: i for i, lens in enumerate(LENSES)}
    items = []
    for indicator, rows in data.latest.groupby("indicator", sort=False):
        first = rows.iloc[0]
        meta = data.indicators.loc[indicator] if indicator in data.indicators.index else None
        periods = sorted(data.tidy.loc[data.tidy["indicator"] == indicator, "period"].dropna().unique())
        items.append({
            "id": indicator, "title": missing.text(first["title"]) or indicator,
            "ring": first["ring"], "lens": missing.text(first["lens"]), "dimension": first["dimension"],
            "period": missing.text(first["period"]), "periods_text": periods_text([str(p) for p in periods]),
            "source": missing.text(first["source"]) or "not recorded", "url": missing.text(first["source_url"]),
            "licence": missing.text(first["licence"]) or "not recorded",
            "attribution": missing.text(first["attribution"]) or "not recorded",
            "method": method_text(_mode(rows["method"]),
                                  meta.get("geography") if meta is not None else None),
            "threshold": fmt_number(first["threshold"]),
            "baseline": fmt_number(0.0 if is_missing(first["baseline"]) else first["baseline"]),
            "unit": missing.text(first["unit"]),
            "citation": missing.text(_mode(rows["threshold_source"])) or "no citation recorded",
            "run": _run_info(data, _mode(rows["run_id"])),
        })
    items.sort(key=lambda r: (0 if r["ring"] == SOCIAL else 1, lens_order.get(r["lens"], 9),
                              order.get(r["dimension"], 99), r["title"]))
    sources: list[dict] = []
    citations: list[dict] = []
    for item in items:
        key = (item["source"], item["url"], item["licence"], item["attribution"])
        found = next((x for x in sources if x["key"] == key), None)
        if found is None:
            found = {"key": key, "number": len(sources) + 1, "source": item["source"],
                     "url": item["url"], "link": links.web_link(item["url"]),
                     "licence": item["licence"],
                     "attribution": item["attribution"], "indicators": []}
            sources.append(found)
        found["indicators"].append(item["title"])
        item["source_number"] = found["number"]
        cited = next((x for x in citations if x["text"] == item["citation"]), None)
        if cited is None:
            cited = {"number": len(citations) + 1, "text": item["citation"]}
            citations.append(cited)
        item["citation_number"] = cited["number"]
    meta = data.meta
    data._provenance = {"boundary_set": data.boundary_set, "indicators": items,
                        "sources": sources, "citations": citations,
                        "boundary_vintage": missing.text(meta.get("vintage")) or "unknown",
                        "boundary_licence": missing.text(meta.get("licence")),
                        "boundary_attribution": missing.text(meta.get("attribution"))}
    return data._provenance


def dimension_scores(data: SetData, code: str) -> list[dict]:
    """The ward's 21 (+ local) dimensions, overall (``lens == "all"``) and per lens."""
    if code not in data.dimensions:
        return [{"lens": lens, "dimension": d.id, "label": d.label, "ring": d.ring,
                 "shortfall": float("nan"), "overshoot": float("nan"),
                 "indicators_with_data": 0, "indicators": 0, "status": NO_DATA}
                for lens in ["all", *(lens.id for lens in LENSES)]
                for d in all_dimensions(data.extra_dimensions)]
    return data.dimensions[code]


def select(dims: list[dict], lens: str | None = None, ring: str | None = None,
           with_data: bool | None = None) -> list[dict]:
    """Filter dimension records by lens, ring and whether they have data."""
    return [d for d in dims
            if (lens is None or d["lens"] == lens) and (ring is None or d["ring"] == ring)
            and (with_data is None or (d["status"] != NO_DATA) == with_data)]


def _names(rows, key="label") -> list[str]:
    return [r[key] for r in rows]


def summary_paragraphs(name: str, authority: str, dims: list[dict],
                       indicators: list[IndicatorRow], ranked_areas: int | None) -> list[str]:
    """The plain-English summary, written from the numbers."""
    overall = select(dims, lens="all")
    social = select(overall, ring=SOCIAL)
    ecological = select(overall, ring=ECOLOGICAL)
    s_data = select(social, with_data=True)
    e_data = select(ecological, with_data=True)
    paragraphs = []

    with_data = len(s_data) + len(e_data)
    where = (f"{name} is a ward of {authority}. " if authority != NO_AUTHORITY
             else f"{name} has no recorded local authority. ")
    opening = (where +
               f"Of the doughnut's {len(overall)} dimensions, {with_data} "
               f"{'has' if with_data == 1 else 'have'} data for this ward: "
               f"{len(s_data)} of the {len(social)} social and {len(e_data)} of the "
               f"{len(ecological)} ecological.")
    paragraphs.append(opening)

    parts = []
    if not s_data:
        parts.append("No social indicator has data for this ward, so whether it meets the "
                     "social foundation is unknown.")
    else:
        short = sorted((d for d in s_data if d["status"] == "shortfall"),
                       key=lambda d: d["shortfall"], reverse=True)
        met = [d for d in s_data if d["status"] == "achieved"]
        if not short:
            parts.append(f"It meets the social foundation in all {plural(len(met), 'dimension')} "
                         "with data.")
        else:
            listed = [f"{d['label']} ({fmt_percent(d['shortfall'])})" for d in short]
            parts.append(f"It falls short of the social foundation in "
                         f"{plural(len(short), 'dimension')}: {join_words(listed)}.")
            if met:
                parts.append(f"It meets the foundation in {join_words(_names(met))}.")
    if not e_data:
        parts.append("No ecological indicator has data for this ward yet, so overshoot of the "
                     "ecological ceiling cannot be assessed.")
    else:
        over = sorted((d for d in e_data if d["status"] == "overshoot"),
                      key=lambda d: d["overshoot"], reverse=True)
        within = [d for d in e_data if d["status"] == "within"]
        if not over:
            parts.append(f"It stays within the ecological ceiling in all "
                         f"{plural(len(within), 'dimension')} with data.")
        else:
            listed = [f"{d['label']} ({fmt_percent(d['overshoot'])} over)" for d in over]
            parts.append(f"It overshoots the ecological ceiling in "
                         f"{plural(len(over), 'dimension')}: {join_words(listed)}.")
            if within:
                parts.append(f"It stays within the ceiling in {join_words(_names(within))}.")
    paragraphs.append(" ".join(parts))

    compared = [r for r in indicators if r.comparison]
    if compared:
        better = [r.title for r in compared if r.comparison == "better"]
        worse = [r.title for r in compared if r.comparison == "worse"]
        same = [r for r in compared if r.comparison == "same"]
        bits = []
        if better:
            bits.append(f"better on {plural(len(better), 'indicator')}")
        if worse:
            bits.append(f"worse on {plural(len(worse), 'indicator')} ({short_list(worse)})")
        if same:
            apportioned = sum(any(f.startswith("apportioned") for f in r.flags) for r in same)
            note = (" (all apportioned from the authority, so level by construction)"
                    if apportioned == len(same) else
                    f" ({apportioned} of them apportioned from the authority)" if apportioned else "")
            bits.append(f"level on {len(same)}{note}")
        text = (f"Compared with {authority} as a whole, {name} does "
                f"{join_words(bits)}.")
        if ranked_areas:
            best = [r.title for r in indicators if r.rank_position == "first"]
            last = [r.title for r in indicators if r.rank_position == "last"]
            if best:
                text += (f" It ranks first, or joint first, of {ranked_areas} wards on "
                         f"{short_list(best, 1) if len(best) > 2 else join_words(best)}.")
            if last:
                text += (f" It ranks last, or joint last, on "
                         f"{short_list(last, 1) if len(last) > 2 else join_words(last)}.")
        paragraphs.append(text)

    missing = [r.title for r in indicators if r.status == NO_DATA]
    if missing:
        paragraphs.append(f"No data for this ward on {join_words(missing)}; these are shown "
                          "as \u201cno data\u201d, not as zero.")
    return paragraphs


def gather(data: SetData, code: str, *, generated_at: datetime | None = None) -> dict:
    """Everything one ward's report shows, as plain data for the template."""
    area = data.area(code)
    parent = area.get("parent_code")
    parent = None if is_missing(parent) or not parent else str(parent)
    authority = data.authorities.get(parent, parent) if parent else NO_AUTHORITY
    nation = doughnut.nation_of(pd.Series([code])).iloc[0]
    nation = None if is_missing(nation) else str(nation)
    indicators = indicator_rows(data, code)
    dims = dimension_scores(data, code)
    ward_rows = data.latest.loc[data.latest["area_code"] == code]
    wedges = doughnut.wedge_records(ward_rows, data.extra_dimensions, percent=fmt_percent)
    matters = matters_most.sentences(str(area.get("name") or code),
                                     authority if parent else "its authority",
                                     matters_most.decide(ward_rows), fmt_with_unit)

    set_areas = data.tidy.drop_duplicates("area_code")
    authority_wards = int((set_areas["parent_code"] == parent).sum()) if parent else 0
    ranked = [int(x) for x in data.latest.loc[data.latest["area_code"] == code, "ranked_areas"]
              if not is_missing(x)]
    ranked_areas = max(ranked) if ranked else None

    overall = select(dims, lens="all")
    statuses = [d["status"] for d in overall]
    counts = {
        "social_with_data": len(select(overall, ring=SOCIAL, with_data=True)),
        "social_total": len(select(overall, ring=SOCIAL)),
        "ecological_with_data": len(select(overall, ring=ECOLOGICAL, with_data=True)),
        "ecological_total": len(select(overall, ring=ECOLOGICAL)),
        **{status: statuses.count(status) for status in ("shortfall", "achieved", "overshoot", "within")},
    }
    generated_at = generated_at or datetime.now(timezone.utc)
    scored_at = data.tidy["scored_at"].dropna()
    meta = data.meta
    area_km2 = area.get("area_m2")
    notes = []
    notes.append(f"The {authority if parent else 'authority'} and {nation or 'nation'} columns "
                 "give each indicator's value for the whole authority and nation from its "
                 "source: the published figure, or the source aggregated with the same weights "
                 "as the wards. They are never averages of the wards in this report's set.")
    left_out = data.latest.loc[(data.latest["area_code"] == code) & ~data.latest["nation_has_data"],
                               "title"]
    if len(left_out):
        notes.append(doughnut.other_nations_note(left_out, nation))
    without = _without_references(data.latest, code)
    if without:
        notes.append("No authority or national figure where the source gives none (or none "
                     "that can be aggregated honestly): " + "; ".join(without) + ".")
    notes.append(f"Ranks are among the {ranked_areas or 0} areas of the set with data; rank 1 is "
                 "best and \u201c=\u201d marks a tie.")
    groups: list[dict] = []
    for row in indicators:  # already in doughnut order: social first, lens by lens
        if not groups or groups[-1]["lens"] != row.lens:
            groups.append({"lens": row.lens, "label": row.lens_label, "rows": []})
        groups[-1]["rows"].append(row)
    quality: dict[str, dict] = {}  # kind of caveat → its detail → the indicators
    for row in indicators:
        for flag in row.flags:
            kind, _, detail = flag.partition(": ")
            entry = quality.setdefault(kind, {"kind": kind[:1].upper() + kind[1:], "details": {}})
            entry["details"].setdefault(detail, []).append(row.title)
    partial = [f"{r.title} ({r.coverage_text})" for r in indicators
               if r.coverage is not None and r.coverage < 0.9995]
    coverage_note = ("Every value is computed from sources covering all of the ward." if not partial
                     else f"Sources cover all of the ward except for: {'; '.join(partial)}.")
    quality_list = [{"kind": q["kind"],
                     "groups": [{"detail": d, "indicators": t} for d, t in sorted(q["details"].items())]}
                    for q in quality.values()]
    neighbours = similar_wards.neighbours(data.similar, data.profiles, data.table, code,
                                          {**shipped_authority_names(), **data.authorities})
    if neighbours is not None:
        notes.append(f"The similar-wards column is the median value of the {len(neighbours.wards)} "
                     "wards most like this one in context (see \u201cSimilar wards\u201d), of "
                     "those with data; \u201cof n\u201d under it says how many had data.")
    trend_rows = trend_chart.ward_trends(data.tidy[data.tidy["area_code"] == code], data.breaks,
                                         fmt_number)
    return {
        "wedges": wedges,
        "matters": matters,
        "trends_html": trend_chart.table_html(trend_rows, authority if parent else ""),
        "similar": None if neighbours is None else {
            "lead": neighbours.lead(str(area.get("name") or code)),
            "wards": [{"code": c, "name": n, "context": w} for c, n, w in neighbours.wards]},
        "no_similar": similar_wards.missing_reason(data.similar, code),
        "code": code,
        "name": str(area.get("name") or code),
        "authority": authority,
        "authority_label": authority if parent else "Authority",
        "authority_code": parent or "",
        "authority_wards": authority_wards,
        "nation": nation or "",
        "area_km2": "" if is_missing(area_km2) else f"{float(area_km2) / 1e6:,.2f}",
        "boundary_set": data.boundary_set,
        "boundary_vintage": missing.text(meta.get("vintage")) or "unknown",
        "boundary_loaded": fmt_date(meta.get("loaded_at")),
        "boundary_licence": missing.text(meta.get("licence")),
        "boundary_attribution": missing.text(meta.get("attribution")),
        "scored": fmt_date(scored_at.max()) if len(scored_at) else "unknown",
        "generated": fmt_date(generated_at.isoformat()),
        "generated_iso": generated_at.isoformat(timespec="seconds"),
        "version": __version__,
        "summary": summary_paragraphs(str(area.get("name") or code), authority, dims, indicators,
                                      ranked_areas),
        "indicators": indicators,
        "dimensions": dims,
        "counts": counts,
        "notes": notes,
        "flagged": [r for r in indicators if r.flags],
        "indicator_groups": groups,
        "quality": quality_list,
        "coverage_note": coverage_note,
        "lenses": LENSES,
    }


def index_entry(report: dict, filename: str) -> dict:
    """One line of an authority's index."""
    c = report["counts"]
    return {"code": report["code"], "name": report["name"], "file": filename,
            "shortfall": c["shortfall"], "overshoot": c["overshoot"],
            "with_data": c["social_with_data"] + c["ecological_with_data"],
            "dimensions": c["social_total"] + c["ecological_total"],
            "flags": sum(len(r.flags) for r in report["indicators"])}
