"""Candidate answers: spans of the best evidence sentences (entities, numbers, dates, noun chunks, reason
clauses) and spans the model names, each scored by how well it fits the question.

The features are corpus-independent: the fit of the span's type to the question, how much of the question
its sentence holds (weighted by how rare each word is in the corpus), how near the question's words stand
to the span, whether the span is an argument of the question's predicate (qa/verify.py), and the
retrieval score. The weights live in qa/weights.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from index.sentences import Sentence
from index.settings import field_default
from qa.lexical import fold
from qa.lexicon import other_kind
from qa.nlp import content_keys, is_duration, is_unit, keys, tree_distance
from qa.question import NUMBERS, PROPER, Question, Reading, read
from qa.retrieve import Group
from qa.rivals import titles
from qa.settings import AnswerSettings
from qa.spans import sentence_spans
from qa.values import normalise
from qa.verify import is_subject, locate, negation_agrees, role
from qa.weights import WEIGHTS, Weights

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

# Questions for a measure along one dimension (a length, an age, a height, a speed...): a count of things
# ("six Ice Ages", "4,800 children") is no answer to them. "How big / large" may be a count ("a crowd of
# 5,000 people"), so they are not here.
_DIMENSIONS = frozenset(
    f"how {w}"
    for w in ("long", "old", "far", "tall", "high", "wide", "deep", "fast", "close", "near", "heavy")
)
_MEASURES = frozenset({"QUANTITY", "MONEY", "PERCENT"})
# How well an entity type fits a question kind whose labels admit several: "who" asks for a person first,
# an organisation or group next, a country last; "where" for a place before an organisation.
_PREFERENCE = {
    ("person", "ORG"): 0.7,
    ("person", "NORP"): 0.5,
    ("person", "GPE"): 0.3,
    ("place", "ORG"): 0.5,
}


@dataclass
class Evidence:
    """One evidence group's lead sentence, parsed, with its rank and the words of its context (the
    sentence before it in its file), which can name what the sentence only refers to."""

    group: Group
    doc: Doc
    rank: int
    context: frozenset[str] = frozenset()
    file_text: str = ""  # the folded text of the sentence's whole file, for the question's names
    top_sim: float = 0.0  # the best similarity of any evidence to the question

    @property
    def sentence(self) -> Sentence:
        """The lead sentence."""
        return self.group.lead.sentence


@dataclass
class Candidate:
    """A span of an evidence sentence offered as the answer, with its features and score."""

    text: str
    evidence: Evidence
    start: int  # offsets in the sentence text
    end: int
    label: str
    source: str = "extractive"  # extractive | model
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0

    @property
    def key(self) -> str:
        """What the candidate asserts, normalised: two spans with the same key are one answer."""
        return " ".join(w for w in fold(self.text).replace("'s", "").split() if w not in ("the", "a", "an"))


def extractive(
    q: Question,
    evidence: Sequence[Evidence],
    idf: Callable[[str], float],
    weights: Weights,
    knobs: AnswerSettings,
    labels: frozenset[str] | None = None,
) -> list[Candidate]:
    """Every candidate span of the evidence (of those `labels` only, when given), scored, best first."""
    out: list[Candidate] = []
    for ev in evidence:
        for s, e, label in sentence_spans(ev.doc, q, knobs.max_span_tokens):
            if labels is not None and label not in labels:
                continue
            c = Candidate(ev.sentence.text[s:e], ev, s, e, label)
            if score(c, q, idf, weights, knobs):
                out.append(c)
    add_votes(out, evidence, weights)
    return out


def add_votes(cands: list[Candidate], evidence: Sequence[Evidence], weights: Weights = WEIGHTS) -> None:
    """Redundancy: an answer that several sources state is likelier. Sets each candidate's `votes` (the
    share of the evidence's files that state the same answer), re-scores, and sorts best first."""
    files: dict[str, set[str]] = {}
    for c in cands:
        files.setdefault(c.key, set()).update(c.evidence.group.files)
    n_files = len({f for ev in evidence for f in ev.group.files})
    for c in cands:
        c.features["votes"] = len(files[c.key]) / n_files if n_files > 1 else 0.0
        c.score = weights.candidate(c.features)
    cands.sort(key=lambda c: -c.score)


def from_model(
    q: Question,
    answer: str,
    evidence: Sequence[Evidence],
    marked: Sequence[int],
    idf: Callable[[str], float],
    weights: Weights,
    knobs: AnswerSettings,
) -> list[Candidate]:
    """The model's short answer found in the evidence: in the sentences it marked first, else anywhere
    (its marker is then repaired). Empty when no evidence sentence contains it."""
    order = [i for i in marked if 0 <= i < len(evidence)] + [
        i for i in range(len(evidence)) if i not in marked
    ]
    out = []
    for i in order:
        ev = evidence[i]
        where = locate(answer, ev.sentence.text)
        if where is None:
            continue
        s, e = where
        c = Candidate(ev.sentence.text[s:e], ev, s, e, _label_of(ev.doc, s, e), source="model")
        c.features["marked"] = 1.0 if i in marked else 0.0
        if score(c, q, idf, weights, knobs):
            out.append(c)
    out.sort(key=lambda c: -c.score)
    return out


