"""Stage 6, score: the typed features of an evidence sentence and of a verified span in it, and the rule
scorer that weighs them (the weights are qa/weights.py's, fitted by qa/eval/fit.py).

The features are corpus-independent: how much of the question the sentence holds (weighted by how rare
each word is in the corpus), its retrieval; the fit of the span's type to the question, how near the
question's words stand to it, whether it is an argument of the question's predicate (the verdict's), and
how many sources state it. Pure given the parses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING

from qa.candidates import Candidate, Proposal, Verdict
from qa.evidence import Evidence
from qa.nlp import content_keys, keys, tree_distance
from qa.question import Question, Reading, read
from qa.verify import is_subject, negation_agrees

if TYPE_CHECKING:
    from spacy.tokens import Span

    from qa.seams import Scorer


@dataclass(frozen=True)
class SentenceFeatures:
    """What an evidence sentence holds of the question, the same for every span of it."""

    cover: float  # share of the question's words (by rarity) the sentence holds
    context: float  # share only the sentence before it holds
    missing_max: float  # the rarest question word neither holds, against the rarest of all
    names_missing: float  # the question's names the sentence lacks (half when its article has them)
    sim: float  # its cosine similarity to the question
    rel_sim: float  # ≤ 0: how far below the best evidence of this question
    rank: float  # 1 / (1 + retrieval rank)
    files: float  # how many articles carry it, up to 5, over 5
    negation: float  # -1 when its predicate's polarity is not the question's


@dataclass(frozen=True)
class SpanFeatures:
    """How a span of the sentence fits as the answer."""

    near: float  # the question's words close to it, by rarity
    linked: float  # the question's words within two dependency edges of it
    type: float  # the answer kind's fit (qa/kinds/)
    role: float  # 1 an argument of the question's predicate, else 0 (or the sentence lacks the predicate)
    subject: float  # the subject of its clause, where the question asks for a subject
    head: float  # for "which X": the span is an X or stands beside X
    novel: float  # share of its words the question does not have
    length: float  # its length in tokens, up to 20, over 20
    marked: float = 0.0  # the model marked its sentence
    model: float = 0.0  # the model proposed it
    votes: float = 0.0  # share of the evidence's articles that state the same answer


@dataclass(frozen=True)
class Features:
    """A candidate's features: its sentence's and its own."""

    sentence: SentenceFeatures
    span: SpanFeatures

    def as_dict(self) -> dict[str, float]:
        """Feature name → value (for the fit, which stores them as JSON)."""
        return {**asdict(self.sentence), **asdict(self.span)}


SENTENCE_FEATURES: tuple[str, ...] = tuple(f.name for f in fields(SentenceFeatures))
SPAN_FEATURES: tuple[str, ...] = tuple(f.name for f in fields(SpanFeatures))


def scored(
    q: Question,
    judged: Sequence[tuple[Proposal, Verdict]],
    scorer: Scorer,
    idf: Callable[[str], float],
    known: Mapping[int, SentenceFeatures] | None = None,
) -> list[Candidate]:
    """Stage 6: the kept proposals with their features and scores, best first. Each sentence's features
    are read once (`known`: those already read, by `id` of their evidence); `votes` is the share of the
    kept candidates' articles that state the same answer."""
    sentences: dict[int, SentenceFeatures] = dict(known or {})
    rows: list[tuple[Proposal, Verdict, SentenceFeatures, SpanFeatures]] = []
    for p, v in judged:
        span = p.evidence.doc.char_span(p.start, p.end, alignment_mode="expand")
        if not v.kept or span is None:
            continue
        key = id(p.evidence)
        if key not in sentences:
            sentences[key] = sentence_features(q, p.evidence, idf)
        own = span_features(q, span, v, idf)
        own = replace(own, marked=float(p.marked), model=float(p.source == "model"))
        rows.append((p, v, sentences[key], own))
    files: dict[str, set[str]] = {}
    for p, *_ in rows:
        files.setdefault(p.key, set()).update(p.evidence.group.files)
    n_files = len({f for p, *_ in rows for f in p.evidence.group.files})
    out = []
    for p, v, sf, spf in rows:
        f = Features(sf, replace(spf, votes=len(files[p.key]) / n_files if n_files > 1 else 0.0))
        out.append(Candidate(p, v, f, scorer.candidate(f)))
    out.sort(key=lambda c: -c.score)
    return out


