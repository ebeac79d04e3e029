"""When sources disagree: what each candidate answer asserts, normalised by type, grouped into versions,
and which versions cannot both be true. Pure functions, table-tested (tests/test_conflicts.py).

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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from qa.lexical import fold, words

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from qa.propose import Candidate
    from qa.question import Question
    from qa.weights import Weights

Kind = Literal["quantity", "date", "time", "name"]
T = TypeVar("T")

# Rounding is read from the written digits, but never wider than this share of the value.
ROUNDING = 0.1
# "about", "some", "roughly" … 50: within this share of 50.
APPROXIMATE = 0.1
_APPROX = re.compile(
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
# Verbs of speech: what a value is said of is the statement reported, never the saying.
SPEECH = frozenset({"say", "said", "tell", "told"})
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
_NAME_FAMILY = {
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
# The words a value can be said of: "made" and "moved" count, although they are stop words elsewhere.
_FRAME_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})
# Two reference dates that differ in every field: what a date states is what does not move between them.
_BASES = (dt.datetime(2001, 1, 10, 1, 2), dt.datetime(2010, 8, 20, 13, 47))


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
def normalise(text: str, label: str) -> Value | None:
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
        return quantity(text)
    if label == "DATE":
        length = quantity(text)
        if length is not None and length.unit == "[time]":  # "two and a half hours": a length of time
            return None if _RELATIVE.search(text) else length
        return date(text)
    if label in _NUMBER_LABELS:
        return quantity(text)
    family = _NAME_FAMILY.get(label)
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


def quantity(text: str) -> Value | None:
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
    lo, hi = _interval(value, q.surface, text)
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


def _interval(value: float, surface: str, text: str) -> tuple[float, float]:
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
    r = min(step / 2, ROUNDING * abs(value))
    lo, hi = value - r, value + r
    m = _APPROX.search(text)
    if m:
        word = fold(m.group(1))
        wide = APPROXIMATE * abs(value)
        if word in _AT_LEAST:
            lo, hi = value, math.inf
        elif word in _AT_MOST:
            lo, hi = -math.inf, value
        elif word in _BELOW:
            lo, hi = value - wide, value
        else:
            lo, hi = min(lo, value - wide), max(hi, value + wide)
    return lo, hi


def _parse_dates(text: str) -> list[tuple[dt.datetime, str]]:
    """`text` read against each reference date: [(datetime, period)], empty when dateparser reads
    nothing."""
    from dateparser.date import DateDataParser

    out = []
    for base in _BASES:
        ddp = DateDataParser(
            languages=["en"], settings={"RELATIVE_BASE": base, "RETURN_TIME_AS_PERIOD": True}
        )
        data = ddp.get_date_data(text)
        if data.date_obj is None:
            return []
        out.append((data.date_obj.replace(tzinfo=None), str(data.period)))
    return out


def _clock_times(text: str) -> list[str]:
    """The parts of `text` that are times of day ("3:40 p.m.", "noon"), not lengths of time."""
    from dateparser.search import search_dates

    found = search_dates(text, languages=["en"], settings={"RELATIVE_BASE": _BASES[0]}) or []
    out = [text] if _is_clock(text) else []
    return out + [s for s, _ in found if s != text and _is_clock(s)]


def _is_clock(text: str) -> bool:
    parsed = _parse_dates(text)
    return (
        len(parsed) == 2
        and all(p == "time" for _, p in parsed)
        and (parsed[0][0].hour, parsed[0][0].minute) == (parsed[1][0].hour, parsed[1][0].minute)
    )


def clock_time(text: str) -> Value | None:
    """A time of day as minutes after midnight; None for a range ("between 9 a.m. and noon") or text
    that is not one time."""
    parsed = _parse_dates(text)
    if not _is_clock(text):
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
        parsed = _parse_dates(found[0][0]) if found else []
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


# ---- versions ------------------------------------------------------------------------------------------
@dataclass
class Version(Generic[T]):
    """One version of the answer: its value, the candidates that state it (best first) and their files."""

    value: Value
    members: list[T] = field(default_factory=list)
    files: set[str] = field(default_factory=set)

    def admits(self, v: Value, values: Callable[[T], Value]) -> bool:
        """Can `v` be true together with every member's value?"""
        return all(same(v, values(m)) for m in self.members)


