"""When sources disagree: the candidate answers' values (qa/values.py) grouped into versions, the
versions that cannot both be true and are said in the same place of the same statement
(qa/rivals.py), and the sentence that reports them. Pure functions, table-tested
(tests/test_conflicts.py). Nothing here names anything of a corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from qa.nlp import keys
from qa.rivals import (
    SPEECH,
    a_part,
    beside_noun,
    converted,
    frame,
    links,
    named_as,
    nested_places,
    of_event,
    parallel,
)
from qa.values import QUALIFIER, Tolerance, Value, comparable, disagree, normalise, same

if TYPE_CHECKING:
    from spacy.tokens import Token

    from qa.candidates import Candidate
    from qa.question import Question
    from qa.weights import Weights

T = TypeVar("T")


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
    m = QUALIFIER.match(text)
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


# ---- the versions of one answer ------------------------------------------------------------------------
def versions_of(
    q: Question,
    best: Candidate,
    support: Sequence[Candidate],
    pool: Sequence[Candidate],
    weights: Weights,
    tol: Tolerance,
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
    of the question's predicate stands for it (`head_entity`: "The M4 was closed because of …"), except
    for what caused something."""
    top = normalise(best.text, best.label, tol)
    if top is None:
        # "What caused X?" asks for the cause itself: a place or a name beside it in the sentence says
        # where or to whom X happened, and cannot stand for it.
        head = None if q.cause else head_entity(best, pool, weights, tol)
        if head is None:
            return []
        return versions_of(q, head, [c for c in pool if c.key == head.key], pool, weights, tol)
    if top.unit == "place" and q.wh == "where":
        return []
    asked = q.predicate - SPEECH
    nouns = q.focus - q.predicate - q.head
    # The nouns of what happened ("the fire" of "when did the fire break out"), for a date or a time.
    event = nouns if top.kind in ("date", "time") else frozenset()

    def meant(t: Token) -> frozenset[str]:
        """The question's words a frame word stands for: a synonym ("injured" for "hurt"), never a verb
        of speech ("said" shares a sense with "suppose")."""
        return frozenset() if keys(t) & SPEECH else q.hits(t)

    def files(c: Candidate) -> frozenset[str]:
        return frozenset(c.evidence.group.files)

    def answers(c: Candidate) -> bool:
        f = c.features
        logit = weights.answerability(weights.sentence_score(f.sentence), weights.span_score(f.span))
        if logit >= weights.threshold:
            return True
        if files(c) & theirs:  # below the threshold, only another source's statement
            return False
        said = frame(c.evidence.doc, c.start, c.end, meant)
        return any(w & asked for w in said) or of_event(said, event)

    mine = {id(c) for c in support} | {id(best)}
    theirs = frozenset().union(*(files(c) for c in [best, *support]))
    items: list[tuple[Value, frozenset[str], Candidate]] = [
        (top, files(c), c) for c in support if c is not best
    ]
    for c in pool:
        if id(c) in mine or not answers(c) or a_part(c.evidence.doc, c.start, c.end):
            continue
        v = normalise(c.text, c.label, tol)
        if v is not None and comparable(v, top):
            items.append((v, files(c), c))
    # One value per sentence: its best span of the answer's type (and a conversion in brackets beside
    # it); a sentence that names two such values says two things.
    lead: dict[str, Candidate] = {best.evidence.sentence.id: best}
    for c in sorted((c for _, _, c in items), key=lambda c: -weights.span_score(c.features.span)):
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
    frames = {id(c): frame(c.evidence.doc, c.start, c.end, meant) for v in found for c in v.members}
    how = {id(c): links(c.evidence.doc, c.start, c.end) for v in found for c in v.members}
    titles = {id(c): named_as(c.evidence.doc, c.start, c.end) for v in found for c in v.members}

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
        # Both named by the noun the question asks about: "Captain X" and "Captain Y" for "who was the
        # captain", "X, a recycling company" and "the Y company" for "which company runs the plant".
        if titles[id(a)] & titles[id(b)] & (nouns | q.head):
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

    def against(a: Candidate, b: Candidate) -> bool:
        """Does `a` contradict `b`? Sources disagree when another article says it; an article that gives
        two values in two sentences says two things ("the works cost 14.5 million", "a card costs 12"),
        unless one sentence converts the value into another ("a kilometre (6 miles)")."""
        if not beside(a, b):
            return False
        return bool(files(a) - main.files) or a.evidence.sentence.id == b.evidence.sentence.id

    # A value the answer's own sentences state beside it is another fact of theirs, not a rival ("of
    # the 27 injured, five were serious": 27 is no rival of five); a conversion in brackets is the same
    # fact ("a kilometre (6 miles)") and may still disagree.
    beside_answer = [
        v
        for m in main.members
        for c in pool
        if c.evidence.sentence.id == m.evidence.sentence.id
        and all(c is not n for n in main.members)
        and not converted(c.evidence.sentence.text, (c.start, c.end), (m.start, m.end))
        and (v := normalise(c.text, c.label, tol)) is not None
    ]
    rivals = [
        v
        for v in found
        if v is not main
        and not any(same(v.value, x) for x in beside_answer)
        and disagree(v.value, top)
        and not wider(v)
        and any(against(a, b) for a in v.members for b in main.members)
    ]
    if not rivals:
        return []
    return sorted([main, *rivals], key=lambda v: -len(v.files))


def head_entity(
    best: Candidate, pool: Sequence[Candidate], weights: Weights, tol: Tolerance
) -> Candidate | None:
    """The name or figure that a description answer's sentence gives as an argument of the question's
    predicate (role 1 in the parse, of a fitting type), best span first; None when there is none."""
    here = [
        c
        for c in pool
        if c.evidence.sentence.id == best.evidence.sentence.id
        and c.verdict.role is True
        and normalise(c.text, c.label, tol) is not None
    ]
    return max(here, key=lambda c: weights.span_score(c.features.span), default=None)
