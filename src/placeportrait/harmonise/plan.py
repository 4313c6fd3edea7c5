"""Which route a source takes to the wards, decided before anything runs.

:func:`plan_route` is a pure function of what is known before harmonising: the plugin's
geography and measure kind, the source's codes, the boundary set's codes and level, the
boundary sets that are loaded and the lookups given. It returns a :class:`Plan`: the steps
(each a function of :mod:`placeportrait.harmonise.steps`) with the reason each was chosen,
and the warnings the choice raised. ``indicators run --explain`` prints it without running;
a run prints and stores the plan it used.

The choice, by the source's geography:

* ``ward`` (and ``lad`` onto a LAD set): code match. When no code matches but a loaded
  set of ``--source-boundaries`` holds the source's codes (wards of another vintage),
  area-weighted from that set, flagged ``other vintage``.
* ``lad``: apportioned to each ward from its authority; authorities the source has only
  on older codes are first carried to their successors through the code chain
  (:mod:`placeportrait.harmonise.successors`).
* output areas, LSOAs and MSOAs: through a run-time lookup holding the source's codes
  (continuing by area when the lookup reaches wards of another vintage); else the
  plugin's declared lookup; else area-weighted from the loaded set holding most of them.
* grids, points and rasters: zonal statistics and points in polygons.

A set or lookup column "holds" the source's codes when at least :data:`MIN_CODE_MATCH`
of them are in it, or when it is a part of the source's extent: at least
:data:`EXTENT_MATCH` of its own codes are the source's (one authority's LSOAs, or its
lookup rows, for a whole-nation source).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from placeportrait.errors import HarmoniseError, InputError, MissingGeographyError
from placeportrait.harmonise.successors import CHAIN_NAME, succession
from placeportrait.harmonise.successors import describe as describe_succession

# The flag on values estimated from wards of another vintage (the app and exports read it).
OTHER_VINTAGE = "other vintage"
SUB_WARD = ("lsoa2011", "lsoa2021", "oa2011", "oa2021", "msoa2011", "msoa2021",
            "dz2011", "dz2022", "soa2001", "sdz2021")
MIN_CODE_MATCH = 0.5
EXTENT_MATCH = 0.95


@dataclass(frozen=True)
class Step:
    """One step of a route.

    ``method`` names the function of :mod:`~placeportrait.harmonise.steps` that runs it.
    ``source_set`` is the boundary set whose geometry an areal step reads; ``lookup`` the
    file and columns of a lookup step; ``onto`` the set a step's values land on when it is
    not the target set (the first half of a two-step route); ``flag`` what the values it
    gives are flagged with. ``carried`` marks a step whose source is the previous step's
    values, each area's summed weight carried along as the weight of an intensive value.
    ``fill`` marks a step that runs on the source again and gives values only to the
    areas the earlier steps did not reach (wards a lookup does not know).
    """

    method: str
    reason: str
    source_set: str | None = None
    lookup: "LookupRoute | None" = None
    onto: str | None = None
    flag: str | None = None
    carried: bool = False
    fill: bool = False


@dataclass(frozen=True)
class LookupRoute:
    path: Path
    from_col: str
    to_col: str
    declared: bool = False  # the plugin's own lookup (an extra source), not --lookup


@dataclass(frozen=True)
class Plan:
    plugin: str
    boundary_set: str
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()

    @property
    def method(self) -> str:
        """The run's method as stored and shown ("lookup (...), then area_weighted from X")."""
        labels = []
        for step in self.steps:
            if step.method == "lookup":
                r = step.lookup
                labels.append(f"lookup ({r.path.name}: {r.from_col} to {r.to_col})")
            elif step.fill:
                labels.append(f"{step.method} from {step.source_set} where it does not reach")
            elif step.method == "successor":
                labels.append(f"successor authorities ({CHAIN_NAME})")
            elif labels and step.source_set:
                labels.append(f"{step.method} from {step.source_set}")
            else:
                labels.append(step.method)
        return ", then ".join(labels)

    def describe(self) -> list[str]:
        """One line a step: what it does and why."""
        return [f"{i}. {step.reason}" for i, step in enumerate(self.steps, start=1)]


