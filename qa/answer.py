"""The answer pipeline: question → retrieve → gate → prompt → generate → parse → verify → present.

The model proposes; the pipeline disposes. Each answer sentence is kept only with citations that support
it (qa/cite.py). Sentences without a valid marker are aligned after the fact to an evidence sentence that
supports them; unsupported ones are dropped; if nothing survives, the answer is the best evidence sentence,
quoted. Quotes always come from the index. No answer leaves without a verified citation, and a refusal has
none.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, Literal

from index.errors import InputError, QAError
from index.settings import Settings
from qa import prompts
from qa.cite import Claim, ClaimStream, best_support, defang, split_claims, strip_markers, verify_citations
from qa.llm import LLM, Choice, make_llm
from qa.relevance import (
    answer_type,
    answers_question,
    asked_terms,
    coverage,
    figures_share_context,
    key_attribute,
    named_candidates,
    question_terms,
    written_figures,
)
from qa.retrieve import Group, Hit, Retrieval, Retriever
from qa.text import content_words, names, numbers
from qa.types import Answer, Citation

# A claim or quote must hold at least this share of the question's terms to count as an answer to it.
MIN_QUESTION_COVERAGE = 0.5
PAIR_POOL = 6
# A claim must say enough to be matched to a sentence: a lone place name is supported by half the corpus.
MIN_CLAIM_WORDS = 3
# The extractive fallback may quote any of the best-ranked groups, not only those shown to the model.
EXTRACTIVE_POOL = 30
EXTRACTIVE_MIN_ASKED = 0.0
ANCHORS = 1
# Small models open with "Answer:" or "Mousavi's answer:"; that is framing, not a claim.
_ANSWER_PREFIX = re.compile(r"^\s*(?:[\w’' ]{0,40}\b)?answer\s*:\s*", re.IGNORECASE)
EventType = Literal["meta", "token", "claim", "done", "error"]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSAL_CUES = re.compile(
    r"cannot answer|can't answer|not (mentioned|stated|specified|provided|given)|does not (say|mention|"
    r"specify|state|provide)|no information|not enough information|unknown",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: `token` (raw model text), `claim` (a verified sentence with its
    citations), `done` (the final Answer), `error` (a message; no answer follows), `meta` (backend info)."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Resolved:
    """An answer sentence that survived verification, with the sentences that support it."""

    text: str
    hits: list[Hit]
    how: str  # generated | aligned | extractive | disagreement


def clean_question(question: str, settings: Settings) -> str:
    """Strip control characters and lone surrogates, fold full-width forms; reject empty or huge input."""
    if not isinstance(question, str):
        raise InputError("The question must be text.")
    q = _CONTROL.sub(" ", unicodedata.normalize("NFKC", question))
    q = re.sub(r"\s+", " ", q).strip()
    if not q or not re.search(r"\w", q):
        raise InputError("The question is empty: type a question about the articles.")
    if len(q) > settings.max_question_chars:
        raise InputError(
            f"The question is {len(q)} characters long; the limit is {settings.max_question_chars}. "
            "Ask a shorter question."
        )
    return q


def rewrite_followup(question: str, history: Sequence[dict[str, str]] | None) -> str:
    """Make a follow-up standalone by carrying the previous question's terms when it leans on them.

    "and who confirmed it?" after "Which bridge was closed?" becomes
    "and who confirmed it? (about: Which bridge was closed?)". Deterministic: a 135M model
    rewrites worse than this.
    """
    prev = [h.get("content", "") for h in (history or []) if h.get("role") == "user" and h.get("content")]
    if not prev:
        return question
    leaning = re.search(
        r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there|then)\b",
        question,
        re.IGNORECASE,
    )
    if leaning or len(question_terms(question)) < 2 or question.lower().startswith(("and ", "what about")):
        return f"{question} (about: {prev[-1]})"
    return question


def rank_groups(question: str, groups: Sequence[Group]) -> list[Group]:
    """Order evidence groups by similarity plus how many of the question's terms they hold."""
    terms = question_terms(question)

    def score(g: Group) -> float:
        words = content_words(g.lead.sentence.text)
        cover = len(terms & words) / len(terms) if terms else 0.0
        return max(h.similarity for h in g.hits) + 0.3 * cover + 0.02 * (len(g.files) - 1)

    return sorted(groups, key=score, reverse=True)


