"""Scoring citations, pure: is each one exactly a citable sentence of its file, and do the sentences an
answer cites support its claims (ALCE citation recall and precision)? Definitions in qa/eval/metrics.py.
`Sources` is the corpus as the scorer sees it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from index.sentences import Sentence, split_sentences
from qa.cite import MARKER, marker_numbers, split_claims, support
from qa.eval.pairs import Evidence


class Sources:
    """The corpus as the scorer sees it: each file's exact text and its sentences (split on demand)."""

    def __init__(self, texts: Mapping[str, str], max_chars: int) -> None:
        self._texts = dict(texts)
        self._max_chars = max_chars  # as the index split them (`IndexSettings.max_sentence_chars`)
        self._sentences: dict[str, list[Sentence]] = {}

    def text(self, file: str) -> str | None:
        """The file's text, or None when the corpus has no such file."""
        return self._texts.get(file)

    def sentences(self, file: str) -> list[Sentence]:
        """All sentences of the file, boilerplate included, numbered as `split_sentences` numbers them."""
        if file not in self._sentences:
            text = self._texts.get(file)
            self._sentences[file] = split_sentences(file, text, self._max_chars) if text is not None else []
        return self._sentences[file]

    def sentence(self, file: str, n: int) -> Sentence | None:
        """Sentence `n` (1-based) of the file."""
        sents = self.sentences(file)
        return sents[n - 1] if 1 <= n <= len(sents) else None


def invalid_reason(citation: Mapping[str, Any], sources: Sources) -> str | None:
    """Why `citation` is not exactly one citable sentence of its file, or None when it is."""
    file, quote = citation.get("file"), citation.get("quote")
    start, end, n = citation.get("start"), citation.get("end"), citation.get("sentence")
    if not isinstance(file, str) or (text := sources.text(file)) is None:
        return f"file {file!r} is not in the corpus"
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(n, int)) or not isinstance(
        quote, str
    ):
        return "start, end, sentence or quote missing"
    if not 0 <= start < end <= len(text):
        return f"span {start}:{end} is outside the file"
    if text[start:end] != quote:
        return f"quote differs from the file text at {start}:{end}"
    s = sources.sentence(file, n)
    if s is None:
        return f"the file has no sentence {n}"
    if (s.start, s.end) != (start, end):
        over = sum(1 for x in sources.sentences(file) if x.start < end and x.end > start)
        return f"span {start}:{end} is not sentence {n} ({s.start}:{s.end}); it overlaps {over} sentence(s)"
    if citation.get("id") != s.id:
        return f"id {citation.get('id')!r} is not {s.id!r}"
    if s.boilerplate:
        return f"sentence {n} is boilerplate ({s.boilerplate})"
    return None


@dataclass(frozen=True)
class ClaimScore:
    """One answer sentence: the marker numbers it carries, whether they support it, which are relevant."""

    text: str
    markers: tuple[int, ...]
    supported: bool
    precise: tuple[bool, ...]


def score_claims(answer: str, quotes: Sequence[str]) -> list[ClaimScore]:
    """ALCE citation recall and precision for each claim. Marker k refers to quotes[k-1]; a marker with no
    quote cites nothing (and is never relevant)."""
    out: list[ClaimScore] = []
    for claim in split_claims(answer):
        cited = [quotes[m - 1] if 1 <= m <= len(quotes) else None for m in claim.markers]
        real = [q for q in cited if q is not None]
        supported = bool(real) and support(claim.text, real).supported
        precise: list[bool] = []
        for i, q in enumerate(cited):
            if not supported or q is None:
                precise.append(False)
            elif support(claim.text, q).supported:
                precise.append(True)
            else:
                others = [o for j, o in enumerate(cited) if j != i and o is not None]
                precise.append(not (others and support(claim.text, others).supported))
        out.append(ClaimScore(claim.text, claim.markers, supported, tuple(precise)))
    return out


def dangling_markers(answer: str, n_citations: int) -> list[int]:
    """Marker numbers in `answer` that point at no citation, once each."""
    nums = (n for m in MARKER.finditer(answer) for n in marker_numbers(m))
    return list(dict.fromkeys(n for n in nums if not 1 <= n <= n_citations))


def evidence_hit(citations: Sequence[Mapping[str, Any]], evidence: Iterable[Evidence]) -> bool:
    """Does some citation quote a gold evidence string from the right file?"""
    evs = list(evidence)
    return any(
        c.get("file") == ev.file and ev.contains in str(c.get("quote") or "") for c in citations for ev in evs
    )
