"""A yes/no question: answered by the clause that states the matter, never by a name inside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import AnswerKind

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """Only a clause answers."""
    return 1.0 if label == "CLAUSE" else -1.0


KIND = AnswerKind("yesno", frozenset(), fit, clauses=True)
