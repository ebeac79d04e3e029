"""When / what year, day, time: a point in time. A stretch of time ("a six-week strike") is a weaker fit
for "when"; a clock time is a weaker fit for "what day"; a bare number may be a year; a measure, a sum or
a share is no date."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import DATES, MEASURES, AnswerKind
from qa.nlp import is_duration

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

WH = frozenset({"when"})
NOUNS = {
    **{w: DATES for w in ("year", "date", "day", "month", "century", "decade", "era")},
    "time": frozenset({"TIME"}),  # "what time": a clock time, not a day
}


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A date or time of the asked sort fits; the other sort is weaker; a bare number may be a year."""
    if label in q.labels:
        if label == "TIME" and "DATE" in q.labels and q.wh in ("what", "which"):
            return mismatch  # "what day / year": a date, not a time of day ("7.15am")
        if q.wh == "when" and is_duration(span):
            return mismatch  # "when" asks for a point in time, not a stretch of it
        return 1.0
    # a measure, a sum or a share ("0.4 km", "$5", "40%"), or a phrase around one, is no date
    figure = label in MEASURES or any(t.ent_type_ in MEASURES for t in span)
    return 0.0 if any(t.like_num for t in span) and not figure else -1.0


KIND = AnswerKind("date", DATES, fit)
