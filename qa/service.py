"""One answering service per server process, shared by the HTTP API (qa/api/) and the chat UI (ui/).

It owns the pipeline (built lazily, retried until the index and backend are there), schedules its work
(qa/schedule.py: the CPU work of one question at a time, briefly; the model's generation one at a time, and
only answers that use the model wait for it), admits a bounded number of API requests, builds the chat's
example questions from the index, and looks up an article's indexed sentences for the source viewer.
Articles are looked up by exact name among the indexed files: nothing is ever read from a path a client
sent.

Admission: when every answer runs the model (QA_REFINE=always, or auto with Ollama), `concurrency`
requests are admitted at once, as many as the model can work through; otherwise `concurrency_no_model`
(answers take a fraction of a second). Past the limit a request gets BusyError (HTTP 503 with Retry-After)
at once, never a hang.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from index.errors import QAError
from qa.events import Event, final_answer
from qa.inputs import CONTROL
from qa.schedule import ScheduledLLM, Scheduler
from qa.schemas import BackendStatus, Health, IndexStatus, QueueStatus, SourceDoc, SourceSentence
from qa.settings import Settings
from qa.types import Answer

if TYPE_CHECKING:
    from qa.documents import Documents
    from qa.pipeline import Pipeline
    from qa.retrieve import Retriever

log = logging.getLogger(__name__)
_DONE = object()
BUSY_NOTE = "the model was busy with other questions, so it did not refine this answer"


def clean_history(history: Sequence[dict[str, str]] | None, max_chars: int) -> list[dict[str, str]]:
    """Earlier turns as the pipeline may use them: control characters and lone surrogates replaced by
    spaces (qa.inputs.CONTROL: line breaks and tabs kept), and user turns cut to `max_chars` (a follow-up
    carries the previous question into retrieval and the prompt, and no question longer than that could
    have been asked)."""
    out: list[dict[str, str]] = []
    for turn in history or []:
        role = str(turn.get("role", ""))
        content = CONTROL.sub(" ", str(turn.get("content", "")))
        out.append({"role": role, "content": content[:max_chars] if role == "user" else content})
    return out


class BusyError(QAError):
    """Too many requests are queued; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AnswerRun:
    """One answer being produced by a worker thread; the consumer reads its events with `next`.

    The answer lock is held by the worker, never by the consumer: a client that disconnects or a chat
    session that closes calls `cancel`, the worker stops at its next event, and the lock cannot be left
    held by an abandoned consumer.
    """

    def __init__(
        self, service: QAService, question: str, history: Sequence[dict[str, str]] | None, top_k: int | None
    ) -> None:
        self.question = question
        self.history = clean_history(history, service.settings.answer.max_question_chars)
        self.top_k = top_k
        self._events: queue.Queue[object] = queue.Queue()
        self._stop = threading.Event()
        self._finished = False
        threading.Thread(target=self._work, args=(service,), name="qa-answer", daemon=True).start()

    def _work(self, service: QAService) -> None:
        try:
            service._run_pipeline(self)
        except BaseException as e:  # handed to the consumer, which re-raises it
            self._events.put(e)
        finally:
            self._events.put(_DONE)

    def put(self, event: Event) -> None:
        """Called by the worker for each pipeline event."""
        self._events.put(event)

    @property
    def cancelled(self) -> bool:
        """Has the consumer gone away?"""
        return self._stop.is_set()

    def cancel(self) -> None:
        """Stop the worker at its next event (idempotent)."""
        self._stop.set()

    def next(self, timeout: float | None) -> Event | None:
        """The next event; None when the run has finished. Raises the pipeline's error, or TimeoutError
        when nothing arrived within `timeout` seconds (the run is still going)."""
        if self._finished:
            return None
        try:
            item = self._events.get(timeout=timeout)
        except queue.Empty as e:
            raise TimeoutError from e
        if item is _DONE:
            self._finished = True
            return None
        if isinstance(item, BaseException):
            self._finished = True
            self.cancel()
            raise item
        return item  # type: ignore[return-value]


