"""CSV that a spreadsheet opens as text: cells that would run as formulas are neutralised.

Area names and other text come from data files. A cell beginning ``=``, ``+``, ``-`` or
``@`` (or a tab or carriage return, which spreadsheets skip before one) is run as a
formula by Excel, LibreOffice and Google Sheets. As OWASP's "CSV Injection" advice
says, such a cell is prefixed with a single quote: the spreadsheet shows the text as
written and runs nothing. Numbers are left alone, so ``-1.5`` stays a number.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """``'=HYPERLINK(...)`` for ``=HYPERLINK(...)``; anything that is not risky text as it was."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns have every formula-like cell neutralised."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(neutralise_cell, na_action="ignore")
    return out


def to_csv(frame: pd.DataFrame, path_or_buf=None, **kwargs):
    """``DataFrame.to_csv`` on the neutralised copy; same arguments and return value."""
    kwargs.setdefault("index", False)
    return neutralise_formulas(frame).to_csv(path_or_buf, **kwargs)
