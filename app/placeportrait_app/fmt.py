"""Formatting numbers for people: one place, so the map, tables and downloads agree.

Missing values are "no data", never 0.
"""

from __future__ import annotations

import math

NO_DATA = "no data"


def is_missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value, digits: int | None = None) -> str:
    """A number with sensible precision: 1 decimal below 1,000, none above, more when tiny."""
    if is_missing(value):
        return NO_DATA
    v = float(value)
    if digits is None:
        a = abs(v)
        if a == 0 or 0.1 <= a < 1000:
            digits = 1
        elif a >= 1000:
            digits = 0
        else:
            digits = 3
    return f"{v:,.{digits}f}"


def with_unit(value, unit: str | None, digits: int | None = None) -> str:
    """``19.0 % of households``; ``no data`` for a missing value."""
    if is_missing(value):
        return NO_DATA
    text = number(value, digits)
    unit = (unit or "").strip()
    if not unit:
        return text
    if unit.startswith("%"):
        return f"{text} {unit}"
    return f"{text} {unit}"


def percent(fraction) -> str:
    """A fraction (0.091) as ``9.1 %``."""
    if is_missing(fraction):
        return NO_DATA
    return f"{100 * float(fraction):,.1f} %"


def short(text, limit: int = 60) -> str:
    """A user-supplied string cut to a safe length for a message (Dash escapes HTML)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
