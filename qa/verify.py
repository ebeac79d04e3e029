"""Does a sentence state this answer to this question? Pure functions over parses, table-tested.

A candidate answer (a span of an evidence sentence, from the model or from the extractive proposer) is
kept only when its sentence states it as the answer:
- the span is in the sentence (`locate`);
- its role matches (`role`): where the sentence has the question's predicate, the span belongs to that
  predicate and not to another verb ("the spokesman said the minister reviewed" does not make the
  spokesman the one who reviewed);
- negation agrees (`negation_agrees`).
A model's free sentence is checked the same way, clause by clause (`claim_supported`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.candidates import Proposal, Verdict
from qa.contrary import contrary
from qa.kinds import type_fit
from qa.kinds.base import DATES, NUMBERS
from qa.lexical import fold, numbers
from qa.nlp import content_keys, is_content, keys, negated, predicate
from qa.question import Question, read

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

# What a small model wraps around an answer: "Answer:", "<evidence>", "[1]" glued to a word, quotes.
_TAGS = re.compile(r"</?\s*(evidence|answer|question|context|s)\s*>|<\|[^|>]*\|>", re.IGNORECASE)
_LINES = re.compile(r"^\s*question\s*:.*$|^\s*(final\s+)?answer\s*:\s*", re.IGNORECASE | re.MULTILINE)


def strip_scaffolding(text: str) -> str:
    """Remove prompt scaffolding a model may echo ("<evidence>", "Answer:", chat-template tokens)."""
    lines = [ln.strip() for ln in _TAGS.sub(" ", text).splitlines()]
    return re.sub(r"\s+", " ", _LINES.sub(" ", "\n".join(lines))).strip()


def _folded_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)` character by character, with the index in `text` of every folded character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = fold(ch)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where


def locate(answer: str, sentence: str) -> tuple[int, int] | None:
    """`[start, end)` of `answer` in `sentence` (exact, else case-, accent- and quote-insensitive, on word
    boundaries); None when the sentence does not contain it."""
    a = answer.strip().strip("\"'“”‘’").strip()
    a = re.sub(r"[.,;:!?]+$", "", a).strip()
    if not a:
        return None
    i = sentence.find(a)
    if i >= 0:
        return i, i + len(a)
    fs, where = _folded_map(sentence)
    fa = re.sub(r"\s+", " ", fold(a))
    m = re.search(r"(?<!\w)" + re.escape(fa).replace(r"\ ", r"\s+") + r"(?!\w)", fs)
    if m is None:
        return None
    return where[m.start()], where[m.end() - 1] + 1


def _span(doc: Doc, start: int, end: int) -> Span | None:
    return doc.char_span(start, end, alignment_mode="expand")


class RuleVerifier:
    """Stage 5, verify, by rules: a proposal is kept only when it can be an answer at all (not longer
    than one, not a repeat of the question) and its sentence states it as the answer to this question
    (its role, the polarity, the answer kind).

    The model's phrase is a reader's: it is held to what the evidence says (the phrase stands in the
    sentence, the polarity agrees, a kind that cannot answer is refused), not to the parse's guesses. Which
    verb a phrase belongs to, a weak kind (a noun phrase for "why") and a phrase made of the question's
    words ("learning programs" for "what are programs that learn called?") are scored, not vetoed; a
    phrase that copies the question's words or names, or describes the X a "which X" asks for without
    naming it, is not an answer from anyone."""

    def __init__(self, max_span_tokens: int, kind_mismatch: float) -> None:
        self.max_span_tokens = max_span_tokens
        self.kind_mismatch = kind_mismatch

    def verify(self, q: Question, p: Proposal) -> Verdict:
        """The verdict on one proposal, with its reason when it is rejected."""
        doc = p.evidence.doc
        span = _span(doc, p.start, p.end)
        if span is None or len(span) > self.max_span_tokens and p.label != "CLAUSE":
            return Verdict(False, "longer than an answer")
        reader = p.source == "model"
        why = _no_answer(q, span, p.label, reader)
        if why:
            return Verdict(False, why)
        r = role(q, doc, p.start, p.end)
        if r is False and not reader:
            return Verdict(False, "it belongs to another verb than the question's", role=r)
        said = opposite(q, doc)
        if said:
            return Verdict(False, said, role=r)
        fit = type_fit(p.label, q, span, self.kind_mismatch)
        if fit <= CANNOT or fit < 0 and not reader:
            return Verdict(False, f"a {p.label} cannot answer a {q.kind} question", fit, r)
        return Verdict(True, "", fit, r)


# A kind's fit at or below this: the span cannot answer (a sum of money for "who"); above it and below 0,
# a weak answer (qa/kinds/).
CANNOT = -1.0


def _no_answer(q: Question, span: Span, label: str, reader: bool) -> str:
    """Why the span cannot be an answer at all, whatever its sentence says; "" when it can. A reader's
    phrase (`reader`) repeats the question only when it copies its words as they stand."""
    span_keys = content_keys(span)
    if label not in NUMBERS | DATES and not span_keys and not any(t.like_num for t in span):
        return "it says nothing"  # "some of the"
    seen = read(q, span.doc)
    new = content_keys(t for t in span if not seen.hits[t.i]) - q.focus - q.head  # a synonym repeats, too
    folded = fold(span.text)
    if reader and re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", fold(q.text)):
        return "it only repeats the question"
    if not reader and span_keys and not new and folded not in q.names:
        return "it only repeats the question"  # "the district" for "which district"
    if (
        q.head
        and not q.sort
        and keys(span.root) & q.head
        and not any(t.pos_ == "PROPN" or t.ent_type_ or t.like_num for t in span)
        and not any(t.head.i == span.root.i and t.dep_ in ("compound", "nmod") for t in span)
    ):
        # "a key district" for "which district"; "what kind of engine" is answered by "a diesel engine",
        # and a noun before the noun names one ("the speed-up theorem", "the graph isomorphism problem")
        return "it describes the one asked for without naming it"
    if q.names and folded in q.names:
        return "it is a name the question gives"
    if label != "CLAUSE" and q.given and q.given <= span_keys and len(span_keys - q.given) <= 1:
        return (
            "it is the question's own subject"  # with a title at most ("Councillor X" for "what did X say")
        )
    return ""


def predicate_tokens(q: Question, doc: Doc) -> list[Token]:
    """Tokens of the sentence that are the question's predicate (same lemma or stem, or a synonym)."""
    return [doc[i] for i in read(q, doc).predicate]


