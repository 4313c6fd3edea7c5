"""What kind of place each ward is: its context profile, from the 2021 Output Area
Classification and the 2021 rural-urban classification.

A ward's profile is a vector of shares, each between 0 and 1:

* ``supergroup_1`` … ``supergroup_8``: the share of the ward's output areas in each
  supergroup of the UK 2021 Output Area Classification (OAC). Output areas hold similar
  numbers of people (about 125 households each), so this is close to the share of its
  residents living in each kind of neighbourhood;
* ``rural`` (England and Wales): the share of its output areas in LSOAs the ONS 2021
  rural-urban classification calls rural (``Larger rural`` or ``Smaller rural``);
* ``further`` (England and Wales): the share in LSOAs classed "further from a major town
  or city".

The classification is published for output areas; no boundaries of output areas are
needed. Each output area is counted in its small area (LSOA 2021 through the ONS OA→LSOA
lookup; Northern Ireland's 2021 data zones in their Super Data Zones through NISRA's
lookup), and those counts reach the wards like any count source: through a best-fit
lookup where its ward codes match the set, else by area from the small areas' boundaries
(:mod:`placeportrait.harmonise.plan`). A ward's shares are its counts divided by its
count of output areas. Scotland's output areas (2022) nest in 2022 data zones, which have
neither boundaries nor a ward lookup here, so Scottish wards get no profile (and no
similar wards) until one is given.

:func:`build` reads the sources and returns the profiles; :mod:`placeportrait.similar_wards`
finds each ward's nearest wards by them.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from placeportrait import compressed, readers
from placeportrait.errors import InputError

SUPERGROUPS = tuple(range(1, 9))
FEATURES = (*(f"supergroup_{s}" for s in SUPERGROUPS), "rural", "further")
ALL_OAS = "output_areas"  # the count every share is divided by


@dataclass(frozen=True)
class ContextSource:
    """A file the context profile is built from: where it is published and its names."""

    name: str
    title: str
    url: str
    aliases: tuple[str, ...]
    licence: str
    attribution: str
    required: bool = True

    @property
    def file_names(self) -> tuple[str, ...]:
        """The names a download folder may hold it under: the published file's, then aliases."""
        from placeportrait.refresh import published_name

        return (*published_name(self.url), *self.aliases)


OGL = "Open Government Licence v3.0"
SOURCES = (
    ContextSource(
        "classification", "UK 2021 Output Area Classification (UCL / Geographic Data Service)",
        "https://github.com/alexsingleton/LSOA_DZ_SDZ_Area_Classification/raw/main/data/"
        "UK_OAC_Final.parquet", ("uk_oac2021_oa.csv",), OGL,
        "UK 2021 Output Area Classification, built from ONS, NRS and NISRA census data. "
        "Contains public sector information licensed under the Open Government Licence v3.0."),
    ContextSource(
        "oa_lookup", "ONS Output Area (2021) to LSOA (2021) lookup, England and Wales",
        "https://geoportal.statistics.gov.uk/datasets/ons::output-area-to-lower-layer-super-"
        "output-area-to-middle-layer-super-output-area-to-local-authority-district-december-"
        "2021-lookup-in-england-and-wales-v3",
        ("OA21_LSOA21_MSOA21_LAD22_EW_LU.csv", "oa21_lsoa21_ew.csv",
        ), OGL,
        "Source: Office for National Statistics licensed under the Open Government Licence v3.0."),
    ContextSource(
        "rural", "ONS 2021 Rural-Urban Classification of LSOAs, England and Wales",
        "https://geoportal.statistics.gov.uk/datasets/ons::rural-urban-classification-2021-"
        "of-lsoas-in-ew",
        ("Rural_Urban_Classification_(2021)_of_LSOAs_in_EW.csv", "ruc21_lsoa21_ew.csv",
        ), OGL,
        "Source: Office for National Statistics licensed under the Open Government Licence v3.0.",
        required=False),
    ContextSource(
        "ni_lookup", "NISRA Data Zone 2021 to Super Data Zone 2021 lookup",
        "https://www.nisra.gov.uk/support/geography/data-zones-census-2021",
        ("geography-dz2021-lookup-tables.csv", "dz21_sdz21_dea14_lgd14_ni.csv"), OGL,
        "Source: NISRA, Data Zone 2021 lookup, licensed under the Open Government Licence v3.0.",
        required=False),
)
SOURCE_NAMES = tuple(s.name for s in SOURCES)