def group(
    items: Sequence[tuple[Value, frozenset[str], T]], first: tuple[Value, frozenset[str], T] | None = None
) -> list[Version[T]]:
    """Group `(value, files, item)` by value: an item joins the first version it can be true with (every
    member's value the same as its own), else starts one. The most specific values are placed first, so
    "Saturday" joins "Saturday 7 June" and not "Friday 6 June". `first`, when given, starts the first
    version. Versions come out ordered by the number of files that state them, ties in order of creation."""
    values: dict[int, Value] = {}
    versions: list[Version[T]] = []

    def place(v: Value, files: frozenset[str], item: T) -> None:
        values[id(item)] = v
        for ver in versions:
            if ver.admits(v, lambda m: values[id(m)]):
                ver.members.append(item)
                ver.files |= files
                return
        versions.append(Version(v, [item], set(files)))

    if first is not None:
        place(*first)
    order = sorted(range(len(items)), key=lambda i: -items[i][0].specificity)
    for i in order:
        place(*items[i])
    rank = {id(v): i for i, v in enumerate(versions)}
    return sorted(versions, key=lambda v: (-len(v.files), rank[id(v)]))


# ---- saying it -----------------------------------------------------------------------------------------
def shown(text: str) -> str:
    """A version's value as it reads mid-sentence: a leading qualifier in lower case ("Some 620" →
    "some 620"), names and dates as written."""
    m = _APPROX.match(text)
    return text[: m.end()].lower() + text[m.end() :] if m else text


def _says(n: int) -> str:
    return "1 says" if n == 1 else f"{n} say"


def wording(versions: Sequence[tuple[str, str, int]], total: int) -> str:
    """The sentence that reports the versions, `(value, markers, files)` most supported first; `total` is
    how many distinct files state any of them. "Most sources say X [1][2][3]; 2 say Y [4][5].", "The
    sources are split: 2 say X [1][2]; 2 say Y [3][4].", "The sources disagree: one says X [1]; another
    says Y [2]."."""
    (v0, m0, n0), rest = versions[0], versions[1:]
    if all(n == 1 for _, _, n in versions) and len(versions) == 2:
        (v1, m1, _) = rest[0]
        return f"The sources disagree: one says {v0} {m0}; another says {v1} {m1}."
    tied = all(n == n0 for _, _, n in versions)
    if tied:
        head = f"The sources are split: {_says(n0)} {v0} {m0}"
    elif 2 * n0 > total:
        head = f"Most sources say {v0} {m0}"
    else:
        head = f"{n0} of {total} sources say {v0} {m0}"
    tail = "; ".join(f"{_says(n)} {v} {m}" for v, m, n in rest)
    return f"{head}; {tail}."


# ---- parallel statements -------------------------------------------------------------------------------
def frame(doc: Doc, start: int, end: int) -> tuple[frozenset[str], ...]:
    """What a value is said of in its sentence: the match keys of the first content word the span hangs
    on ("residents" for "620 residents were evacuated") and of the content word that one hangs on
    ("evacuated"); fewer near the sentence's root."""
    return tuple(k for k, _ in _climb(doc, start, end))


def links(doc: Doc, start: int, end: int) -> tuple[str, ...]:
    """How the value reaches each word of its `frame` (`_link`): "sold by the bank" as the doer,
    "sold in the city" by "in"."""
    return tuple(link for _, link in _climb(doc, start, end))


def _climb(doc: Doc, start: int, end: int) -> list[tuple[frozenset[str], str]]:
    from qa.nlp import keys

    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return []
    inside = set(range(span.start, span.end))
    out: list[tuple[frozenset[str], str]] = []
    tok = span.root
    below = tok
    while len(out) < 2 and tok.head.i != tok.i:
        below, tok = tok, tok.head
        if tok.i not in inside and tok.pos_ in _FRAME_POS:
            out.append((keys(tok), _link(below)))
    return out


def _link(tok: Any) -> str:
    """How the path's word below a frame word attaches to it: "subj" (the doer: a subject, or "by" of a
    passive), "obj" (what is done to: an object, or the subject of a passive), its preposition, or
    "other"."""
    if tok.dep_ in ("nsubj", "csubj", "agent"):
        return "subj"
    if tok.dep_ in ("nsubjpass", "dobj", "attr", "oprd"):
        return "obj"
    return tok.lower_ if tok.dep_ == "prep" else "other"


def _role(link: str) -> str:
    """The class of a link that parallel statements share: the doer, what is done to, or anything else
    (parsers attach places, distances and dates to a verb by "near", "off", "from", "on" … alike)."""
    return link if link in ("subj", "obj") else "other"