@dataclass
class Facts:
    """What the planner may know. ``set_codes`` and ``lookup_columns`` read lazily: a set's
    codes, and a lookup file's column names with the codes in each."""

    plugin: str
    geography: str
    kind: str
    has_weights: bool
    source_codes: frozenset[str]
    boundary_set: str
    target_level: str
    target_codes: frozenset[str]
    target_parents: frozenset[str]
    known_sets: frozenset[str]
    set_codes: Callable[[str], set]
    source_sets: tuple[str, ...] = ()
    lookups: tuple = ()  # RunLookup specs of --lookup
    lookup_columns: Callable[[Path], Mapping[str, set]] = lambda path: {}
    declared_source_set: str | None = None
    declared_lookup: dict | None = None  # {"source", "from", "to"} of metadata harmonise.lookup
    extra_paths: Mapping[str, Path] = field(default_factory=dict)
    example_code: str = ""  # the source's first code, for messages


def plan_route(facts: Facts) -> Plan:
    """The route from the source's geography to the boundary set (see the module docstring).

    Raises
    ------
    InputError
        Ward codes that match neither the set nor any loaded set of another vintage.
    MissingGeographyError
        A sub-ward source with neither its geometry loaded nor a lookup holding its codes.
    HarmoniseError
        An authority source onto a set without parent codes, or an unknown geography.
    """
    warnings: list[str] = []
    geography = facts.geography
    if geography == "ward" or (geography == "lad" and facts.target_level == "lad"):
        steps = _same_geography(facts, warnings)
    elif geography == "lad":
        steps = _apportion(facts, warnings)
    elif geography in SUB_WARD:
        steps = _sub_ward(facts, warnings)
    elif geography in ("grid", "points", "postcode", "raster"):
        method = {"grid": "zonal_grid", "raster": "zonal_raster"}.get(geography, "points")
        steps = (Step(method, f"{geography} source: {method.replace('_', ' ')} onto "
                              f"{facts.boundary_set}"),)
    else:
        raise HarmoniseError(f"plugin {facts.plugin}: no harmonisation method for geography "
                             f"{geography!r}")
    return Plan(facts.plugin, facts.boundary_set, steps, tuple(warnings))


def share(wanted, have) -> float:
    """The share of ``wanted`` codes found in ``have``."""
    wanted, have = _as_set(wanted), _as_set(have)
    return len(wanted & have) / max(len(wanted), 1)


def _as_set(codes) -> set | frozenset:
    # the planner compares the same national code sets for every plugin: copying 35,000
    # codes each time took a second of a refresh
    return codes if isinstance(codes, (set, frozenset)) else set(codes)


_VINTAGE = re.compile(r"(lsoa|msoa|oa|dz)_?(\d{2})", re.I)


def other_vintage(geography: str, column: str) -> bool:
    """Whether a lookup column's name says it is another vintage of the source's geography
    (``lsoa21_code`` or ``LSOA21CD`` for an ``lsoa2011`` source): LSOA 2011 and 2021 codes
    mostly coincide, so their codes alone cannot tell them apart."""
    named, own = _VINTAGE.match(str(column)), _VINTAGE.match(geography.replace("20", "", 1))
    return bool(named and own and named[1].lower() == own[1].lower() and named[2] != own[2])


def holds(source_codes, codes) -> bool:
    """Whether ``codes`` (a set's or a lookup column's) hold the source's codes."""
    codes = _as_set(codes)
    return (share(source_codes, codes) >= MIN_CODE_MATCH
            or (len(codes) > 0 and share(codes, source_codes) >= EXTENT_MATCH))


