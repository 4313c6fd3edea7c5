"""The steps a harmonisation plan is made of, and the one executor that runs any plan.

Each step takes the source table (``code, period, value`` and optionally ``weight``,
``geometry`` or ``raster``) and returns one row per area it lands on and period, with the
columns of :data:`placeportrait.harmonise.RESULT_COLUMNS` plus ``period`` and ``flags``.
A step never reads the store itself: the :class:`Context` hands it the areas and cached
crosswalks it asks for. Periods are harmonised one at a time, so a period's values never
borrow coverage from another's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from placeportrait.errors import InputError
from placeportrait.harmonise._common import distinct
from placeportrait.harmonise.apportion import apportion
from placeportrait.harmonise.area_weighted import apply_crosswalk
from placeportrait.harmonise.code_match import code_match
from placeportrait.harmonise.lookup import lookup_aggregate
from placeportrait.harmonise.plan import Plan, Step
from placeportrait.harmonise.points import points_to_areas
from placeportrait.harmonise.successors import carry, succession
from placeportrait.harmonise.zonal import zonal_raster

APPORTIONED = "apportioned from local authority"


@dataclass
class Context:
    """What steps need from the run: the plugin's rules, the target areas, and readers.

    ``areas(name)`` gives a loaded set's areas with geometry; ``crosswalk(sources, name)``
    the cached area weights from ``sources`` (``code``, ``geometry``) onto the target set,
    ``name`` being the loaded set they are, if any (None: geometry from the table itself);
    ``target_geometry()`` the target areas with geometry; ``lookup_frame(route)`` a
    lookup step's table.
    """

    plugin: str
    kind: str
    min_coverage: float
    max_unmatched_share: float
    targets: pd.DataFrame  # code, parent_code, ... of the target set
    areas: Callable[[str], pd.DataFrame]
    crosswalk: Callable[[pd.DataFrame], pd.DataFrame]
    target_geometry: Callable[[], pd.DataFrame]
    lookup_frame: Callable = None
    warnings: list[str] = field(default_factory=list)

    def check_unmatched(self, codes, known, what: str) -> None:
        """Report source codes found nowhere in ``known``; stop above the plugin's limit,
        unless ``known`` is a part of the source's extent: a whole-nation source through
        one authority's geometry leaves most source codes unmatched, but every code of
        the geometry is in the source (a wrong file or vintage matches neither way)."""
        codes, known = distinct(codes), distinct(known)
        unmatched = sorted(codes - known)
        if not unmatched:
            return
        share = len(unmatched) / max(len(codes), 1)
        message = (f"{len(unmatched):,} source codes match no {what} "
                   f"(e.g. {', '.join(unmatched[:5])})")
        known_missing = len(known - codes) / max(len(known), 1)
        if share > self.max_unmatched_share and known_missing <= self.max_unmatched_share:
            self.warnings.append(f"{message}: the source reaches beyond it, and only the "
                                 f"{len(known & codes):,} codes it holds are used")
            return
        if share > self.max_unmatched_share:
            raise InputError(f"plugin {self.plugin}: {message}: {share:.0%} of codes, above the "
                             f"plugin's limit of {self.max_unmatched_share:.0%}; wrong file or "
                             "vintage?")
        self.warnings.append(message)


def execute(plan: Plan, table: pd.DataFrame, context: Context) -> pd.DataFrame:
    """Run ``plan``'s steps in order; each later step takes the earlier one's values as
    its source, with each area's summed weight (its ``denominator``) carried along."""
    values = None
    for step in plan.steps:
        if step.fill:
            values = _filled(values, STEPS[step.method](table, step, context))
            continue
        source = table if values is None else _carried(values)
        values = STEPS[step.method](source, step, context)
        if step.flag:
            values.loc[values["value"].notna() & values["flags"].isna(), "flags"] = step.flag
    return values


def _filled(values: pd.DataFrame, fill: pd.DataFrame) -> pd.DataFrame:
    """``values``, with the rows of areas no source row reached taken from ``fill``."""
    key = ["area_code", "period"]
    reached = values.loc[values["source_rows"].fillna(0) > 0, key]
    merged = fill.merge(reached.assign(_reached=True), on=key, how="left")
    extra = fill[merged["_reached"].isna().to_numpy()]
    return pd.concat([values[values["source_rows"].fillna(0) > 0], extra], ignore_index=True)


def _carried(values: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"code": values["area_code"], "period": values["period"],
                         "value": values["value"], "weight": values["denominator"]})


def per_period(table: pd.DataFrame, harmonise_one: Callable) -> pd.DataFrame:
    """``harmonise_one`` applied to each period's rows, stacked, with a ``flags`` column."""
    frames = []
    for period, part in table.groupby("period", sort=True):
        result = harmonise_one(part)
        result["period"] = str(period)
        frames.append(result)
    out = pd.concat(frames, ignore_index=True)
    out["flags"] = np.where(out.get("apportioned", False), APPORTIONED, None)
    return out


def run_code_match(table, step: Step, context: Context) -> pd.DataFrame:
    """Same geography: each area takes its own code's value; coverage 1 where there is one."""
    return per_period(table, lambda t: code_match(t, context.targets, code_col="code",
                                                  min_coverage=context.min_coverage))


def run_apportion(table, step: Step, context: Context) -> pd.DataFrame:
    """A local authority's value passed to each of its wards, :math:`v_w = V_P` for an
    intensive value (a rate, share or mean); every value is flagged as apportioned.
    Extensive values need ward weights (see :func:`~placeportrait.harmonise.apportion`)."""
    return per_period(table, lambda t: apportion(t, context.targets, kind=context.kind,
                                                 code_col="code",
                                                 min_coverage=context.min_coverage))


