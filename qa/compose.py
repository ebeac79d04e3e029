"""Stage 9, compose: the answer as the user reads it, pure given the decision.

- an answer: the short answer with every sentence that states it cited and the phrase's exact span on
  each citation, then the clause that states it quoted (the model's phrase stands alone: its sentence is
  in the citation); every version with its articles when the sources disagree;
- quoted: "The closest the articles come:" and the best sentence, quoted and cited, no short answer;
- refused: the refusal, with why, citing nothing.
Quotes always come from the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from qa import prompts
from qa.candidates import Candidate
from qa.cite import defang
from qa.conflicts import Version, shown, wording
from qa.decide import Decision
from qa.settings import AnswerSettings
from qa.types import Answer, Citation, Conflict

_STAGES = ("retrieve_ms", "nlp_ms", "prompt_ms", "prefill_ms", "decode_ms", "verify_ms")


@dataclass(frozen=True)
class Meta:
    """What an answer carries besides its text: the model and backend, the timings, the retrieved
    sentence ids and the notes of what verification did."""

    model: str
    backend: str
    timings: dict[str, float] = field(default_factory=dict)
    retrieved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def refusal(question: str, reason: str, meta: Meta) -> Answer:
    """The refusal: it cites nothing and says why first in `notes`."""
    timings = {**dict.fromkeys(_STAGES, 0.0), **meta.timings}  # stages that did not run cost nothing
    return Answer(
        question=question,
        answer=prompts.REFUSAL,
        refused=True,
        citations=[],
        model=meta.model,
        backend=meta.backend,
        timings=timings,
        mode="refused",
        retrieved=meta.retrieved,
        notes=[reason, *meta.notes],
    )


def compose(
    question: str, d: Decision, versions: Sequence[Version[Candidate]], meta: Meta, knobs: AnswerSettings
) -> Answer:
    """The answer for a decision of any outcome."""
    if d.outcome == "answer":
        return _answer(question, d, versions, meta, knobs)
    if d.outcome == "quoted" and d.quote is not None:
        return quoted(question, d, meta)
    return refusal(question, d.reason, meta)


def quoted(question: str, d: Decision, meta: Meta) -> Answer:
    """No span is clear: the best sentence quoted and cited (only it: a near-identical report in other
    words does not state the quote itself; `reported_by` counts the articles that carry it)."""
    assert d.quote is not None
    citations = [Citation.of(d.quote.sentence)]
    marks = "[1]"
    text = prompts.QUOTED.format(quote=defang(d.quote.sentence.text.strip()))
    return Answer(
        question=question,
        answer=f"{text} {marks}",
        refused=False,
        citations=citations,
        model=meta.model,
        backend=meta.backend,
        timings=dict(meta.timings),
        mode="quoted",
        confidence=round(d.confidence, 3),
        reported_by={c.id: len(d.quote.group.files) for c in citations},
        retrieved=meta.retrieved,
        notes=[d.reason, *meta.notes],
    )


def stating_clause(doc: Any, start: int, end: int, max_words: int) -> tuple[int, int]:
    """Character offsets of the words of a sentence that state the span `[start, end)`: the whole
    sentence when it has at most `max_words` words, else the largest clause (a predicate's subtree) around
    the span that does, else the span with the words nearest it. Pure given the parse."""

    def n_words(lo: int, hi: int) -> int:
        return sum(1 for t in doc[lo : hi + 1] if not t.is_punct)

    span = doc.char_span(start, end, alignment_mode="expand")
    if n_words(0, len(doc) - 1) <= max_words or span is None:
        return 0, len(doc.text)
    best: tuple[int, int] | None = None
    tok = span.root
    while True:
        if tok.pos_ in ("VERB", "AUX") and tok.dep_ not in ("aux", "auxpass"):
            sub = list(tok.subtree)
            lo, hi = min(sub[0].i, span.start), max(sub[-1].i, span.end - 1)
            if n_words(lo, hi) > max_words:
                break
            best = (lo, hi)
        if tok.head.i == tok.i:
            break
        tok = tok.head
    if best is None:  # no clause is short enough: the span and the words around it
        half = max(0, (max_words - len(span)) // 2)
        best = (max(0, span.start - half), min(len(doc) - 1, span.end - 1 + half))
    first, last = doc[best[0]], doc[best[1]]
    return first.idx, last.idx + len(last.text)


def _answer(
    question: str, d: Decision, versions: Sequence[Version[Candidate]], meta: Meta, knobs: AnswerSettings
) -> Answer:
    """The answer for a decision with a winner: the short answer (or every version, when the sources
    disagree) with its citations, each carrying the phrase's span, then the clause that states it."""
    assert d.best is not None
    citations: list[Citation] = []
    seen: dict[str, int] = {}
    reported: dict[str, int] = {}

    def cite(c: Candidate, cap: int) -> list[int]:
        """Cite the candidate's sentence and each near-identical report of it that holds the phrase,
        while there are fewer than `cap` citations."""
        from qa.verify import locate

        marks: list[int] = []
        for h in c.evidence.group.hits:
            s = h.sentence
            where = (c.start, c.end) if s is c.evidence.sentence else locate(c.text, s.text)
            if where is None or len(citations) >= cap and s.id not in seen:
                continue
            if s.id not in seen:
                citations.append(Citation.of(s, where))
                seen[s.id] = len(citations)
                reported[s.id] = len(c.evidence.group.files)
            marks.append(seen[s.id])
        return marks

    conflicts: list[Conflict] = []
    short = d.best.text
    if versions:
        # The sources disagree: every version, most supported first, each cited by its own sentences.
        said: list[tuple[str, str, int]] = []
        for ver in versions:
            members = sorted(ver.members, key=lambda c: (c is not d.best, -c.score))
            ks: list[int] = []
            cap = len(citations) + knobs.max_cited
            for c in members:
                ks += [m for m in cite(c, cap) if m not in ks]
            conflicts.append(Conflict(value=members[0].text, citations=ks, files=len(ver.files)))
            said.append((shown(members[0].text), "".join(f"[{k}]" for k in ks), len(ver.files)))
        short = conflicts[0].value
        parts = [wording(said, len(set().union(*(v.files for v in versions))))]
    else:
        marks: list[int] = []
        for c in d.support:
            marks += [m for m in cite(c, knobs.max_cited) if m not in marks]
        parts = [f"{d.best.text} {''.join(f'[{k}]' for k in marks)}."]
        # The words that state it follow, quoted (the clause that holds the phrase when the sentence
        # is long), unless the phrase is all of them: the reader sees the answer's context at once. The
        # model's phrase stands alone: a capable model's answer is terse, and its sentence is cited.
        lead = d.best.evidence.sentence
        a, b = stating_clause(d.best.evidence.doc, d.best.start, d.best.end, knobs.quote_words)
        clause = lead.text[a:b].strip()
        if d.best.source != "model" and len(d.best.text) < 0.8 * len(clause):
            cut = "…" if a > 0 or b < len(lead.text.rstrip()) - 1 else ""
            quote = prompts.EXTRACTIVE.format(quote=defang(clause) + cut)
            parts.append(f"{quote} [{seen[lead.id]}]")
    return Answer(
        question=question,
        answer=" ".join(parts),
        refused=False,
        citations=citations,
        model=meta.model,
        backend=meta.backend,
        timings=dict(meta.timings),
        mode="generated" if d.best.source == "model" else "extractive",
        confidence=round(d.confidence, 3),
        short_answer=short,
        reported_by=reported,
        conflicts=conflicts,
        retrieved=meta.retrieved,
        notes=meta.notes,
    )