def _same_geography(facts: Facts, warnings: list[str]) -> tuple[Step, ...]:
    matched = facts.source_codes & facts.target_codes
    if not matched:
        other = _best_set(facts, facts.source_sets, exclude=facts.boundary_set)
        if other is not None:
            held = share(facts.source_codes, facts.set_codes(other))
            return (Step("area_weighted", f"{facts.geography} codes of another vintage: "
                         f"area-weighted from {other} ({held:.1%} of source codes) onto "
                         f"{facts.boundary_set}", source_set=other,
                         flag=f"{OTHER_VINTAGE}: area-weighted from {other}"),)
        raise InputError(f"plugin {facts.plugin}: no source code matches an area of "
                         f"{facts.boundary_set!r} (source codes like {facts.example_code}); wrong boundary "
                         "vintage? (--source-boundaries SET names a loaded set of the source's "
                         "vintage)")
    outside = len(facts.source_codes - matched)
    if outside:
        warnings.append(f"{outside:,} source codes are outside boundary set {facts.boundary_set!r}")
    held = len(matched) / max(len(facts.source_codes), 1)
    return (Step("code_match", f"same geography: codes matched onto {facts.boundary_set} "
                 f"({held:.1%} of source codes)"),)


def _apportion(facts: Facts, warnings: list[str]) -> tuple[Step, ...]:
    if not facts.target_parents:
        raise HarmoniseError(f"boundary set {facts.boundary_set!r} has no parent (LAD) codes "
                             f"to apportion {facts.plugin} onto")
    chained = succession(facts.source_codes, facts.target_parents)
    missing = facts.target_parents - facts.source_codes - set(chained.predecessors)
    if missing:
        warnings.append(f"{len(missing)} local authorities of the set have no source row "
                        f"(e.g. {', '.join(sorted(missing)[:5])})")
    how = "copied to" if facts.kind == "intensive" else "split between"
    steps = (Step("apportion", f"local-authority source: each authority's value {how} its "
                  f"wards in {facts.boundary_set}"),)
    if chained:
        steps = (Step("successor", describe_succession(chained)),) + steps
    return steps


def _sub_ward(facts: Facts, warnings: list[str]) -> tuple[Step, ...]:
    lookups = facts.lookups
    if lookups and facts.kind == "intensive" and not facts.has_weights:
        warnings.append("--lookup not used: an intensive value without weights (population "
                        "or denominator) cannot be aggregated by lookup; areal interpolation "
                        "instead")
        lookups = ()
    chosen = _choose_lookup(facts, lookups, warnings)
    if chosen is not None:
        return chosen
    if facts.declared_lookup:
        spec = facts.declared_lookup
        path = facts.extra_paths[spec.get("source", "lookup")]
        route = LookupRoute(Path(path), spec["from"], spec["to"], declared=True)
        return (Step("lookup", f"{facts.geography} → {facts.boundary_set} by the plugin's "
                     f"lookup {route.path.name} ({route.from_col} to {route.to_col})",
                     lookup=route),)
    return _from_source_geometry(facts)


def _from_source_geometry(facts: Facts) -> tuple[Step, ...]:
    declared = facts.declared_source_set
    candidates = [*facts.source_sets, *([declared] if declared else [])]
    if not set(candidates) & facts.known_sets:
        wanted = declared or "lsoa-2011"
        raise MissingGeographyError(
            f"plugin {facts.plugin}: {facts.geography} values need source geometry or a "
            f"lookup: load boundary set {wanted!r} (boundaries load) or pass --lookup PATH "
            f"(an ONS best-fit lookup from {facts.geography.upper()} codes to the set's wards)")
    chosen = _best_set(facts, candidates)
    if chosen is None and declared not in facts.known_sets:
        raise MissingGeographyError(
            f"plugin {facts.plugin}: no loaded boundary set or lookup holds these "
            f"{facts.geography} codes (e.g. {facts.example_code}): load boundary set "
            f"{declared or 'of the source geography'!r} or pass --lookup PATH")
    source_set = chosen or declared
    held = share(facts.source_codes, facts.set_codes(source_set))
    return (Step("area_weighted", f"{facts.geography} → {facts.boundary_set}: area-weighted "
                 f"from the geometry of {source_set} ({held:.1%} of source codes)",
                 source_set=source_set),)


