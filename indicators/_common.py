"""Readers shared by the built-in indicator plugins (not a plugin: the leading ``_`` keeps
discovery away).

The plugin loader puts the plugin folders on the path of a ``placeportrait_indicators``
package, so a plugin imports this module with ``from placeportrait_indicators import _common``.

Everything here reads a published file as it is: byte-order marks, title rows, thousands
separators, suppressed markers, headers broken over several lines, and zip archives that
hold the table somewhere inside.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from placeportrait import readers
from placeportrait.references import NATION_CODES
from placeportrait.errors import InputError

#: GSS prefixes of local authority districts (the parents of wards): English unitary,
#: non-metropolitan, metropolitan and London boroughs, Welsh unitary authorities,
#: Scottish council areas and Northern Irish districts.
LAD_PREFIXES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")

ONS_TIDY_COLUMNS = ("areacd", "geography", "indicator", "period", "observation")


# -- generic -----------------------------------------------------------------------------
def share_deprived(who: str) -> str:
    """The citation of a share-deprived threshold (baseline 100 %, threshold 0 %), for the
    foundation ``who`` states ("nobody deprived", "no household deprived", …)."""
    return (f"Social foundation: {who} (Raworth 2017; DEAL 2020, Creating City Portraits); "
            "share-deprived scaling (baseline 100 %, threshold 0 %) as in Fanning & Raworth "
            "(2025).")


def squash(text) -> str:
    """A header with its line breaks and repeated spaces collapsed (IoD 2025 File 7 breaks
    some headers over two lines inside quotes)."""
    return re.sub(r"\s+", " ", str(text)).strip()


#: Tables read lately, by file (path, size, modification time), sheet and title rows: one
#: national file (IoD File 6) feeds a dozen plugins of a demo or a refresh. A copy is handed
#: out, so a plugin cannot change what the next one reads.
_RECENT: dict[tuple, pd.DataFrame] = {}
RECENT_TABLES = 4


def read_table(path: Path, *, sheet=None, skip_rows: int = 0) -> pd.DataFrame:
    """A CSV (UTF-8 with or without BOM, falling back to Windows-1252) or a spreadsheet,
    all as text, headers squashed."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, sheet, skip_rows)
    if key not in _RECENT:
        while len(_RECENT) >= RECENT_TABLES:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[key] = _read_table(path, sheet=sheet, skip_rows=skip_rows)
    return _RECENT[key].copy()


def _read_table(path: Path, *, sheet, skip_rows: int) -> pd.DataFrame:
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm", ".ods"):
        frame = readers.read_excel(path, sheet=0 if sheet is None else sheet, skip_rows=skip_rows)
    else:
        try:
            frame = readers.read_csv(path, skip_rows=skip_rows)
        except InputError as exc:
            if "wrong encoding" not in str(exc):
                raise
            frame = readers.read_csv(path, skip_rows=skip_rows, encoding="cp1252")
    frame.columns = [squash(c) for c in frame.columns]
    return frame


def column(frame: pd.DataFrame, path, *names: str, prefix: bool = False,
           required: bool = True) -> str | None:
    """The first column matching one of ``names`` (case-insensitive; by prefix if asked)."""
    lowered = {squash(c).lower(): c for c in frame.columns}
    for name in names:
        key = squash(name).lower()
        if prefix:
            for low, original in lowered.items():
                if low.startswith(key):
                    return original
        elif key in lowered:
            return lowered[key]
    if required:
        wanted = " or ".join(repr(n) + (" …" if prefix else "") for n in names)
        raise InputError(f"{path}: no column {wanted}; columns are "
                         f"{', '.join(map(str, frame.columns))}")
    return None


def number(frame: pd.DataFrame, col: str, path, header_rows: int = 1) -> pd.Series:
    """A text column as floats: suppressed markers are NaN, "1,296" is 1296."""
    return readers.to_number(frame[col], column=col, path=path, header_rows=header_rows)


