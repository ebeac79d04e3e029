"""The answer pipeline: question → retrieve → parse evidence → propose → verify → decide → present.

The orchestration only: qa/propose.py proposes, qa/decide.py decides (pure), qa/compose.py writes the
answer (pure). When the model runs (`QA_REFINE`), the verified extractive answer is streamed first as a
`draft` event and the model's proposal is judged beside the extractive ones.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from qa import lexicon, prompts
from qa.cite import defang, split_claims
from qa.compose import compose, refusal
from qa.decide import decide, model_candidates
from qa.events import Event, final_answer
from qa.inputs import clean_question, rewrite_followup
from qa.lexical import fold
from qa.llm import LLM, Choice, make_llm
from qa.nlp import content_keys, parse_many
from qa.propose import Candidate, Evidence, extractive
from qa.question import analyse
from qa.retrieve import Group, Retrieval, Retriever
from qa.settings import Settings
from qa.types import Answer
from qa.values import Tolerance, warm
from qa.weights import WEIGHTS, Weights


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
        # The value parsers and WordNet load in the background while the first question is being asked.
        threading.Thread(target=_best_effort, args=(warm,), name="qa-warm", daemon=True).start()
        threading.Thread(
            target=_best_effort, args=(lexicon.warm,), name="qa-warm-lexicon", daemon=True
        ).start()

    @property
    def model_label(self) -> str:
        """`backend:model`, as shown in answers and the UI."""
        return f"{self.llm.backend}:{self.llm.name}"

    def _label(self) -> tuple[str, str]:
        return self.model_label, self.llm.backend

    @property
    def refine(self) -> str:
        """When the model runs after the extractive answer: `always`, `weak` or `never`. `auto` is
        always with Ollama and never with the embedded model, whose proposals changed answers for the
        worse on the measured sets (README "Evaluation")."""
        mode = self.settings.answer.refine
        if mode == "auto":
            return "never" if self.llm.backend == "llamacpp" else "always"
        return mode

    # ---- helpers ---------------------------------------------------------------------------------------
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

    def _evidence(
        self, groups: Sequence[Group], also: Sequence[str] = (), first: int = 0, top: float | None = None
    ) -> list[Evidence]:
        """Parse the best groups' lead sentences (cached) with the words of the sentence before each.
        `also` joins the same batch (the question: one batch of many texts parses 3× faster a text);
        `first` is the first group's rank and `top` the best similarity, when the groups follow others."""
        prevs = [self.retriever.neighbours(g.lead.sentence)[0] for g in groups]
        texts = [g.lead.sentence.text for g in groups] + [p.text for p in prevs if p is not None]
        docs = parse_many([*texts, *also])[: len(texts)]
        by_text = {t: d for t, d in zip(texts, docs, strict=True)}
        out = []
        if top is None:
            top = max((h.similarity for g in groups for h in g.hits), default=0.0)
        for rank, (g, prev) in enumerate(zip(groups, prevs, strict=True), start=first):
            ctx = content_keys(by_text[prev.text]) if prev is not None else frozenset()
            whole = fold(self.retriever.file_text(g.lead.sentence.file))
            out.append(Evidence(g, by_text[g.lead.sentence.text], rank, ctx, whole, top))
        return out

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
        k = top_k or self.settings.retrieval.top_k
        knobs = self.settings.answer
        if not ret.groups:
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            why = "nothing in the articles matches the question"
            yield Event(
                "done", {"answer": refusal(q, why, self.model_label, self.llm.backend, timings, retrieved)}
            )
            return
        tn = time.perf_counter()
        n = max(knobs.propose_pool, k)
        pool = self._evidence(ret.groups[:n], also=(standalone,))
        info = analyse(standalone)  # its parse was cached by that batch
        extracted = extractive(info, pool, self.retriever.idf, self.weights, knobs)

        @functools.cache
        def rivals(labels: frozenset[str]) -> list[Candidate]:
            """Candidates of further evidence with these labels, read only when an answer's value may have
            rival versions."""
            more = self._evidence(ret.groups[n : max(knobs.conflict_pool, n)], first=n, top=pool[0].top_sim)
            return extractive(info, more, self.retriever.idf, self.weights, knobs, labels) if more else []

        timings["nlp_ms"] = (time.perf_counter() - tn) * 1e3
        tv = time.perf_counter()
        tol = Tolerance(knobs.value_rounding, knobs.value_approximate)
        margin = knobs.model_sentence_margin
        first = decide(info, extracted, [], False, self.weights, pool, margin, tol, rivals)
        verify_s = time.perf_counter() - tv
        run_model = self.refine == "always" or (
            self.refine == "weak" and (first.best is None or first.score < self.weights.clear)
        )
        notes: list[str] = []
        d = first
        if run_model:
            if first.best is not None:
                # The verified extractive answer is shown at once; the model may replace it.
                draft = compose(
                    q, first, {**timings, "verify_ms": verify_s * 1e3}, retrieved, [], *self._label(), knobs
                )
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
            for delta in self.llm.stream(prompts.SYSTEM, user, self.settings.answer.max_answer_tokens):
                reply += delta
                yield Event("token", {"text": delta})
            tv = time.perf_counter()
            proposed, refused_by_model, said = model_candidates(
                info, reply, shown, pool, self.retriever.idf, self.weights, knobs
            )
            notes.append(f"model output: {reply.strip()!r}")
            notes += said
            d = decide(info, extracted, proposed, refused_by_model, self.weights, pool, margin, tol, rivals)
            verify_s += time.perf_counter() - tv
            timings.update(self.llm.stats)
        timings["verify_ms"] = verify_s * 1e3
        if d.best is None:
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            answer = refusal(q, d.reason, self.model_label, self.llm.backend, timings, retrieved)
            answer.notes = [d.reason, *notes]
            yield Event("done", {"answer": answer})
            return
        answer = compose(q, d, timings, retrieved, notes, *self._label(), knobs)
        for claim in split_claims(answer.answer):
            ids = [answer.citations[m - 1].id for m in claim.markers if 1 <= m <= len(answer.citations)]
            yield Event("claim", {"text": claim.text, "sentence_ids": ids})
        answer.timings["total_ms"] = (time.perf_counter() - t0) * 1e3
        yield Event("done", {"answer": answer})

    def ask(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Answer:
        """Answer `question` and return the final Answer."""
        return final_answer(self.stream(question, history, top_k))
