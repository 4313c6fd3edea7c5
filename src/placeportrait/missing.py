"""What "missing" means when a value comes back from the store.

A text column read back through pandas holds ``None``, ``NaN`` or ``pd.NA`` for a value
that was never given (pandas 3 reads an empty text as ``NaN``), so ``value or ""`` is not
enough: ``NaN`` is truthy. Everything that shows a stored value asks here.
"""

from __future__ import annotations

import pandas as pd


def is_missing(value) -> bool:
    """True for ``None``, ``NaN``, ``pd.NA`` and ``pd.NaT``; False for anything else."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def text(value, default: str = "") -> str:
    """``value`` as text, or ``default`` when it is missing or empty."""
    if is_missing(value):
        return default
    shown = str(value)
    return shown if shown else default
