"""Tokens used by verification, grouping and refusal: content words, numbers, names. Pure functions."""

from __future__ import annotations

import functools
import re
import unicodedata

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no nor not
    now of off on once only or other our ours out over own same she should so some such than that the their
    theirs them then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours said says say according also yet still
    one's it's what's which's per via get gets got getting make makes made go goes went gone come came
    give gave given put puts than though although however meanwhile like since
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# Words that frame a question rather than carry its content.
QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how many much did does do is are was were according
    article articles report reports reported say said tell mention mentioned name named kind type
    happen happened take taking place like day time""".split()  # noqa: SIM905
)
# fmt: off
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "fifty": "50",
    "hundred": "100", "thousand": "1000", "first": "1", "second": "2", "third": "3", "dozen": "12",
    "dozens": "dozens", "hundreds": "hundreds", "thousands": "thousands", "millions": "millions",
    "billions": "billions", "trillions": "trillions",
}
# fmt: on
# A comma joins digits only ("2,500"), so "Kunduz,Baghlan" still splits.
_WORD = re.compile(r"[^\W_]+(?:(?:[.'’-]|(?<=\d),(?=\d))[^\W_]+)*")
# Digits wherever they stand, also inside a compound ("20-year", "2,500-strong", "1990s").
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_NUM = re.compile(r"^\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?$")


@functools.lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """NFKC (full-width digits → ASCII), unified quotes and dashes, lower case."""
    t = unicodedata.normalize("NFKC", text)
    t = t.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    t = t.replace("–", "-").replace("—", "-").lower()
    return t.replace("u.s.", "us").replace("u.k.", "uk")


# General English, not corpus-specific: irregular verb forms and nationality words map to one form, so
# "began" meets "begin" and "American" meets "US".
# fmt: off
_LEMMAS = {
    "began": "begin", "begun": "begin", "took": "take", "taken": "take", "fell": "fall", "fallen": "fall",
    "fought": "fight", "won": "win", "lost": "lose", "left": "leave", "met": "meet", "held": "hold",
    "sent": "send", "spoke": "speak", "spoken": "speak", "told": "tell", "killed": "kill", "drove": "drive",
    "driven": "drive", "fled": "flee", "seized": "seize", "ran": "run", "gave": "give", "brought": "bring",
    "kept": "keep", "led": "lead", "paid": "pay", "sought": "seek", "thought": "think", "wrote": "write",
    "written": "write", "chose": "choose", "chosen": "choose", "knew": "know", "known": "know",
    "overran": "overrun", "withdrew": "withdraw", "withdrawn": "withdraw", "withdrawal": "withdraw",
    "american": "us", "americans": "us", "america": "us", "united states": "us", "afghan": "afghanistan",
    "afghans": "afghanistan", "british": "uk", "britain": "uk", "russian": "russia", "russians": "russia",
    "chinese": "china", "pakistani": "pakistan", "iranian": "iran", "turkish": "turkey", "french": "france",
    "german": "germany", "indian": "india", "qatari": "qatar", "tajik": "tajikistan", "uzbek": "uzbekistan",
}
# fmt: on


@functools.lru_cache(maxsize=262144)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match district/districts, capture/captured, fight/fighting."""
    w = word.lower().replace("'s", "").replace("’s", "")
    if w in _LEMMAS:
        return _LEMMAS[w]
    for suf, rep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)] + rep
            break
    if w.endswith("re") and len(w) > 5 and w[-3] not in "aeiou":
        w = w[:-2] + "er"  # British spelling: kilometre → kilometer, centre → center
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def words(text: str) -> list[str]:
    """Word tokens of the normalised text (keeps 2,500 and U.S. whole)."""
    return _WORD.findall(normalize(text))


def _num(token: str) -> str | None:
    t = token.lower()
    if t in _NUMBER_WORDS:
        return _NUMBER_WORDS[t]
    if _NUM.match(t):
        return re.sub(r"(st|nd|rd|th|s)$", "", t).replace(",", "")
    return None


@functools.lru_cache(maxsize=65536)
def numbers(text: str) -> frozenset[str]:
    """Numbers in `text`, canonical ("2,500" → "2500", "21st" → "21", "five" → "5")."""
    t = normalize(text)
    out = {m.group().replace(",", "") for m in _DIGITS.finditer(t)}
    # Number words count too, also inside a compound ("five-year").
    out.update(_NUMBER_WORDS[p] for w in _WORD.findall(t) for p in w.split("-") if p in _NUMBER_WORDS)
    return frozenset(out)


@functools.lru_cache(maxsize=65536)
def content_words(text: str) -> frozenset[str]:
    """Stemmed content words: no stopwords, no numbers, no one-letter tokens."""
    return frozenset(stem(w) for w in words(text) if w not in STOPWORDS and _num(w) is None and len(w) > 1)


_NAME = re.compile(r"(?<![\w.])([A-Z][\w’'.-]*[a-z][\w’'-]*|[A-Z]{2,}|U\.S\.)")


def names(text: str) -> frozenset[str]:
    """Capitalised words that are not the first word of the text and not stopwords, stemmed.

    These stand for names, places, months and weekdays: a claim may only contain the ones its evidence has.
    """
    t = unicodedata.normalize("NFKC", text).strip().lstrip("\"'“‘(")
    out = set()
    for m in _NAME.finditer(t):
        if m.start() == 0:
            continue
        w = m.group(1)
        if w.lower() in STOPWORDS:
            continue
        out.add(stem(normalize(w)))
    return frozenset(out)
