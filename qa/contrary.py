"""Does a sentence say the opposite of what the question asks? Pure given the parses; table-tested.

A question and a sentence can share almost every word and still disagree on the one that matters: the
question asks about a decrease where the sentence reports an increase, about the smallest where it names
the largest, about three where it says two. Whatever the sentence then names, it does not answer the
question. A question that names both poles ("abstract or concrete?") contradicts nothing, and a negated
antonym agrees ("not equal" for "unequal"). Two signs are read, both from libraries (WordNet's antonym
links, spaCy's parse, text2num's number words):

- a word of the question the sentence does not hold, whose WordNet antonym it holds instead;
- a number the question gives for a noun ("three numbers") where the sentence gives that noun another
  number and never the question's.

The question's side is read once, in `frame` (qa/question.py), into `Contrasts`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.lexical import number_value
from qa.lexicon import opposites
from qa.nlp import is_content, keys

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

_TAGS = ("VERB", "NOUN", "ADJ", "ADV")


@dataclass(frozen=True)
class Contrasts:
    """What of the question a sentence may contradict: each opposable word (its text, its match keys,
    its antonyms) and each counted noun (the number, the noun's lemma)."""

    words: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = ()
    counts: tuple[tuple[str, str], ...] = ()


def contrasts(toks: Sequence[Token], skip: set[int]) -> Contrasts:
    """The question's side, from its tokens (those in `skip`, the wh-word and the type noun, left out)."""
    words = []
    own = {t.lemma_.lower() for t in toks} | {t.lower_ for t in toks}
    for t in toks:
        if t.i in skip or t.pos_ not in _TAGS or not is_content(t):
            continue
        ants = opposites(t.lemma_, t.pos_) | opposites(t.lower_, t.pos_)
        if ants and not ants & own:  # "abstract or concrete?" asks about both
            words.append((t.text, keys(t), ants))
    counts = []
    for t in toks:
        value = number_value(t.text) if t.dep_ == "nummod" and t.head.pos_ == "NOUN" else None
        if value is not None:
            counts.append((value, t.head.lemma_.lower()))
    return Contrasts(tuple(words), tuple(counts))


@functools.lru_cache(maxsize=4096)
def contrary(c: Contrasts, doc: Doc) -> str:
    """Why the sentence says the opposite of the question ("it says “increase” where the question says
    “decrease”"); "" when it does not. Cached per question and parse, as every span of a sentence asks."""
    if not c.words and not c.counts:
        return ""
    held = set().union(*(keys(t) for t in doc if is_content(t))) if c.words and len(doc) else set()
    for text, ks, ants in c.words:
        if ks & held:
            continue
        for t in doc:
            if t.pos_ in _TAGS and (t.lemma_.lower() in ants or t.lower_ in ants) and not _negated(t):
                return f"it says “{t.text}” where the question says “{text}”"
    said = {number_value(t.text) for t in doc if t.like_num} if c.counts else set()
    for value, noun in c.counts:
        if value in said:
            continue
        for t in doc:
            if t.lemma_.lower() != noun:
                continue
            other = [
                n for n in t.children if n.dep_ == "nummod" and number_value(n.text) not in (None, value)
            ]
            if other:
                return f"it says “{other[0].text} {t.text}” where the question says {value}"
    return ""


def _negated(t: Token) -> bool:
    """ "not equal" says "unequal": the word negated, or its head verb negated ("is not equal")."""
    return any(c.dep_ == "neg" for c in t.children) or (
        t.dep_ in ("acomp", "attr") and any(c.dep_ == "neg" for c in t.head.children)
    )
