"""The one place where the span answer core's weights live.

The decision has two stages. First the sentence: each evidence sentence is scored by its sentence features
(how much of the question it holds, its retrieval) plus `mix` times its best span's score. Then the span
inside that sentence, by its span features (type fit, nearness and links to the question's words, role).
The answer is given when the answerability logit (from the chosen sentence's and span's scores) reaches
`threshold`; a model's own "cannot answer" is overruled only above `clear`.

The values were fitted on one outside set, squad2-complexity, with
`python -m qa.eval.fit --set qa/eval/sets/squad2-complexity --sample 200 --seed 1`, and are reported on the
others (README "Evaluation").

They are not settings (qa/settings.py): they are a fitted model, changed by refitting on a set, not by an
environment variable; a tuned weight without a refit would answer worse on every measured set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Features the answerability logit reads directly, besides the sentence and span scores. Empty: with the
# 13 unanswerable questions of the set it is fitted on, more inputs only fitted noise (a positive weight
# for question words the corpus never uses, for one).
ANSWERABILITY_FEATURES: tuple[str, ...] = ()
# Features that describe the sentence, the same for every span of it.
SENTENCE_FEATURES = frozenset(
    {
        "cover",
        "context",
        "missing_max",
        "names_missing",
        "sim",
        "rel_sim",
        "rank",
        "files",
        "negation",
    }
)


def _sentence() -> dict[str, float]:
    # Fitted on squad2-complexity (see the module docstring). `names_missing` is set by hand: the fitting
    # set is one article, so a question's name is always somewhere in the file there and the fit cannot
    # see it.
    return {
        "context": 1.302,
        "cover": 3.266,
        "files": 0.01,
        "missing_max": -0.876,
        "names_missing": -1.5,
        "negation": 0.171,
        "rank": 1.795,
        "rel_sim": 2.127,
        "sim": 2.078,
    }


def _span() -> dict[str, float]:
    # Fitted on squad2-complexity. `model`, `marked` and `votes` are set by hand: no model runs in the
    # fit, and one article cannot show agreement across sources.
    return {
        "head": 1.974,
        "length": -0.717,
        "linked": 0.817,
        "marked": 0.2,
        "model": 2.0,
        "near": 0.73,
        "novel": 0.131,
        "role": 0.353,
        "subject": -0.21,
        "type": 1.807,
        "votes": 0.8,
    }


def _answerable() -> dict[str, float]:
    # Fitted on news-multisource with the weights above fixed (`--answerability-only`): on
    # squad2-complexity the adversarial questions score higher than the answerable ones, so a logit fitted
    # there refuses the wrong questions.
    return {"bias": -0.7, "sentence": 0.291, "span": 0.31}


@dataclass(frozen=True)
class Weights:
    """Sentence and span weights, their mix, the answerability logit, its threshold, and the bar for
    overruling a model's refusal."""

    sentence: dict[str, float] = field(default_factory=_sentence)
    span: dict[str, float] = field(default_factory=_span)
    mix: float = 1.0
    answerable: dict[str, float] = field(default_factory=_answerable)
    threshold: float = 0.271  # fitted with it: ≤ 5 % of answerable questions refused there
    # A model's refusal is overruled only above this: the 90th percentile of the answerable questions'
    # logits on news-multisource (the evidence clearly answers).
    clear: float = 2.0

    def sentence_score(self, f: Mapping[str, float]) -> float:
        """The weighted sum of a candidate's sentence features."""
        return sum(self.sentence.get(k, 0.0) * v for k, v in f.items() if k in SENTENCE_FEATURES)

    def span_score(self, f: Mapping[str, float]) -> float:
        """The weighted sum of a candidate's span features."""
        return sum(self.span.get(k, 0.0) * v for k, v in f.items() if k not in SENTENCE_FEATURES)

    def candidate(self, f: Mapping[str, float]) -> float:
        """One number to order candidates by: the sentence's score plus `mix` times the span's."""
        return self.sentence_score(f) + self.mix * self.span_score(f)

    def answerability(self, sentence: float, span: float, f: Mapping[str, float]) -> float:
        """The logit that the chosen sentence and span answer the question (`f`: the span's features)."""
        a = self.answerable
        logit = a.get("bias", 0.0) + a.get("sentence", 0.0) * sentence + a.get("span", 0.0) * span
        return logit + sum(a.get(k, 0.0) * f.get(k, 0.0) for k in ANSWERABILITY_FEATURES)


WEIGHTS = Weights()
