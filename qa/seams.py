"""The seams of the answer core: where a learned part could replace a rule set. Today's rules are one
implementation of each (qa/propose.py `SpanProposer`, qa/verify.py `RuleVerifier`, qa/weights.py
`Weights`); the model's reply is another proposer (qa/propose.py `ModelProposer`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qa.candidates import Proposal, Verdict
    from qa.evidence import Evidence
    from qa.question import Question
    from qa.score import Features, SentenceFeatures, SpanFeatures


class Proposer(Protocol):
    """Offers spans of the evidence as the answer."""

    def propose(
        self, q: Question, evidence: Sequence[Evidence], labels: frozenset[str] | None = None
    ) -> list[Proposal]: ...


class Verifier(Protocol):
    """Says whether a proposal's sentence states it as the answer to the question, and why not."""

    def verify(self, q: Question, p: Proposal) -> Verdict: ...


class Scorer(Protocol):
    """Weighs typed features into the sentence score, the span score and the answerability logit."""

    def sentence_score(self, f: SentenceFeatures) -> float: ...

    def span_score(self, f: SpanFeatures) -> float: ...

    def candidate(self, f: Features) -> float: ...

    def answerability(self, sentence: float, span: float) -> float: ...
