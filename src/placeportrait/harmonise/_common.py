"""Shared validation and the result frame every harmonisation method returns.

Every method returns one row per target area with the columns in
:data:`RESULT_COLUMNS`. The rules that make the numbers honest live here, once:

* a source value that is missing (NaN/None) is *no data*: it is left out of both the
  numerator and the coverage, never read as 0;
* a target whose coverage is below ``min_coverage`` (or is 0) gets ``value = NaN``;
* coverage is reported even when the value is withheld, so a caller can say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from placeportrait.errors import HarmoniseError

RESULT_COLUMNS = [
    "area_code",
    "value",
    "coverage",
    "source_rows",
    "method",
    "denominator",
    "apportioned",
]

#: Used when a caller does not say: a ward needs at least half of its area (or
#: population, for lookups) backed by source data before it gets a value.
DEFAULT_MIN_COVERAGE = 0.5

#: Areas are summed from thousands of float intersections; without this slack a ward
#: that is fully covered can come out at coverage 0.9999999999 and be withheld under
#: ``min_coverage=1``.
COVERAGE_TOLERANCE = 1e-9

EXTENSIVE = "extensive"
INTENSIVE = "intensive"
KINDS = (EXTENSIVE, INTENSIVE)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise HarmoniseError(f"measure kind must be 'extensive' or 'intensive', not {kind!r}")
    return kind


def check_min_coverage(min_coverage: float) -> float:
    try:
        m = float(min_coverage)
    except (TypeError, ValueError):
        raise HarmoniseError(f"min_coverage must be a number in [0, 1], not {min_coverage!r}")
    if not 0.0 <= m <= 1.0:
        raise HarmoniseError(f"min_coverage must be in [0, 1], not {m}")
    return m


def distinct(values: Iterable) -> set:
    """The distinct values as a set; what ``set(values)`` gives, without iterating a
    pandas string array element by element (ten times slower on a national table)."""
    if isinstance(values, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray, np.ndarray)):
        return set(pd.unique(np.asarray(values, dtype=object)))
    return set(values)


def clean_codes(codes: Iterable, what: str) -> pd.Series:
    """Codes as stripped strings; a missing code is an error, not a silent drop."""
    s = pd.Series(codes, copy=True)
    missing = s.isna()
    if missing.any():
        raise HarmoniseError(f"{what}: {int(missing.sum())} rows have no code")
    return s.astype(str).str.strip()


def numeric(values, what: str) -> np.ndarray:
    """Values as float64, NaN kept as NaN; text or infinities are errors."""
    s = pd.Series(values, copy=False)
    try:
        arr = pd.to_numeric(s, errors="raise").astype("float64").to_numpy(na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise HarmoniseError(f"{what} is not numeric ({exc}); parse it before harmonising")
    if np.isinf(arr).any():
        raise HarmoniseError(f"{what} has {int(np.isinf(arr).sum())} infinite values")
    return arr


def value_series(values, code_col: str, value_col: str, what: str = "values") -> pd.Series:
    """Accept a Series indexed by code or a frame with code and value columns.

    Returns a float Series indexed by unique, stripped codes. Duplicate codes are an
    error: two values for one area cannot both be right.
    """
    if isinstance(values, pd.Series):
        codes, vals = values.index, values.to_numpy()
    elif isinstance(values, pd.DataFrame):
        for col in (code_col, value_col):
            if col not in values.columns:
                raise HarmoniseError(
                    f"{what} has no column {col!r} (columns: {', '.join(map(str, values.columns))})"
                )
        codes, vals = values[code_col], values[value_col]
    elif isinstance(values, Mapping):
        codes, vals = list(values.keys()), list(values.values())
    else:
        raise HarmoniseError(f"{what} must be a DataFrame, a Series or a mapping of code to value")
    codes = clean_codes(codes, what)
    out = pd.Series(numeric(vals, f"{what} column {value_col!r}"), index=codes.to_numpy())
    dup = out.index.duplicated()
    if dup.any():
        first = ", ".join(pd.unique(out.index[dup])[:5])
        raise HarmoniseError(f"{what} has {int(dup.sum())} duplicate codes (e.g. {first})")
    return out


def weight_series(weights, values, code_col: str, what: str) -> pd.Series | None:
    """Weights given as a column of ``values``, a Series/mapping by code, or None."""
    if weights is None:
        return None
    if isinstance(weights, str):
        if not isinstance(values, pd.DataFrame) or weights not in values.columns:
            raise HarmoniseError(f"weight column {weights!r} is not a column of the values")
        return value_series(values, code_col, weights, what)
    return value_series(weights, code_col, "weight", what)


def target_codes(targets, code_col: str = "code") -> pd.Series:
    """The target codes, in the order given; unique and non-empty."""
    if isinstance(targets, pd.DataFrame):
        if code_col not in targets.columns:
            raise HarmoniseError(f"targets have no column {code_col!r}")
        codes = targets[code_col]
    else:
        codes = list(targets)
    codes = clean_codes(codes, "targets")
    if len(codes) == 0:
        raise HarmoniseError("no target areas given")
    dup = codes.duplicated()
    if dup.any():
        raise HarmoniseError(
            f"targets have {int(dup.sum())} duplicate codes (e.g. {', '.join(codes[dup][:5])})"
        )
    return codes.reset_index(drop=True)


def check_crs(a, b, what_a: str, what_b: str) -> None:
    """Refuse to combine layers whose CRS is missing or different.

    tobler returns None on a mismatch and exactextract only warns; either way a wrong
    answer can travel on, so here it stops.
    """
    for gdf, what in ((a, what_a), (b, what_b)):
        if getattr(gdf, "crs", None) is None:
            raise HarmoniseError(f"{what} has no CRS; set it (e.g. .set_crs('EPSG:4326')) first")
    # Axis order is ignored: GeoPandas always stores x = longitude, so OGC:CRS84 (what
    # GeoJSON declares) and EPSG:4326 hold identical coordinates.
    if not a.crs.equals(b.crs, ignore_axis_order=True):
        raise HarmoniseError(
            f"CRS mismatch: {what_a} is {crs_name(a.crs)} but {what_b} is {crs_name(b.crs)}"
        )


def crs_name(crs) -> str:
    """A short, stable name: ``EPSG:27700``; lon/lat WGS 84 in either axis order is EPSG:4326."""
    if crs.equals("EPSG:4326", ignore_axis_order=True):
        return "EPSG:4326"
    auth = crs.to_authority()
    return ":".join(auth) if auth else crs.to_string()


def finish(
    area_codes,
    value,
    coverage,
    source_rows,
    method: str,
    *,
    min_coverage: float,
    denominator=None,
    apportioned: bool = False,
    attrs: dict | None = None,
) -> pd.DataFrame:
    """Assemble the result frame and withhold values below ``min_coverage``.

    Coverage above 1 can only come from overlapping sources; it is clipped to 1 and the
    areas are listed in ``attrs['coverage_clipped']``.
    """
    n = len(area_codes)
    value = np.asarray(value, dtype="float64").copy()
    coverage = np.nan_to_num(np.asarray(coverage, dtype="float64"), nan=0.0)
    over = coverage > 1.0 + 1e-6
    coverage = np.clip(coverage, 0.0, 1.0)
    withheld = (coverage <= 0.0) | (coverage + COVERAGE_TOLERANCE < min_coverage)
    value[withheld] = np.nan
    den = (
        np.full(n, np.nan)
        if denominator is None
        else np.asarray(denominator, dtype="float64")
    )
    out = pd.DataFrame(
        {
            "area_code": pd.Series(area_codes, dtype="str").to_numpy(),
            "value": value,
            "coverage": coverage,
            "source_rows": np.asarray(source_rows, dtype="int64"),
            "method": method,
            "denominator": den,
            "apportioned": bool(apportioned),
        },
        columns=RESULT_COLUMNS,
    )
    out.attrs = dict(attrs or {})
    out.attrs["method"] = method
    out.attrs["min_coverage"] = min_coverage
    out.attrs["withheld_low_coverage"] = out["area_code"][withheld & (coverage > 0)].tolist()
    out.attrs["coverage_clipped"] = out["area_code"][over].tolist()
    return out
