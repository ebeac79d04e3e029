"""The no-model floor: the best-ranked retrieved sentence, quoted and cited. No language model, no rules.

`qa eval --pipeline extractive` scores it beside ours, so a reader sees what the model and the answer
rules add over retrieval alone. It uses `qa.retrieve.Retriever` directly (dense + BM25, fused by sentence
id): the answer is `“<sentence>” [1]` with that sentence as the one citation (marker look-alikes inside it
defanged, as in every answer). It refuses only when retrieval finds nothing.
"""

from __future__ import annotations

import time

from qa.cite import defang
from qa.prompts import REFUSAL
from qa.retrieve import Retriever
from qa.settings import Settings
from qa.types import Answer, Citation

MODEL_LABEL = "none:extractive-floor"


class ExtractivePipeline:
    """`ask(question)` → the best-ranked retrieved sentence, quoted, as our `Answer`."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)

    @property
    def model_label(self) -> str:
        """No model: a label that says so."""
        return MODEL_LABEL

    def ask(self, question: str) -> Answer:
        """Retrieve and quote the first hit."""
        t0 = time.perf_counter()
        self.retriever.refresh()
        ret = self.retriever.retrieve(" ".join(question.split()))
        timings = dict(ret.timings)
        retrieved = [h.sentence.id for h in ret.hits]
        if not ret.hits:
            timings["total_ms"] = (time.perf_counter() - t0) * 1e3
            return Answer(
                question=question,
                answer=REFUSAL,
                refused=True,
                model=MODEL_LABEL,
                backend="none",
                timings=timings,
                mode="refused",
                retrieved=retrieved,
                notes=["retrieval found nothing"],
            )
        s = ret.hits[0].sentence
        citation = Citation.of(s)
        timings["total_ms"] = (time.perf_counter() - t0) * 1e3
        return Answer(
            question=question,
            answer=f"“{defang(s.text)}” [1]",
            refused=False,
            citations=[citation],
            model=MODEL_LABEL,
            backend="none",
            timings=timings,
            mode="extractive-floor",
            reported_by={s.id: 1},
            retrieved=retrieved,
            notes=["no model: the best-ranked retrieved sentence, quoted"],
        )
