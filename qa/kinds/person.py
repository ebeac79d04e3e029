"""Who: a person named; failing that an organisation or group that acts ("the council"), a country last.
A sum, a measure, a nationality word or an adjective is nobody ("Afghan" of "Afghan officials"); a
place or a people is never the one a person noun asks for ("which spokesman")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import PEOPLE, AnswerKind, generic, measured, titled_otherwise

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

WH = frozenset({"who", "whom", "whose"})
# "which person / man / woman": the type noun asks for a person.
NOUNS = {w: PEOPLE for w in ("person", "man", "woman", "who")}
# How well each label fits "who" when it is not a person's name.
_PREFERENCE = {"ORG": 0.7, "NORP": 0.5, "GPE": 0.3}


def describes(span: Span) -> bool:
    """Is the span a word that describes someone rather than names them: an adjective, or a group's
    name set before a noun as its modifier ("Afghan officials", "Dutch police")?"""
    root = span.root
    if root.pos_ == "ADJ":
        return True
    outside = not span.start <= root.head.i < span.end
    return root.ent_type_ == "NORP" and root.dep_ in ("amod", "compound") and outside


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A name of the question's labels; a name the sentence gives another title than the question's
    noun ("President X" for "which spokesperson") is weaker."""
    if measured(span) or describes(span):
        return -1.0
    if label not in q.labels:
        # "which spokesman": a place or a people is never the one a person noun asks for
        return -1.0 if label in {"GPE", "LOC", "FAC", "NORP"} else generic(label)
    if label == "PERSON" and titled_otherwise(span, q):
        return mismatch
    return _PREFERENCE.get(label, 1.0)


KIND = AnswerKind("person", PEOPLE, fit)