def _label_of(doc: Doc, start: int, end: int) -> str:
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


def score(c: Candidate, q: Question, idf: Callable[[str], float], w: Weights, knobs: AnswerSettings) -> bool:
    """Fill `c.features` and `c.score`; False when the span cannot be an answer at all (it only repeats
    the question, or is too long)."""
    doc = c.evidence.doc
    span = doc.char_span(c.start, c.end, alignment_mode="expand")
    if span is None or len(span) > knobs.max_span_tokens and c.label != "CLAUSE":
        return False
    span_keys = content_keys(span)
    if c.label not in NUMBERS | {"DATE", "TIME", "CLAUSE"} and not span_keys:
        return False
    seen = read(q, doc)
    new = content_keys(t for t in span if not seen.hits[t.i]) - q.focus - q.head  # a synonym repeats, too
    if span_keys and not new and fold(span.text) not in q.names:
        return False  # the span only repeats the question ("the district" for "which district")
    if q.names and any(fold(span.text) == n for n in q.names):
        return False
    if c.label != "CLAUSE" and q.given and q.given <= span_keys and len(span_keys - q.given) <= 1:
        return False  # the question's own subject, with a title at most ("Councillor X" for "what did X say")
    weight = {k: idf(k) for k in q.focus}
    total = sum(weight.values()) or 1.0
    held = seen.held
    ctx = {k for k in q.focus - held if k in c.evidence.context}
    f = c.features
    f["cover"] = sum(weight[k] for k in held) / total
    f["context"] = sum(weight[k] for k in ctx) / total
    missing = [weight[k] for k in q.focus if k not in held and k not in ctx]
    f["missing_max"] = max(missing, default=0.0) / (max(weight.values(), default=1.0) or 1.0)
    here = seen.folded
    f["names_missing"] = (
        sum(1.0 if n not in c.evidence.file_text else 0.5 for n in q.names if n not in here) / len(q.names)
        if q.names
        else 0.0
    )
    f["near"] = _nearness(span, seen, weight, total)
    f["linked"] = _linked(span, seen, weight, total)
    f["type"] = type_fit(c.label, q, span, knobs.kind_mismatch)
    r = role(q, doc, c.start, c.end)
    f["role"] = 0.0 if r is None else (1.0 if r else -1.0)
    f["subject"] = 1.0 if q.subject_asked and is_subject(doc, c.start, c.end) else 0.0
    f["head"] = _head_fit(span, q)
    f["negation"] = 0.0 if negation_agrees(q, doc) else -1.0
    f["novel"] = len(new) / len(span_keys) if span_keys else 1.0
    f["sim"] = max(h.similarity for h in c.evidence.group.hits)
    f["rel_sim"] = f["sim"] - c.evidence.top_sim  # ≤ 0: how far below the best evidence of this question
    f["rank"] = 1.0 / (1.0 + c.evidence.rank)
    f["length"] = min(len(span), 20) / 20.0
    f["files"] = min(len(c.evidence.group.files), 5) / 5.0
    f.setdefault("marked", 0.0)
    f["model"] = 1.0 if c.source == "model" else 0.0
    c.score = w.candidate(f)
    return True


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


