"""Who runs when, inside one server process.

An answer is two kinds of work. Retrieval, parsing and verification take ~0.1–0.5 s of CPU; they run one
question at a time under `Scheduler.cpu` (the retriever reloads its in-memory index in place when the
index changes, and two questions at once on 2 cores are no faster than one after the other). The language
model takes seconds; it generates one answer at a time under the model lock (two generations at once on a
small CPU collapse both, FIELD_NOTES §1). A run gives up the CPU while it waits for and uses the model, so
questions that need no model are answered while another one is generating, instead of queueing behind it.

The pipeline needs no knowledge of this: its LLM is wrapped in a `ScheduledLLM`, whose `stream` moves the
run from the CPU to the model and back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from qa.llm import LLM

_POLL_S = 0.1  # how often a run waiting for the model checks whether its client left


@dataclass
class RunState:
    """What the scheduler learned about one run."""

    cancelled: Callable[[], bool]
    model_ran: bool = False
    model_skipped: bool = False


class Scheduler:
    """The CPU lock, the model lock, and how many runs are at the model (waiting for it or generating)."""

    def __init__(self, model_limit: int) -> None:
        self.model_limit = model_limit
        self.cpu = threading.Lock()
        self._model = threading.Lock()
        self._gate = threading.Lock()
        self._at_model = 0
        self._local = threading.local()

    @property
    def at_model(self) -> int:
        """Runs waiting for the model or generating now."""
        return self._at_model

    @contextmanager
    def run(self, cancelled: Callable[[], bool]) -> Iterator[RunState]:
        """Hold the CPU for one pipeline run on this thread; the model stage gives it up meanwhile."""
        state = RunState(cancelled)
        self.cpu.acquire()
        self._local.state = state
        try:
            yield state
        finally:
            self._local.state = None
            self.cpu.release()

    def generate(self, llm: LLM, system: str, user: str, max_tokens: int, may_skip: bool) -> Iterator[str]:
        """`llm.stream(...)` under the model lock, with this thread's CPU lock released meanwhile.

        With `may_skip` (the model only refines an answer the pipeline already has), a run that finds
        `model_limit` runs at the model already does not wait: it yields nothing, and the pipeline keeps
        its extractive answer. Outside a scheduled run (a pipeline used directly) only the model lock
        applies.
        """
        state: RunState | None = getattr(self._local, "state", None)
        if state is None:
            with self._model:
                yield from llm.stream(system, user, max_tokens)
            return
        with self._gate:
            if may_skip and self._at_model >= self.model_limit:
                state.model_skipped = True
                return
            self._at_model += 1
        self.cpu.release()
        try:
            while not self._model.acquire(timeout=_POLL_S):
                if state.cancelled():
                    return
            try:
                if not state.cancelled():
                    state.model_ran = True
                    yield from llm.stream(system, user, max_tokens)
            finally:
                self._model.release()
        finally:
            with self._gate:
                self._at_model -= 1
            self.cpu.acquire()


class ScheduledLLM:
    """An LLM whose generations go through a Scheduler; everything else is the wrapped LLM's."""

    def __init__(self, inner: LLM, scheduler: Scheduler, may_skip: Callable[[], bool]) -> None:
        self.inner = inner
        self.name = inner.name
        self.backend = inner.backend
        self.n_ctx = inner.n_ctx
        self._scheduler = scheduler
        self._may_skip = may_skip

    @property
    def stats(self) -> dict[str, float]:
        """The wrapped LLM's figures for its last generation."""
        return self.inner.stats

    @stats.setter
    def stats(self, value: dict[str, float]) -> None:
        self.inner.stats = value

    def count_tokens(self, text: str) -> int:
        """As the wrapped LLM counts them."""
        return self.inner.count_tokens(text)

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        """The wrapped LLM's stream, when the scheduler lets this run at the model."""
        return self._scheduler.generate(self.inner, system, user, max_tokens, self._may_skip())
