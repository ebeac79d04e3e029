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

import re
from dataclasses import dataclass, field
from typing import Literal

from qa import quantities
from qa.dates import RELATIVE, clock_minutes, clock_times, date_fields
from qa.lexical import words
from qa.quantities import QUALIFIER

__all__ = ["QUALIFIER", "Tolerance", "Value", "comparable", "disagree", "name", "normalise", "same", "warm"]

Kind = Literal["quantity", "date", "time", "name"]


@dataclass(frozen=True)
class Tolerance:
    """How wide a written figure is read (the answer section's `value_rounding` and `value_approximate`):
    its rounding comes from the written digits but is never wider than `rounding` of the value; "about",
    "some", "roughly" 50 is within `approximate` of 50."""

    rounding: float
    approximate: float


# A code that names a road, a route, a flight or a model: letters, then digits ("M4", "B1234", "I-95").
_CODE = re.compile(r"[A-Z]{1,3}-?\d{1,4}[A-Za-z]?")
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
def normalise(text: str, label: str, tol: Tolerance) -> Value | None:
    """The value `text` asserts, read by the type its entity `label` says; None when it has none here
    (free text, a relative date, or text no parser reads)."""
    text = text.strip()
    if not text:
        return None
    if _CODE.fullmatch(re.sub(r"^(?:the|a|an)\s+", "", text, flags=re.IGNORECASE)):
        return name(text, "code")  # "M4", "I-95": whatever spaCy labels it, a code names one thing
    if label == "TIME":
        if clock_times(text):
            return clock_time(text)
        return quantity(text, tol)
    if label == "DATE":
        length = quantity(text, tol)
        if length is not None and length.unit == "[time]":  # "two and a half hours": a length of time
            return None if RELATIVE.search(text) else length
        return date(text)
    if label in _NUMBER_LABELS:
        return quantity(text, tol)
    family = NAME_FAMILY.get(label)
    return name(text, family) if family else None


def quantity(text: str, tol: Tolerance) -> Value | None:
    """A quantity or a count as a value (qa/quantities.py)."""
    got = quantities.quantity(text, tol.rounding, tol.approximate)
    return None if got is None else Value("quantity", got[0], got[1], got[2])


def clock_time(text: str) -> Value | None:
    """A time of day as a value: minutes after midnight (qa/dates.py)."""
    minutes = clock_minutes(text)
    return None if minutes is None else Value("time", "", minutes, minutes)


def date(text: str) -> Value | None:
    """A date as a value: the fields it states (qa/dates.py)."""
    fields = date_fields(text)
    return None if fields is None else Value("date", "", fields=fields)


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
    quantities.quantity("2 km", 0.0, 0.0)
    date("7 June 2025")
