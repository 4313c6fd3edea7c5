"""Each ward's most similar wards in its nation, and how it compares with them.

As the ONS's Explore Local Statistics offers "similar areas" for local authorities, a
ward is compared with the wards most like it in context: the nearest by Euclidean distance
between context profiles (:mod:`placeportrait.ward_context`),

.. math:: d(a, b) = \\sqrt{\\sum_f (p_{a,f} - p_{b,f})^2},

over the features both profiles have (each a share between 0 and 1, so no feature is
rescaled and each output-area supergroup weighs as much as rurality). Only wards of the
same nation are candidates, since the nations' measures differ; ties go to the lower
code, so the result never depends on the order of rows. The set's own wards are the
candidates: in a set of one authority, its similar wards are within that authority, and
every screen says how many wards were compared.

:func:`nearest` decides; the store keeps the result with the profiles it came from
(replaced together, so one never outlives the other); :func:`medians` puts the similar
wards' median value beside each ward's value, for the export, the app and the reports.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from placeportrait.doughnut import NATIONS
from placeportrait.ward_context import FEATURES

K = 10
MEDIAN_CHUNK = 4096  # wards whose similar wards' values :func:`medians` stacks at once
CHUNK = 512  # wards compared at once: CHUNK × wards distances in memory


def nearest(profiles: pd.DataFrame, k: int = K) -> pd.DataFrame:
    """The ``k`` nearest wards of each ward with a profile, within its nation.

    Parameters
    ----------
    profiles : one row per ward (index: area code), one column per feature (shares).
        A feature missing for a whole nation (rurality in Northern Ireland) is left out
        of that nation's distances; a ward missing a feature others have is not compared.
    k : how many similar wards each ward gets (fewer where its nation has fewer).

    Returns
    -------
    DataFrame ``area_code, rank, similar_code, distance``, rank 1 the nearest.
    """
    frames = []
    nations = pd.Series(profiles.index.astype(str).str[:1], index=profiles.index)
    for letter in NATIONS:
        part = profiles.loc[nations == letter].dropna(axis=1, how="all").dropna(axis=0)
        if len(part) < 2:
            continue
        frames.append(_nearest_in(part.sort_index(), min(k, len(part) - 1)))
    if not frames:
        return pd.DataFrame({"area_code": pd.Series(dtype=str), "rank": pd.Series(dtype=int),
                             "similar_code": pd.Series(dtype=str),
                             "distance": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)


def _nearest_in(part: pd.DataFrame, k: int) -> pd.DataFrame:
    codes = part.index.to_numpy()
    x = part.to_numpy(dtype=float)
    rows = []
    for start in range(0, len(x), CHUNK):
        block = x[start:start + CHUNK]
        d = np.sqrt(((block[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
        d[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf  # not itself
        kth = np.partition(d, k - 1, axis=1)[:, k - 1]
        for i in range(len(block)):
            # every ward as near as the k-th, in code order (the rows are sorted by code)
            # among equal distances, so a tie at the edge goes to the lower code
            near = np.flatnonzero(d[i] <= kth[i])
            near = near[np.argsort(d[i, near], kind="stable")][:k]
            for rank, j in enumerate(near, start=1):
                rows.append((codes[start + i], rank, codes[j], float(d[i, j])))
    return pd.DataFrame(rows, columns=["area_code", "rank", "similar_code", "distance"])


def medians(table: pd.DataFrame, values: pd.DataFrame, similar: pd.DataFrame) -> pd.DataFrame:
    """``table`` (``area_code, indicator, period`` per row) with ``similar_median`` (the
    median value of the ward's similar wards that have one) and ``similar_count`` (how
    many of them have one). A ward with no similar wards gets no data and a count of 0.

    The values are laid out as a matrix, one row per area and one column per indicator
    and period, so each ward's medians are one ``nanmedian`` over the rows of its similar
    wards, not a group-by over every (ward, similar ward, value) triple.
    """
    out = table.drop(columns=["similar_median", "similar_count"], errors="ignore")
    if similar.empty or values.empty:
        return out.assign(similar_median=np.nan, similar_count=0)
    areas = pd.Index(pd.unique(pd.concat([values["area_code"], similar["area_code"],
                                          similar["similar_code"], out["area_code"]])))
    columns = pd.MultiIndex.from_frame(values[["indicator", "period"]].drop_duplicates())
    grid = np.full((len(areas) + 1, len(columns)), np.nan)  # the last row: no area
    grid[areas.get_indexer(values["area_code"]),
         columns.get_indexer(pd.MultiIndex.from_frame(values[["indicator", "period"]]))] = (
        values["value"].to_numpy(float))
    ranked = similar.sort_values(["area_code", "rank"])
    width = int(ranked.groupby("area_code").size().max())
    neighbours = np.full((len(areas), width), len(areas))  # padded with the empty row
    ward = areas.get_indexer(ranked["area_code"])
    slot = ranked.groupby("area_code").cumcount().to_numpy()
    neighbours[ward, slot] = areas.get_indexer(ranked["similar_code"])
    counts = np.zeros((len(areas), len(columns)), dtype=int)
    middle = np.full((len(areas), len(columns)), np.nan)
    for start in range(0, len(areas), MEDIAN_CHUNK):  # each stack at most ~100 MB
        part = slice(start, start + MEDIAN_CHUNK)
        stacked = grid[neighbours[part]]  # area × similar ward × column
        counts[part] = np.isfinite(stacked).sum(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: no data
            middle[part] = np.nanmedian(stacked, axis=1)
    row = areas.get_indexer(out["area_code"])
    col = columns.get_indexer(pd.MultiIndex.from_frame(out[["indicator", "period"]]))
    found = col >= 0
    col = np.where(found, col, 0)  # a column no value has: read any, then set no data
    out["similar_median"] = np.where(found, middle[row, col], np.nan)
    out["similar_count"] = np.where(found, counts[row, col], 0).astype(int)
    return out


def profile_words(profile: pd.Series) -> str:
    """A ward's profile in a phrase: its largest supergroups and, where known, rurality.

    >>> profile_words(pd.Series({"supergroup_5": 0.61, "supergroup_6": 0.25, "rural": 0.0}))
    'OAC supergroups 5 (61%), 6 (25%); 0% rural'
    """
    groups = profile[[f for f in FEATURES if f.startswith("supergroup_") and f in profile]]
    groups = groups[groups >= 0.1].sort_values(ascending=False, kind="stable").head(3)
    text = ", ".join(f"{name.split('_')[1]} ({share:.0%})" for name, share in groups.items())
    text = f"OAC supergroups {text}" if text else "no OAC supergroup over 10%"
    if "rural" in profile and pd.notna(profile["rural"]):
        text += f"; {profile['rural']:.0%} rural"
    return text


def context_table(context: pd.DataFrame) -> pd.DataFrame:
    """Stored context rows (``area_code, feature, value``) as one row per ward."""
    if context.empty:
        return pd.DataFrame(columns=list(FEATURES))
    return context.pivot(index="area_code", columns="feature", values="value").reindex(
        columns=list(FEATURES))


@dataclass(frozen=True)
class BuildResult:
    boundary_set: str
    wards: int               # wards in the set
    profiled: int            # wards with a context profile
    with_similar: int        # wards given similar wards
    by_nation: dict          # nation -> (wards in the set, wards profiled)
    plans: tuple[str, ...]   # each small-area geography's route, in words
    kept_since: str | None = None  # an unchanged build kept (build(reuse=True)): its time

    def summary(self) -> str:
        nations = "; ".join(f"{NATIONS[n]} {p:,} of {w:,}"
                            for n, (w, p) in sorted(self.by_nation.items()))
        kept = (f"; kept: the same files and boundaries as the build of "
                f"{self.kept_since[:16].replace('T', ' ')} UTC" if self.kept_since else "")
        return (f"similar wards: {self.with_similar:,} of {self.wards:,} wards of "
                f"{self.boundary_set!r} have a context profile and up to {K} similar wards "
                f"({nations}){kept}")


def build(store, boundary_set: str, inputs: dict[str, str], *, source_sets=(),
          lookups=(), reuse: bool = False) -> BuildResult:
    """Build and store the set's context profiles and similar wards, in one atomic write.

    ``inputs`` maps a :data:`placeportrait.ward_context.SOURCE_NAMES` name to a local
    file; a required source not given is downloaded from its address. With ``reuse``
    (as ``refresh`` does), a set whose last build had the same inputs
    (:func:`inputs_key`) keeps it, and the result says so.
    """
    from placeportrait import fetch, ward_context

    store.require_current()
    store.boundary_set(boundary_set)
    sources = {s.name: fetch.local(inputs[s.name]) if s.name in inputs else fetch.fetch(s.url)
               for s in ward_context.SOURCES if s.name in inputs or s.required}
    key = inputs_key(store, boundary_set, sources, source_sets, lookups)
    if reuse and (kept := _kept(store, boundary_set, key)) is not None:
        return kept
    run_id = store.start_run(plugin="ward_context", plugin_version="1",
                             boundary_set=boundary_set, source=sources["classification"].origin)
    try:
        counts = ward_context.small_area_counts({k: s.path for k, s in sources.items()})
        harmonised, plans = ward_context.harmonised_counts(
            store, boundary_set, counts, source_sets=source_sets, lookups=lookups)
        shares = ward_context.profiles(harmonised)
        similar = nearest(shares)
        context = (shares.rename_axis("area_code").reset_index()
                   .melt(id_vars="area_code", var_name="feature", value_name="value")
                   .dropna(subset=["value"]))
        messages = json.dumps({"sources": ward_context.provenance(sources), "plan": plans,
                               "k": K})
        store.commit_ward_context(run_id, boundary_set, context, similar, messages=messages,
                                  inputs_key=key)
    except BaseException as exc:
        store.fail_run(run_id, str(exc))
        raise
    return _result(store, boundary_set, shares.index, similar["area_code"], tuple(plans))


def inputs_key(store, boundary_set: str, sources: dict, source_sets=(), lookups=()) -> str:
    """One hash of everything a build depends on: the files' checksums, when the set and
    each source-geometry set were loaded, the lookups' columns and checksums, :data:`K`
    and this release. Equal keys give equal profiles and similar wards."""
    from placeportrait import __version__, fetch

    loaded = store.boundary_sets().set_index("name")["loaded_at"].astype(str).to_dict()
    parts = {
        "sources": {name: src.sha256 for name, src in sorted(sources.items())},
        "set": loaded.get(boundary_set),
        "source_sets": {name: loaded.get(name) for name in sorted(source_sets)},
        "lookups": [[fetch.sha256_of(lk.path) if Path(lk.path).is_file() else str(lk.path),
                     lk.source_col, lk.target_col] for lk in lookups],
        "k": K, "version": __version__,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _kept(store, boundary_set: str, key: str) -> BuildResult | None:
    """The set's current build, if its last succeeded with inputs ``key`` and its rows
    are still there; else None."""
    runs = store.runs("ward_context")
    done = runs[(runs["boundary_set"] == boundary_set) & (runs["status"] == "succeeded")]
    if done.empty or done.iloc[0]["source_checksum"] != key:  # runs: newest first
        return None
    similar = store.read_similar_wards(boundary_set)
    if similar.empty:
        return None
    context = store.read_ward_context(boundary_set)
    plans = tuple(json.loads(done.iloc[0]["messages"] or "{}").get("plan", ()))
    return _result(store, boundary_set, pd.Index(context["area_code"].unique()),
                   similar["area_code"], plans, kept_since=str(done.iloc[0]["finished_at"]))


def _result(store, boundary_set: str, profiled: pd.Index, similar_codes: pd.Series,
            plans: tuple, kept_since: str | None = None) -> BuildResult:
    codes = store.read_area_table(boundary_set)["code"].astype(str)
    by_nation = {}
    for letter in NATIONS:
        wards = int((codes.str[:1] == letter).sum())
        if wards:
            by_nation[letter] = (wards, int((profiled.str[:1] == letter).sum()))
    return BuildResult(boundary_set, len(codes), len(profiled), similar_codes.nunique(),
                       by_nation, plans, kept_since)


@dataclass(frozen=True)
class Neighbours:
    """A ward's similar wards as the app and the report show them."""

    profile: str                              # the ward's own context, in words
    wards: tuple[tuple[str, str, str], ...]   # (code, "name, authority", context), nearest first
    candidates: int                           # profiled wards of its nation in the set
    nation: str

    def lead(self, name: str) -> str:
        return (f"The {len(self.wards)} wards most like {name} in context, among the set's "
                f"{self.candidates:,} profiled wards in {self.nation}, nearest first. Context "
                f"is the share of a ward's output areas in each supergroup of the UK 2021 "
                f"Output Area Classification and, in England and Wales, in rural and remote "
                f"LSOAs (2021 rural-urban classification). {name}: {self.profile}.")


