"""The kinds of answer, one module each: what a question form asks for, which entity labels fit, whether
clauses can answer, and how well a span fits. A newcomer changes how "how long" questions behave in
`measure.py`, and nowhere else.

| module | kind | asked by |
|---|---|---|
| `person.py` | person | who, which person / a noun whose first sense is a person ("which spokesperson") |
| `organisation.py` | organisation | which company / agency / party |
| `place.py` | place | where, which country / city |
| `when.py` | date | when, what year / day / time |
| `number.py` | number | how many / much / often, what number / amount / share |
| `measure.py` | measure | how long / far / old / tall … |
| `reason.py` | reason, manner | why; how + a verb |
| `yesno.py` | yesno | a question with no wh-word |
| `thing.py` | thing, identity | what / which X; who is <name> |

How two answers' values compare (the same date, the same distance in other units) is qa/values.py's,
by the value an entity label reads as.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds import measure, number, organisation, person, place, reason, thing, when, yesno
from qa.kinds.base import DATES, NUMBERS, PEOPLE, PLACES, PROPER, AnswerKind, Kind

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

__all__ = [
    "DATES",
    "NUMBERS",
    "PEOPLE",
    "PLACES",
    "PROPER",
    "AnswerKind",
    "Kind",
    "by_how",
    "by_noun",
    "get",
    "type_fit",
]

KINDS: dict[Kind, AnswerKind] = {
    k.name: k
    for k in (
        person.KIND,
        organisation.KIND,
        place.KIND,
        when.KIND,
        number.KIND,
        measure.KIND,
        reason.KIND,
        reason.MANNER,
        yesno.KIND,
        thing.KIND,
        thing.IDENTITY,
    )
}
# The noun of a "what X" / "which X" question that names a type of answer, and the labels it admits.
_NOUNS: dict[str, tuple[Kind, frozenset[str]]] = {
    **{w: ("date", ls) for w, ls in when.NOUNS.items()},
    **{w: ("number", ls) for w, ls in number.NOUNS.items()},
    **{w: ("place", ls) for w, ls in place.NOUNS.items()},
    **{w: ("person", ls) for w, ls in person.NOUNS.items()},
    **{w: ("organisation", ls) for w, ls in organisation.NOUNS.items()},
}
# The word after "how" that asks for a figure.
_HOW: dict[str, tuple[Kind, frozenset[str]]] = {
    **{w: ("number", ls) for w, ls in number.HOW.items()},
    **{w: ("measure", ls) for w, ls in measure.HOW.items()},
}
# The wh-word that alone says the kind.
WH: dict[str, tuple[Kind, frozenset[str]]] = {
    **{w: ("person", PEOPLE) for w in person.WH},
    **{w: ("date", DATES) for w in when.WH},
    **{w: ("place", PLACES) for w in place.WH},
    **{w: ("reason", frozenset()) for w in reason.WH},
}


def get(name: Kind) -> AnswerKind:
    """The kind of that name."""
    return KINDS[name]


def by_noun(lemma: str) -> tuple[Kind, frozenset[str]] | None:
    """The kind and labels a type noun asks for ("year" → date), None when it names no type."""
    return _NOUNS.get(lemma)


def by_how(word: str) -> tuple[Kind, frozenset[str]] | None:
    """The kind and labels "how <word>" asks for ("how far" → measure), None for a manner."""
    return _HOW.get(word)


def type_fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """How well a span with entity `label` fits the question's kind (see `AnswerKind`)."""
    return KINDS[q.kind].fit(label, q, span, mismatch)