def role(q: Question, doc: Doc, start: int, end: int) -> bool | None:
    """Is the span an argument of the question's predicate in this sentence? None when the sentence does
    not use the predicate (a paraphrase: the parse cannot tell, the scorer decides)."""
    preds = predicate_tokens(q, doc)
    if not preds:
        return None
    span = _span(doc, start, end)
    if span is None:
        return False
    root = span.root
    own = predicate(root) if root.pos_ not in ("VERB", "AUX") else root
    # A clause that modifies a verb belongs to that verb: "… was delayed because the grant was withdrawn"
    # says why it was delayed.
    head = root.head if root.pos_ in ("VERB", "AUX") and root.dep_ == "advcl" else None
    for p in preds:
        if own is not None and own.i == p.i or span.start <= p.i < span.end:
            return True
        if head is not None and head.i == p.i:
            return True
        # "the minister, who reviewed the plan": the predicate modifies the span (a relative clause), or
        # names what it is ("Ada Brandt, the winner")
        if span.start <= p.head.i < span.end and p.dep_ in ("relcl", "acl", "amod", "appos"):
            return True
        # "the hero Roland slaying a dragon": a participle the parser hangs on the name as a complement
        if span.start <= p.head.i < span.end and p.dep_ == "xcomp" and p.head.pos_ in ("NOUN", "PROPN"):
            return True
        # "the minister's review of the plan": the span hangs on the predicate noun
        if p.pos_ == "NOUN" and any(a.i == p.i for a in root.ancestors):
            return True
        # "a faulty valve was the likely cause", "the cause was a faulty valve": the span and the
        # predicate noun are the two sides of one copula
        if p.pos_ == "NOUN" and equated(root, p):
            return True
    return False


def equated(a: Token, b: Token) -> bool:
    """Are `a` and `b` the subject and the attribute of one copula ("X was the cause")?"""
    return a.head.i == b.head.i and a.head.lemma_ == "be" and {a.dep_, b.dep_} == {"nsubj", "attr"}