def codes(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().str.upper()


def header_row(path: Path, wanted: tuple[str, ...], *, limit: int = 30,
               encoding: str = "utf-8-sig") -> int:
    """How many title rows sit above the header row that holds every ``wanted`` field."""
    readers.sniff(path)
    import csv

    raw = Path(path).read_bytes()[:200_000]
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    rows = csv.reader(io.StringIO(text))
    want = [w.lower() for w in wanted]
    for index, row in enumerate(rows):
        if index >= limit:
            break
        fields = [squash(f).lower() for f in row]
        if all(any(f == w or f.startswith(w) for f in fields) for w in want):
            return index
    raise InputError(f"{path}: no header row with {', '.join(map(repr, wanted))} in the "
                     f"first {limit} rows; is this the right file?")


# -- zip archives ------------------------------------------------------------------------
def zip_members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def extract(path: Path, pattern: str, *, avoid: str | None = None,
            suffixes=(".csv",)) -> Path:
    """The one member of a zip whose name matches ``pattern`` (a regex), written to a
    temporary file. Members matching ``avoid`` are used only if nothing else matches."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        return path
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist()
                 if re.search(pattern, n, re.I) and n.lower().endswith(suffixes)]
        preferred = [n for n in names if not (avoid and re.search(avoid, n, re.I))]
        chosen = sorted(preferred or names)
        if not chosen:
            raise InputError(f"{path}: the archive has no member matching {pattern!r} "
                             f"({len(archive.namelist())} members)")
        name = chosen[0]
        folder = Path(tempfile.mkdtemp(prefix="placeportrait-"))
        target = folder / Path(name).name
        target.write_bytes(archive.read(name))
        return target


# -- periods -----------------------------------------------------------------------------
_INTERVAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/P(\d+)Y$")


def period(text) -> str:
    """ONS tidy periods in words people read: ``2023-01-01/P1Y`` → ``2023``,
    ``2024-04-01/P1Y`` → ``2024/25`` (financial year), ``2020-01-01/P3Y`` → ``2020-2022``.
    Anything else is kept as it is."""
    text = str(text).strip()
    match = _INTERVAL.match(text)
    if not match:
        return text
    year, month, day, span = int(match[1]), match[2], match[3], int(match[4])
    if (month, day) == ("01", "01"):
        return str(year) if span == 1 else f"{year}-{year + span - 1}"
    if (month, day) == ("04", "01") and span == 1:
        return f"{year}/{(year + 1) % 100:02d}"
    return text


# -- ONS Explore Local Statistics tidy files ------------------------------------------------
def is_ons_tidy(frame: pd.DataFrame) -> bool:
    lowered = {c.lower() for c in frame.columns}
    return all(c in lowered for c in ONS_TIDY_COLUMNS)


def ons_tidy(frame: pd.DataFrame, path, *, indicator: str | None = None,
             lad_only: bool = True) -> pd.DataFrame:
    """``code, period, value`` from an ONS Explore Local Statistics file.

    The UK files mix countries, regions, combined authorities, counties and local
    authorities (English, Welsh, Scottish and Northern Irish) in one table: only local
    authority districts, and the nations (the published reference values, see
    :mod:`placeportrait.references`), are kept when ``lad_only``. An empty observation
    (status ``z``, ``x`` or ``c``) is no data, never 0.
    """
    area = column(frame, path, "areacd")
    ind = column(frame, path, "indicator")
    if indicator is not None:
        keep = frame[ind].astype("string").str.strip().str.lower() == indicator.lower()
        if not keep.any():
            found = ", ".join(sorted(frame[ind].astype(str).unique())[:5])
            raise InputError(f"{path}: no rows of indicator {indicator!r} (found: {found})")
        frame = frame[keep.to_numpy()]
    elif frame[ind].nunique() > 1:
        raise InputError(f"{path}: holds {frame[ind].nunique()} indicators; name one")
    values = number(frame, column(frame, path, "observation"), path)
    out = pd.DataFrame({
        "code": codes(frame[area]).to_numpy(),
        "period": frame[column(frame, path, "period")].map(period).to_numpy(),
        "value": values.to_numpy(),
    })
    if lad_only:
        keep = out["code"].str[:3].isin(LAD_PREFIXES) | out["code"].isin(list(NATION_CODES))
        out = out[keep.fillna(False).to_numpy()]
    return out.reset_index(drop=True)


def drop_blank_codes(frame: pd.DataFrame) -> pd.DataFrame:
    blank = frame["code"].isna() | (frame["code"].astype(str).str.strip() == "")
    return frame[~blank.to_numpy()].reset_index(drop=True)


ONS_ELS_COMMIT = "4972c588d0c192839afc8fa54ae82cb3dc7721ed"


def ons_els_url(name: str) -> str:
    """The raw address of one ONS Explore Local Statistics dataset at the commit whose
    files the tests and the demo use (``<name>/<name>.csv`` in the repository)."""
    return (f"https://raw.githubusercontent.com/ONSdigital/explore-local-statistics-data/"
            f"{ONS_ELS_COMMIT}/{name}/{name}.csv")
