"""Stage 4, propose: spans offered as the answer, before anything judges them.

Two proposers: `SpanProposer`, today's rules (every entity, number, date, noun phrase and, where the
answer kind takes one, clause of the evidence sentences: qa/spans.py), and `ModelProposer`, the model's
reply (its phrase looked up in the evidence, its marker repaired; a sentence it writes must be stated by
an evidence sentence, whose spans it repeats are then its proposals). Verification (qa/verify.py) and
scoring (qa/score.py) treat both alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from qa import prompts
from qa.candidates import Proposal, Source
from qa.cite import split_claims
from qa.evidence import Evidence
from qa.lexical import fold
from qa.nlp import parse_many
from qa.question import Question
from qa.seams import Verifier
from qa.spans import sentence_spans
from qa.verify import claim_supported, locate, strip_scaffolding

if TYPE_CHECKING:
    from spacy.tokens import Doc

_REFUSAL_CUES = re.compile(
    r"cannot answer|can't answer|can not answer|unable to answer|not (mentioned|stated|specified|provided|"
    r"given)|does not (say|mention|specify|state|provide)|no information|not enough information",
    re.IGNORECASE,
)


class SpanProposer:
    """The rule proposer: every candidate span of the evidence sentences."""

    def __init__(self, max_span_tokens: int) -> None:
        self.max_span_tokens = max_span_tokens

    def propose(
        self, q: Question, evidence: Sequence[Evidence], labels: frozenset[str] | None = None
    ) -> list[Proposal]:
        """The spans of every evidence sentence (of those `labels` only, when given)."""
        return [
            Proposal(ev.sentence.text[s:e], ev, s, e, label)
            for ev in evidence
            for s, e, label in sentence_spans(ev.doc, q, self.max_span_tokens)
            if labels is None or label in labels
        ]

    def in_sentence(self, q: Question, ev: Evidence, source: Source, marked: bool) -> list[Proposal]:
        """The spans of one sentence, as proposed by `source`."""
        return [
            Proposal(ev.sentence.text[s:e], ev, s, e, label, source, marked)
            for s, e, label in sentence_spans(ev.doc, q, self.max_span_tokens)
        ]


@dataclass(frozen=True)
class ModelReading:
    """What the model's reply proposes, whether it refused, and what was found on the way."""

    proposals: list[Proposal] = field(default_factory=list)
    refused: bool = False
    notes: list[str] = field(default_factory=list)


class ModelProposer:
    """The model's reply as proposals. The first claim that names something found in the evidence and
    kept by the verifier leads; a long sentence must be stated by the sentence it rests on."""

    def __init__(
        self, spans: SpanProposer, verifier: Verifier, short_words: int, min_coverage: float
    ) -> None:
        self.spans = spans
        self.verifier = verifier
        self.short_words = short_words
        self.min_coverage = min_coverage

    def propose(
        self, q: Question, reply: str, shown: Sequence[Evidence], pool: Sequence[Evidence]
    ) -> ModelReading:
        """Proposals from `reply`, whose markers number `shown`; looked up in `pool`."""
        cleaned = strip_scaffolding(reply)
        if not cleaned:
            return ModelReading(notes=["the model said nothing"])
        if prompts.REFUSAL.lower() in cleaned.lower() or _REFUSAL_CUES.search(cleaned):
            return ModelReading(refused=True, notes=["the model found no answer in the evidence"])
        index = {id(ev): i for i, ev in enumerate(pool)}
        notes: list[str] = []
        for claim in split_claims(cleaned):
            text = strip_scaffolding(claim.text)
            if not text:
                continue
            marked = [index[id(shown[m - 1])] for m in claim.markers if 1 <= m <= len(shown)]
            found, why = self._claim(q, text, pool, marked)
            if found:
                return ModelReading(found, False, notes)
            notes.append(f"model claim {text!r} not kept: {why}")
        return ModelReading(notes=notes)

    def _claim(
        self, q: Question, text: str, pool: Sequence[Evidence], marked: list[int]
    ) -> tuple[list[Proposal], str]:
        """The claim's proposals, or none and why."""
        order = marked + [i for i in range(len(pool)) if i not in marked]
        why = "the evidence does not state it"
        if len(text.split()) <= self.short_words:
            # A phrase: wherever it stands in the evidence, the sentences the model marked first.
            found = []
            for i in order:
                where = locate(text, pool[i].sentence.text)
                if where is None:
                    continue
                s, e = where
                ev = pool[i]
                p = Proposal(ev.sentence.text[s:e], ev, s, e, label_of(ev.doc, s, e), "model", i in marked)
                verdict = self.verifier.verify(q, p)
                if verdict.kept:
                    found.append(p)
                elif why.startswith("the evidence"):
                    why = verdict.reason
            if found:
                return found, ""
        # A sentence: it must be stated by an evidence sentence; its answer is a span of that sentence
        # that the claim repeats.
        doc = parse_many([text])[0]
        for i in order:
            if not claim_supported(doc, pool[i].doc, self.min_coverage).ok:
                continue
            spans = [
                p
                for p in self.spans.in_sentence(q, pool[i], "model", i in marked)
                if fold(p.text) in fold(text) and p.label != "CLAUSE" and self.verifier.verify(q, p).kept
            ]
            if spans:
                return _coordinated(spans, pool[i]) or spans, ""
        return [], why


def _coordinated(spans: Sequence[Proposal], ev: Evidence) -> list[Proposal]:
    """The model named several spans of one sentence ("X and Y and Z" for "X, Y and Z"): the one span
    that lists them, when only commas and conjunctions stand between them."""
    unique = {(p.start, p.end): p for p in spans}.values()
    # a span inside another named one is part of it ("Baghlan" of "Baghlan and Balkh")
    outer = [
        p for p in unique if not any(o is not p and o.start <= p.start and p.end <= o.end for o in unique)
    ]
    named = sorted(outer, key=lambda p: p.start)
    if len(named) < 2 or any(a.end > b.start for a, b in zip(named, named[1:], strict=False)):
        return []
    text = ev.sentence.text
    for a, b in zip(named, named[1:], strict=False):
        between = text[a.end : b.start].strip(" ,;")
        if between and between.lower() not in ("and", "or", "as well as"):
            return []
    first, last = named[0], named[-1]
    return [replace(first, text=text[first.start : last.end], end=last.end, label="NP")]


def label_of(doc: Doc, start: int, end: int) -> str:
    """The entity label of a span the model names: the entity it is in or holds, else CARDINAL for a
    number, NP for a noun phrase, CLAUSE for the rest."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return "NP"
    for ent in doc.ents:
        if (
            ent.start_char <= span.start_char
            and span.end_char <= ent.end_char
            or (span.start_char <= ent.start_char and ent.end_char <= span.end_char)
        ):
            return ent.label_
    if any(t.like_num for t in span):
        return "CARDINAL"
    return "NP" if span.root.pos_ in ("NOUN", "PROPN") else "CLAUSE"