def type_fit(
    label: str, q: Question, span: Span, mismatch: float = field_default(AnswerSettings, "kind_mismatch")
) -> float:
    """1 for the asked-for type, 0 for a plain noun phrase that may still be one, -1 for a span that
    cannot be: a count needs a number, a date a date or a number, a person or place no date or figure."""
    has_number = any(t.like_num for t in span)
    if q.kind in ("person", "place") and (span.root.ent_type_ in _MEASURES or _money(span)):
        return -1.0  # a sum or a measure ("410 million euros") is nobody and nowhere
    if q.labels:
        if label in q.labels:
            # "when" asks for a point in time, "how long" for a stretch of it: the other kind of date
            # ("a six-week strike" for when, "2029" for how long) is a weaker fit.
            # "what day / year / month": a date, not a time of day ("7.15am" for "on what day")
            if label == "TIME" and "DATE" in q.labels and q.wh in ("what", "which"):
                return mismatch
            asks = {"when": False, "how long": True}.get(q.wh)
            if label in ("DATE", "TIME") and asks is not None and is_duration(span) != asks:
                return mismatch
            # "How long / old / far ...": a number that counts things, not a unit ("4,800 children", "three
            # bodies of water"), is no measure; "six weeks", "1,230 kilometres" and a bare "42" may be.
            if q.wh in _DIMENSIONS and label in NUMBERS and _counts_things(span):
                return mismatch
            # "How much": an amount or a sum, not a count of things ("two people" for "how much did it cost").
            if q.wh == "how much" and label in NUMBERS and _counts_things(span) and not _money(span):
                return mismatch
            # "How many civilians": a count of another kind of the same thing ("50 fighters") is weaker.
            if q.wh == "how many" and label in NUMBERS and _counts_things(span) and _other_kind(span, q):
                return mismatch
            # "Which spokesperson": a name the sentence gives another title ("President X") is weaker.
            if q.kind == "person" and label == "PERSON" and _titled_otherwise(span, q):
                return mismatch
            # "How many people": a count of things, not a sum of money, unless money is what is counted.
            if q.wh == "how many" and label in NUMBERS and _money(span) and not _counted(span) & q.head:
                return mismatch
            return _PREFERENCE.get((q.kind, label), 1.0)
        if q.kind == "number":
            return 0.0 if has_number and label not in ("DATE", "TIME") else -1.0
        if q.kind == "date":
            # a bare number may be a year; a measure, a sum or a share ("0.4 km", "$5", "40%"), or a phrase
            # around one ("rocks 0.4 km from the pier"), is no date
            measured = label in _MEASURES or any(t.ent_type_ in _MEASURES for t in span)
            return 0.0 if has_number and not measured else -1.0
        return -1.0 if label in NUMBERS | {"DATE", "TIME", "CLAUSE"} else 0.0
    if q.kind == "identity":
        # "Who is <name>?": a description set beside the name ("X, a council member"; "X is the mayor").
        if span.root.dep_ in ("appos", "attr"):
            return 1.0
        return -0.5 if label in PROPER else 0.0
    if q.kind in ("reason", "manner"):
        return 1.0 if label == "CLAUSE" else -0.5
    if q.kind == "yesno":  # a yes/no question is answered by what a clause states, not by a name in it
        return 1.0 if label == "CLAUSE" else -1.0
    if label == "CLAUSE" and q.cause:
        return 0.75  # "what caused X": a reason clause, as fit as a name that did it
    if label == "CLAUSE" and span.root.dep_ == "ccomp" and keys(span.root.head) & q.object_of:
        return 1.0  # what the asked verb says ("said the council should have …")
    if label in PROPER:
        return 0.75  # a name identifies; a description ("a key district") seldom answers "which X"
    return 0.25 if label not in ("CARDINAL", "ORDINAL", "CLAUSE") else 0.0


def _counted(span: Span) -> frozenset[str]:
    """The match keys of the span and of the noun its number counts ("14.5 million" → "euros")."""
    root = span.root
    if span.label_ != "MONEY" and root.dep_ == "nummod" and not span.start <= root.head.i < span.end:
        return content_keys(span) | keys(root.head)
    return content_keys(span)


def _other_kind(span: Span, q: Question) -> bool:
    """Does the span count a noun that is another kind of thing than the question's ("fighters" for
    "how many civilians"; qa/lexicon.py)?"""
    return bool(q.head_lemma) and other_kind(span.root.head.lemma_.lower(), q.head_lemma)


def _titled_otherwise(span: Span, q: Question) -> bool:
    """Is a name given a title of another kind than the question's noun ("President Ada Brandt" for
    "which spokesperson", "X, a police spokesman" for "which commander"; qa/lexicon.py)?"""
    return bool(q.head_lemma) and any(
        other_kind(t.lemma_.lower(), q.head_lemma) for t in titles(span.doc, span.start_char, span.end_char)
    )


def _counts_things(span: Span) -> bool:
    """Does the span's number count a noun that is no unit of measurement ("4,800 children")?"""
    root = span.root
    if root.dep_ != "nummod" or span.start <= root.head.i < span.end or root.head.pos_ != "NOUN":
        return False
    noun = root.head
    return not (is_unit(noun.lemma_.lower()) or is_unit(noun.lower_))


def _money(span: Span) -> bool:
    """Is the span a sum of money, in its own words or in the noun its number counts (quantulum3's
    currencies, through qa/values.py)?"""
    if span.label_ == "MONEY" or any(e.label_ == "MONEY" for e in span.ents):
        return True
    root = span.root
    end = root.head.i + 1 if root.dep_ == "nummod" and root.head.i >= span.end else span.end
    value = normalise(span.doc[span.start : end].text, "QUANTITY")
    return value is not None and value.unit.startswith("currency")


def _head_fit(span: Span, q: Question) -> float:
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