def _weights(q: Question, idf: Callable[[str], float]) -> tuple[dict[str, float], float]:
    weight = {k: idf(k) for k in q.focus}
    return weight, sum(weight.values()) or 1.0


def sentence_features(q: Question, ev: Evidence, idf: Callable[[str], float]) -> SentenceFeatures:
    """The features of one evidence sentence for the question."""
    weight, total = _weights(q, idf)
    seen = read(q, ev.doc)
    held = seen.held
    ctx = {k for k in q.focus - held if k in ev.context}
    missing = [weight[k] for k in q.focus if k not in held and k not in ctx]
    here = seen.folded
    names_missing = (
        sum(1.0 if n not in ev.file_text else 0.5 for n in q.names if n not in here) / len(q.names)
        if q.names
        else 0.0
    )
    sim = max(h.similarity for h in ev.group.hits)
    return SentenceFeatures(
        cover=sum(weight[k] for k in held) / total,
        context=sum(weight[k] for k in ctx) / total,
        missing_max=max(missing, default=0.0) / (max(weight.values(), default=1.0) or 1.0),
        names_missing=names_missing,
        sim=sim,
        rel_sim=sim - ev.top_sim,
        rank=1.0 / (1.0 + ev.rank),
        files=min(len(ev.group.files), 5) / 5.0,
        negation=0.0 if negation_agrees(q, ev.doc) else -1.0,
    )


def span_features(q: Question, span: Span, verdict: Verdict, idf: Callable[[str], float]) -> SpanFeatures:
    """The features of a verified span (votes, and what the model did, are set by the caller)."""
    weight, total = _weights(q, idf)
    seen = read(q, span.doc)
    span_keys = content_keys(span)
    new = content_keys(t for t in span if not seen.hits[t.i]) - q.focus - q.head
    return SpanFeatures(
        near=_nearness(span, seen, weight, total),
        linked=_linked(span, seen, weight, total),
        type=verdict.fit,
        role=1.0 if verdict.role else 0.0,
        subject=1.0 if q.subject_asked and is_subject(span.doc, span.start_char, span.end_char) else 0.0,
        head=head_fit(span, q),
        novel=len(new) / len(span_keys) if span_keys else 1.0,
        length=min(len(span), 20) / 20.0,
    )


def _nearness(span: Span, seen: Reading, weight: dict[str, float], total: float) -> float:
    """How close the question's words stand to the span in its sentence (1 next to it, falling with
    distance), weighted by rarity."""
    got = 0.0
    for i in seen.matched:
        if span.start <= i < span.end:
            continue
        d = span.start - i if i < span.start else i - span.end + 1
        got = max(got, 0.0) + max(weight[k] for k in seen.hits[i]) / (1.0 + d / 4.0)
    return min(got / total, 1.0)


def _linked(span: Span, seen: Reading, weight: dict[str, float], total: float) -> float:
    """Share of the question's words (by rarity) within two dependency edges of the span: an answer is
    attached to what the question says about it ("Dubois, a police spokesman")."""
    got: set[str] = set()
    doc = span.doc
    for i in seen.matched:
        if not span.start <= i < span.end and tree_distance(doc[i], span.root) <= 2:
            got |= seen.hits[i]
    return sum(weight[k] for k in got) / total


def head_fit(span: Span, q: Question) -> float:
    """For "which X": the span is an X ("the Lendplatz district") or stands right next to X."""
    if not q.head:
        return 0.0
    if content_keys(span) & q.head:
        return 1.0
    doc = span.doc
    near = 0.0
    for t in doc:
        if not keys(t) & q.head or span.start <= t.i < span.end:
            continue
        # attached: the noun describes the span ("X, a recycling company") or the span modifies it
        if span.start <= t.head.i < span.end and t.dep_ in ("appos", "attr", "compound", "nmod"):
            return 1.0
        if span.root.head.i == t.i:
            return 1.0
        if abs(t.i - span.start) <= 3 or abs(t.i - span.end) <= 2:
            if span.start <= t.head.i < span.end:
                return 1.0
            near = 0.5  # near the noun but not attached to it
    return near
