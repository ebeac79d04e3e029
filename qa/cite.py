"""Citation logic, pure: parse the model's markers into claims, verify claims against evidence.

Nothing here touches a model, a store or the network, so every rule is table-tested
(tests/test_cite.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from qa.text import content_words, names, numbers, stem

# [1], [1, 2], [1][2], [ 3 ]: the markers the prompt asks for.
MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
# A partial marker at the very end of a stream chunk ("... [1" or "... [") that may complete later.
_PARTIAL_TAIL = re.compile(r"\[\s*(\d{1,3}(\s*[,;]\s*\d{0,3})*)?\s*$")
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
        marks = tuple(int(n) for m in MARKER.finditer(piece) for n in re.split(r"\s*[,;]\s*", m.group(1)))
        body = strip_markers(piece)
        if not re.search(r"\w", body):
            if claims and marks:  # a marker-only piece: "... district. [1]"
                prev = claims[-1]
                claims[-1] = Claim(prev.text, tuple(dict.fromkeys(prev.markers + marks)))
            continue
        claims.append(Claim(body, tuple(dict.fromkeys(marks))))
    return claims


class ClaimStream:
    """Feed streamed chunks; get each claim once the next one has begun (so trailing markers are in)."""

    def __init__(self) -> None:
        self._buf = ""
        self._emitted = 0

    def feed(self, chunk: str) -> list[Claim]:
        """Add a chunk; return the claims that are now complete."""
        self._buf += chunk
        safe = _PARTIAL_TAIL.sub("", self._buf)
        claims = split_claims(safe)
        ready = claims[self._emitted : max(self._emitted, len(claims) - 1)]
        self._emitted += len(ready)
        return ready

    def close(self) -> list[Claim]:
        """The stream ended: return the claims not yet returned."""
        claims = split_claims(self._buf)
        rest = claims[self._emitted :]
        self._emitted = len(claims)
        return rest

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._buf


@dataclass(frozen=True)
class Support:
    """How well a text supports a claim."""

    supported: bool
    coverage: float
    missing: tuple[str, ...] = field(default=())


def _possessive_head(claim: str, evidence_words: frozenset[str]) -> set[str]:
    """A claim's first word is not checked as a name (it is capitalised anyway), except a possessive one:
    "Mousavi's district…" names Mousavi, and the evidence must too."""
    m = re.match(r"\s*[\"“‘(]*([A-Z][\w-]*)[’']s\b", claim)
    if not m:
        return set()
    head = stem(m.group(1))
    return set() if head in evidence_words else {head}


def support(claim: str, evidence: str | Iterable[str]) -> Support:
    """Does `evidence` support `claim`? Every number and name in the claim must appear in the evidence,
    and at least MIN_COVERAGE of its content words must."""
    ev = evidence if isinstance(evidence, str) else " ".join(evidence)
    c_words = content_words(claim)
    e_words = content_words(ev)
    missing = sorted(
        (numbers(claim) - numbers(ev)) | (names(claim) - e_words) | _possessive_head(claim, e_words)
    )
    if not c_words:
        # A bare figure or date ("about 50", "1185"): supported when its numbers are all there.
        if numbers(claim) and not missing:
            return Support(True, 1.0, ())
        return Support(False, 0.0, tuple(missing) or ("no content words",))
    coverage = len(c_words & e_words) / len(c_words)
    ok = not missing and coverage >= MIN_COVERAGE
    return Support(ok, coverage, tuple(missing))


def verify_citations(claim: str, cited: Sequence[str]) -> list[int]:
    """Indices into `cited` that validly support `claim` (ALCE recall + precision, deterministic).

    A citation that supports the claim alone is kept. If none does, but all of them together do, each
    one that contributes a content word the others lack is kept. Otherwise none is.
    """
    alone = [i for i, t in enumerate(cited) if support(claim, t).supported]
    if alone:
        return alone
    if len(cited) < 2 or not support(claim, cited).supported:
        return []
    c_words = content_words(claim)
    keep = []
    for i, t in enumerate(cited):
        others = set().union(*(content_words(o) for j, o in enumerate(cited) if j != i))
        if (content_words(t) & c_words) - others:
            keep.append(i)
    return keep


def best_support(claim: str, candidates: Sequence[str]) -> int | None:
    """Index of the candidate that best supports `claim` on its own, or None (post-hoc alignment)."""
    best, best_cov = None, -1.0
    for i, t in enumerate(candidates):
        s = support(claim, t)
        if s.supported and s.coverage > best_cov:
            best, best_cov = i, s.coverage
    return best


def iter_markers(text: str) -> Iterator[int]:
    """Every marker number in `text`, in order."""
    for m in MARKER.finditer(text):
        yield from (int(n) for n in re.split(r"\s*[,;]\s*", m.group(1)))


def defang(evidence: str) -> str:
    """Make marker look-alikes inside a document inert before it goes into a prompt: `[3]` → `(3)`."""
    return MARKER.sub(lambda m: f"({m.group(1)})", evidence)
