"""Why / how (a manner): the clause that gives the reason or the way ("because the grant was
withdrawn"); a name or a figure alone is a weak answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import AnswerKind

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

WH = frozenset({"why"})


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A clause fits; anything else is a weak answer."""
    return 1.0 if label == "CLAUSE" else -0.5


KIND = AnswerKind("reason", frozenset(), fit, clauses=True)
MANNER = AnswerKind("manner", frozenset(), fit, clauses=True)