def run_successor(table, step: Step, context: Context) -> pd.DataFrame:
    """Authority rows on older codes carried to the set's authorities through the code
    chain (:func:`placeportrait.harmonise.successors.carry`: renamed rows kept, merged
    authorities' counts summed and rates weighted by the source's weights), landing on
    authorities for the apportion step that follows."""
    parents = set(context.targets["parent_code"].dropna())
    carried, notes = carry(table, succession(table["code"], parents), context.kind)
    context.warnings.extend(notes)
    weight = carried["weight"] if "weight" in carried else np.nan
    return pd.DataFrame({"area_code": carried["code"], "period": carried["period"].astype(str),
                         "value": carried["value"], "denominator": weight})


def run_area_weighted(table, step: Step, context: Context) -> pd.DataFrame:
    """Areal interpolation through the cached crosswalk of ``step.source_set``.

    With :math:`a_{st}` the area of source :math:`s` inside target :math:`t` and
    :math:`A_s` the source's area: extensive values are split,
    :math:`v_t = \\sum_s v_s a_{st} / A_s`; intensive values are averaged,
    :math:`v_t = \\sum_s w_s v_s a_{st} / A_s \\big/ \\sum_s w_s a_{st} / A_s`, with the
    source's weights :math:`w_s` if it has them, else 1. A carried step's source is the
    previous step's areas, so its codes are not checked again.
    """
    sources = context.areas(step.source_set)
    if not step.carried:
        context.check_unmatched(table["code"], sources["code"], f"area of {step.source_set!r}")
    crosswalk = context.crosswalk(sources, step.source_set)
    weights = "weight" if "weight" in table else None
    if step.carried and context.kind != "intensive":
        weights = None
    return per_period(table, lambda t: apply_crosswalk(
        t, crosswalk, context.kind, weights=weights, code_col="code",
        min_coverage=context.min_coverage))


def run_lookup(table, step: Step, context: Context) -> pd.DataFrame:
    """Best-fit lookup aggregation onto the set (or onto ``step.onto``, to continue by area).

    Each source unit belongs to one area: extensive values are summed,
    :math:`v_t = \\sum_{s \\to t} v_s`; intensive values are weighted means,
    :math:`v_t = \\sum_{s \\to t} w_s v_s / \\sum_{s \\to t} w_s`. An area whose units the
    source covers only in part, for an extensive value, is no data (reported).
    """
    route = step.lookup
    frame = context.lookup_frame(route)
    context.check_unmatched(table["code"], frame[route.from_col].astype(str).str.strip(),
                            f"{route.from_col} of lookup {route.path.name}")
    pairs = frame[[route.from_col, route.to_col]].drop_duplicates()
    onto = context.targets if step.onto is None else context.areas(step.onto)
    weights = "weight" if "weight" in table else None
    unknown: set[str] = set()

    def aggregate(part):
        result = lookup_aggregate(part, pairs, onto, kind=context.kind, weights=weights,
                                  lookup_source_col=route.from_col,
                                  lookup_target_col=route.to_col, code_col="code",
                                  min_coverage=context.min_coverage)
        unknown.update(result.attrs["targets_with_unknown_total"])
        return result

    values = per_period(table, aggregate)
    if unknown:
        context.warnings.append(
            f"{len(unknown):,} areas are no data because the source covers only some of their "
            f"{route.from_col} units (e.g. {', '.join(sorted(unknown)[:5])})")
    return values


def run_zonal_grid(table, step: Step, context: Context) -> pd.DataFrame:
    """Polygon grid cells (e.g. 1 km) through the exact cell-to-area crosswalk, as
    :func:`run_area_weighted`: each area's value is its cells' values weighted by the
    share of each cell inside it."""
    cells = table.drop_duplicates("code")[["code", "geometry"]].reset_index(drop=True)
    crosswalk = context.crosswalk(cells, None)
    weights = "weight" if "weight" in table else None
    return per_period(pd.DataFrame(table.drop(columns="geometry")), lambda t: apply_crosswalk(
        t, crosswalk, context.kind, weights=weights, method="zonal_grid", code_col="code",
        min_coverage=context.min_coverage, sliver_share=0))


def run_points(table, step: Step, context: Context) -> pd.DataFrame:
    """Points (or postcode centroids) into the area containing them: summed if extensive,
    averaged if intensive (the tie rule for points on a boundary is in
    :func:`~placeportrait.harmonise.points.points_to_areas`)."""
    stat = "sum" if context.kind == "extensive" else "mean"
    return per_period(table, lambda t: points_to_areas(
        t, context.target_geometry(), stat=stat, value_col="value",
        min_coverage=context.min_coverage))


def run_zonal_raster(table, step: Step, context: Context) -> pd.DataFrame:
    """A raster's cells weighted by the share of each cell inside each area (exactextract)."""
    return per_period(table, lambda t: zonal_raster(
        t["raster"].iloc[0], context.target_geometry(), kind=context.kind,
        min_coverage=context.min_coverage))


STEPS = {"code_match": run_code_match, "apportion": run_apportion, "successor": run_successor,
         "area_weighted": run_area_weighted, "lookup": run_lookup,
         "zonal_grid": run_zonal_grid, "points": run_points, "zonal_raster": run_zonal_raster}
