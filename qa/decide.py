"""Stage 7, decide, pure: one of three outcomes, chosen by one calibrated score.

- `answer`: the best verified candidate, as the short answer with its exact span, when its answerability
  logit clears `Weights.answer`. Where the model proposed a phrase that verification kept, in a sentence
  about as good as the best, the model is the reader: the best of its phrases is the candidate, and it
  needs only `Weights.threshold` (the rules' spans support it, they do not outvote it);
- `quoted`: otherwise, when the evidence is on the question, a sentence quoted and cited, with no short
  answer ("The closest the articles come: …"): the sentence of the best span where the logit clears
  `Weights.threshold`, else the best sentence (below it the span is a poor guide). A question that asks
  for an entity label (a name, a place, a date, a figure) needs `threshold` to be quoted, an open one
  (what, why, how) only `Weights.refuse`;
- `refused`: otherwise, or when the question names something no article mentions, or asks for an
  attribute no article gives, or the best sentence says the opposite of the question (qa/contrary.py,
  or the opposite polarity), or the model found no answer and nothing clearly states one; with why.

The logit is calibrated (a logistic fit: qa/eval/fit.py), so `confidence` is its probability.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from qa.candidates import Candidate
from qa.evidence import Evidence
from qa.lexical import fold
from qa.question import Question, read
from qa.verify import opposite
from qa.weights import Weights

Outcome = Literal["answer", "quoted", "refused"]
TYPO_MIN_LETTERS = 6  # a name word this long may be misspelt by one letter and still be the article's


@dataclass(frozen=True)
class Ballot:
    """What the decision reads: the question, the scored candidates (the model's and the rules'), each
    evidence sentence with its sentence score (best first), whether the model refused, the weights, and
    how far below the best sentence a model's phrase may stand."""

    question: Question
    candidates: Sequence[Candidate]
    sentences: Sequence[tuple[Evidence, float]]
    weights: Weights
    model_refused: bool = False
    margin: float = 0.0


@dataclass(frozen=True)
class Decision:
    """The outcome, the winning candidate (an answer) or the quoted sentence (quoted), everything that
    states the answer, why, and how sure."""

    outcome: Outcome
    reason: str = ""
    best: Candidate | None = None
    support: list[Candidate] = field(default_factory=list)
    quote: Evidence | None = None
    score: float = -math.inf  # the answerability logit

    @property
    def confidence(self) -> float:
        """The logit as a probability."""
        return 1.0 / (1.0 + math.exp(-self.score)) if math.isfinite(self.score) else 0.0


def unmentioned(q: Question, evidence: Sequence[Evidence]) -> list[str]:
    """The question's names (people, places, organisations, dates, figures) that no article of the
    evidence mentions at all: the articles cannot be about them. A long word one typo away from a word of
    the article counts as mentioned ("Hartmanis" for "Hatmanis")."""
    if not q.proper:
        return []
    words_of = {ev.sentence.file: _words(ev.file_text) for ev in evidence}
    said = dict(q.said)
    out = []
    for name in sorted(q.proper):
        words = [w for w in re.findall(r"\w+", name) if w not in ("the", "of", "and", "a", "an")]
        if words and not any(all(_mentioned(w, ws) for w in words) for ws in words_of.values()):
            out.append(said.get(name, name))  # said as the question writes it ("France", not the key)
    return out


@functools.lru_cache(maxsize=256)
def _words(text: str) -> frozenset[str]:
    """The words of an article's folded text (read once per article, not once per question)."""
    return frozenset(re.findall(r"\w+", text))


def _mentioned(word: str, words: frozenset[str]) -> bool:
    """Is the word among the article's words, or (six letters or more) one edit from one that starts
    alike? Shorter words are too often another word one letter away ("Paris", "parish")."""
    if word in words:
        return True
    if len(word) < TYPO_MIN_LETTERS:
        return False
    from nltk.metrics.distance import edit_distance

    return any(
        w[:1] == word[:1] and abs(len(w) - len(word)) <= 1 and edit_distance(w, word) <= 1 for w in words
    )


