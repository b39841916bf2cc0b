"""Dates as the directory writes and shows them: ISO strings in the YAML, French words on pages."""
from __future__ import annotations

import datetime as dt
from typing import Any

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")


def to_date(value: Any) -> dt.date | None:
    """A `date`, or an ISO ``AAAA-MM-JJ`` string as the strict loader keeps it; None otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def french_date(value: Any) -> str:
    """« 1er octobre 2026 », « 31 mars 2027 »; '' for no date."""
    day = to_date(value)
    if day is None:
        return ""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def one_year_after(day: dt.date) -> dt.date:
    """The same day one year later (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)