def _column(frame: pd.DataFrame, pattern: str, path, what: str) -> str:
    """The first column whose name matches ``pattern`` (the published and shared layouts
    name the same column differently)."""
    for column in frame.columns:
        if re.fullmatch(pattern, str(column).strip(), flags=re.IGNORECASE):
            return column
    raise InputError(f"{path}: no {what} column; columns are {', '.join(map(str, frame.columns))}")


def _table(path: Path) -> pd.DataFrame:
    plain = compressed.unpacked(Path(path))
    if plain.suffix.lower() == ".parquet":
        # Not a dependency: with pyarrow installed, pandas 3 backs every text column with
        # Arrow, which changes behaviour the rest of the code relies on.
        if importlib.util.find_spec("pyarrow") is None:
            raise InputError(f"{path}: reading Parquet needs pyarrow; give the CSV "
                             "conversion (uk_oac2021_oa.csv) instead")
        try:
            return pd.read_parquet(plain).astype(str)
        except Exception as exc:  # pyarrow's errors name no file
            raise InputError(f"{path}: not a readable Parquet file: {exc}") from None
    return readers.read_csv(plain)


def read_classification(path: Path) -> pd.DataFrame:
    """``oa_code, supergroup`` (1–8) from the OAC file (``Geography_Code, Supergroup``)."""
    frame = _table(path)
    code = _column(frame, r"geography_code|oa21cd|oa_code", path, "output area code")
    group = _column(frame, r"supergroup|supergroup_code", path, "Supergroup")
    out = pd.DataFrame({"oa_code": frame[code].str.strip(),
                        "supergroup": pd.to_numeric(frame[group].str.strip(), errors="coerce")})
    bad = ~out["supergroup"].isin(SUPERGROUPS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{path}: row {row + 2}, column {group!r}: supergroup "
                         f"{frame[group].iloc[row]!r} is not 1 to 8")
    return out.astype({"supergroup": int})


def read_pairs(path: Path, from_pattern: str, to_pattern: str, what: str) -> pd.DataFrame:
    """A two-column lookup ``from, to`` out of a published lookup table."""
    frame = _table(path)
    a = _column(frame, from_pattern, path, what.split(" to ")[0] + " code")
    b = _column(frame, to_pattern, path, what.split(" to ")[1] + " code")
    return pd.DataFrame({"from": frame[a].str.strip(), "to": frame[b].str.strip()}).drop_duplicates()


def read_rural(path: Path) -> pd.DataFrame:
    """``lsoa_code, rural, further`` (booleans) from the RUC 2021 LSOA file."""
    frame = _table(path)
    code = _column(frame, r"lsoa21cd|lsoa21_code", path, "LSOA 2021 code")
    name = _column(frame, r"ruc21nm|classification", path, "RUC21 class name")
    flag = _column(frame, r"urban_rural_flag|urban_rura|ruc", path, "urban-rural flag")
    text = frame[name].str.strip().str.lower()
    known = frame[flag].str.strip().str.lower().isin(["urban", "rural"])
    if not known.all():
        row = int(np.flatnonzero(~known.to_numpy())[0])
        raise InputError(f"{path}: row {row + 2}, column {flag!r}: {frame[flag].iloc[row]!r} "
                         "is neither Urban nor Rural")
    return pd.DataFrame({"lsoa_code": frame[code].str.strip(),
                         "rural": frame[flag].str.strip().str.lower().eq("rural"),
                         "further": text.str.contains("further from")})


