"""Reading published tables as they really are.

Real files have UTF-8 byte-order marks, title rows above the header, thousands
separators ("1,296"), suppressed values (``..``, ``c``, ``*``, ``x``, ``-``), HTML error
pages saved under a ``.csv`` name, and sometimes arrive truncated. These functions
read them and fail with one line naming the file, row or column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from placeportrait import regular_files
from placeportrait.errors import InputError

SUPPRESSED = ["..", ".", "c", "*", "x", "-", ":", "z", "[c]", "[x]", "[z]", "[low]", "n/a",
              "N/A", "NA", ""]


def sniff(path: Path) -> None:
    """Refuse files that are plainly not data: special files, empty, HTML pages, binary junk."""
    regular_files.check_input(path, "source file")
    with open(path, "rb") as fh:
        head = fh.read(2048)
    if not head.strip():
        raise InputError(f"{path}: the file is empty")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
        raise InputError(f"{path}: is an HTML/XML page, not a data table (a failed download?)")


def read_csv(path: Path, *, skip_rows: int = 0, encoding: str = "utf-8-sig",
             na_values=None, thousands: str | None = ",", dtype=str,
             numbers: Sequence[str] = ()) -> pd.DataFrame:
    """Read a published CSV: every column as text, except the ``numbers`` columns.

    Parameters
    ----------
    path : the file. A plugin's sources arrive already decompressed
        (:mod:`placeportrait.compressed`).
    skip_rows : title rows above the header.
    numbers : columns to convert with :func:`to_number`: ``"1,296"`` becomes 1296.0,
        suppressed markers (``..``, ``c``, ``x``, ...) become NaN (no data), and any other
        text fails with the row and column.

    Examples
    --------
    >>> frame = read_csv("households.csv", numbers=["households"])  # doctest: +SKIP
    >>> frame["households"].tolist()  # the file held "1,296", "..", "85"  # doctest: +SKIP
    [1296.0, nan, 85.0]
    """
    path = Path(path)
    sniff(path)
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise InputError(f"{path}: is a zip archive of several files, not a CSV: "
                         "unzip it and pass the file to read")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not {encoding} text (byte {exc.start}): wrong encoding?") from None
    try:
        frame = pd.read_csv(io.StringIO(text), skiprows=skip_rows, dtype=dtype,
                            keep_default_na=False, na_values=na_values or [], thousands=thousands)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputError(f"{path}: cannot parse as CSV: {str(exc).splitlines()[0]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    # pandas pads a short row's last cells with "" (NaN in a typed column): with none in
    # the last column no row is short, and the row-by-row check (2 s of a national
    # refresh) is not needed
    last = frame.iloc[:, -1]  # a file without columns was refused above
    if last.isna().any() or (last == "").any():
        _check_row_lengths(path, text, len(frame.columns), skip_rows)
    require_columns(frame, numbers, path)
    for column in numbers:
        frame[column] = to_number(frame[column], column=column, path=path,
                                  header_rows=skip_rows + 1)
    return frame


def _check_row_lengths(path: Path, text: str, width: int, skip_rows: int) -> None:
    """pandas pads a short row with "" (NaN in a typed column); a short row is a broken
    file, not missing data.

    Blank lines are allowed (and skipped); a short last line means a truncated download.
    """
    rows = csv.reader(io.StringIO(text))
    for number, row in enumerate(rows, start=1):
        if number <= skip_rows + 1 or not any(field.strip() for field in row):
            continue
        if len(row) < width:
            where = "the file looks truncated" if _is_last(text, row) else "a broken line?"
            raise InputError(f"{path}: row {number} has {len(row)} of {width} fields: {where}")


def _is_last(text: str, row: list[str]) -> bool:
    return not text.endswith("\n") and text.rstrip("\r\n").endswith(",".join(row))


def read_excel(path: Path, *, sheet=0, skip_rows: int = 0) -> pd.DataFrame:
    path = Path(path)
    sniff(path)
    try:
        # calamine (Rust) reads the same cells as openpyxl, 7x faster on a 33,000-row sheet
        frame = pd.read_excel(path, sheet_name=sheet, skiprows=skip_rows, dtype=str,
                              engine="calamine")
    except (ValueError, KeyError, OSError) as exc:
        raise InputError(f"{path}: cannot read as a spreadsheet: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # openpyxl raises its own zoo for corrupt files
        raise InputError(f"{path}: cannot read as a spreadsheet: {type(exc).__name__}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def require_columns(frame: pd.DataFrame, columns, path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column {', '.join(map(repr, missing))}; "
                         f"columns are {', '.join(map(str, frame.columns))}")


def _plain_numbers(series: pd.Series) -> pd.Series | None:
    """The text parsed in one pass when every cell is blank or a plain number (what most
    columns of a national file are), else None: the cleaning below is a Python loop per
    cell, seconds on a national refresh. No suppression marker parses as a number."""
    if pd.api.types.infer_dtype(series, skipna=True) != "string":
        return None
    numbers = pd.to_numeric(series, errors="coerce")
    return numbers if bool((numbers.notna() | series.isna()).all()) else None


def to_number(series: pd.Series, *, column: str, path, header_rows: int = 1,
              suppressed=SUPPRESSED) -> pd.Series:
    """Text to float: suppressed markers become NaN (no data), anything else non-numeric fails.

    Thousands separators and surrounding spaces and percent signs are removed first.
    Infinite values are refused.
    """
    numbers = _plain_numbers(series)
    if numbers is None:
        text = series.astype("string").str.strip()
        text = text.mask(text.isin(suppressed))
        cleaned = text.str.replace(",", "", regex=False).str.rstrip("%")
        numbers = pd.to_numeric(cleaned, errors="coerce")
        bad = numbers.isna() & cleaned.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{path}: row {i + 1 + header_rows}, column {column!r}: "
                             f"{series.iloc[i]!r} is not a number ({int(bad.sum())} such rows)")
    numbers = numbers.astype(float)
    if np.isinf(numbers).any():
        i = int(np.flatnonzero(np.isinf(numbers.to_numpy()))[0])
        raise InputError(f"{path}: row {i + 1 + header_rows}, column {column!r}: infinite value")
    return numbers