def gate(question: str, groups: Sequence[Group], settings: Settings, vocabulary: Set[str]) -> str | None:
    """Why the evidence cannot answer the question, or None when it may.

    Refuse when no sentence is similar enough; when a name or number the question asks about appears in
    none of the evidence; or when what the question asks about ("population", "weather") is a word the
    articles never use (more than a third of its terms, so one paraphrased word does not refuse).
    """
    if not groups:
        return "nothing in the articles matches the question"
    attribute = key_attribute(question)
    if attribute is not None and not _known(attribute, vocabulary):
        return f"the articles never mention {attribute}"
    asked = asked_terms(question)
    unknown = sorted(t for t in asked if not _known(t, vocabulary))
    if asked and len(unknown) == len(asked):
        return f"the articles never mention {', '.join(unknown)}"
    best = max(h.similarity for g in groups for h in g.hits)
    named = names(question)
    rare_names_found = bool(named) and all(
        any(n in content_words(h.sentence.text) for g in groups for h in g.hits) for n in named
    )
    if best < settings.min_similarity and not rare_names_found:
        # Embeddings place a rare name ("Who is Amruddin Wali?") far from everything; finding every name
        # of the question in the evidence is the stronger signal then.
        return f"the closest sentence is too far from the question (similarity {best:.2f})"
    ev_words: set[str] = set()
    ev_nums: set[str] = set()
    for g in groups:
        ev_words |= content_words(g.lead.sentence.text)
        ev_nums |= numbers(g.lead.sentence.text)
    missing = sorted((names(question) - ev_words) | (written_figures(question) - ev_nums))
    if missing:
        return f"the articles say nothing about {', '.join(missing)}"
    return None


def _known(term: str, vocabulary: Set[str]) -> bool:
    """Is `term` a word of the corpus, allowing another ending ("withdrawn" / "withdrawal")?"""
    if term in vocabulary:
        return True
    head = term[:-1]
    return len(term) >= 5 and any(v.startswith(head) and abs(len(v) - len(term)) <= 3 for v in vocabulary)


def _refusal(
    question: str, reason: str, model: str, backend: str, timings: dict[str, float], retrieved: list[str]
) -> Answer:
    for stage in ("retrieve_ms", "prompt_ms", "prefill_ms", "decode_ms", "verify_ms"):
        timings.setdefault(stage, 0.0)  # refused before the model ran: those stages cost nothing
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


