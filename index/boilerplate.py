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
    ("share", re.compile(r"\bshare (this|on|buttons?)\b|^share\b|\bpin it\b", _I)),
    ("subscribe", re.compile(r"\b(subscribe|subscription|newsletter|sign up for|mailing list)\b", _I)),
    ("follow", re.compile(r"\b(follow|find|like|join) us\b|(^|\s)@\w{3,}", _I)),
    ("app", re.compile(r"\bdownload (the|our)\b.{0,40}\bapp\b|\bget the app\b", _I)),
    ("donate", re.compile(r"\b(donate now|paypal|patreon|support us|become a (member|patron)|make a donation)\b", _I)),
    ("support_caps", re.compile(r"^SUPPORT\b[A-Z ]*:?\s*$")),
    ("copyright", re.compile(r"©|^\s*copyright\b|\ball rights reserved\b|\bcopyrighted material\b", _I)),
    ("disclaimer", re.compile(r"^\s*disclaimer\b|\bfair use\b|\bsole responsibility of the author", _I)),
    ("related", re.compile(r"^\s*(also read|read more|read also)\b|^\s*(related|recommended|see also|watch)\s*(:|$)", _I)),
    ("comments", re.compile(r"^\s*(\d+\s+)?comments?\s*$|^\s*comment on\b|\bleave a (comment|reply)\b", _I)),
    ("click", re.compile(r"\bclick (here|the|on)\b|\bforward this article\b|\bcrosspost\b", _I)),
    ("contact", re.compile(r"\b(media inquiries|contact us|for inquiries)\b", _I)),
    ("translate", re.compile(r"\btranslate website\b|\bcan be read in \d+ languages\b", _I)),
    ("byline", re.compile(r"^\s*(by|articles by|written by|author)\s*:?\s+\S+(\s+\S+){0,5}\s*$", _I)),
    ("published", re.compile(r"^\s*(published|updated|posted)\s+(on|at)?\s*\d", _I)),
    ("label", re.compile(r"^\s*(region|theme|topic|tags?|category|section|in-depth report|source)\s*:", _I)),
    ("note", re.compile(r"^\s*note to readers\b", _I)),
    ("source", re.compile(r"\boriginal source of this\b|\bthis (article|story) (first|originally) appeared\b", _I)),
    (
        "photo_credit",
        re.compile(
            r"\b(getty images|reuters|afp|xinhua|epa|ap photo|shutterstock|photo|image|credit)\b[^.]*"
            r"(/|\bfile\s*$|\bcredits?\s*:)|^\s*(photo|image|picture)\s*:",
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
    if len(stripped.strip(" *-–—|:;,.()<>")) == 0 or (len(words) <= 2 and len(words) < len(text.split())):
        return "link_only"
    if len(words) < 4 and not re.search(r"[.!?\"”]\s*$", text):
        # Too short to state a fact: section labels, site names, "People leave Kunduz".
        return "fragment"
    letters = [c for c in text if c.isalpha()]
    if len(words) <= 6 and letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        return "caps_label"
    return None


def is_boilerplate(line: str) -> bool:
    """True when `line` is web boilerplate that must not be indexed as evidence."""
    return boilerplate_reason(line) is not None
