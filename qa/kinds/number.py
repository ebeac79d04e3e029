"""How many / how much / how often / what number, amount, share: a count or an amount. "How many X": a
count of X, not of another kind of thing ("50 fighters" for "how many civilians") nor a sum of money;
"how much": an amount or a sum, not a count of things."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.kinds.base import DATES, NUMBERS, AnswerKind, counted, counts_other_kind, counts_things, money

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

# "how <word>" asks for a number; "how often" may be answered by a date phrase ("every year").
HOW = {"many": NUMBERS, "much": NUMBERS, "often": NUMBERS | DATES, "big": NUMBERS, "large": NUMBERS}
NOUNS = {
    w: NUMBERS for w in ("number", "amount", "percentage", "percent", "proportion", "share", "rate", "total")
}


def fit(label: str, q: Question, span: Span, mismatch: float) -> float:
    """A figure of the asked sort fits; a count of another kind, or money for a count, is weaker."""
    if label in q.labels:
        if label in NUMBERS and q.wh == "how much" and counts_things(span) and not money(span):
            return mismatch
        if label in NUMBERS and q.wh == "how many":
            if counts_things(span) and counts_other_kind(span, q):
                return mismatch
            if money(span) and not counted(span) & q.head:
                return mismatch
        return 1.0
    return 0.0 if any(t.like_num for t in span) and label not in DATES else -1.0


KIND = AnswerKind("number", NUMBERS, fit)
