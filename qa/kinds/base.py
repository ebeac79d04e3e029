"""What every answer kind shares: the entity-label families, the kind record, and the span tests that
several kinds ask (is it a sum of money, does its number count things). Pure given the parse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from qa.lexicon import other_kind
from qa.nlp import content_keys, is_unit, keys
from qa.quantities import quantity
from qa.rivals import titles

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.question import Question

Kind = Literal[
    "person",
    "organisation",
    "identity",
    "date",
    "place",
    "number",
    "measure",
    "reason",
    "manner",
    "thing",
    "yesno",
]
# spaCy's OntoNotes entity labels, by what they name.
PEOPLE = frozenset({"PERSON", "ORG", "NORP", "GPE"})
DATES = frozenset({"DATE", "TIME"})
PLACES = frozenset({"GPE", "LOC", "FAC", "ORG"})
NUMBERS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"})
ORGANISATIONS = frozenset({"ORG", "NORP"})
MEASURES = frozenset({"QUANTITY", "MONEY", "PERCENT"})
# Entity labels that name one thing ("what day" and "two" are entities of spaCy's too, but name nothing).
PROPER = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Labels that are never a name, a place or a thing: figures, dates and clauses.
FIGURES = NUMBERS | DATES | {"CLAUSE"}

Fit = Callable[[str, "Question", "Span", float], float]


@dataclass(frozen=True)
class AnswerKind:
    """One kind of answer: its name, the entity labels that fit it, whether clauses can answer it, and
    how well a span fits it (`fit(label, question, span, mismatch)`: 1 a fit, 0 a plain phrase that may
    be one, `mismatch` a weaker fit of the right type, below 0 a span that cannot be one)."""

    name: Kind
    labels: frozenset[str]
    fit: Fit
    clauses: bool = False


def generic(label: str) -> float:
    """A span outside the kind's labels: a figure, a date or a clause cannot be a name, a place or a
    thing; a plain phrase may still be one."""
    return -1.0 if label in FIGURES else 0.0


def money(span: Span) -> bool:
    """Is the span a sum of money, in its own words or in the noun its number counts (quantulum3's
    currencies, through qa/values.py)?"""
    if span.label_ == "MONEY" or any(e.label_ == "MONEY" for e in span.ents):
        return True
    root = span.root
    end = root.head.i + 1 if root.dep_ == "nummod" and root.head.i >= span.end else span.end
    figure = quantity(span.doc[span.start : end].text, 0.0, 0.0)  # only its unit is read
    return figure is not None and figure[0].startswith("currency")


def measured(span: Span) -> bool:
    """Is the span a measure or a sum ("410 million euros", "3 km")? Such a span is nobody and nowhere."""
    return span.root.ent_type_ in MEASURES or money(span)


def counts_things(span: Span) -> bool:
    """Does the span's number count a noun that is no unit of measurement ("4,800 children")?"""
    root = span.root
    if root.dep_ != "nummod" or span.start <= root.head.i < span.end or root.head.pos_ != "NOUN":
        return False
    noun = root.head
    return not (is_unit(noun.lemma_.lower()) or is_unit(noun.lower_))


def counted(span: Span) -> frozenset[str]:
    """The match keys of the span and of the noun its number counts ("14.5 million" → "euros")."""
    root = span.root
    if span.label_ != "MONEY" and root.dep_ == "nummod" and not span.start <= root.head.i < span.end:
        return content_keys(span) | keys(root.head)
    return content_keys(span)


def counts_other_kind(span: Span, q: Question) -> bool:
    """Does the span count a noun that is another kind of thing than the question's ("fighters" for
    "how many civilians"; qa/lexicon.py)?"""
    return bool(q.head_lemma) and other_kind(span.root.head.lemma_.lower(), q.head_lemma)


def titled_otherwise(span: Span, q: Question) -> bool:
    """Is a name given a title of another kind than the question's noun ("President Ada Brandt" for
    "which spokesperson", "X, a police spokesman" for "which commander"; qa/lexicon.py)?"""
    return bool(q.head_lemma) and any(
        other_kind(t.lemma_.lower(), q.head_lemma) for t in titles(span.doc, span.start_char, span.end_char)
    )
