"""Which company / agency / party: the name of an organisation or of a group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import ORGANISATIONS, AnswerKind, generic

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

NOUNS = {
    w: ORGANISATIONS
    for w in ("company", "firm", "organisation", "organization", "agency", "group", "party", "airline")
}


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """An organisation's or a group's name fits; a figure, a date or a clause cannot."""
    return 1.0 if label in q.labels else generic(label)


KIND = AnswerKind("organisation", ORGANISATIONS, fit)
