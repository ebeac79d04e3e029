"""How long / old / far / tall / deep / fast …: a measure along one dimension (a length, an age, a
height, a speed, a stretch of time). A number that counts things ("six Ice Ages", "4,800 children") is no
measure; "how long" wants a stretch of time or a length, not a point in time ("2029")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import DATES, NUMBERS, AnswerKind, counts_things
from qa.nlp import is_duration

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

# "how <word>": the dimension asked; an age or a length of time may be said as a date phrase.
HOW = {
    **{w: NUMBERS for w in ("far", "tall", "high", "wide", "deep", "fast", "close", "near", "heavy")},
    "long": NUMBERS | DATES,
    "old": NUMBERS | DATES,
}


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A measure fits; a point in time for "how long", or a count of things, is weaker."""
    if label in q.labels:
        if q.wh == "how long" and label in DATES and not is_duration(span):
            return mismatch
        if label in NUMBERS and counts_things(span):
            return mismatch
        return 1.0
    return 0.0 if any(t.like_num for t in span) and label not in DATES else -1.0


KIND = AnswerKind("measure", NUMBERS, fit)