def is_subject(doc: Doc, start: int, end: int) -> bool:
    """Is the span the subject (or the passive agent) of its clause?"""
    span = _span(doc, start, end)
    if span is None:
        return False
    root = span.root
    if root.dep_ in ("nsubj", "nsubjpass", "appos") or root.dep_ == "compound" and root.head.dep_ == "nsubj":
        return True
    return root.dep_ == "pobj" and root.head.dep_ == "agent"


def opposite(q: Question, doc: Doc) -> str:
    """How the sentence says the opposite of the question, "" when it does not: the opposite polarity of
    the question's predicate, or an antonym or another count in its place (qa/contrary.py). For a yes/no
    question that is its answer, "no", not a contradiction."""
    if q.kind == "yesno":
        return ""
    if not negation_agrees(q, doc):
        return "the sentence's polarity is not the question's"
    return contrary(q.contrasts, doc)


def negation_agrees(q: Question, doc: Doc) -> bool:
    """A negated question needs a negated predicate and the other way round; True when the sentence
    does not use the predicate."""
    preds = predicate_tokens(q, doc)
    if not preds:
        return True
    return any(negated(p) == q.negated for p in preds)


@dataclass(frozen=True)
class ClaimCheck:
    """Why a free sentence is or is not supported by an evidence sentence."""

    ok: bool
    reason: str = ""


def claim_supported(claim: Doc, evidence: Doc, min_coverage: float) -> ClaimCheck:
    """Does the evidence sentence state the claim? Numbers and names must be there, most content words
    too, and every clause of the claim must have its predicate in the evidence with the same subject and
    the same polarity."""
    ev_text = fold(evidence.text)
    missing_nums = numbers(claim.text) - numbers(evidence.text)
    if missing_nums:
        return ClaimCheck(False, f"number {sorted(missing_nums)[0]} is not in the evidence")
    for ent in claim.ents:
        if ent.label_ in ("CARDINAL", "ORDINAL"):
            continue
        if not _entity_in(fold(ent.text), ev_text):
            return ClaimCheck(False, f"{ent.text!r} is not in the evidence")
    c_keys = content_keys(claim)
    e_keys = content_keys(evidence)
    if not c_keys:
        return ClaimCheck(False, "the claim says nothing")
    cover = len(c_keys & e_keys) / len(c_keys)
    if cover < min_coverage:
        return ClaimCheck(False, f"only {cover:.0%} of its words are in the evidence")
    for verb in (t for t in claim if t.pos_ == "VERB" and is_content(t)):
        same = [t for t in evidence if t.pos_ in ("VERB", "NOUN") and keys(t) & keys(verb)]
        if not same:
            continue  # a paraphrased verb: coverage above decides
        subj = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
        subj_keys = content_keys(subj[0].subtree) if subj else frozenset()
        if subj_keys and not any(_subject_matches(subj_keys, t) for t in same):
            return ClaimCheck(False, f"in the evidence someone else {verb.lemma_}s")
        if not any(negated(t) == negated(verb) for t in same):
            return ClaimCheck(False, f"the evidence {'does not negate' if negated(verb) else 'negates'} it")
    return ClaimCheck(True)


def _entity_in(name: str, text: str) -> bool:
    """A name is in the text when each of its words is (so "Anna Kovac" meets "Kovac")."""
    if re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text):
        return True
    parts = [p for p in re.findall(r"\w+", name) if len(p) > 2 and p not in ("the", "and")]
    return (
        bool(parts)
        and any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text) for p in parts[-1:])
        and all(p in text for p in parts)
    )


def _subject_matches(subj_keys: frozenset[str], verb: Token) -> bool:
    """Does the subject of `verb` (or its agent, or the subject it inherits) share a word with the
    claim's subject? A pronoun subject can refer to anyone, so it matches."""
    cands = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "agent")]
    if not cands and verb.dep_ in ("xcomp", "conj", "advcl", "relcl", "acl"):
        return (
            _subject_matches(subj_keys, verb.head)
            or verb.dep_ in ("relcl", "acl")
            and bool(content_keys([verb.head]) & subj_keys)
        )
    if not cands:
        return True
    for c in cands:
        if c.pos_ == "PRON":
            return True
        if content_keys(c.subtree) & subj_keys:
            return True
    return False
