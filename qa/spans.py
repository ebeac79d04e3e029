"""The answer pipeline: question → retrieve → parse evidence → propose → verify → decide → present.

Nothing decides the answer before the model runs. Candidates come from the model's reply (any backend)
and from an extractive proposer over the best evidence sentences (qa/propose.py); one verifier and one
score judge them all (qa/verify.py, qa/weights.py), and the best verified candidate wins when its score
clears the answerability threshold. The answer leads with the short answer, cites every sentence that
states it, and marks the phrase inside each (`answer_start`/`answer_end`). Quotes always come from the
index. A refusal says why and cites nothing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from index.errors import QAError
from index.settings import Settings
from qa import prompts
from qa.cite import defang, split_claims
from qa.conflicts import Version, shown, versions_of, warm, wording
from qa.events import Event
from qa.inputs import clean_question, rewrite_followup
from qa.lexical import fold
from qa.llm import LLM, Choice, make_llm
from qa.nlp import content_keys, parse, parse_many
from qa.propose import Candidate, Evidence, add_votes, extractive, from_model
from qa.question import Question, analyse
from qa.retrieve import Group, Retrieval, Retriever
from qa.types import Answer, Citation, Conflict
from qa.verify import claim_supported, strip_scaffolding
from qa.weights import WEIGHTS, Weights

# Evidence groups the proposer reads (the model is shown `top_k` of them).
PROPOSE_POOL = 8
# A reply this short is a phrase to find in the evidence; a longer one is a sentence to check.
SHORT_REPLY_WORDS = 12
# A quoted sentence longer than this many words is cut to the clause that states the answer (25 keeps the
# median answer at or under 20 words on the seeds pairs, squad2-rhine and news-multisource; README).
QUOTE_WORDS = 25
# Citations carrying one answer, at most.
MAX_CITED = 6
# A model's phrase counts only in a sentence whose score is within this of the best sentence's.
MODEL_SENTENCE_MARGIN = 1.0
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


def _refusal(
    question: str, reason: str, model: str, backend: str, timings: dict[str, float], retrieved: list[str]
) -> Answer:
    for stage in ("retrieve_ms", "nlp_ms", "prompt_ms", "prefill_ms", "decode_ms", "verify_ms"):
        timings.setdefault(stage, 0.0)  # stages that did not run cost nothing
    return Answer(
        question=question,
        answer=prompts.REFUSAL,
        refused=True,
        citations=[],
        model=model,
        backend=backend,
        timings=timings,
        mode="refused",
        retrieved=retrieved,
        notes=[reason],
    )


def model_candidates(
    q: Question, reply: str, shown: Sequence[Evidence], pool: Sequence[Evidence], idf: Any, weights: Weights
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
        if len(text.split()) <= SHORT_REPLY_WORDS:
            found = from_model(q, text, pool, marked, idf, weights)
            if found:
                return found, False, notes
        # A sentence: it must be stated by an evidence sentence; its answer is a span of that sentence
        # that the claim repeats.
        doc = parse_many([text])[0]
        order = marked + [i for i in range(len(pool)) if i not in marked]
        for i in order:
            check = claim_supported(doc, pool[i].doc)
            if not check.ok:
                continue
            spans = [
                c
                for c in extractive(q, [pool[i]], idf, weights)
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


def decide(
    q: Question,
    extracted: Sequence[Candidate],
    proposed: Sequence[Candidate],
    model_refused: bool,
    weights: Weights = WEIGHTS,
    evidence: Sequence[Evidence] = (),
) -> Decision:
    """Pick the best verified candidate and everything that states the same answer. Pure."""
    missing = unmentioned(q, evidence)
    if missing:
        return Decision(None, [], [], f"the articles never mention {', '.join(missing)}", model_refused)
    pool = [c for c in [*proposed, *extracted] if _verified(c)]
    if proposed:
        # The model's phrase must sit in a sentence that holds the question about as well as the best
        # one does: a right phrase from the wrong sentence ("another date of the same kind") is dropped.
        best_sentence = max(weights.sentence_score(c.features) for c in pool) if pool else 0.0
        pool = [
            c
            for c in pool
            if c.source != "model"
            or weights.sentence_score(c.features) >= best_sentence - MODEL_SENTENCE_MARGIN
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
    return Decision(best, same, versions_of(q, best, same, pool, weights), "", model_refused, score)


def stating_clause(doc: Any, start: int, end: int, max_words: int = QUOTE_WORDS) -> tuple[int, int]:
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


class Pipeline:
    """Answers questions with verified short answers and exact citations. Build once; call `ask` or
    `stream` many times."""

    def __init__(
        self,
        settings: Settings,
        llm: LLM | None = None,
        retriever: Retriever | None = None,
        choice: Choice | None = None,
        weights: Weights = WEIGHTS,
    ) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        if llm is None:
            llm, choice = make_llm(settings)
        self.llm = llm
        self.choice = choice or Choice(llm.backend, "given")
        self.weights = weights
        # The value parsers load in the background while the first question is being asked.
        threading.Thread(target=warm, name="qa-warm", daemon=True).start()

    @property
    def model_label(self) -> str:
        """`backend:model`, as shown in answers and the UI."""
        return f"{self.llm.backend}:{self.llm.name}"

    @property
    def refine(self) -> str:
        """When the model runs after the extractive answer: `always`, `weak` or `never`. `auto` is
        always with Ollama and never with the embedded model, whose proposals changed answers for the
        worse on the measured sets (README "Evaluation")."""
        mode = self.settings.refine
        if mode == "auto":
            return "never" if self.llm.backend == "llamacpp" else "always"
        return mode

    @property
    def uses_model(self) -> bool:
        """May the model run for some question?"""
        return self.refine != "never"

    # ---- helpers ---------------------------------------------------------------------------------------
    def _prompt(self, question: str, evidence: Sequence[Evidence]) -> tuple[list[Evidence], str]:
        """The numbered evidence block, trimmed to the model's token budget (never silently by a server)."""
        budget = (
            self.llm.n_ctx
            - self.settings.max_answer_tokens
            - self.llm.count_tokens(prompts.SYSTEM)
            - self.llm.count_tokens(prompts.USER.format(evidence="", question=question))
            - 48
        )
        used: list[Evidence] = []
        lines: list[str] = []
        for ev in evidence:
            line = prompts.EVIDENCE_LINE.format(n=len(used) + 1, text=defang(ev.sentence.text))
            cost = self.llm.count_tokens(line) + 1
            if cost > budget:
                break
            budget -= cost
            used.append(ev)
            lines.append(line)
        return used, prompts.USER.format(evidence="\n".join(lines), question=question)

    def _evidence(self, groups: Sequence[Group]) -> list[Evidence]:
        """Parse the best groups' lead sentences (cached) with the words of the sentence before each."""
        prevs = [self.retriever.neighbours(g.lead.sentence)[0] for g in groups]
        texts = [g.lead.sentence.text for g in groups] + [p.text for p in prevs if p is not None]
        docs = parse_many(texts)
        by_text = {t: d for t, d in zip(texts, docs, strict=True)}
        out = []
        top = max((h.similarity for g in groups for h in g.hits), default=0.0)
        for rank, (g, prev) in enumerate(zip(groups, prevs, strict=True)):
            ctx = content_keys(by_text[prev.text]) if prev is not None else frozenset()
            whole = fold(self.retriever.file_text(g.lead.sentence.file))
            out.append(Evidence(g, by_text[g.lead.sentence.text], rank, ctx, whole, top))
        return out

    def _compose(
        self,
        question: str,
        d: Decision,
        timings: dict[str, float],
        retrieved: list[str],
        notes: list[str],
    ) -> Answer:
        assert d.best is not None
        citations: list[Citation] = []
        seen: dict[str, int] = {}
        reported: dict[str, int] = {}

        def cite(c: Candidate, cap: int = MAX_CITED) -> list[int]:
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
                    citations.append(
                        Citation(
                            id=s.id,
                            file=s.file,
                            sentence=s.n,
                            quote=s.text,
                            start=s.start,
                            end=s.end,
                            answer_start=s.start + where[0],
                            answer_end=s.start + where[1],
                        )
                    )
                    seen[s.id] = len(citations)
                    reported[s.id] = len(c.evidence.group.files)
                marks.append(seen[s.id])
            return marks

        conflicts: list[Conflict] = []
        short = d.best.text
        if d.versions:
            # The sources disagree: every version, most supported first, each cited by its own sentences.
            said: list[tuple[str, str, int]] = []
            for ver in d.versions:
                members = sorted(ver.members, key=lambda c: (c is not d.best, -c.score))
                ks: list[int] = []
                cap = len(citations) + MAX_CITED
                for c in members:
                    ks += [m for m in cite(c, cap) if m not in ks]
                conflicts.append(Conflict(value=members[0].text, citations=ks, files=len(ver.files)))
                said.append((shown(members[0].text), "".join(f"[{k}]" for k in ks), len(ver.files)))
            short = conflicts[0].value
            parts = [wording(said, len(set().union(*(v.files for v in d.versions))))]
        else:
            marks: list[int] = []
            for c in d.support:
                marks += [m for m in cite(c) if m not in marks]
            parts = [f"{d.best.text} {''.join(f'[{k}]' for k in marks)}."]
            # The words that state it follow, quoted (the clause that holds the phrase when the sentence
            # is long), unless the phrase is all of them: the reader sees the answer's context at once.
            lead = d.best.evidence.sentence
            a, b = stating_clause(d.best.evidence.doc, d.best.start, d.best.end)
            clause = lead.text[a:b].strip()
            if len(d.best.text) < 0.8 * len(clause):
                cut = "…" if a > 0 or b < len(lead.text.rstrip()) - 1 else ""
                quote = prompts.EXTRACTIVE.format(quote=defang(clause) + cut)
                parts.append(f"{quote} [{seen[lead.id]}]")
        return Answer(
            question=question,
            answer=" ".join(parts),
            refused=False,
            citations=citations,
            model=self.model_label,
            backend=self.llm.backend,
            timings=dict(timings),
            mode="generated" if d.best.source == "model" else "extractive",
            short_answer=short,
            reported_by=reported,
            conflicts=conflicts,
            retrieved=retrieved,
            notes=notes,
        )

    # ---- public ----------------------------------------------------------------------------------------
    def stream(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Iterator[Event]:
        """Answer `question`, streaming events. Raises InputError before anything is streamed."""
        t0 = time.perf_counter()
        q = clean_question(question, self.settings)
        standalone = rewrite_followup(q, history)
        yield Event("meta", {"backend": self.llm.backend, "model": self.model_label, "question": standalone})
        self.retriever.refresh()
        ret: Retrieval = self.retriever.retrieve(standalone)
        timings = dict(ret.timings)
        retrieved = [h.sentence.id for h in ret.hits]
        k = top_k or self.settings.top_k
        if not ret.groups:
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            why = "nothing in the articles matches the question"
            yield Event(
                "done", {"answer": _refusal(q, why, self.model_label, self.llm.backend, timings, retrieved)}
            )
            return
        tn = time.perf_counter()
        info = analyse(standalone)
        pool = self._evidence(ret.groups[: max(PROPOSE_POOL, k)])
        extracted = extractive(info, pool, self.retriever.idf, self.weights)
        timings["nlp_ms"] = (time.perf_counter() - tn) * 1e3
        tv = time.perf_counter()
        first = decide(info, extracted, [], False, self.weights, pool)
        verify_s = time.perf_counter() - tv
        run_model = self.refine == "always" or (
            self.refine == "weak" and (first.best is None or first.score < self.weights.clear)
        )
        notes: list[str] = []
        d = first
        if run_model:
            if first.best is not None:
                # The verified extractive answer is shown at once; the model may replace it.
                draft = self._compose(q, first, {**timings, "verify_ms": verify_s * 1e3}, retrieved, [])
                draft.timings["total_ms"] = (time.perf_counter() - t0) * 1e3
                yield Event("draft", {"answer": draft})
            tp = time.perf_counter()
            # The model sees the evidence in retrieval order, the sentence of the best extractive
            # candidate first (it is the likeliest to hold the answer).
            lead = [extracted[0].evidence] if extracted else []
            ordered = lead + [ev for ev in pool[:k] if ev not in lead]
            shown, user = self._prompt(standalone, ordered[:k])
            timings["prompt_ms"] = (time.perf_counter() - tp) * 1e3
            reply = ""
            for delta in self.llm.stream(prompts.SYSTEM, user, self.settings.max_answer_tokens):
                reply += delta
                yield Event("token", {"text": delta})
            tv = time.perf_counter()
            proposed, refused_by_model, said = model_candidates(
                info, reply, shown, pool, self.retriever.idf, self.weights
            )
            notes.append(f"model output: {reply.strip()!r}")
            notes += said
            d = decide(info, extracted, proposed, refused_by_model, self.weights, pool)
            verify_s += time.perf_counter() - tv
            timings.update(self.llm.stats)
        timings["verify_ms"] = verify_s * 1e3
        if d.best is None:
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            answer = _refusal(q, d.reason, self.model_label, self.llm.backend, timings, retrieved)
            answer.notes = [d.reason, *notes]
            yield Event("done", {"answer": answer})
            return
        answer = self._compose(q, d, timings, retrieved, notes)
        for claim in split_claims(answer.answer):
            ids = [answer.citations[m - 1].id for m in claim.markers if 1 <= m <= len(answer.citations)]
            yield Event("claim", {"text": claim.text, "sentence_ids": ids})
        answer.timings["total_ms"] = (time.perf_counter() - t0) * 1e3
        yield Event("done", {"answer": answer})

    def ask(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Answer:
        """Answer `question` and return the final Answer."""
        final: Answer | None = None
        for ev in self.stream(question, history, top_k):
            if ev.type == "done":
                final = ev.data["answer"]
        if final is None:  # stream() always ends in `done` or raises; this guards a broken invariant
            raise QAError("The answer pipeline ended without an answer; ask again.")
        return final