def absent_attribute(q: Question, evidence: Sequence[Evidence]) -> bool:
    """ "What is the population of X?": no evidence sentence names the attribute asked for (or a synonym)
    and its articles never use the word, so whatever they say of X, it is not that."""
    if not q.attribute or not evidence or any(read(q, ev.doc).predicate for ev in evidence):
        return False
    return not any(fold(q.attribute) in ev.file_text for ev in evidence)


def choose(cands: Sequence[Candidate], weights: Weights) -> tuple[Candidate, float, float] | None:
    """The two-stage choice: the sentence with the best sentence score plus `mix` times its best span,
    then the best span inside it. Returns (candidate, sentence score, span score). Pure."""
    by_sentence: dict[str, list[Candidate]] = {}
    for c in cands:
        by_sentence.setdefault(c.evidence.sentence.id, []).append(c)
    best: tuple[float, Candidate, float, float] | None = None
    for cs in by_sentence.values():
        top = max(cs, key=lambda c: weights.span_score(c.features.span))
        sent = weights.sentence_score(top.features.sentence)
        span = weights.span_score(top.features.span)
        total = sent + weights.mix * span
        if best is None or total > best[0]:
            best = (total, top, sent, span)
    return None if best is None else (best[1], best[2], best[3])


def decide(b: Ballot) -> Decision:
    """Answer, quote or refuse. Pure."""
    q, w = b.question, b.weights
    evidence = [ev for ev, _ in b.sentences]
    missing = unmentioned(q, evidence)
    if missing:
        return Decision("refused", f"the articles never mention {', '.join(missing)}")
    if absent_attribute(q, evidence):
        return Decision("refused", f"the articles never mention the {q.attribute} asked for")
    pool = list(b.candidates)
    if any(c.source == "model" for c in pool):
        # The model's phrase must sit in a sentence that holds the question about as well as the best
        # one does: a right phrase from the wrong sentence ("another date of the same kind") is dropped.
        top = max(w.sentence_score(c.features.sentence) for c in pool)
        pool = [
            c for c in pool if c.source != "model" or w.sentence_score(c.features.sentence) >= top - b.margin
        ]
    # The model is the reader: where its verified phrase stands, the rules' spans only support it.
    picked = choose([c for c in pool if c.source == "model"] or pool, w)
    lead = b.sentences[0] if b.sentences else None
    opposed = opposite(q, lead[0].doc) if lead is not None else ""
    if opposed and (picked is None or picked[0].source != "model"):
        return Decision("refused", f"the articles say the opposite of the question: {opposed}")
    if picked is None:
        if lead is None:
            return Decision("refused", "nothing in the articles matches the question")
        score = w.answerability(lead[1], 0.0)
        why = f"no evidence sentence states an answer of the kind asked ({q.kind})"
    else:
        best, sent, span = picked
        score = w.answerability(sent, span)
        bar = w.threshold if best.source == "model" else w.answer
        if score >= bar and not (b.model_refused and score < w.clear):
            same = sorted((c for c in pool if c.key == best.key), key=lambda c: -c.score)
            return Decision("answer", "", best, same, None, score)
        why = f"no span is clear enough to be the short answer (best: “{best.text}”, score {score:.2f})"
    if b.model_refused and score < w.clear:
        return Decision(
            "refused", "the model found no answer in the evidence, and no sentence clearly states one"
        )
    bar = w.threshold if q.labels else w.refuse
    if lead is None or score < bar:
        return Decision("refused", f"no sentence is on the question (score {score:.2f} < {bar:.2f})")
    # On the question, but no span is clear: the sentence the choice would take, else (no span, or one
    # below the threshold) the best one. The span stays on the decision: where the sources give rival
    # values of it, the versions are the answer.
    if picked is None or score < w.threshold:
        return Decision("quoted", why, None, [], lead[0], score)
    best = picked[0]
    same = sorted((c for c in pool if c.key == best.key), key=lambda c: -c.score)
    return Decision("quoted", why, best, same, best.evidence, score)
