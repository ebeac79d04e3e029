"""Parallel statements: whether two values are said in the same place of the same statement, so that
they are rival answers to one question, and not two facts. Each value's place is read from the dependency
parse of its sentence (`frame`, `links`). Pure functions, table-tested (tests/test_conflicts.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qa.values import NAME_FAMILY, Value, name, same

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

# Verbs of speech: what a value is said of is the statement reported, never the saying.
SPEECH = frozenset({"say", "said", "tell", "told"})
# The words a value can be said of: "made" and "moved" count, although they are stop words elsewhere.
_FRAME_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})


def frame(
    doc: Doc, start: int, end: int, also: Callable[[Token], frozenset[str]] | None = None
) -> tuple[frozenset[str], ...]:
    """What a value is said of in its sentence: the match keys of the first content word the span hangs
    on ("residents" for "620 residents were evacuated") and of the content word that one hangs on
    ("evacuated"); fewer near the sentence's root. `also` adds keys a word stands for (the question's
    word it is a synonym of: "injured" for "hurt")."""
    return tuple(k for k, _ in _climb(doc, start, end, also))


def links(doc: Doc, start: int, end: int) -> tuple[str, ...]:
    """How the value reaches each word of its `frame` (`_link`): "sold by the bank" as the doer,
    "sold in the city" by "in"."""
    return tuple(link for _, link in _climb(doc, start, end))


def _climb(
    doc: Doc, start: int, end: int, also: Callable[[Token], frozenset[str]] | None = None
) -> list[tuple[frozenset[str], str]]:
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
            out.append((keys(tok) | also(tok) if also else keys(tok), _link(below)))
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


def named_as(doc: Doc, start: int, end: int) -> frozenset[str]:
    """The match keys of the nouns that say what a value is, attached to it in the parse: a title or
    noun before it ("Captain Fiona MacLeod", "the Lorne Ferries company"), an apposition either way ("X,
    a recycling company", "the captain, X"), or a copula ("the captain was X", "X was the captain")."""
    from qa.nlp import keys

    return frozenset(k for t in titles(doc, start, end) for k in keys(t))


def titles(doc: Doc, start: int, end: int) -> list[Token]:
    """The tokens of those nouns (`named_as`)."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return []
    inside = range(span.start, span.end)
    root = span.root
    out: list[Token] = []
    for t in root.children:
        if t.i not in inside and t.pos_ == "NOUN" and t.dep_ in ("compound", "appos"):
            out.append(t)
        if t.i not in inside and t.pos_ == "PROPN" and t.dep_ == "compound" and t.i == span.start - 1:
            out.append(t)  # "Captain" of "Captain Fiona MacLeod" is tagged a proper noun
    head = root.head
    if head.i not in inside and head.i != root.i:
        if root.dep_ in ("compound", "appos") and head.pos_ == "NOUN":
            out.append(head)
        if root.dep_ in ("attr", "nsubj") and head.lemma_ == "be":
            other = "nsubj" if root.dep_ == "attr" else "attr"
            out += [c for c in head.children if c.dep_ == other and c.pos_ == "NOUN"]
    return out


def a_part(doc: Doc, start: int, end: int) -> bool:
    """Does a number count part of another count ("27 people were hurt, five of them seriously"; "five
    of the 27")? Such a part is another fact, never a rival version of the whole."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return False
    return any(
        c.dep_ == "prep"
        and c.lower_ == "of"
        and any(o.dep_ == "pobj" and o.pos_ in ("PRON", "NUM") for o in c.children)
        for c in span.root.children
    )


def of_event(f: Sequence[frozenset[str]], event: frozenset[str]) -> bool:
    """Is a date or time said of the event itself: does it hang on a noun the question names as what
    happened ("Monday's flood" for "when did the flood begin")?"""
    return bool(f) and bool(f[0] & event)


def converted(sentence: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Is one span the other's conversion in brackets in the same sentence ("a kilometre (6 miles)")?"""
    (_, e1), (s2, _) = sorted([a, b])
    return bool(re.fullmatch(r"\s*\(\s*", sentence[e1:s2]))


def nested_places(docs: Sequence[Doc]) -> list[tuple[Value, Value]]:
    """Pairs (narrower, wider) of places that a sentence puts one inside the other, in the order English
    names them ("X, Y", "X, in the north of Y"): two place names joined in its parse
    within three edges, or a few words apart with no verb between ("HOORN, Netherlands", "near
    Enkhuizen, in the north-west of the Netherlands")."""
    from qa.nlp import tree_distance

    out: list[tuple[Value, Value]] = []
    for doc in {id(d): d for d in docs}.values():
        places = [e for e in doc.ents if NAME_FAMILY.get(e.label_) == "place"]
        for i, a in enumerate(places):
            for b in places[i + 1 :]:
                va, vb = name(a.text, "place"), name(b.text, "place")
                between = doc[a.end : b.start]
                close = len(between) <= 8 and not any(t.pos_ in ("VERB", "AUX") for t in between)
                if va and vb and not same(va, vb) and (close or tree_distance(a.root, b.root) <= 3):
                    out.append((va, vb))
    return out
