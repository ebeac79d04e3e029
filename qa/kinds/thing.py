"""What / which X (no type noun): a thing, best a name; what someone said (the clause the asked verb
takes); what caused something (a thing or a reason clause). "Who is <name>?" asks for a description of
the name (`IDENTITY`): the phrase set beside it ("X, a council member"; "X is the mayor")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import PROPER, AnswerKind
from qa.nlp import keys

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A name fits well, a description ("a key district") a little; a clause when the question asks what
    was said or what caused something."""
    if label == "CLAUSE" and q.cause:
        return 0.75  # "what caused X": a reason clause, as fit as a name that did it
    if label == "CLAUSE" and span.root.dep_ == "ccomp" and keys(span.root.head) & q.object_of:
        return 1.0  # what the asked verb says ("said the council should have …")
    if label in PROPER:
        return 0.75
    return 0.25 if label not in ("CARDINAL", "ORDINAL", "CLAUSE") else 0.0


def identity(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A description set beside the name fits; another name does not."""
    if span.root.dep_ in ("appos", "attr"):
        return 1.0
    return -0.5 if label in PROPER else 0.0


KIND = AnswerKind("thing", frozenset(), fit, clauses=True)
IDENTITY = AnswerKind("identity", frozenset(), identity)
