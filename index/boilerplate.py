"""Web boilerplate detection: lines that must never become evidence.

The rules are general patterns of web pages (calls to action, share widgets, credits, legal text,
navigation, bylines and link-only lines), not a list of any corpus's lines. Each rule has a name so a
warning or test can say why a line was dropped.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

# (name, pattern). A line matching any pattern is boilerplate.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    # Widgets, not the verb: "Share prices fell" and "pin it on the militants" are news.
    ("share", re.compile(r"\bshare (this|on|via|buttons?)\b|^\W*share\W*$|^\W*pin it\b", _I)),
    (
        "subscribe",
        re.compile(
            r"^\W*(subscribe|sign up|newsletter)\b"
            r"|\b(subscribe|sign up)\b.{0,40}\b(newsletters?|channel|updates|emails?|alerts|podcast)\b"
            r"|\bour ([\w-]+ ){0,3}newsletters?\b|\bmailing list\b|\b(to|in) your inbox\b",
            _I,
        ),
    ),
    (
        "follow",
        re.compile(
            r"\b(follow|find|like|join) us\b|\b(follow|join|like) our \w+ (channel|page|account)s?\b"
            r"|(^|\s)@\w{3,}",
            _I,
        ),
    ),
    ("app", re.compile(r"^\W*download (the|our)\b.{0,40}\bapp\b|\bget the app\b", _I)),
    (
        "donate",
        re.compile(
            r"\b(donate (now|today|here)|support us|support (our|independent) (work|journalism|reporting)"
            r"|become a (member|patron)|make a donation)\b"
            r"|\b(paypal|patreon)\s*:|\b(patreon\.com|paypal\.me)\b",
            _I,
        ),
    ),
    ("support_caps", re.compile(r"^SUPPORT\b[A-Z ]*:?\s*$")),
    (
        "copyright",
        re.compile(
            r"©|^\W*copyright\s*(\(c\)|\d{4}\b|:)|\ball rights reserved\b|\bcopyrighted material\b"
            r"|\bmay not be\b[^.]{0,40}\b(reproduced|republished|redistributed|rewritten)\b",
            _I,
        ),
    ),
    (
        "disclaimer",
        re.compile(r"^\s*disclaimer\b|[\"“]fair use[\"”]|\bsole responsibility of the author", _I),
    ),
    (
        "related",
        re.compile(
            r"^\s*(also read|read more|read also|read next|more from)\b"
            r"|^\s*(related|recommended|see also|watch)\s*(:|$)",
            _I,
        ),
    ),
    ("comments", re.compile(r"^\s*(\d+\s+)?comments?\s*$|^\s*comment on\b|\bleave a (comment|reply)\b", _I)),
    ("click", re.compile(r"\bclick (here|the|on)\b|\bforward this article\b|\bcrosspost\b", _I)),
    ("contact", re.compile(r"\b(media inquiries|contact us|for inquiries)\b", _I)),
    ("translate", re.compile(r"\btranslate website\b|\bcan be read in \d+ languages\b", _I)),
    (
        "navigation",
        re.compile(
            r"^\W*(skip to (main )?content|listen to this (article|story)|continue reading"
            r"|read the full (story|article)|back to top)\b",
            _I,
        ),
    ),
    # A byline or credit line has no sentence end: "By Monday the rebels held 50 towns." is news.
    (
        "byline",
        re.compile(r"^\s*(by|articles by|written by|author)\s*:?\s+\S+(\s+\S+){0,5}(?<![.!?])\s*$", _I),
    ),
    ("credits", re.compile(r"^\W*(additional )?(reporting|writing|editing) by\b[^.!?]*$", _I)),
    (
        "published",
        re.compile(r"^\s*(published|updated|posted)\s+(on|at)?\s*\d|^\s*(published|posted) by\b[^.!?]*$", _I),
    ),
    ("label", re.compile(r"^\s*(region|theme|topic|tags?|category|section|in-depth report|source)\s*:", _I)),
    # Text addressed to a language model rather than to readers (prompt injection) is never evidence.
    (
        "instruction",
        re.compile(
            r"\b(ignore|disregard|forget) (all |any )?(the )?(previous|prior|above|earlier|preceding) "
            r"(instructions|prompts?|messages|rules)\b|\bsystem prompt\b|^\s*(system|assistant)\s*:|"
            r"\byou are (now )?(an? )?(ai|assistant|language model|chatbot)\b|"
            r"\b(respond|reply|answer) (only )?with (the word|exactly)\b|<\|?(im_start|system)\|?>",
            _I,
        ),
    ),
    ("note", re.compile(r"^\s*note to readers\b", _I)),
    (
        "source",
        re.compile(r"\boriginal source of this\b|\bthis (article|story) (first|originally) appeared\b", _I),
    ),
    (
        "photo_credit",
        # An agency name then a "/" that runs to the end of the line ("Ajmal Kakar / Xinhua / Getty Images
        # File"), not a sentence that mentions one ("The Reuters/Ipsos poll found ...").
        re.compile(
            r"\b(getty images|reuters|afp|xinhua|epa|ap photo|shutterstock|photo|image|credit)\b[^.]*"
            r"(/[^.!?]*$|\bfile\s*$|\bcredits?\s*:)|^\s*(photo|image|picture)\s*:",
            _I,
        ),
    ),
]

_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
_MD_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def boilerplate_reason(line: str) -> str | None:
    """Return the name of the rule that marks `line` as boilerplate, or None if it may be evidence."""
    text = line.strip()
    if not text:
        return "blank"
    for name, pattern in _RULES:
        if pattern.search(text):
            return name
    stripped = _MD_LINK.sub(" ", _URL.sub(" ", text))
    words = _WORD.findall(stripped)
    # Link-only: nothing but punctuation, or at most two words once links are gone. A short sentence with
    # a number ("Rebels killed 12.") lost nothing to link removal and is not a link line.
    if not words or len(stripped.strip(" *-–—|:;,.()<>")) == 0 or (len(words) <= 2 and stripped != text):
        return "link_only"
    if len(words) < 4 and not re.search(r"[.!?\"”]\s*$", text):
        # Too short to state a fact: section labels, site names, "People leave Lyon".
        return "fragment"
    letters = [c for c in text if c.isalpha()]
    if len(words) <= 6 and letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return "caps_label"
    return None
