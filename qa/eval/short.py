"""Short-answer metrics, pure: exact match and token F1 (SQuAD), gold containment, gold-span coverage by the
citations, being fooled by a plausible answer, answer length.

Definitions (the README's "Evaluation" section repeats them):

- **short answer**: the first claim of the answer text as `qa.cite.split_claims` cuts it (so citation
  markers are removed), with enclosing quotation marks stripped (a leading `"“‘'` and a trailing `"”’'`, the
  trailing one possibly followed by `.`, `!` or `?`). A refusal, an error or an empty answer has none.
- **SQuAD normalisation** (`squad_normalize`): lower case; every punctuation character removed (ASCII
  `string.punctuation` and any Unicode punctuation, so "1,230" becomes "1230"); the articles a, an, the
  removed as words; whitespace runs collapsed to one space. Tokens are its space-separated words.
- **exact_match**: the normalised short answer equals a normalised gold answer (any one of them).
- **short_answer_f1**: SQuAD token F1 of the short answer against each gold answer, the best of them.
- **contains_gold**: every answer group has an alternative whose normalised tokens occur, contiguously, in
  the normalised tokens of the whole answer text (markers removed).
- **cited_gold_span**: some gold span `[a, b)` lies inside a citation: inside one valid citation's
  `[start, end)` (so a span that ends exactly at the citation's end, b == end, is covered; one that starts
  at the end, a == end, is not), or inside the union of valid citations of the same file that are
  contiguous, i.e. separated only by whitespace in the file (a gold span across two sentences is covered
  when both sentences are cited).
- **fooled_by_plausible**: an unanswerable question with a plausible answer, not refused, whose answer
  text contains a plausible answer in the sense of contains_gold.
- **answer words**: whitespace-separated tokens holding a letter or digit, markers removed.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from qa.cite import MARKER, split_claims

_ASCII_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Enclosing quotation marks of a quoted sentence: “…”, "…", ‘…’, '…' (a trailing mark may precede . ! ?).
_OPEN_QUOTE = re.compile(r"^\s*[\"“‘']")
_CLOSE_QUOTE = re.compile(r"[\"”’']([.!?]?)\s*$")
_WORD = re.compile(r"[^\W_]")


def squad_normalize(text: str) -> str:
    """Lower case, punctuation removed, a/an/the removed, whitespace collapsed (SQuAD's normalize_answer,
    with Unicode punctuation removed as well as ASCII)."""
    t = text.lower()
    t = "".join(ch for ch in t if ch not in _ASCII_PUNCT and not unicodedata.category(ch).startswith("P"))
    t = _ARTICLES.sub(" ", t)
    return " ".join(t.split())


def squad_tokens(text: str) -> list[str]:
    """The normalised text's words."""
    return squad_normalize(text).split()


def short_answer(answer: str, refused: bool = False) -> str | None:
    """The answer's first claim without markers and enclosing quotation marks; None for a refusal or an
    empty answer."""
    if refused:
        return None
    claims = split_claims(answer)
    if not claims:
        return None
    text = claims[0].text.strip()
    if _OPEN_QUOTE.search(text) and _CLOSE_QUOTE.search(text):
        text = _CLOSE_QUOTE.sub(r"\1", _OPEN_QUOTE.sub("", text, count=1), count=1).strip()
    return text or None


def word_count(text: str | None) -> int:
    """Whitespace-separated tokens that hold a letter or digit, after removing citation markers."""
    if not text:
        return 0
    return sum(1 for tok in MARKER.sub(" ", text).split() if _WORD.search(tok))


def exact_match(prediction: str | None, golds: Sequence[str]) -> bool:
    """Does the normalised prediction equal a normalised gold answer?"""
    if prediction is None:
        return False
    p = squad_normalize(prediction)
    return any(p == squad_normalize(g) for g in golds)


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1: harmonic mean of token precision and recall (tokens counted with multiplicity)."""
    p, g = squad_tokens(prediction), squad_tokens(gold)
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str | None, golds: Sequence[str]) -> float:
    """The best token F1 over the gold answers; 0 without a prediction."""
    if prediction is None or not golds:
        return 0.0
    return max(token_f1(prediction, g) for g in golds)


def contains_phrase(text: str, phrase: str) -> bool:
    """Do the normalised tokens of `phrase` occur contiguously among those of `text`? (An phrase that
    normalises to nothing is never contained.)"""
    needle = squad_tokens(phrase)
    if not needle:
        return False
    hay = squad_tokens(MARKER.sub(" ", text))
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def contains_groups(text: str, groups: Sequence[Sequence[str]]) -> bool:
    """Does every group have an alternative that `text` contains? False without groups."""
    return bool(groups) and all(any(contains_phrase(text, alt) for alt in g) for g in groups)


def covered_intervals(citations: Sequence[Mapping[str, Any]], file: str, text: str) -> list[tuple[int, int]]:
    """The `[start, end)` intervals that the citations of `file` cover, merged where only whitespace of
    `text` separates them (so two cited neighbouring sentences cover the gap between them)."""
    spans = sorted(
        (int(c["start"]), int(c["end"]))
        for c in citations
        if c.get("file") == file and isinstance(c.get("start"), int) and isinstance(c.get("end"), int)
    )
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and (s <= merged[-1][1] or not text[merged[-1][1] : s].strip()):
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def span_covered(span: tuple[int, int], intervals: Sequence[tuple[int, int]]) -> bool:
    """Is `[a, b)` inside one of the intervals?"""
    a, b = span
    return any(s <= a and b <= e for s, e in intervals)


def cites_span(
    citations: Sequence[Mapping[str, Any]], file: str, text: str, spans: Sequence[tuple[int, int]]
) -> bool:
    """Do the citations cover one of the gold spans of `file` (see `covered_intervals`)?"""
    intervals = covered_intervals(citations, file, text)
    return any(span_covered(sp, intervals) for sp in spans)


def overlaps_span(
    citations: Sequence[Mapping[str, Any]], file: str, spans: Sequence[tuple[int, int]]
) -> bool:
    """Does a citation of `file` share at least one character with a gold span?"""
    return any(
        c.get("file") == file and int(c.get("start", -1)) < b and a < int(c.get("end", -1))
        for c in citations
        for a, b in spans
    )
