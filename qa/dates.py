"""Dates and times of day read from text by dateparser: a date's stated fields (year, month, day,
weekday), found by reading it against two reference dates and keeping what does not move; a time of day
as minutes after midnight. Used by qa/values.py, which turns them into values, and by qa/spans.py, which
finds the times the entity recogniser misses."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import threading
from typing import Any

from qa.lexical import fold, words
from qa.quantities import QUALIFIER

# A relative date ("three days earlier", "a week ago") depends on the article's own date.
RELATIVE = re.compile(r"\b(ago|earlier|later|before|after|since|next|last|previous|following)\b", re.I)
# Two reference dates that differ in every field: what a date states is what does not move between them.
_BASES = (dt.datetime(2001, 1, 10, 1, 2), dt.datetime(2010, 8, 20, 13, 47))
_date_lock = threading.Lock()


@functools.lru_cache(maxsize=8192)
def _parse_dates(text: str) -> tuple[tuple[dt.datetime, str], ...]:
    """`text` read against each reference date: ((datetime, period), ...), empty when dateparser reads
    nothing. Cached: the same text is read by `is_clock` and `clock_time`, and a time question reads every
    number of every evidence sentence."""
    out = []
    for parser in _date_parsers():
        with _date_lock:  # one reader per reference date, shared by the server's threads
            data = parser.get_date_data(text)
        if data.date_obj is None:
            return ()
        out.append((data.date_obj.replace(tzinfo=None), str(data.period)))
    return tuple(out)


@functools.cache
def _date_parsers() -> tuple[Any, ...]:
    """One dateparser reader per reference date (built once)."""
    from dateparser.date import DateDataParser

    return tuple(
        DateDataParser(languages=["en"], settings={"RELATIVE_BASE": base, "RETURN_TIME_AS_PERIOD": True})
        for base in _BASES
    )


def clock_times(text: str) -> list[str]:
    """The parts of `text` that are times of day ("3:40 p.m.", "noon"), not lengths of time."""
    from dateparser.search import search_dates

    found = search_dates(text, languages=["en"], settings={"RELATIVE_BASE": _BASES[0]}) or []
    out = [text] if is_clock(text) else []
    return out + [s for s, _ in found if s != text and is_clock(s)]


def is_clock(text: str) -> bool:
    """Does `text` read as one time of day ("7.15am", "3:40 p.m.")?"""
    parsed = _parse_dates(text)
    return (
        len(parsed) == 2
        and all(p == "time" for _, p in parsed)
        and (parsed[0][0].hour, parsed[0][0].minute) == (parsed[1][0].hour, parsed[1][0].minute)
    )


def clock_minutes(text: str) -> float | None:
    """A time of day as minutes after midnight; None for a range ("between 9 a.m. and noon") or text
    that is not one time."""
    m = QUALIFIER.match(text)
    if m and not is_clock(text):
        text = text[m.end() :].strip()  # "around 8:15 a.m.": a time of day said loosely is that time
    parsed = _parse_dates(text)
    if not is_clock(text):
        return None
    t = parsed[0][0]
    return float(t.hour * 60 + t.minute)


def date_fields(text: str) -> tuple[int | None, ...] | None:
    """The fields a date states (year, month, day, weekday); None when it states none (a relative date
    moves with the reference date)."""
    parsed = _parse_dates(text)
    if not parsed:
        from dateparser.search import search_dates

        found = search_dates(text, languages=["en"], settings={"RELATIVE_BASE": _BASES[0]}) or []
        parsed = _parse_dates(found[0][0]) if found else ()
    if len(parsed) != 2:
        return None
    (a, _), (b, _) = parsed
    year = a.year if a.year == b.year else None
    month = a.month if a.month == b.month else None
    day = a.day if a.day == b.day and month is not None else None
    named = {fold(d) for d in calendar.day_name}
    stated = [i for i, d in enumerate(calendar.day_name) if fold(d) in set(words(text)) & named]
    weekday: int | None = stated[0] if stated else None
    if year is not None and month is not None and day is not None and weekday is None:
        weekday = dt.date(year, month, day).weekday()
    if year is None and month is None and day is None and weekday is None:
        return None
    return (year, month, day, weekday)
