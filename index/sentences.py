"""Article text → sentences with stable ids and exact character spans.

Lines are split first (headlines and captions carry no final period), then each line with nltk's trained
English Punkt model, which keeps "U.S." and quotations whole. For every sentence,
`text[start:end] == sentence.text`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.boilerplate import boilerplate_reason

# Any line break ends a line: \n, \r\n, a lone \r (old Mac exports) and the Unicode separators.
_LINE = re.compile(r"[^\r\n\u2028\u2029]+")
_STRIP = " \t\r\f\v\ufeff\u00a0\u200b"


@dataclass(frozen=True)
class Sentence:
    """One sentence of one article: a citable unit."""

    file: str
    n: int
    start: int
    end: int
    text: str
    boilerplate: str | None = None

    @property
    def id(self) -> str:
        """Stable id `<file>#<n>`, n 1-based within the file."""
        return f"{self.file}#{self.n}"


@functools.cache
def _punkt() -> object:
    import llama_index.core
    import nltk

    cache = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
    if str(cache) not in nltk.data.path:
        nltk.data.path.append(str(cache))
    from nltk.tokenize.punkt import PunktTokenizer

    return PunktTokenizer("english")


def _spans(line: str) -> list[tuple[int, int]]:
    """Punkt spans, with a piece that starts in lower case glued back to the one before it: Punkt still
    breaks after an abbreviation that ends a clause ("the U.S. homeland")."""
    tok = _punkt()
    spans: list[tuple[int, int]] = []
    for s, e in tok.span_tokenize(line):  # type: ignore[attr-defined]
        head = line[s:e].lstrip(_STRIP + "“”\"'‘’")[:1]
        if spans and (head.islower() or not head):
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    return start, end


def _cut_long(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    # Cut at whitespace so that one run-on line cannot flood a prompt.
    while end - start > max_chars:
        cut = text.rfind(" ", start, start + max_chars)
        if cut <= start:
            cut = start + max_chars
        yield _trim(text, start, cut)
        start, _ = _trim(text, cut, end)
    if end > start:
        yield start, end


def split_sentences(file: str, text: str, max_chars: int) -> list[Sentence]:
    """Split one article into sentences, numbered from 1, each marked if it is boilerplate; a sentence
    over `max_chars` (`IndexSettings.max_sentence_chars`) is cut into pieces.

    A sentence is boilerplate when its whole line is (a share widget, a disclaimer paragraph) or when the
    sentence itself is (a "click the share buttons" sentence inside a reader's note).
    """
    out: list[Sentence] = []
    for m in _LINE.finditer(text):
        line_start, line_end = _trim(text, m.start(), m.end())
        if line_start >= line_end:
            continue
        line = text[line_start:line_end]
        line_reason = boilerplate_reason(line)
        for s, e in _spans(line):
            s, e = _trim(line, s, e)
            for a, b in _cut_long(line, s, e, max_chars):
                if a >= b:
                    continue
                piece = line[a:b]
                reason = line_reason or boilerplate_reason(piece)
                out.append(Sentence(file, len(out) + 1, line_start + a, line_start + b, piece, reason))
    return out