class QAService:
    """The pipeline behind a server: lazily built, scheduled (qa/schedule.py), bounded admission."""

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self._scheduler = Scheduler(settings.server.concurrency)
        self._pipeline = self._scheduled(pipeline) if pipeline is not None else None
        self._retriever: Retriever | None = pipeline.retriever if pipeline is not None else None
        self._build_lock = threading.Lock()
        self._gate = threading.Lock()
        self._in_flight = 0
        # Running estimates of one answer's duration with and without the model, for Retry-After.
        self._avg_model_s = 2.0
        self._avg_fast_s = 0.3
        self._examples: tuple[object, list[str]] | None = None
        self._examples_lock = threading.Lock()
        self._documents: Documents | None = None

    # ---- building ------------------------------------------------------------------------------------
    def retriever(self) -> Retriever:
        """The retriever over the index; raises IndexMissingError and friends until `qa index` has run."""
        with self._build_lock:
            if self._retriever is None:
                from qa.retrieve import Retriever

                self._retriever = Retriever(self.settings)
            return self._retriever

    def pipeline(self) -> Pipeline:
        """The answer pipeline; raises a QAError (index or backend) until it can be built."""
        retriever = self.retriever()
        with self._build_lock:
            if self._pipeline is None:
                from qa.pipeline import Pipeline

                self._pipeline = self._scheduled(Pipeline(self.settings, retriever=retriever))
            return self._pipeline

    def _scheduled(self, pipeline: Pipeline) -> Pipeline:
        """The pipeline with its model's generations going through this service's scheduler."""
        if not isinstance(pipeline.llm, ScheduledLLM):
            # Skipping the model under load is allowed only where it refines an answer the pipeline has.
            pipeline.llm = ScheduledLLM(
                pipeline.llm, self._scheduler, lambda: getattr(pipeline, "refine", "always") == "weak"
            )
        return pipeline

    # ---- admission -----------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        """API requests admitted and not yet finished."""
        return self._in_flight

    def model_bound(self) -> bool:
        """Does every answer run the model? Before the pipeline is built, assume so unless the settings
        rule it out."""
        if self._pipeline is not None:
            return getattr(self._pipeline, "refine", "always") == "always"
        mode = self.settings.answer.refine
        return mode == "always" or mode == "auto" and self.settings.llm.backend != "llamacpp"

    def admission_limit(self) -> int:
        """Requests admitted at once before 503: `concurrency` when every answer runs the model, else
        `concurrency_no_model`."""
        return (
            self.settings.server.concurrency
            if self.model_bound()
            else self.settings.server.concurrency_no_model
        )

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one of `admission_limit()` slots for a request, or raise BusyError at once."""
        model = self.model_bound()
        limit = self.settings.server.concurrency if model else self.settings.server.concurrency_no_model
        with self._gate:
            if self._in_flight >= limit:
                per = self._avg_model_s if model else self._avg_fast_s
                wait = max(1, math.ceil(per * self._in_flight))
                raise BusyError(
                    f"The server is busy: {self._in_flight} question(s) are being answered or waiting. "
                    f"Try again in {wait} s.",
                    retry_after=wait,
                )
            self._in_flight += 1
        try:
            yield
        finally:
            with self._gate:
                self._in_flight -= 1

    # ---- answering -----------------------------------------------------------------------------------
    def start(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> AnswerRun:
        """Start answering in a worker thread; read events from the run."""
        return AnswerRun(self, question, history, top_k)

    def stream(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Iterator[Event]:
        """The pipeline's events for one question. Closing the iterator early cancels the answer.

        InputError, IndexMissingError, BackendError and other QAErrors are raised to the caller.
        """
        run = self.start(question, history, top_k)
        try:
            while True:
                ev = run.next(timeout=None)
                if ev is None:
                    return
                yield ev
        finally:
            run.cancel()

    def _run_pipeline(self, run: AnswerRun) -> None:
        pipeline = self.pipeline()
        with self._scheduler.run(lambda: run.cancelled) as state:
            if run.cancelled:
                return
            t0 = time.perf_counter()
            gen = pipeline.stream(run.question, run.history, run.top_k)
            try:
                for ev in gen:
                    if ev.type == "done" and state.model_skipped:
                        ev.data["answer"].notes.append(BUSY_NOTE)
                    run.put(ev)
                    if run.cancelled:
                        break
            finally:
                close = getattr(gen, "close", None)
                if close is not None:
                    close()  # stops the model's stream and releases its lock at once
            took = time.perf_counter() - t0
            if state.model_ran:
                self._avg_model_s = 0.7 * self._avg_model_s + 0.3 * took
            else:
                self._avg_fast_s = 0.7 * self._avg_fast_s + 0.3 * took

    def ask(
        self, question: str, history: Sequence[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Answer:
        """The final Answer for one question (blocking)."""
        return final_answer(self.stream(question, history, top_k))

    # ---- examples ------------------------------------------------------------------------------------
    def warm(self) -> None:
        """Load the index and the model and build the example questions (a server does this in the
        background as it starts, so the first page and the first question are quick)."""
        if self.health().status == "ok":
            self.examples()

    def examples(self) -> list[str]:
        """Example questions from the indexed articles (qa/examples.py), built again whenever the index
        changes; empty while there is no index. Each candidate is checked with the model-free pipeline,
        one at a time on the CPU like any question."""
        from qa.examples import build_examples

        try:
            pipeline = self.pipeline()
        except QAError:
            return []
        retriever = pipeline.retriever
        with self._examples_lock:
            with self._scheduler.run(lambda: False):
                retriever.refresh()
            # The sentence list is replaced whenever the retriever reloads a changed index, and the cache
            # holds the list it was built from, so identity is the index's state.
            state = retriever.sentences
            if self._examples is not None and self._examples[0] is state:
                return list(self._examples[1])
            from qa.pipeline import Pipeline

            quick = Pipeline(
                self.settings.replaced(refine="never"),
                llm=pipeline.llm,
                retriever=retriever,
                choice=pipeline.choice,
            )

            def ask(question: str) -> Answer:
                with self._scheduler.run(lambda: False):
                    return quick.ask(question)

            files = list(dict.fromkeys(s.file for s in state))
            try:
                found = build_examples(files, retriever.file_sentences, ask)
            except QAError:
                return []  # the index changed or broke meanwhile: the next call tries again
            except Exception:
                log.exception("building the example questions failed")
                return []
            self._examples = (state, found)
            return list(found)

    # ---- articles ------------------------------------------------------------------------------------
    def documents(self) -> Documents:
        """The corpus folder's articles, added and removed while this service answers (qa/documents.py);
        made on first use, when it also resumes what a killed server left queued."""
        with self._build_lock:
            if self._documents is None:
                from qa.documents import Documents

                self._documents = Documents(self.settings, self, resume=True)
            return self._documents

    def indexed(self) -> dict[str, int]:
        """The articles answers come from (file → evidence sentences), after taking in any new commit (one
        small read; a reload when the index changed), scheduled like a question's CPU work. Empty while
        there is no index."""
        try:
            retriever = self.retriever()
        except QAError:
            return {}
        with self._scheduler.run(lambda: False):
            try:
                retriever.refresh()
            except QAError as e:  # a damaged or locked index: what was loaded last still answers
                log.warning("could not take in the new index: %s", e)
            return retriever.article_sizes()

    # ---- sources -------------------------------------------------------------------------------------
    def files(self) -> list[str]:
        """Names of the indexed articles, sorted."""
        return sorted({s.file for s in self.retriever().sentences})

    def source(self, file: str) -> SourceDoc | None:
        """An indexed article's sentences, or None when `file` is not exactly the name of one.

        `file` is only ever compared with the names in the index; it never touches the file system, so
        `..`, absolute paths, encoded separators and NUL bytes simply name nothing.
        """
        sentences = self.retriever().file_sentences(file)
        if not sentences:
            return None
        return SourceDoc(
            file=file,
            sentences=[
                SourceSentence(id=s.id, n=s.n, start=s.start, end=s.end, text=s.text) for s in sentences
            ],
        )

    # ---- status --------------------------------------------------------------------------------------
    def health(self) -> Health:
        """Index and backend status; builds what it can (loading the model the first time)."""
        try:
            r = self.retriever()
            index = IndexStatus(
                ready=True, articles=len({s.file for s in r.sentences}), sentences=len(r.sentences)
            )
        except QAError as e:
            index = IndexStatus(ready=False, error=str(e))
        if not index.ready:
            backend = BackendStatus(ready=False, error="waiting for the index")
        else:
            try:
                p = self.pipeline()
                backend = BackendStatus(
                    ready=True, backend=p.llm.backend, model=p.model_label, reason=p.choice.reason
                )
            except QAError as e:
                backend = BackendStatus(ready=False, error=str(e))
        return Health(
            status="ok" if index.ready and backend.ready else "unavailable",
            index=index,
            backend=backend,
            queue=QueueStatus(
                in_flight=self._in_flight, limit=self.admission_limit(), at_model=self._scheduler.at_model
            ),
        )
