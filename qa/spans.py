"""Candidate answer spans of one parsed sentence: its entities, numbers and noun phrases (each with
everything that hangs on it, up to a length), and for reason, manner and open questions the clauses that
can answer them. Pure given the parse; table-tested (tests/test_verify.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa import kinds
from qa.nlp import keys, negated
from qa.question import Question

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_TIMES = ("DATE", "TIME")
_REASON_MARKS = frozenset({"because", "since", "as", "so"})
_REASON_PREPS = frozenset({"because", "due", "owing", "thanks"})


def sentence_spans(doc: Doc, q: Question, max_tokens: int) -> list[tuple[int, int, str]]:
    """Candidate spans of one sentence: `(start, end, label)` with character offsets in the sentence; a
    noun's subtree is one when it has at most `max_tokens` tokens."""
    out: dict[tuple[int, int], str] = {}
    for e in doc.ents:
        out[(e.start_char, _per_unit(doc, e.end))] = e.label_
    for nc in doc.noun_chunks:
        if nc.root.pos_ == "PRON":
            continue
        span = _trim(nc)
        if span is not None and (span.start_char, span.end_char) not in out:
            out[(span.start_char, span.end_char)] = "NP"
    for t in doc:
        # A noun with everything that hangs on it: "a function of the size of the instance", "yes or no".
        if t.pos_ in ("NOUN", "PROPN") and t.dep_ != "ROOT":
            sub = list(t.subtree)
            if 1 < len(sub) <= max_tokens and len(sub) < len(doc) - 1:
                if sub[0].pos_ in ("DET", "ADP") and len(sub) > 2:
                    sub = sub[1:]
                sub = _tidy(sub)
                if sub:
                    out.setdefault((sub[0].idx, sub[-1].idx + len(sub[-1].text)), "NP")
        if t.like_num and not any(a <= t.idx < b for a, b in out):
            out[(t.idx, t.idx + len(t.text))] = "CARDINAL"
    if "TIME" in q.labels:
        for a, b in _clock_spans(doc):
            out[(a, b)] = "TIME"
    if kinds.get(q.kind).clauses:
        for a, b in _clauses(doc, q):
            out.setdefault((a, b), "CLAUSE")
    return [(a, b, lab) for (a, b), lab in out.items() if b > a]


def _per_unit(doc: Doc, end: int) -> int:
    """Where a measure ends that the entity recogniser cut at a slash: "120 km" of "120 km/h", "5 mg"
    of "5 mg/kg" (a unit per unit, written without spaces)."""
    if (
        end + 1 < len(doc)
        and doc[end].text == "/"
        and not doc[end - 1].whitespace_
        and not doc[end].whitespace_
    ):
        unit = doc[end + 1]
        if unit.is_alpha:
            return unit.idx + len(unit.text)
    return doc[end - 1].idx + len(doc[end - 1].text)


def _tidy(toks: list[Token]) -> list[Token]:
    """Tokens of a span without punctuation at either end and without a bracket it does not close
    ("Mount Hale (Old Peak" → "Mount Hale", "(Old Peak" → "Old Peak"; a closed pair,
    "Mount Hale (Old Peak)", stays)."""
    while toks and (toks[0].is_space or toks[0].is_punct and toks[0].text not in _OPEN):
        toks = toks[1:]
    while toks and (toks[-1].is_space or toks[-1].is_punct and toks[-1].text not in _CLOSE):
        toks = toks[:-1]
    open_at: list[int] = []
    for k, t in enumerate(toks):
        if t.text in _OPEN:
            open_at.append(k)
        elif t.text in _CLOSE:
            if not open_at:  # closes what the span does not open: drop it, and what comes before it
                return _tidy(toks[:k] if k == len(toks) - 1 else toks[k + 1 :])
            open_at.pop()
    if open_at:  # a bracket left open: end before it, or start after it when it comes first
        k = open_at[0]
        return _tidy(toks[1:] if k == 0 else toks[:k])
    return toks


def _clock_spans(doc: Doc) -> list[tuple[int, int]]:
    """Times of day the entity recogniser missed or mislabelled ("7.15am", "8.15 a.m."; "10:30am" as an
    organisation), read by dateparser: a token with a digit outside every date or time, alone or with the
    token after it."""
    from qa.dates import is_clock

    out = []
    for t in doc:
        if t.ent_type_ in _TIMES or not any(ch.isdigit() for ch in t.text):
            continue
        nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
        if is_clock(t.text):
            out.append((t.idx, t.idx + len(t.text)))
        elif nxt is not None and nxt.ent_type_ not in _TIMES and is_clock(doc[t.i : t.i + 2].text):
            out.append((t.idx, nxt.idx + len(nxt.text)))
    return out


def _trim(span: Span) -> Span | None:
    """A noun chunk without a leading determiner or possessive pronoun, its brackets closed (`_tidy`)."""
    toks = _tidy([t for t in span if not (t.i == span.start and t.pos_ in ("DET", "PRON"))])
    if not toks:
        return None
    return span.doc[toks[0].i : toks[-1].i + 1]


def _clauses(doc: Doc, q: Question) -> list[tuple[int, int]]:
    """Reason and manner clauses ("because the dam failed", "due to heavy rain", "by closing roads"),
    the clause a verb of saying takes for "what did X say", and a verb's clauses for a yes/no question."""
    out = []
    reason = q.kind == "reason" or q.cause
    for t in doc:
        if t.dep_ == "mark" and t.lower_ in _REASON_MARKS and reason:
            sub = list(t.head.subtree)
            out.append((sub[0].idx, sub[-1].idx + len(sub[-1].text)))
        elif (
            t.dep_ == "prep"
            and q.kind != "yesno"
            and t.lower_ in _REASON_PREPS | {"by", "through", "to"}
            or (t.dep_ in ("advcl", "xcomp") and any(c.lower_ == "to" for c in t.children) and reason)
        ):
            sub = list(t.subtree)
            if len(sub) > 1:
                out.append((sub[0].idx, sub[-1].idx + len(sub[-1].text)))
        elif q.kind == "yesno" and (t.pos_ == "VERB" and t.dep_ != "aux" or t.dep_ == "ROOT"):
            # "Did the forces retake the town?": what a sentence says of it is one of its clauses, not a name
            # in it; the scorer prefers the clause that holds the question's words and predicate. A clause
            # under a negated verb is never one alone ("did not say whether the bridge will need work").
            if any(negated(a) for a in t.ancestors):
                continue
            sub = [w for w in t.subtree if not (w.dep_ in ("mark", "cc") and w.i == t.left_edge.i)]
            sub = _tidy(sub)
            if len(sub) > 2:
                out.append((sub[0].idx, sub[-1].idx + len(sub[-1].text)))
        elif t.dep_ == "ccomp" and q.kind == "thing" and keys(t.head) & q.object_of:
            # "What did X say / warn / complain?": what X said is the clause the verb takes.
            sub = [w for w in t.subtree if not (w.dep_ == "mark" and w.i == t.left_edge.i)]
            if len(sub) > 1:
                out.append((sub[0].idx, sub[-1].idx + len(sub[-1].text)))
    return out
