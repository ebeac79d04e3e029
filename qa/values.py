"""What a candidate answer asserts, normalised by type, and whether two such values can both be true.
Pure functions, table-tested (tests/test_conflicts.py).

A value is read from the short answer's text and its entity label:

- a quantity ("1 km", "a kilometre", "0.6 mile", "2,000 metres", "about three miles", "150 minutes") is
  parsed by quantulum3 and converted to base units by pint, so units never decide; a count ("260",
  "two", "More than 150") is a dimensionless quantity. Each is an interval: the rounding its written digits
  allow ("1.2 miles" is 1.15–1.25 miles, "2,400" is 2,350–2,450, never more than ±10 %), widened to ±10 %
  by "about", "some", "roughly"…, open above for "more than" and below for "up to". Two quantities agree
  when their intervals overlap, so "0.6 mile" is "1 km", "about 50" is "50", and "6 miles" is not "1 km";
- a date ("Saturday 7 June", "June 7", "Saturday") is read by dateparser into the fields it states (year,
  month, day, weekday), found by parsing it against two different reference dates and keeping what does not
  change; two dates agree when no stated field differs;
- a time of day ("3:40 p.m.", "15:40", "3.40pm") is read by dateparser as minutes after midnight;
- a name (a person, organisation, place or group, as spaCy labels it) is its folded words without
  determiners, possessives and titles; one name's words within the other's are the same name ("Bakker",
  "Ingrid Bakker"), and so is an acronym of its initials ("WFP", "World Food Programme"); a code ("M4",
  "I-95") is a name whatever its label.

A count of no stated size ("thousands", "several hundred") has no value.

Free text (a reason, a description) and relative dates ("three days earlier") have no value here: two
causes can both be true, and a relative date needs the article's own date. Nothing here names anything
of a corpus.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

from index.settings import field_default
from qa.lexical import fold, words
from qa.settings import AnswerSettings

Kind = Literal["quantity", "date", "time", "name"]


@dataclass(frozen=True)
class Tolerance:
    """How wide a written figure is read (the answer section's `value_rounding` and `value_approximate`):
    its rounding comes from the written digits but is never wider than `rounding` of the value; "about",
    "some", "roughly" 50 is within `approximate` of 50."""

    rounding: float = field_default(AnswerSettings, "value_rounding")
    approximate: float = field_default(AnswerSettings, "value_approximate")


DEFAULT_TOLERANCE = Tolerance()


QUALIFIER = re.compile(
    r"\b(about|around|some|roughly|approximately|approx|nearly|almost|close to|an estimated|estimated|"
    r"circa|ca|c\.|up to|more than|over|above|at least|upwards of|in excess of|less than|fewer than|under|"
    r"below|at most|no more than)\b",
    re.IGNORECASE,
)
_AT_LEAST = frozenset({"more than", "over", "above", "at least", "upwards of", "in excess of"})
_AT_MOST = frozenset({"up to", "less than", "fewer than", "under", "below", "at most", "no more than"})
_BELOW = frozenset({"nearly", "almost"})
# A relative date ("three days earlier", "a week ago") depends on the article's own date.
_RELATIVE = re.compile(r"\b(ago|earlier|later|before|after|since|next|last|previous|following)\b", re.I)
# A code that names a road, a route, a flight or a model: letters, then digits ("M4", "B1234", "I-95").
_CODE = re.compile(r"[A-Z]{1,3}-?\d{1,4}[A-Za-z]?")
_DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?")
# General English titles and honorifics: "Lt. Col. Markus Poelzl" names the person "Markus Poelzl".
TITLES = frozenset(
    {
        *("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "lord", "lady", "rev", "fr", "st"),
        *("sgt", "cpl", "pte", "lt", "col", "gen", "maj", "capt", "cmdr", "adm", "gov", "sen", "rep", "pres"),
        *("lieutenant", "colonel", "general", "major", "captain", "commander", "admiral", "sergeant"),
        *("corporal", "private", "professor", "doctor", "president", "governor", "senator", "mayor"),
        *("minister", "chancellor", "judge", "justice", "chief", "inspector", "superintendent", "officer"),
        *("spokesman", "spokeswoman", "spokesperson"),
    }
)
# Words a name's initials leave out: "Bank of England" is "BE".
_CONNECTORS = frozenset({"of", "and", "for", "the", "on", "in", "de", "du", "der", "van", "von"})
# A count of no stated size ("thousands", "several hundred", "dozens of"): no figure to compare.
_VAGUE = re.compile(
    r"^\W*(?:(?:tens|hundreds) of\s+)?(?:dozens|scores|hundreds|thousands|millions|billions)\b"
    r"|^\W*(?:several|many|a few|few)\s+(?:dozen|hundred|thousand|million|billion)s?\b",
    re.IGNORECASE,
)
_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her"})
# spaCy's entity labels, by the kind of thing they name: a person and a place are never one value.
NAME_FAMILY = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "group",
    "PRODUCT": "product",
    "EVENT": "event",
    "WORK_OF_ART": "work",
    "LAW": "law",
    "LANGUAGE": "language",
}
_NUMBER_LABELS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
# German letters as they are transliterated ("Pölzl" is written "Poelzl" too), before accents are folded.
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
# Two reference dates that differ in every field: what a date states is what does not move between them.
_BASES = (dt.datetime(2001, 1, 10, 1, 2), dt.datetime(2010, 8, 20, 13, 47))
_date_lock = threading.Lock()


@dataclass(frozen=True)
class Value:
    """What an answer asserts, normalised. `unit` is a quantity's dimensionality (pint's, "" for a count)
    or a name's family; `lo`/`hi` a quantity's interval in base units (a time's minutes after midnight);
    `fields` a date's (year, month, day, weekday), None where it says nothing; `words` a name's words and
    `initials` their first letters in order, without "of", "and" … ("wfp" for the World Food
    Programme)."""

    kind: Kind
    unit: str = ""
    lo: float = 0.0
    hi: float = 0.0
    fields: tuple[int | None, ...] = ()
    words: frozenset[str] = frozenset()
    initials: str = field(default="", compare=False)  # a name of several words: their first letters

    @property
    def specificity(self) -> int:
        """How much the value states: a full date more than a weekday, a long name more than a surname."""
        if self.kind == "date":
            return sum(f is not None for f in self.fields)
        if self.kind == "name":
            return len(self.words)
        return 1


# ---- reading values ------------------------------------------------------------------------------------
def normalise(text: str, label: str, tol: Tolerance = DEFAULT_TOLERANCE) -> Value | None:
    """The value `text` asserts, read by the type its entity `label` says; None when it has none here
    (free text, a relative date, or text no parser reads)."""
    text = text.strip()
    if not text:
        return None
    if _CODE.fullmatch(re.sub(r"^(?:the|a|an)\s+", "", text, flags=re.IGNORECASE)):
        return name(text, "code")  # "M4", "I-95": whatever spaCy labels it, a code names one thing
    if label == "TIME":
        if _clock_times(text):
            return clock_time(text)
        return quantity(text, tol)
    if label == "DATE":
        length = quantity(text, tol)
        if length is not None and length.unit == "[time]":  # "two and a half hours": a length of time
            return None if _RELATIVE.search(text) else length
        return date(text)
    if label in _NUMBER_LABELS:
        return quantity(text, tol)
    family = NAME_FAMILY.get(label)
    return name(text, family) if family else None


@functools.cache
def _units() -> Any:
    import pint

    return pint.UnitRegistry()


@functools.cache
def _quantulum() -> Any:
    with warnings.catch_warnings():  # it warns that its optional classifier is not installed; not needed
        warnings.simplefilter("ignore")
        from quantulum3 import parser

    return parser


def quantity(text: str, tol: Tolerance = DEFAULT_TOLERANCE) -> Value | None:
    """A quantity or a count: its interval in base units, its dimensionality. The first quantity the
    text states (a conversion in brackets after it is a separate candidate)."""
    from text_to_num import alpha2digit

    if not re.search(r"(?<![A-Za-z])\d|[a-z]", text) or re.fullmatch(r"[A-Za-z]+\d+\w*", text.strip()):
        return None  # a code such as a road's number is a name, not a figure
    if _VAGUE.search(text):
        return None
    parser = _quantulum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = parser.parse(text) or parser.parse(alpha2digit(text, "en"))
    if not found:
        return None
    q = found[0]
    unit, factor = _base(q)
    if unit is None:
        return None
    value = float(q.value)
    lo, hi = _interval(value, q.surface, text, tol)
    return Value("quantity", unit, lo * factor, hi * factor)


def _base(q: Any) -> tuple[str | None, float]:
    """The dimensionality and factor to base units of a quantulum quantity (through pint); a count is
    ("", 1); a unit pint does not know (a currency) keeps quantulum's name."""
    name = str(q.unit.name)
    entity = str(q.unit.entity.name)
    if name == "dimensionless":
        return "", 1.0
    if entity == "currency":
        return f"currency:{name}", 1.0
    if "cent" in name and "cent" in fold(q.surface):
        return "percent", 1.0
    ureg = _units()
    # quantulum's own unit name first; its surface word where pint does not know the name ("minute of
    # arc" for "minutes" is quantulum guessing without its classifier: pint reads the word as time).
    tail = re.findall(r"[^\W\d_]+", q.surface)
    for candidate in ([tail[-1]] if tail and entity == "time" else []) + [name] + tail[-1:]:
        try:
            base = ureg.Quantity(1.0, candidate).to_base_units()
        except Exception:  # pint raises several kinds for a name it cannot read; try the next
            continue
        dims = str(base.dimensionality)
        return ("" if dims == "dimensionless" else dims), float(base.magnitude)
    return None, 1.0


def _interval(value: float, surface: str, text: str, tol: Tolerance) -> tuple[float, float]:
    """The values a written figure allows: its rounding, then what its qualifier says."""
    digits = _DIGITS.search(surface)
    if digits:
        written = digits.group().replace(",", "")
        if "." in written:
            step = 10.0 ** -len(written.split(".")[1])
        else:
            stripped = written.rstrip("0")
            step = 10.0 ** (len(written) - len(stripped)) if stripped else 1.0
    else:  # a number in words: "two", "two and a half"
        step = 1.0 if float(value).is_integer() else 0.1
    r = min(step / 2, tol.rounding * abs(value))
    lo, hi = value - r, value + r
    m = QUALIFIER.search(text)
    if m:
        word = fold(m.group(1))
        wide = tol.approximate * abs(value)
        if word in _AT_LEAST:
            lo, hi = value, math.inf
        elif word in _AT_MOST:
            lo, hi = -math.inf, value
        elif word in _BELOW:
            lo, hi = value - wide, value
        else:
            lo, hi = min(lo, value - wide), max(hi, value + wide)
    return lo, hi


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


def _clock_times(text: str) -> list[str]:
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


def clock_time(text: str) -> Value | None:
    """A time of day as minutes after midnight; None for a range ("between 9 a.m. and noon") or text
    that is not one time."""
    m = QUALIFIER.match(text)
    if m and not is_clock(text):
        text = text[m.end() :].strip()  # "around 8:15 a.m.": a time of day said loosely is that time
    parsed = _parse_dates(text)
    if not is_clock(text):
        return None
    t = parsed[0][0]
    minutes = float(t.hour * 60 + t.minute)
    return Value("time", "", minutes, minutes)


def date(text: str) -> Value | None:
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
    return Value("date", "", fields=(year, month, day, weekday))


def name(text: str, family: str) -> Value | None:
    """A name's words: folded (accents, and German letters as transliterated), without determiners,
    possessives and titles."""
    out = []
    for w in words(text.translate(_TRANSLIT)):
        w = w[:-2] if w.endswith("'s") else w
        w = w.rstrip(".")
        if w and w not in _DETERMINERS and w not in TITLES:
            out.append(w)
    letters = [w[0] for w in out if w not in _CONNECTORS]
    initials = "".join(letters) if len(letters) >= 2 else ""
    return Value("name", family, words=frozenset(out), initials=initials) if out else None


def _acronym(a: Value, b: Value) -> bool:
    """Is `a` one word that spells `b`'s initials ("WFP", "U.S." for "United States")?"""
    if len(a.words) != 1 or not b.initials:
        return False
    (w,) = a.words
    return w.replace(".", "") == b.initials


# ---- comparing values ----------------------------------------------------------------------------------
def comparable(a: Value, b: Value) -> bool:
    """Can the two values be compared: the same kind, and a quantity of the same dimensionality, a name
    of the same family?"""
    return a.kind == b.kind and a.unit == b.unit


def same(a: Value, b: Value) -> bool:
    """Can both be true: comparable, and the same value within what their wording allows."""
    if not comparable(a, b):
        return False
    if a.kind in ("quantity", "time"):
        return a.lo <= b.hi and b.lo <= a.hi
    if a.kind == "date":
        return all(x is None or y is None or x == y for x, y in zip(a.fields, b.fields, strict=True))
    return a.words <= b.words or b.words <= a.words or _acronym(a, b) or _acronym(b, a)


def disagree(a: Value, b: Value) -> bool:
    """Two values of one kind that cannot both be true."""
    return comparable(a, b) and not same(a, b)


def warm() -> None:
    """Load the quantity, unit and date parsers now (about 3 s on 2 cores, mostly quantulum3's imports) so
    that the first question that compares values does not pay for it. Safe to call from a thread."""
    quantity("2 km")
    date("7 June 2025")