def parallel(
    a: Sequence[frozenset[str]],
    b: Sequence[frozenset[str]],
    asked: frozenset[str] = frozenset(),
    how: tuple[Sequence[str], Sequence[str]] | None = None,
) -> bool:
    """Do two values stand in the same place of the same statement ("620 residents were evacuated",
    "260 residents … were evacuated")? Both words of one frame are words of the other ("Around 120
    people made use of it" is not "2,400 people were moved out"); or both are said of the question's own
    predicate (`asked`, its match keys), one word being enough then: "the M4 was closed" and "the B1234
    was closed" answer "which road was closed", when they reach it in the same role (`how`:
    their `links`; "sold by the bank" is not "sold in the city"). The speaker of a verb of speech is
    never such a value ("the minister said" and "the mayor said" are two statements; "people … were
    told" is one)."""
    if len(a) >= 2 and len(b) >= 2 and all(any(w & x for x in b) for w in a):
        return True
    for i, w in enumerate(a):
        for j, x in enumerate(b):
            shared = w & x & asked
            if not shared:
                continue
            roles = (
                (_role(how[0][i]), _role(how[1][j])) if how and i < len(how[0]) and j < len(how[1]) else None
            )
            if roles is None and shared <= SPEECH or roles is not None and roles[0] != roles[1]:
                continue
            if roles is not None and roles[0] == "subj" and shared <= SPEECH:
                continue
            # Said of the same thing where both name what it hangs on first: "three schools were
            # closed" is not "the road was closed between two junctions".
            if not a[:i] or not b[:j] or any(p & r for p in a[:i] for r in b[:j]):
                return True
    return False


def beside_noun(
    a: Sequence[frozenset[str]],
    b: Sequence[frozenset[str]],
    how: tuple[Sequence[str], Sequence[str]],
    nouns: frozenset[str],
    words: frozenset[str],
) -> bool:
    """Do two values hang on the same noun of the question by the question's own preposition ("the
    mill near one town", "a mill near another" for "near which town is the mill")?"""
    if not a or not b or not how[0] or not how[1]:
        return False
    shared = a[0] & b[0] & nouns
    return bool(shared) and how[0][0] == how[1][0] and how[0][0] in words


def of_event(f: Sequence[frozenset[str]], event: frozenset[str]) -> bool:
    """Is a date or time said of the event itself: does it hang on a noun the question names as what
    happened ("Monday's flood" for "when did the flood begin")?"""
    return bool(f) and bool(f[0] & event)


