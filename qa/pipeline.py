"""The answer pipeline, in stages with typed hand-offs:

retrieve (qa/retrieve.py) → gather evidence (qa/evidence.py) → read the question (qa/question.py) →
propose (qa/propose.py) → verify (qa/verify.py) → score (qa/score.py, qa/weights.py) → decide
(qa/decide.py) → versions (qa/conflicts.py) → compose (qa/compose.py).

Each stage receives what it needs as arguments; nothing calls back. When the model runs (`QA_REFINE`),
the verified extractive answer is streamed first as a `draft` event and the model's reply is one more
proposer, judged by the same verifier and score.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from qa import lexicon, prompts
from qa.candidates import Candidate, Proposal
from qa.cite import defang, split_claims
from qa.compose import Meta, compose, refusal
from qa.conflicts import Version, versions_of
from qa.decide import Ballot, Decision, decide
from qa.events import Event, final_answer
from qa.evidence import Evidence, Gathered, gather
from qa.inputs import clean_question, rewrite_followup
from qa.llm import LLM, Choice, make_llm
from qa.propose import ModelProposer, SpanProposer
from qa.question import Question, frame
from qa.retrieve import Retrieval, Retriever
from qa.score import SentenceFeatures, scored, sentence_features
from qa.seams import Proposer
from qa.settings import Settings
from qa.types import Answer
from qa.values import Tolerance, normalise, warm
from qa.verify import RuleVerifier
from qa.weights import WEIGHTS, Weights


@dataclass(frozen=True)
class Prepared:
    """Everything the answer is decided from before any model runs: the retrieval, the gathered
    evidence, the question's frame, the rules' scored candidates and each evidence sentence's score
    (best first). `Pipeline.prepare` makes it; answering and the weight fitting both use it."""

    retrieval: Retrieval
    gathered: Gathered
    question: Question
    candidates: list[Candidate]
    sentences: list[tuple[Evidence, float]]


def _best_effort(load: Callable[[], None]) -> None:
    """Run a warm-up in the background. It only saves the first question time: a failure here (the
    process exiting mid-import, as `qa ask` does after one answer) is logged, never printed as a crash;
    the question that needs the parser loads it itself and reports a real error."""
    try:
        load()
    except Exception:  # noqa: BLE001 - a warm-up never fails the product
        logging.getLogger(__name__).debug("warm-up %s failed", getattr(load, "__name__", load), exc_info=True)


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
        knobs = settings.answer
        spans = SpanProposer(knobs.max_span_tokens)
        self.proposer: Proposer = spans
        self.verifier = RuleVerifier(knobs.max_span_tokens, knobs.kind_mismatch)
        self.model_proposer = ModelProposer(
            spans, self.verifier, knobs.short_reply_words, knobs.min_claim_coverage
        )
        self.tolerance = Tolerance(knobs.value_rounding, knobs.value_approximate)
        # The value parsers and WordNet load in the background while the first question is being asked.
        threading.Thread(target=_best_effort, args=(warm,), name="qa-warm", daemon=True).start()
        threading.Thread(
            target=_best_effort, args=(lexicon.warm,), name="qa-warm-lexicon", daemon=True
        ).start()

    @property
    def model_label(self) -> str:
        """`backend:model`, as shown in answers and the UI."""
        return f"{self.llm.backend}:{self.llm.name}"

    @property
    def refine(self) -> str:
        """When the model runs after the extractive answer: `always`, `weak` or `never`. `auto` is
        always with Ollama and never with the embedded model, whose proposals changed answers for the
        worse on the measured sets (README "Evaluation")."""
        mode = self.settings.answer.refine
        if mode == "auto":
            return "never" if self.llm.backend == "llamacpp" else "always"
        return mode

    # ---- stages ----------------------------------------------------------------------------------------
    def _judge(
        self, q: Question, proposals: Sequence[Proposal], known: Mapping[int, SentenceFeatures] | None = None
    ) -> list[Candidate]:
        """Verify, then score (`known`: sentence features already read)."""
        judged = [(p, self.verifier.verify(q, p)) for p in proposals]
        return scored(q, judged, self.weights, self.retriever.idf, known)

    def prepare(self, question: str, retrieval: Retrieval | None = None) -> Prepared | None:
        """Retrieve, gather the evidence, read the question, propose, verify and score: everything the
        decision reads but the model's reply. None when nothing in the articles matches."""
        ret = retrieval or self.retriever.retrieve(question)
        if not ret.groups:
            return None
        knobs = self.settings.answer
        n = max(knobs.propose_pool, self.settings.retrieval.top_k)
        gathered = gather(self.retriever, ret.groups, question, n, max(knobs.conflict_pool, n))
        q = frame(gathered.question)
        known = {id(ev): sentence_features(q, ev, self.retriever.idf) for ev in gathered.pool}
        cands = self._judge(q, self.proposer.propose(q, gathered.pool), known)
        sentences = [(ev, self.weights.sentence_score(known[id(ev)])) for ev in gathered.pool]
        sentences.sort(key=lambda x: -x[1])
        return Prepared(ret, gathered, q, cands, sentences)

    def _ballot(self, p: Prepared, model: Sequence[Candidate] = (), refused: bool = False) -> Ballot:
        margin = self.settings.answer.model_sentence_margin
        return Ballot(p.question, [*model, *p.candidates], p.sentences, self.weights, refused, margin)

    def versions(self, p: Prepared, d: Decision, pool: Sequence[Candidate]) -> list[Version[Candidate]]:
        """Stage 8: the versions of the answer when the sources disagree (empty when they agree). Rivals
        are looked for in the wider evidence too, only for a value that can have them (a description
        has none of its own), and only among spans of a type the question asks for."""
        best = d.best
        if best is None:
            return []
        more: list[Candidate] = []
        if normalise(best.text, best.label, self.tolerance) is not None and p.gathered.wider:
            labels = p.question.labels or frozenset({best.label})
            more = self._judge(p.question, self.proposer.propose(p.question, p.gathered.wider, labels))
        return versions_of(p.question, best, d.support, [*pool, *more], self.weights, self.tolerance)

    def _prompt(self, question: str, evidence: Sequence[Evidence]) -> tuple[list[Evidence], str]:
        """The numbered evidence block, trimmed to the model's token budget (never silently by a server)."""
        budget = (
            self.llm.n_ctx
            - self.settings.answer.max_answer_tokens
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

    def _compose(self, question: str, p: Prepared, b: Ballot, d: Decision, meta: Meta) -> Answer:
        versions = self.versions(p, d, b.candidates)
        if versions and d.outcome == "quoted":
            # No span was clear, but the articles give rival values of the best one: the versions, each
            # with its sources, are the answer (README "When sources disagree").
            d = replace(d, outcome="answer")
        return compose(question, d, versions, meta, self.settings.answer)

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
        label = (self.model_label, self.llm.backend)

        def meta(notes: Sequence[str] = ()) -> Meta:
            return Meta(
                *label, {**timings, "total_ms": (time.perf_counter() - t0) * 1e3}, retrieved, list(notes)
            )

        tn = time.perf_counter()
        prep = self.prepare(standalone, ret)
        if prep is None:
            yield Event(
                "done", {"answer": refusal(q, "nothing in the articles matches the question", meta())}
            )
            return
        timings["nlp_ms"] = (time.perf_counter() - tn) * 1e3
        tv = time.perf_counter()
        ballot = self._ballot(prep)
        first = decide(ballot)
        verify_s = time.perf_counter() - tv
        run_model = self.refine == "always" or (
            self.refine == "weak" and (first.outcome != "answer" or first.score < self.weights.clear)
        )
        if not run_model:
            timings["verify_ms"] = verify_s * 1e3
            yield from self._done(q, prep, ballot, first, meta())
            return
        if first.outcome == "answer":
            # The verified extractive answer is shown at once; the model may replace it.
            timings["verify_ms"] = verify_s * 1e3
            yield Event("draft", {"answer": self._compose(q, prep, ballot, first, meta())})
        tp = time.perf_counter()
        # The model sees the evidence in retrieval order, the sentence of the best extractive candidate
        # first (it is the likeliest to hold the answer).
        k = top_k or self.settings.retrieval.top_k
        pool = prep.gathered.pool
        lead = [prep.candidates[0].evidence] if prep.candidates else []
        ordered = lead + [ev for ev in pool[:k] if ev not in lead]
        shown, user = self._prompt(standalone, ordered[:k])
        timings["prompt_ms"] = (time.perf_counter() - tp) * 1e3
        reply = ""
        for delta in self.llm.stream(prompts.SYSTEM, user, self.settings.answer.max_answer_tokens):
            reply += delta
            yield Event("token", {"text": delta})
        tv = time.perf_counter()
        read = self.model_proposer.propose(prep.question, reply, shown, pool)
        ballot = self._ballot(prep, self._judge(prep.question, read.proposals), read.refused)
        d = decide(ballot)
        timings["verify_ms"] = (verify_s + time.perf_counter() - tv) * 1e3
        timings.update(self.llm.stats)
        yield from self._done(q, prep, ballot, d, meta([f"model output: {reply.strip()!r}", *read.notes]))

    def _done(self, question: str, prep: Prepared, b: Ballot, d: Decision, meta: Meta) -> Iterator[Event]:
        answer = self._compose(question, prep, b, d, meta)
        if not answer.refused:
            for claim in split_claims(answer.answer):
                ids = [answer.citations[m - 1].id for m in claim.markers if 1 <= m <= len(answer.citations)]
                yield Event("claim", {"text": claim.text, "sentence_ids": ids})
        yield Event("done", {"answer": answer})

    def ask(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Answer:
        """Answer `question` and return the final Answer."""
        return final_answer(self.stream(question, history, top_k))