def missing_reason(similar: pd.DataFrame, code: str) -> str:
    """Why ``code`` has no similar wards, in a sentence."""
    if similar.empty:
        return ("Similar wards have not been built for this boundary set "
                "(placeportrait similar build).")
    if code.startswith("S"):
        return ("Scottish wards have no context profile yet: the 2021 Output Area "
                "Classification reaches Scotland on 2022 data zones, which have neither "
                "boundaries nor a ward lookup here.")
    return ("This ward has no context profile: the sources put less than half an output "
            "area of residents in it.")


def neighbours(similar: pd.DataFrame, profiles: pd.DataFrame, areas: pd.DataFrame,
               code: str, authority_names=None) -> Neighbours | None:
    """``code``'s similar wards with their names and contexts; None if it has none.

    ``similar`` as the store gives it, ``profiles`` one row per ward
    (:func:`context_table`, made once per set by the caller), ``areas`` its area table;
    ``authority_names`` (code → name) names each ward's authority, as ward names repeat
    across the country.
    """
    mine = similar.loc[similar["area_code"] == code].sort_values("rank")
    if mine.empty:
        return None
    by_code = areas.set_index("code")
    names = authority_names or {}

    def label(c: str) -> str:
        name, parent = by_code["name"].get(c, c), by_code["parent_code"].get(c)
        return f"{name}, {names[parent]}" if parent in names else str(name)

    nation_of = profiles.index.astype(str).str[:1]
    return Neighbours(
        profile=profile_words(profiles.loc[code]),
        wards=tuple((c, label(c), profile_words(profiles.loc[c])) for c in mine["similar_code"]),
        candidates=int((nation_of == code[:1]).sum()),
        nation=NATIONS.get(code[:1], "its nation"))