def converted(sentence: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Is one span the other's conversion in brackets in the same sentence ("a kilometre (6 miles)")?"""
    (_, e1), (s2, _) = sorted([a, b])
    return bool(re.fullmatch(r"\s*\(\s*", sentence[e1:s2]))


# ---- the versions of one answer ------------------------------------------------------------------------
def versions_of(
    q: Question, best: Candidate, support: Sequence[Candidate], pool: Sequence[Candidate], weights: Weights
) -> list[Version[Candidate]]:
    """The versions of the answer when the sources disagree, most supported first; empty when they agree.

    A rival version is made of verified candidates (`pool`) whose value is of the answer's type and
    cannot be true together with it, and that one of its members says in the same place of the same
    statement as a member of the answer's version (`parallel`, or a conversion in brackets beside it; a
    date or time may also be said of the event the question names, `of_event`). The looser matches (one
    word of the question's predicate, its noun, its event) count only between different articles: within
    one, two values of one verb are two facts. Each rival must be one the core would give as the answer on
    its own (its answerability clears the threshold), or, from another article, be said of the question's
    own predicate or event, whose sentence may word the rest of the question otherwise ("the flood started
    on Monday" for "when did the flood begin"). A place never conflicts with a place for a
    "where" question: one may lie inside the other. When the answer is a description with no value of
    its own ("heavy traffic on the road"), its sentence's name or figure that is an argument
    of the question's predicate stands for it (`head_entity`: "The M4 was closed because of …")."""
    top = normalise(best.text, best.label)
    if top is None:
        head = head_entity(best, pool, weights)
        if head is None:
            return []
        return versions_of(q, head, [c for c in pool if c.key == head.key], pool, weights)
    if top.unit == "place" and q.wh == "where":
        return []
    asked = q.predicate - SPEECH
    nouns = q.focus - q.predicate - q.head
    # The nouns of what happened ("the fire" of "when did the fire break out"), for a date or a time.
    event = nouns if top.kind in ("date", "time") else frozenset()

    def files(c: Candidate) -> frozenset[str]:
        return frozenset(c.evidence.group.files)

    def answers(c: Candidate) -> bool:
        f = c.features
        if weights.answerability(weights.sentence_score(f), weights.span_score(f), f) >= weights.threshold:
            return True
        if files(c) & theirs:  # below the threshold, only another source's statement
            return False
        said = frame(c.evidence.doc, c.start, c.end)
        return any(w & asked for w in said) or of_event(said, event)

    mine = {id(c) for c in support} | {id(best)}
    theirs = frozenset().union(*(files(c) for c in [best, *support]))
    items: list[tuple[Value, frozenset[str], Candidate]] = [
        (top, files(c), c) for c in support if c is not best
    ]
    for c in pool:
        if id(c) in mine or not answers(c):
            continue
        v = normalise(c.text, c.label)
        if v is not None and comparable(v, top):
            items.append((v, files(c), c))
    # One value per sentence: its best span of the answer's type (and a conversion in brackets beside
    # it); a sentence that names two such values says two things.
    lead: dict[str, Candidate] = {best.evidence.sentence.id: best}
    for c in sorted((c for _, _, c in items), key=lambda c: -weights.span_score(c.features)):
        lead.setdefault(c.evidence.sentence.id, c)

    def kept(c: Candidate) -> bool:
        head = lead[c.evidence.sentence.id]
        return (
            c is head
            or id(c) in mine
            or converted(c.evidence.sentence.text, (c.start, c.end), (head.start, head.end))
        )

    items = [it for it in items if kept(it[2])]
    found = group(items, first=(top, files(best), best))
    main = next(v for v in found if any(m is best for m in v.members))
    frames = {id(c): frame(c.evidence.doc, c.start, c.end) for v in found for c in v.members}
    how = {id(c): links(c.evidence.doc, c.start, c.end) for v in found for c in v.members}

    def beside(a: Candidate, b: Candidate) -> bool:
        """Does `a` say its value where `b` says the answer's?"""
        if a.evidence.sentence.id == b.evidence.sentence.id:
            return converted(a.evidence.sentence.text, (a.start, a.end), (b.start, b.end))
        fa, fb = frames[id(a)], frames[id(b)]
        if parallel(fa, fb):
            return True
        if files(a) & files(b):
            # One article that says two values of one verb says two things ("the river flows through a
            # gorge", "… flows through a plain"): the looser matches below are for sources.
            return False
        ways = (how[id(a)], how[id(b)])
        if parallel(fa, fb, q.predicate, ways) or beside_noun(fa, fb, ways, nouns, q.focus):
            return True
        # A date of the event beside one of its predicate: "Monday's flood" / "the flood began on …"
        on_event = of_event(fa, event) or of_event(fb, event)
        return on_event and any(w & (asked | event) for w in fa) and any(w & (asked | event) for w in fb)

    inside = nested_places([c.evidence.doc for c in pool]) if top.unit == "place" else []

    def wider(v: Version[Candidate]) -> bool:
        """Is `v` a place that the articles put around another place, or inside the answer's? A wider
        and a narrower place are both true ("the city" and "the province")."""
        return any(
            same(y, v.value) or same(x, v.value) and same(y, top) or same(y, v.value) and same(x, top)
            for x, y in inside
        )

    rivals = [
        v
        for v in found
        if v is not main
        and disagree(v.value, top)
        and not wider(v)
        and any(beside(a, b) for a in v.members for b in main.members)
    ]
    if not rivals:
        return []
    return sorted([main, *rivals], key=lambda v: -len(v.files))


def head_entity(best: Candidate, pool: Sequence[Candidate], weights: Weights) -> Candidate | None:
    """The name or figure that a description answer's sentence gives as an argument of the question's
    predicate (role 1 in the parse, of a fitting type), best span first; None when there is none."""
    here = [
        c
        for c in pool
        if c.evidence.sentence.id == best.evidence.sentence.id
        and c.features.get("role", 0.0) > 0
        and c.features.get("type", 0.0) >= 0
        and normalise(c.text, c.label) is not None
    ]
    return max(here, key=lambda c: weights.span_score(c.features), default=None)


def nested_places(docs: Sequence[Doc]) -> list[tuple[Value, Value]]:
    """Pairs (narrower, wider) of places that a sentence puts one inside the other, in the order English
    names them ("X, Y", "X, in the north of Y"): two place names joined in its parse
    within three edges, or a few words apart with no verb between ("HOORN, Netherlands", "near
    Enkhuizen, in the north-west of the Netherlands")."""
    from qa.nlp import tree_distance

    out: list[tuple[Value, Value]] = []
    for doc in {id(d): d for d in docs}.values():
        places = [e for e in doc.ents if _NAME_FAMILY.get(e.label_) == "place"]
        for i, a in enumerate(places):
            for b in places[i + 1 :]:
                va, vb = name(a.text, "place"), name(b.text, "place")
                between = doc[a.end : b.start]
                close = len(between) <= 8 and not any(t.pos_ in ("VERB", "AUX") for t in between)
                if va and vb and not same(va, vb) and (close or tree_distance(a.root, b.root) <= 3):
                    out.append((va, vb))
    return out


def warm() -> None:
    """Load the quantity, unit and date parsers now (about 3 s on 2 cores, mostly quantulum3's imports) so
    that the first question that compares values does not pay for it. Safe to call from a thread."""
    quantity("2 km")
    date("7 June 2025")
