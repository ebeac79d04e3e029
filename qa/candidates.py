"""The hand-offs between the answer stages: a `Proposal` (a span of an evidence sentence offered as the
answer, by the rules or by the model), the `Verdict` on it, and a `Candidate` (a kept proposal with its
features and score). Frozen: a stage makes new ones, it never patches what an earlier stage built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from qa.evidence import Evidence
from qa.lexical import fold

if TYPE_CHECKING:
    from qa.score import Features

Source = Literal["extractive", "model"]


@dataclass(frozen=True)
class Proposal:
    """A span `[start, end)` of an evidence sentence's text, with its entity label (or NP, CARDINAL,
    TIME, CLAUSE), who proposed it, and whether the model marked its sentence."""

    text: str
    evidence: Evidence
    start: int
    end: int
    label: str
    source: Source = "extractive"
    marked: bool = False

    @property
    def key(self) -> str:
        """What the proposal asserts, normalised: two spans with the same key are one answer."""
        return " ".join(w for w in fold(self.text).replace("'s", "").split() if w not in ("the", "a", "an"))


@dataclass(frozen=True)
class Verdict:
    """Whether a proposal can be the answer, and why not; with what the checks found, which scoring
    reads: the answer kind's fit and whether the span is an argument of the question's predicate (None
    where the sentence does not use the predicate)."""

    kept: bool
    reason: str = ""
    fit: float = 0.0
    role: bool | None = None


@dataclass(frozen=True)
class Candidate:
    """A verified proposal, its features and its score."""

    proposal: Proposal
    verdict: Verdict
    features: Features
    score: float

    @property
    def text(self) -> str:
        """The span's text."""
        return self.proposal.text

    @property
    def evidence(self) -> Evidence:
        """The evidence sentence it is a span of."""
        return self.proposal.evidence

    @property
    def start(self) -> int:
        """Where it starts in the sentence's text."""
        return self.proposal.start

    @property
    def end(self) -> int:
        """Where it ends in the sentence's text."""
        return self.proposal.end

    @property
    def label(self) -> str:
        """Its entity label (or NP, CARDINAL, TIME, CLAUSE)."""
        return self.proposal.label

    @property
    def source(self) -> Source:
        """Who proposed it."""
        return self.proposal.source

    @property
    def key(self) -> str:
        """What it asserts, normalised."""
        return self.proposal.key
