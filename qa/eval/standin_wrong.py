"""The stand-in's wrong answers, pure: a value of the gold answer's type taken from the evidence.

A wrong value of the same type (no tagger needed, deterministic): for a gold answer with a digit, another
number from the evidence put in the gold answer's first number's place ("1,230 km" → "320 km"); for a
gold answer with a capitalised word, another capitalised phrase of the evidence; otherwise as many words
(at most 6) from another line, from its first word that is not a stop word. Values are taken from lines
that hold no gold answer first, and never overlap a gold answer; one is picked by a hash of the id and
seed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.eval.short import squad_tokens

# A number as a whole token: "1,230", "74,000", "1st" (an ordinal), not the "1990" of "1990s".
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?:st|nd|rd|th)?(?!\w)")
_CAPITALISED = re.compile(
    r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|de|du|da|van|von|der|den|la|le|the|and|&)\s+)?[A-Z][\w'’.-]*)*"
)
_STOP_WORDS = (
    "a an the in on at of to for from by with and or but as it its this that these those he she they we i "
    "is are was were be been has have had do does did not no after before during when while if however "
    "there their his her which who whom what where why how than then also such into over under"
)
_STOP = frozenset(_STOP_WORDS.split())
_TRAILING = ".,;: "


def value_kind(value: str) -> str:
    """`number` (it has a digit), `name` (a capitalised word past a leading article) or `phrase`."""
    if re.search(r"\d", value):
        return "number"
    words = re.sub(r"^(?:the|a|an)\s+", "", value.strip(), flags=re.IGNORECASE).split()
    return "name" if any(w[:1].isupper() for w in words) else "phrase"


def _candidates(kind: str, line: str) -> list[str]:
    if kind == "number":
        return _NUMBER.findall(line)
    if kind == "name":
        out = []
        for m in _CAPITALISED.finditer(line):
            phrase = m.group().rstrip(".’'")
            words = phrase.split()
            if all(w.lower() in _STOP for w in words):
                continue
            if len(words) == 1 and not line[: m.start()].strip():
                continue  # a sentence's first word is capitalised by grammar, not because it is a name
            out.append(phrase)
        return out
    return []


def _phrase_window(line: str, n: int, avoid: set[str]) -> str | None:
    words = line.split()
    for i, w in enumerate(words):
        t = squad_tokens(w)
        if t and t[0] not in _STOP and t[0] not in avoid:
            return " ".join(words[i : i + n]).rstrip(_TRAILING)
    return None


def wrong_values(
    value: str, alternatives: Sequence[str], lines: Sequence[tuple[int, str]], gold_lines: set[int]
) -> list[tuple[str, int]]:
    """Same-type wrong values (value, line number) from the evidence: lines without a gold answer first;
    none overlaps a gold answer. A number is replaced by another of the same kind (ordinal or not),
    preferably with as many digits (a year for a year)."""
    kind = value_kind(value)
    gold_tokens = {t for a in alternatives for t in squad_tokens(a)}
    gold_numbers = {n.replace(",", "") for a in alternatives for n in _NUMBER.findall(a)}
    first = _NUMBER.search(value)
    if kind == "number" and first is None:  # a digit inside a word ("A380"): no number to replace
        kind = "phrase"
    ordered = [ln for ln in lines if ln[0] not in gold_lines] + [ln for ln in lines if ln[0] in gold_lines]
    out: dict[str, tuple[str, int, bool]] = {}  # normalised value → (value, line, same size as the gold)
    for n, line in ordered:
        for cand in _candidates(kind, line):
            same_size = True
            if kind == "number":
                assert first is not None
                if cand.replace(",", "") in gold_numbers or _ordinal(cand) != _ordinal(first.group()):
                    continue
                wrong = value[: first.start()] + cand + value[first.end() :]
                same_size = _digits(cand) == _digits(first.group())
            elif set(squad_tokens(cand)) & gold_tokens:
                continue
            else:
                wrong = cand
            out.setdefault(" ".join(squad_tokens(wrong)), (wrong, n, same_size))
    found = [(w, n) for w, n, same in out.values() if same] or [(w, n) for w, n, _ in out.values()]
    return found or wrong_values_phrase(value, lines, gold_lines, gold_tokens)


def _ordinal(number: str) -> bool:
    return number[-1:].isalpha()


def _digits(number: str) -> int:
    return sum(ch.isdigit() for ch in number)


def clean_value(value: str) -> str:
    """An answer as a model would say it: no leading "(~", no trailing punctuation or unmatched ")"."""
    v = value.strip().lstrip("~([{\"'“‘ ").rstrip(_TRAILING + "\"'”’")
    if v.endswith(")") and "(" not in v:
        v = v[:-1].rstrip(_TRAILING)
    return v or value.strip()


def wrong_values_phrase(
    value: str, lines: Sequence[tuple[int, str]], gold_lines: set[int], gold_tokens: set[str]
) -> list[tuple[str, int]]:
    """The `phrase` fallback: as many words as the gold answer (at most 6) from a line without it."""
    n_words = max(1, min(6, len(value.split())))
    out = []
    for n, line in lines:
        if n in gold_lines:
            continue
        w = _phrase_window(line, n_words, gold_tokens)
        if w and not set(squad_tokens(w)) & gold_tokens:
            out.append((w, n))
    return out