class Pipeline:
    """Answers questions with verified citations. Build once; call `ask` or `stream` many times."""

    def __init__(
        self,
        settings: Settings,
        llm: LLM | None = None,
        retriever: Retriever | None = None,
        choice: Choice | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        if llm is None:
            llm, choice = make_llm(settings)
        self.llm = llm
        self.choice = choice or Choice(llm.backend, "given")
        self._spans: Any = None  # the span answer core, built on first use when QA_ANSWER_CORE=spans

    # ---- helpers ---------------------------------------------------------------------------------------
    def _evidence(self, question: str, groups: Sequence[Group]) -> tuple[list[Group], str]:
        """The numbered evidence block, trimmed to the model's token budget (never silently by a server)."""
        budget = (
            self.llm.n_ctx
            - self.settings.max_answer_tokens
            - self.llm.count_tokens(prompts.SYSTEM)
            - self.llm.count_tokens(prompts.USER.format(evidence="", question=question))
            - 48
        )
        used: list[Group] = []
        lines: list[str] = []
        for g in groups:
            line = prompts.EVIDENCE_LINE.format(n=len(used) + 1, text=defang(g.lead.sentence.text))
            cost = self.llm.count_tokens(line) + 1
            if cost > budget:
                break
            budget -= cost
            used.append(g)
            lines.append(line)
        return used, "\n".join(lines)

    def _resolve(
        self,
        question: str,
        claim: Claim,
        evidence: Sequence[Group],
        pool: Sequence[Group],
        anchor: Set[str] = frozenset(),
    ) -> Resolved | None:
        """Keep a claim only with citations that support it; else align it to one evidence sentence, or
        to two that together support it; else drop it (None). A supported claim that does not answer the
        question is dropped too."""
        text = _ANSWER_PREFIX.sub("", claim.text).strip()
        if not text:
            return None
        if prompts.REFUSAL.lower() in text.lower() or _REFUSAL_CUES.search(text):
            return None
        if len(content_words(text)) < MIN_CLAIM_WORDS:
            return None  # "PWNED [2]" or a bare name is no statement; the extractive answer says it better
        marked = [evidence[m - 1] for m in claim.markers if 1 <= m <= len(evidence)]
        members = [h for g in marked for h in g.hits]
        keep = verify_citations(text, [h.sentence.text for h in members]) if members else []
        found: Resolved | None = None
        if keep:
            found = Resolved(text, [members[i] for i in keep], "generated")
        else:
            i = best_support(text, [g.lead.sentence.text for g in pool])
            if i is not None:
                ok = verify_citations(text, [h.sentence.text for h in pool[i].hits])
                found = Resolved(text, [pool[i].hits[j] for j in ok], "aligned") if ok else None
            else:
                found = self._align_pair(text, pool[:PAIR_POOL])
        if found is None or not found.hits:
            return None
        if not answers_question(question, text, [h.sentence.text for h in found.hits]):
            return None
        if anchor and not anchor & {h.sentence.id for h in found.hits}:
            # Supported, but by another sentence than those that best answer the question: a small model
            # often restates a true but beside-the-point fact. The best sentence is quoted instead.
            return None
        return found

    def _align_pair(self, text: str, groups: Sequence[Group]) -> Resolved | None:
        """An evidence sentence and its neighbour in the same article that support the claim together
        (a sentence often names in its neighbour what it calls "the district"), or None."""
        for g in groups:
            lead = g.lead
            for nb in self.retriever.neighbours(lead.sentence):
                if nb is None:
                    continue
                keep = verify_citations(text, [lead.sentence.text, nb.text])
                if len(keep) == 2:
                    pair = sorted([lead.sentence, nb], key=lambda s: s.n)
                    return Resolved(text, [Hit(s, lead.score, lead.similarity) for s in pair], "aligned")
        return None

    def _candidates(self, question: str, evidence: Sequence[Group]) -> list[Resolved]:
        """Evidence sentences that answer the question, best first, each quoted and cited with every
        article that carries it; empty when no sentence answers it."""
        scored: list[tuple[float, Group]] = []
        votes = named_candidates(question, [h.sentence.text for g in evidence for h in g.hits])
        top = votes.most_common(1)[0][0] if votes and votes.most_common(1)[0][1] >= 2 else None
        for g in evidence:
            text = g.lead.sentence.text
            prev, _ = self.retriever.neighbours(g.lead.sentence)
            # The sentence must answer on its own, or with the sentence before it as context ("the
            # meeting" named in the previous sentence); either way only the sentence itself is quoted.
            contexts = [[text]] + ([[prev.text, text]] if prev is not None else [])
            # A news article is about one event: a name it gives anywhere frames every sentence of it.
            contexts.append([text, self.retriever.file_text(g.lead.sentence.file)])
            if not any(answers_question(question, text, ctx, EXTRACTIVE_MIN_ASKED) for ctx in contexts):
                continue
            score = coverage(question, text) + max(h.similarity for h in g.hits)
            if top is not None and top in text:
                score += 0.5  # it names what most of the evidence names
            scored.append((score, g))
        scored.sort(key=lambda sg: -sg[0])
        # Marker look-alikes inside a quoted document ("[4]") must not read as our citations.
        return [
            Resolved(
                prompts.EXTRACTIVE.format(quote=defang(g.lead.sentence.text)), list(g.hits), "extractive"
            )
            for _, g in scored
        ]

    def _disagreements(self, resolved: Sequence[Resolved], pool: Sequence[Group]) -> list[Resolved]:
        """Near-identical reports of a cited fact that give a different figure: say so and cite them."""
        out: list[Resolved] = []
        cited = [h.sentence for r in resolved for h in r.hits]
        seen = {s.id for s in cited}
        for s in cited:
            if not numbers(s.text):
                continue
            for g in pool:
                other = g.lead.sentence
                if other.id in seen or not numbers(other.text) or numbers(other.text) == numbers(s.text):
                    continue
                a, b = content_words(s.text), content_words(other.text)
                na, nb = numbers(s.text), numbers(other.text)
                conflict = bool(na - nb) and bool(nb - na)  # each gives a figure the other lacks
                overlap = len(a & b) / min(len(a), len(b)) if a and b else 0.0
                if conflict and overlap >= 0.6 and figures_share_context(s.text, other.text):
                    out.append(
                        Resolved(
                            prompts.DISAGREE.format(quote=defang(other.text)), list(g.hits), "disagreement"
                        )
                    )
                    seen |= {h.sentence.id for h in g.hits}
            if len(out) >= 2:
                break
        return out

    # ---- public ----------------------------------------------------------------------------------------
    @property
    def model_label(self) -> str:
        """`backend:model`, as shown in answers and the UI."""
        return f"{self.llm.backend}:{self.llm.name}"

    def stream(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Iterator[Event]:
        """Answer `question`, streaming events. Raises InputError before anything is streamed."""
        if self.settings.answer_core == "spans":
            if self._spans is None:
                from qa.spans import SpanPipeline

                self._spans = SpanPipeline(self.settings, self.llm, self.retriever, self.choice)
            yield from self._spans.stream(question, history, top_k)
            return
        t0 = time.perf_counter()
        q = clean_question(question, self.settings)
        standalone = rewrite_followup(q, history)
        yield Event("meta", {"backend": self.llm.backend, "model": self.model_label, "question": standalone})
        self.retriever.refresh()
        ret: Retrieval = self.retriever.retrieve(standalone)
        timings = dict(ret.timings)
        retrieved = [h.sentence.id for h in ret.hits]
        k = top_k or self.settings.top_k
        pool = rank_groups(standalone, ret.groups)
        reason = gate(standalone, pool[:k], self.settings, self.retriever.vocabulary)
        if reason is not None:
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            yield Event(
                "done",
                {"answer": _refusal(q, reason, self.model_label, self.llm.backend, timings, retrieved)},
            )
            return
        tp = time.perf_counter()
        candidates = self._candidates(standalone, pool[:EXTRACTIVE_POOL])
        best = candidates[0] if candidates else None
        if best is None:
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            why = "no evidence sentence answers the question"
            yield Event(
                "done", {"answer": _refusal(q, why, self.model_label, self.llm.backend, timings, retrieved)}
            )
            return
        # The model sees the sentence that best answers the question first, then the next best groups.
        best_group = next(g for g in pool if g.lead.sentence.id == best.hits[0].sentence.id)
        shown = [best_group] + [g for g in pool[:k] if g is not best_group][: k - 1]
        evidence, block = self._evidence(standalone, shown)
        # A model sentence is kept only if it rests on one of the few sentences that best answer.
        anchor = {h.sentence.id for c in candidates[:ANCHORS] for h in c.hits}
        user = prompts.USER.format(evidence=block, question=standalone)
        timings["prompt_ms"] = (time.perf_counter() - tp) * 1e3
        claims = ClaimStream()
        resolved: list[Resolved] = []
        emitted: set[int] = set()
        verify_s = 0.0
        for delta in self.llm.stream(prompts.SYSTEM, user, self.settings.max_answer_tokens):
            yield Event("token", {"text": delta})
            for claim in claims.feed(delta):
                tv = time.perf_counter()
                r = self._resolve(standalone, claim, evidence, pool, anchor)
                verify_s += time.perf_counter() - tv
                if r is not None:
                    resolved.append(r)
                    emitted.add(id(r))
                    yield Event("claim", {"text": r.text, "sentence_ids": [h.sentence.id for h in r.hits]})
        tv = time.perf_counter()
        for claim in claims.close():
            r = self._resolve(standalone, claim, evidence, pool, anchor)
            if r is not None:
                resolved.append(r)
        raw = claims.text
        notes = [f"model output: {raw.strip()!r}"]
        if not resolved:
            notes.append("no model sentence was verified against the best evidence; quoting it instead")
            resolved.append(best)
        resolved = _dedupe(resolved)
        if answer_type(standalone) == "number":
            resolved += self._disagreements(resolved, pool)
        for r in resolved:  # claims completed at the end of the stream, the fallback, the disagreements
            if id(r) not in emitted:
                yield Event("claim", {"text": r.text, "sentence_ids": [h.sentence.id for h in r.hits]})
        answer = self._compose(q, resolved, timings, retrieved, notes)
        answer.timings.update(self.llm.stats)
        answer.timings["verify_ms"] = (verify_s + time.perf_counter() - tv) * 1e3
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

    def _compose(
        self,
        question: str,
        resolved: Sequence[Resolved],
        timings: dict[str, float],
        retrieved: list[str],
        notes: list[str],
    ) -> Answer:
        citations: list[Citation] = []
        index: dict[str, int] = {}
        reported: dict[str, int] = {}
        parts = []
        for r in resolved:
            marks = []
            for h in r.hits:
                s = h.sentence
                if s.id not in index:
                    citations.append(
                        Citation(id=s.id, file=s.file, sentence=s.n, quote=s.text, start=s.start, end=s.end)
                    )
                    index[s.id] = len(citations)
                    reported[s.id] = len({x.sentence.file for x in r.hits})
                marks.append(index[s.id])
            body = r.text.rstrip()
            m = None if body.endswith(("”", '"')) else re.search(r"[.!?][\"'”’)]*$", body)
            tail = "".join(f"[{k}]" for k in dict.fromkeys(marks))
            parts.append(f"{body[: m.start()]} {tail}{body[m.start() :]}" if m else f"{body} {tail}")
        modes = {r.how for r in resolved}
        mode = (
            "generated"
            if modes <= {"generated", "disagreement"}
            else ("extractive" if "extractive" in modes else "aligned")
        )
        return Answer(
            question=question,
            answer=" ".join(parts),
            refused=False,
            citations=citations,
            model=self.model_label,
            backend=self.llm.backend,
            timings=dict(timings),
            mode=mode,
            reported_by=reported,
            retrieved=retrieved,
            notes=notes,
        )


def _dedupe(resolved: Sequence[Resolved]) -> list[Resolved]:
    """Drop a sentence that repeats an earlier one (small models loop)."""
    out: list[Resolved] = []
    for r in resolved:
        if any(strip_markers(r.text).lower() == strip_markers(o.text).lower() for o in out):
            continue
        out.append(r)
    return out


def claims_of(text: str) -> list[Claim]:
    """Split a final answer into its claims (for evaluation and tests)."""
    return split_claims(text)
