"""Where / which city, country, region: a place's name, an organisation's (a building, a base) as a
weaker fit. A sum or a measure is nowhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import PLACES, AnswerKind, generic, measured

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

WH = frozenset({"where"})
NOUNS = {
    w: PLACES
    for w in ("country", "city", "town", "state", "place", "nation", "region", "continent", "location")
}


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A place's name fits, an organisation's half as well; a measure or a figure cannot."""
    if measured(span):
        return -1.0
    if label not in q.labels:
        return generic(label)
    return 0.5 if label == "ORG" else 1.0


KIND = AnswerKind("place", PLACES, fit)
