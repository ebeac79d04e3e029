"""Light lexical keys for search, grouping and the ALCE-style support measure. Pure functions.

Number words become digits through text2num ("five" → "5").

Words are matched by their Snowball stem (PyStemmer) after case and accent folding, so "died" meets
"dies" and "Hervé" meets "Herve"; an irregular form is stemmed from its base in WordNet's exception
tables ("ran" meets "run", qa/lexicon.base_form); stop words are spaCy's English list. No model runs
here: this is what BM25 and near-duplicate grouping use on every sentence of the corpus. The parse-based
checks (entities, roles, negation) live in qa/nlp.py and qa/verify.py.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from spacy.lang.en.stop_words import STOP_WORDS

from qa.lexicon import base_form

STOPWORDS = frozenset(STOP_WORDS) | {"said", "says", "according"}
# A comma joins digits only ("2,500"), so "Lyon,Paris" still splits.
_WORD = re.compile(r"[^\W_]+(?:(?:[.'’-]|(?<=\d),(?=\d))[^\W_]+)*")
# Digits wherever they stand, also inside a compound ("20-year", "2,500-strong", "1990s").
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


@functools.cache
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """NFKC, accents removed ("Hervé" → "Herve"), unified quotes and dashes, lower case."""
    t = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return t.replace("–", "-").replace("—", "-").casefold()


# Kept under its old name for callers that only need the folded text.
normalize = fold


@functools.lru_cache(maxsize=262144)
def stem(word: str) -> str:
    """The Snowball stem of a folded word, possessive removed ("district's" → "district"), of its base
    when it is an irregular form ("struck" → "strike")."""
    w = fold(word)
    w = base_form(w[:-2] if w.endswith("'s") else w)
    return str(_stemmer().stemWord(w))  # type: ignore[attr-defined]


def words(text: str) -> list[str]:
    """Word tokens of the folded text (keeps 2,500 and U.S. whole)."""
    return _WORD.findall(fold(text))


@functools.lru_cache(maxsize=65536)
def numbers(text: str) -> frozenset[str]:
    """Numbers in `text`, canonical ("2,500" → "2500", "21st" → "21", "five" → "5"); number words are
    read by text2num."""
    from text_to_num import alpha2digit

    digits = alpha2digit(re.sub(r"(?<=[a-z])-(?=[a-z])", " ", fold(text)), "en")  # "five-year" too
    return frozenset(m.group().replace(",", "") for m in _DIGITS.finditer(digits))


def number_value(word: str) -> str | None:
    """The canonical value of one number written in digits or words ("two" → "2", "1,200" → "1200"),
    None when it is not one; small numbers too, which `numbers` leaves as words in running text."""
    from text_to_num import alpha2digit

    digits = alpha2digit(re.sub(r"(?<=[a-z])-(?=[a-z])", " ", fold(word)), "en", threshold=0)
    found = [m.group().replace(",", "") for m in _DIGITS.finditer(digits)]
    return found[0] if len(found) == 1 else None


def _is_number(word: str) -> bool:
    return bool(_DIGITS.fullmatch(re.sub(r"(st|nd|rd|th|s)$", "", word)))


@functools.lru_cache(maxsize=65536)
def content_words(text: str) -> frozenset[str]:
    """Stemmed content words: no stop words, no numbers, no one-letter tokens."""
    return frozenset(stem(w) for w in words(text) if w not in STOPWORDS and not _is_number(w) and len(w) > 1)
