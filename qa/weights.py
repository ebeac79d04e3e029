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

from dataclasses import dataclass, field

from qa.score import SENTENCE_FEATURES, SPAN_FEATURES, Features, SentenceFeatures, SpanFeatures


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
    """Sentence and span weights, their mix, the answerability logit and its two thresholds, and the bar
    for overruling a model's refusal. The rule scorer (qa/seams.py `Scorer`)."""

    sentence: dict[str, float] = field(default_factory=_sentence)
    span: dict[str, float] = field(default_factory=_span)
    mix: float = 1.0
    answerable: dict[str, float] = field(default_factory=_answerable)
    # Below `threshold` the evidence is off the question: a refusal. Fitted with the logit: ≤ 5 % of the
    # answerable questions refused there.
    threshold: float = 0.271
    # At or above `answer` a span of the rules is clear enough to be the short answer; between the two
    # the best sentence is quoted. Fitted on squad2-complexity (200, seed 1) and news-multisource with
    # `python -m qa.eval.fit --set … --set … --outcomes`: the value above which the rules' short answers,
    # counted together, are right more often than wrong (+1 a good one, -1 a wrong one or one to an
    # unanswerable question). The rules are seldom clear: on squad2-complexity their short answer is
    # right for under a third of the questions at any score. A verified phrase of the model's needs only
    # `threshold`: it was read by a model, then checked.
    answer: float = 1.852
    # A model's refusal is overruled only above this: the 90th percentile of the answerable questions'
    # logits on news-multisource (the evidence clearly answers).
    clear: float = 2.0
    # An open question (no entity label asked: what, why, how) is refused only below this; between it
    # and `threshold` the best sentence is quoted as the closest the articles come. A question that asks
    # for a name, a place, a date or a figure keeps `threshold`: a sentence that holds none is no answer.
    # Fitted on squad2-complexity (all 418) and news-multisource: the highest bar at which the share of
    # answerable questions whose answer holds a gold answer stops rising (it is flat from -1 down).
    refuse: float = -1.0

    def sentence_score(self, f: SentenceFeatures) -> float:
        """The weighted sum of a sentence's features."""
        return sum(self.sentence.get(k, 0.0) * getattr(f, k) for k in SENTENCE_FEATURES)

    def span_score(self, f: SpanFeatures) -> float:
        """The weighted sum of a span's features."""
        return sum(self.span.get(k, 0.0) * getattr(f, k) for k in SPAN_FEATURES)

    def candidate(self, f: Features) -> float:
        """One number to order candidates by: the sentence's score plus `mix` times the span's."""
        return self.sentence_score(f.sentence) + self.mix * self.span_score(f.span)

    def answerability(self, sentence: float, span: float) -> float:
        """The logit that the chosen sentence and span answer the question."""
        a = self.answerable
        return a.get("bias", 0.0) + a.get("sentence", 0.0) * sentence + a.get("span", 0.0) * span


WEIGHTS = Weights()
