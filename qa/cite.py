"""Citation markers and claims, pure: parse the model's markers into claims, defang marker look-alikes in
evidence, and the ALCE-style lexical support measure the evaluation reports.

Nothing here touches a store or the network; `names` reads spaCy's part-of-speech tags. Every rule is
table-tested (tests/test_cite.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from qa.lexical import content_words, numbers, stem, words
from qa.prompts import QUOTED

# [1], [1, 2], [1][2], [ 3 ]: the markers the prompt asks for and the pipeline writes. The one marker
# grammar: every module that reads markers uses it (tests/test_code_health.py checks).
MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
_MARKER_SEP = re.compile(r"\s*[,;]\s*")
# A sentence ends at . ! ? (plus closing quotes and any markers that follow it) before the next word.
_SENT_END = re.compile(r"[.!?][\"'”’)]*(?:\s*\[[\d\s,;]*\])*(?=\s+[^\s\[a-z])")
# A line break ends a claim too when the next line starts like a new one (not with a marker, not in lower
# case): models write lists and paragraphs without a final period.
_LINE_END = re.compile(r"[^\S\n]*\n\s*(?=[^\s\[a-z])")
# A list bullet or number that starts a line ("- ", "* ", "• ", "2. ", "3) ") is layout, not a claim.
_BULLET = re.compile(r"^(?:[-*•]|\d{1,2}[.)])[^\S\n]+")
# A period after an abbreviation ("U.S.", "p.m.", "J.", "Gen.") ends no claim unless a marker follows it.
_ABBREV = re.compile(
    r"(?:\b(?:[A-Za-z]\.){2,}|\b[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|Capt|Gov|Sen|Rep|Prof|St|Jan|Feb|Aug"
    r"|Sept|Oct|Nov|Dec)\.)$"
)
# Support thresholds (ALCE-style, deterministic): the share of a claim's content words its evidence must hold.
MIN_COVERAGE = 0.6


@dataclass(frozen=True)
class Claim:
    """One answer sentence with the evidence numbers the model attached to it."""

    text: str
    markers: tuple[int, ...] = ()


def marker_numbers(m: re.Match[str]) -> list[int]:
    """The numbers of one MARKER match, in order: `[1, 2]` → [1, 2]."""
    return [int(n) for n in _MARKER_SEP.split(m.group(1))]


def strip_markers(text: str) -> str:
    """Text without citation markers, whitespace tidied."""
    t = MARKER.sub("", text)
    t = re.sub(r"\s+([.,;:!?])", r"\1", t)
    return re.sub(r"\s+", " ", t).strip()


def split_claims(text: str) -> list[Claim]:
    """Split model output into claims. Markers after a sentence's period belong to that sentence."""
    text = text.strip()
    if not text:
        return []
    pieces: list[str] = []
    for para in _LINE_END.split(text):
        para = _BULLET.sub("", para)
        last = 0
        for m in _SENT_END.finditer(para):
            if "[" not in m.group() and _ABBREV.search(para, 0, m.start() + 1):
                continue
            pieces.append(para[last : m.end()])
            last = m.end()
        pieces.append(para[last:])
    pieces = [p for p in pieces if p.strip()]
    claims: list[Claim] = []
    for piece in pieces:
        marks = tuple(n for m in MARKER.finditer(piece) for n in marker_numbers(m))
        body = strip_markers(piece)
        if not re.search(r"\w", body):
            if claims and marks:  # a marker-only piece: "... district. [1]"
                prev = claims[-1]
                claims[-1] = Claim(prev.text, tuple(dict.fromkeys(prev.markers + marks)))
            continue
        claims.append(Claim(body, tuple(dict.fromkeys(marks))))
    return claims


@dataclass(frozen=True)
class Support:
    """How well a text supports a claim."""

    supported: bool
    coverage: float
    missing: tuple[str, ...] = field(default=())


def names(text: str) -> frozenset[str]:
    """Stems of the proper nouns in `text`, as spaCy's tagger reads them, dots dropped ("U.S." = "US")."""
    from qa.nlp import parse

    return frozenset(
        stem(t.text.replace(".", ""))
        for t in parse(text)
        if t.pos_ == "PROPN" and any(c.isalpha() for c in t.text)
    )


def _name_stems(text: str) -> frozenset[str]:
    """The stems a name of `text` may be read as: each word, and each part of a hyphenated one (spaCy
    tags "Auvergne", "Rhône" and "Alpes" of "Auvergne-Rhône-Alpes" as names of their own)."""
    out: set[str] = set()
    for w in words(text):
        w = w.replace(".", "")
        out |= {stem(w), *(stem(p) for p in re.split(r"[-‐‑–]", w) if p)}
    return frozenset(out)


def unframed(claim: str) -> str:
    """The claim without the words the pipeline frames a quoted answer with ("The closest the articles
    come: “…”" states only the quote)."""
    head = QUOTED.split("{quote}")[0]
    return claim[len(head) :].rstrip().removesuffix("”") if claim.startswith(head) else claim


def support(claim: str, evidence: str | Iterable[str]) -> Support:
    """Does `evidence` support `claim`? Every number and name in the claim must appear in the evidence,
    and at least MIN_COVERAGE of its content words must. The framing of a quoted answer is no claim."""
    claim = unframed(claim)
    ev = evidence if isinstance(evidence, str) else " ".join(evidence)
    c_words = content_words(claim)
    e_words = content_words(ev)
    missing = sorted((numbers(claim) - numbers(ev)) | (names(claim) - _name_stems(ev)))
    if not c_words:
        # A bare figure or date ("about 50", "1185"): supported when its numbers are all there.
        if numbers(claim) and not missing:
            return Support(True, 1.0, ())
        return Support(False, 0.0, tuple(missing) or ("no content words",))
    coverage = len(c_words & e_words) / len(c_words)
    ok = not missing and coverage >= MIN_COVERAGE
    return Support(ok, coverage, tuple(missing))


def defang(evidence: str) -> str:
    """Make marker look-alikes inside a document inert before it goes into a prompt: `[3]` → `(3)`."""
    return MARKER.sub(lambda m: f"({m.group(1)})", evidence)