def _best_set(facts: Facts, candidates, exclude=None) -> str | None:
    """The loaded set among ``candidates`` holding most of the source's codes (at least
    :data:`MIN_CODE_MATCH` of them), else None."""
    scored = [(share(facts.source_codes, facts.set_codes(name)), name)
              for name in dict.fromkeys(candidates)
              if name in facts.known_sets and name != exclude
              and holds(facts.source_codes, facts.set_codes(name))]
    return max(scored, default=(0.0, None))[1]


def _choose_lookup(facts: Facts, lookups, warnings: list[str]) -> tuple[Step, ...] | None:
    """The first run-time lookup with a column holding the source's codes and one holding
    codes of a reachable set (the boundary set, or a loaded set of ``--source-boundaries``
    to continue from by area). None, with a warning, when none applies."""
    reachable = [(None, facts.target_codes)] + [
        (name, facts.set_codes(name)) for name in dict.fromkeys(facts.source_sets)
        if name != facts.boundary_set and name in facts.known_sets]
    for spec in lookups:
        columns = facts.lookup_columns(spec.path)
        for col in (spec.source_col, spec.target_col):
            if col is not None and col not in columns:
                raise InputError(f"--lookup {spec.path}: no column {col!r} "
                                 f"(columns: {', '.join(columns)})")
        from_cols = [spec.source_col] if spec.source_col else list(columns)
        held, from_col = max(((share(facts.source_codes, columns[c]), c) for c in from_cols
                              if holds(facts.source_codes, columns[c])
                              and not other_vintage(facts.geography, c)), default=(0.0, None))
        if from_col is None:
            continue
        to_cols = [spec.target_col] if spec.target_col else [c for c in columns if c != from_col]
        # The target column and set: the pair where most of the column's codes are codes
        # of the set (a WD19CD column belongs to 2019 wards even though many 2019 codes
        # live on in 2023); the boundary set itself wins a tie.
        best = (0.0, 0, None, None)
        for order, (via, codes) in enumerate(reachable):
            for col in to_cols:
                best = max(best, (share(columns[col], codes), -order, col, via),
                           key=lambda b: (b[0], b[1]))
        if best[0] > 0:
            return _lookup_steps(facts, LookupRoute(Path(spec.path), from_col, best[2]),
                                 held, via=best[3], reached=columns[best[2]], warnings=warnings)
    if lookups:
        warnings.append(f"no --lookup holds these source codes and codes of the set "
                        f"({', '.join(Path(p.path).name for p in lookups)}); not used")
    return None


def _lookup_steps(facts: Facts, route: LookupRoute, held: float, via: str | None,
                  reached=frozenset(), warnings=None):
    onto = via or facts.boundary_set
    first = Step("lookup", f"{route.from_col} → {route.to_col} by lookup {route.path.name}: "
                 f"{held:.1%} of source codes, onto {onto}", lookup=route, onto=via)
    if via is None:
        return (first, *_fill_unreached(facts, set(reached), route, warnings))
    return (first, Step("area_weighted", f"then area-weighted from {via} onto "
                        f"{facts.boundary_set}, carrying each ward's weight",
                        source_set=via, carried=True,
                        flag=f"{OTHER_VINTAGE}: through {via} by lookup, then area-weighted"))


def _fill_unreached(facts: Facts, reached: set, route: LookupRoute, warnings) -> tuple[Step, ...]:
    """Wards of the set that the lookup does not know (re-warded since the lookup was
    made) are reached by area from the source's geometry, where it is loaded."""
    unreached = sorted(facts.target_codes - reached)
    if not unreached:
        return ()
    candidates = [*facts.source_sets, *([facts.declared_source_set]
                                        if facts.declared_source_set else [])]
    source_set = _best_set(facts, candidates, exclude=facts.boundary_set)
    if source_set is None:
        if warnings is not None:
            warnings.append(f"{len(unreached):,} areas of {facts.boundary_set} are not in lookup "
                            f"{route.path.name} (e.g. {', '.join(unreached[:3])}): no data; "
                            "load the source geometry to reach them by area")
        return ()
    return (Step("area_weighted", f"then the {len(unreached):,} areas the lookup does not "
                 f"reach, area-weighted from the geometry of {source_set}",
                 source_set=source_set, fill=True),)
