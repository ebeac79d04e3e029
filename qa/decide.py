"""The decision, pure: which verified candidate answers, what else states it, and why not when none does.

Candidates come from the extractive proposer and from the model's reply (qa/propose.py); one verifier and
one score judge them all (qa/verify.py, qa/weights.py). The best verified candidate wins when its score
clears the answerability threshold; a model's own "cannot answer" is overruled only above `clear`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from index.settings import field_default
from qa import prompts
from qa.cite import split_claims
from qa.conflicts import Version, versions_of
from qa.lexical import fold
from qa.nlp import parse, parse_many
from qa.propose import Candidate, Evidence, add_votes, extractive, from_model
from qa.question import Question, read
from qa.settings import AnswerSettings
from qa.values import DEFAULT_TOLERANCE, Tolerance, normalise
from qa.verify import claim_supported, strip_scaffolding
from qa.weights import WEIGHTS, Weights

_REFUSAL_CUES = re.compile(
    r"cannot answer|can't answer|can not answer|unable to answer|not (mentioned|stated|specified|provided|"
    r"given)|does not (say|mention|specify|state|provide)|no information|not enough information",
    re.IGNORECASE,
)


@dataclass
class Decision:
    """The winning answer (or None) with everything that states it, the versions of it when the sources
    disagree (empty when they agree), and why."""

    best: Candidate | None
    support: list[Candidate]
    versions: list[Version[Candidate]]
    reason: str
    model_refused: bool = False
    score: float = 0.0  # the answerability score of `best`


def model_candidates(
    q: Question,
    reply: str,
    shown: Sequence[Evidence],
    pool: Sequence[Evidence],
    idf: Any,
    weights: Weights,
    knobs: AnswerSettings,
) -> tuple[list[Candidate], bool, list[str]]:
    """Candidates from the model's reply, whether it refused, and notes. The first claim that names
    something found in the evidence leads; a long sentence must be stated by the sentence it rests on."""
    notes: list[str] = []
    cleaned = strip_scaffolding(reply)
    if not cleaned:
        return [], False, ["the model said nothing"]
    if prompts.REFUSAL.lower() in cleaned.lower() or _REFUSAL_CUES.search(cleaned):
        return [], True, ["the model found no answer in the evidence"]
    index = {id(ev): i for i, ev in enumerate(pool)}
    for claim in split_claims(cleaned):
        text = strip_scaffolding(claim.text)
        if not text:
            continue
        marked = [index[id(shown[m - 1])] for m in claim.markers if 1 <= m <= len(shown)]
        if len(text.split()) <= knobs.short_reply_words:
            found = from_model(q, text, pool, marked, idf, weights, knobs)
            if found:
                return found, False, notes
        # A sentence: it must be stated by an evidence sentence; its answer is a span of that sentence
        # that the claim repeats.
        doc = parse_many([text])[0]
        order = marked + [i for i in range(len(pool)) if i not in marked]
        for i in order:
            check = claim_supported(doc, pool[i].doc, knobs.min_claim_coverage)
            if not check.ok:
                continue
            spans = [
                c
                for c in extractive(q, [pool[i]], idf, weights, knobs)
                if fold(c.text) in fold(text) and c.label != "CLAUSE"
            ]
            for c in spans:
                c.source = "model"
                c.features["model"] = 1.0
                c.features["marked"] = 1.0 if i in marked else 0.0
                c.score = weights.candidate(c.features)
            if spans:
                return sorted(spans, key=lambda c: -c.score), False, notes
        notes.append(f"model claim not stated by the evidence: {text!r}")
    return [], False, notes


def _verified(c: Candidate) -> bool:
    """The hard checks: a span that belongs to another predicate, contradicts the question's polarity or
    is of the wrong type is never an answer."""
    f = c.features
    return f.get("role", 0.0) >= 0 and f.get("negation", 0.0) >= 0 and f.get("type", 0.0) >= 0


def choose(cands: Sequence[Candidate], weights: Weights = WEIGHTS) -> tuple[Candidate, float, float] | None:
    """The two-stage choice: the sentence with the best sentence score plus `mix` times its best span,
    then the best span inside it. Returns (candidate, sentence score, span score). Pure."""
    by_sentence: dict[str, list[Candidate]] = {}
    for c in cands:
        by_sentence.setdefault(c.evidence.sentence.id, []).append(c)
    best: tuple[float, Candidate, float, float] | None = None
    for cs in by_sentence.values():
        top = max(cs, key=lambda c: weights.span_score(c.features))
        sent = weights.sentence_score(top.features)
        span = weights.span_score(top.features)
        total = sent + weights.mix * span
        if best is None or total > best[0]:
            best = (total, top, sent, span)
    return None if best is None else (best[1], best[2], best[3])


def unmentioned(q: Question, evidence: Sequence[Evidence]) -> list[str]:
    """The question's names (people, places, organisations, dates, figures) that no article of the
    evidence mentions at all: the articles cannot be about them."""
    texts = {ev.sentence.file: ev.file_text for ev in evidence}
    out = []
    for name in sorted(q.proper):
        words = [w for w in re.findall(r"\w+", name) if w not in ("the", "of", "and", "a", "an")]
        pattern = [re.compile(rf"(?<!\w){re.escape(w)}(?!\w)") for w in words]
        if words and not any(all(p.search(t) for p in pattern) for t in texts.values()):
            # Said as the question writes it ("France", not the folded key).
            out.append(next((e.text for e in parse(q.text).ents if fold(e.text) == name), name))
    return out


def absent_attribute(q: Question, evidence: Sequence[Evidence]) -> bool:
    """ "What is the population of X?": no evidence sentence names the attribute asked for (or a synonym)
    and its articles never use the word, so whatever they say of X, it is not that."""
    if not q.attribute or not evidence or any(read(q, ev.doc).predicate for ev in evidence):
        return False
    return not any(fold(q.attribute) in ev.file_text for ev in evidence)


def decide(
    q: Question,
    extracted: Sequence[Candidate],
    proposed: Sequence[Candidate],
    model_refused: bool,
    weights: Weights = WEIGHTS,
    evidence: Sequence[Evidence] = (),
    margin: float = field_default(AnswerSettings, "model_sentence_margin"),
    tol: Tolerance = DEFAULT_TOLERANCE,
    rivals: Callable[[frozenset[str]], Sequence[Candidate]] = lambda labels: (),
) -> Decision:
    """Pick the best verified candidate and everything that states the same answer. Pure. `rivals`
    gives candidates of further evidence (asked for only once there is an answer): they never give the
    answer, they may be versions that disagree with it."""
    missing = unmentioned(q, evidence)
    if missing:
        return Decision(None, [], [], f"the articles never mention {', '.join(missing)}", model_refused)
    if absent_attribute(q, evidence):
        why = f"the articles never mention the {q.attribute} asked for"
        return Decision(None, [], [], why, model_refused)
    pool = [c for c in [*proposed, *extracted] if _verified(c)]
    if proposed:
        # The model's phrase must sit in a sentence that holds the question about as well as the best
        # one does: a right phrase from the wrong sentence ("another date of the same kind") is dropped.
        best_sentence = max(weights.sentence_score(c.features) for c in pool) if pool else 0.0
        pool = [
            c
            for c in pool
            if c.source != "model" or weights.sentence_score(c.features) >= best_sentence - margin
        ]
    add_votes(pool, list({id(c.evidence): c.evidence for c in pool}.values()), weights)
    picked = choose(pool, weights)
    if picked is None:
        why = f"no evidence sentence states an answer of the kind asked ({q.kind})"
        return Decision(None, [], [], why, model_refused)
    best, sent, span = picked
    score = weights.answerability(sent, span, best.features)
    if model_refused and score < weights.clear:
        why = "the model found no answer in the evidence, and no sentence clearly states one"
        return Decision(None, [], [], why, True)
    if score < weights.threshold:
        why = (
            f"no sentence states an answer clearly enough (best: “{best.text}” in "
            f"{best.evidence.sentence.file}, score {score:.2f} < {weights.threshold:.2f})"
        )
        return Decision(None, [], [], why, model_refused)
    same = sorted((c for c in pool if c.key == best.key), key=lambda c: -c.score)
    # Further evidence only for a value that can have rivals (a description has none of its own), and
    # only its spans of a type the question asks for (or of the answer's type, when it names none).
    if normalise(best.text, best.label, tol) is not None:
        pool = [*pool, *(c for c in rivals(q.labels or frozenset({best.label})) if _verified(c))]
    return Decision(best, same, versions_of(q, best, same, pool, weights, tol), "", model_refused, score)