def small_area_counts(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Output areas counted in their small areas, by the geography they reach wards from.

    Returns ``{geography: frame}``, each frame ``code, feature, count`` with one row per
    small area and feature of :data:`FEATURES` plus :data:`ALL_OAS` (the areas' own count).
    """
    oac = read_classification(paths["classification"])
    counts = {}
    ew_lookup = read_pairs(paths["oa_lookup"], r"oa21cd|oa21_code", r"lsoa21cd|lsoa21_code",
                           "output area to LSOA")
    ew = oac.merge(ew_lookup, left_on="oa_code", right_on="from")
    if len(ew):
        if "rural" in paths:
            rural = read_rural(paths["rural"])
            ew = ew.merge(rural, left_on="to", right_on="lsoa_code", how="left")
        counts["lsoa2021"] = _counted(ew, with_rural="rural" in paths)
    if "ni_lookup" in paths:
        ni_lookup = read_pairs(paths["ni_lookup"], r"dz2021_code|dz21_code|dz2021",
                               r"sdz2021_code|sdz21_code|sdz2021", "data zone to Super Data Zone")
        ni = oac.merge(ni_lookup, left_on="oa_code", right_on="from")
        if len(ni):
            counts["sdz2021"] = _counted(ni, with_rural=False)
    if not counts:
        raise InputError(f"{paths['classification']}: none of its output areas is in the "
                         "lookups given")
    return counts


def _counted(rows: pd.DataFrame, *, with_rural: bool) -> pd.DataFrame:
    """``code, feature, count`` from one row per output area (``to`` its small area)."""
    parts = [rows.groupby("to").size().rename(ALL_OAS)]
    dummies = pd.get_dummies(rows["supergroup"]).reindex(columns=SUPERGROUPS, fill_value=False)
    dummies.columns = [f"supergroup_{s}" for s in SUPERGROUPS]
    parts.append(dummies.groupby(rows["to"]).sum())
    if with_rural:
        # An LSOA missing from the RUC file gives no rural share, not an urban one.
        flags = rows[["rural", "further"]].astype(float)
        unknown = flags.isna().groupby(rows["to"]).any()
        parts.append(flags.groupby(rows["to"]).sum().mask(unknown))
    wide = pd.concat(parts, axis=1).rename_axis("code").reset_index()
    long = wide.melt(id_vars="code", var_name="feature", value_name="count")
    return long.astype({"count": float})


def harmonised_counts(store, boundary_set: str, counts: dict[str, pd.DataFrame], *,
                      source_sets=(), lookups=()) -> tuple[pd.DataFrame, list[str]]:
    """Each small-area count onto the set's wards by the route a count source takes.

    Returns ``area_code, feature, count, coverage`` and the plan of each geography in words.
    """
    from placeportrait import indicator_run

    set_meta = store.boundary_set(boundary_set)
    targets = store.read_area_table(boundary_set)
    target_geometry = indicator_run.read_once(lambda: store.read_areas(boundary_set))
    frames, plans = [], []
    for geography, table in counts.items():
        # The harmoniser takes a plugin; these are the facts about this source it reads.
        # Any coverage will do: shares come from the part of the ward the small areas
        # cover (NI wards on Lough Neagh are mostly water, which no Super Data Zone
        # covers); a ward needs half an output area of count for a profile (`profiles`).
        route = SimpleNamespace(meta=SimpleNamespace(
            id=f"ward_context_{geography}", geography=geography, measure_kind="extensive",
            min_coverage=0.0, max_unmatched_share=1.0, harmonise={}))
        # The harmoniser takes each period of a source separately and every feature goes
        # the same way, so each feature rides in the period column: the route is planned,
        # and the lookup and crosswalk read, once per geography.
        source = table.loc[table["count"].notna()].rename(
            columns={"feature": "period", "count": "value"})[["code", "period", "value"]]
        if source.empty:
            continue
        values, plan, _ = indicator_run.harmonise_table(
            store, route, source, targets, boundary_set, set_meta, {}, source_sets, lookups,
            target_geometry=target_geometry)
        # a ward this geography does not reach at all has no count from it, not zero
        values = values.loc[values["coverage"] > 0].rename(columns={"period": "feature"})
        frames.append(values)
        plans.append(f"{geography}: {'; '.join(plan.describe())}")
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["area_code", "feature", "value", "coverage"])
    return out.rename(columns={"value": "count"})[["area_code", "feature", "count", "coverage"]], plans


def profiles(counts: pd.DataFrame) -> pd.DataFrame:
    """Shares per ward: one row per ward with a profile, one column per feature.

    :math:`p_{w,f} = c_{w,f} / c_{w,\\mathrm{all}}`, where :math:`c` are the harmonised
    counts of output areas. A ward whose count of output areas is below half of one (a
    ward the sources barely reach) has no profile; a feature with no count is NaN.
    """
    wide = counts.pivot_table(index="area_code", columns="feature", values="count", aggfunc="sum")
    if ALL_OAS not in wide:
        return pd.DataFrame(columns=list(FEATURES))
    total = wide[ALL_OAS]
    shares = wide.drop(columns=ALL_OAS).div(total, axis=0).clip(0, 1)
    shares = shares.reindex(columns=list(FEATURES))
    return shares.loc[total >= 0.5].sort_index()


def provenance(sources: dict) -> dict:
    """The sources of a build, for the run record."""
    spec = {s.name: s for s in SOURCES}
    return {name: {"source": src.origin, "sha256": src.sha256, "title": spec[name].title,
                   "url": spec[name].url, "licence": spec[name].licence}
            for name, src in sources.items()}
