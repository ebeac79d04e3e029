"""Answer at once: the verified draft through every channel, and answers that need no model not waiting
for it.

The pipeline here is a table (`TablePipeline`) that speaks the pipeline's event contract: when the model
refines an answer it yields `draft` (the verified answer) before any `token`, then the model's tokens,
then the final answer's claims and `done`; without the model there is no draft. Its citations are real
sentences of the seed index, and its model is the scripted backend of tests/live_server.py, which can be
held at the model (`mode = "block"`) to show what each channel sends before the model finishes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from qa.events import Event
from qa.inputs import clean_question
from qa.llm import Choice
from qa.retrieve import Retriever
from qa.service import BUSY_NOTE, QAService
from qa.settings import Settings
from qa.types import Answer, Citation
from tests.live_server import SEEDS, LiveServer, ScriptedLLM, serve, settings_from_env, wait_until
from tests.sse import parse_sse

REFINED = "Which district did the fighters take?"  # the model replaces the draft
KEPT = "Who is the spokesman?"  # the model keeps the draft
QUICK = "Who said the fighters were at the gates?"  # answered without the model


@dataclass
class Row:
    draft: Answer
    final: Answer
    needs_model: bool


def _sentence(retriever: Retriever, needle: str) -> Citation:
    s = next(s for s in retriever.sentences if needle in s.text)
    return Citation(id=s.id, file=s.file, sentence=s.n, quote=s.text, start=s.start, end=s.end)


def _answer(question: str, text: str, citations: list[Citation], mode: str) -> Answer:
    return Answer(
        question=question,
        answer=text,
        refused=False,
        citations=citations,
        model="scripted:echo-first-evidence",
        backend="scripted",
        mode=mode,
        short_answer=text.split(" [", 1)[0],
    )


class TablePipeline:
    """Answers from a table keyed by the question; runs the model only for rows that need it (and not
    with refine `never`), yielding the row's draft first."""

    def __init__(self, settings: Settings, retriever: Retriever, llm: ScriptedLLM, refine: str) -> None:
        self.settings = settings
        self.retriever = retriever
        self.llm: Any = llm
        self.choice = Choice("scripted", "given")
        self._refine = refine
        district = _sentence(retriever, "Imam Sahib district")
        spokesman = _sentence(retriever, "Taliban spokesman Zabihullah Mujahed")
        gates = _sentence(retriever, "at the gates of the city")
        kept = _answer(KEPT, "Zabihullah Mujahed [1].", [spokesman], "extractive")
        self.table = {
            REFINED: Row(
                _answer(REFINED, "Imam Sahib [1].", [district], "extractive"),
                _answer(REFINED, "The Imam Sahib district [1][2].", [district, spokesman], "generated"),
                True,
            ),
            KEPT: Row(kept, kept, True),
            QUICK: Row(q := _answer(QUICK, "Amruddin Wali [1].", [gates], "extractive"), q, False),
        }

    @property
    def refine(self) -> str:
        return self._refine

    @property
    def model_label(self) -> str:
        return f"{self.llm.backend}:{self.llm.name}"

    def stream(
        self, question: str, history: list[dict[str, str]] | None = None, top_k: int | None = None
    ) -> Iterator[Event]:
        q = clean_question(question, self.settings)
        yield Event("meta", {"backend": "scripted", "model": self.model_label, "question": q})
        row = self.table[q]
        final = row.draft
        if row.needs_model and self._refine != "never":
            yield Event("draft", {"answer": row.draft})
            reply = ""
            for delta in self.llm.stream("system", f"[1] {row.draft.citations[0].quote}", 16):
                reply += delta
                yield Event("token", {"text": delta})
            final = row.final if reply else row.draft  # a skipped model said nothing: the draft stands
        for k, c in enumerate(final.citations, 1):
            yield Event("claim", {"text": f"claim {k}", "sentence_ids": [c.id]})
        yield Event("done", {"answer": final.model_copy(deep=True)})


def _settings(seed_data_dir: Path, **env: str) -> Settings:
    return settings_from_env(QA_DATA_DIR=str(seed_data_dir), QA_CORPUS_DIR=str(SEEDS), **env)


@pytest.fixture(scope="module")
def retriever(seed_data_dir: Path) -> Retriever:
    return Retriever(_settings(seed_data_dir))


def _service(seed_data_dir: Path, retriever: Retriever, refine: str, **env: str) -> tuple[QAService, Any]:
    settings = _settings(seed_data_dir, **env)
    llm = ScriptedLLM()
    pipeline = TablePipeline(settings, retriever, llm, refine)
    return QAService(settings, pipeline=pipeline), llm  # type: ignore[arg-type]


@pytest.fixture
def served(seed_data_dir: Path, retriever: Retriever) -> Iterator[tuple[LiveServer, Any]]:
    """The API (no chat) over the table pipeline, refining with the model."""
    service, llm = _service(seed_data_dir, retriever, "always", QA_CONCURRENCY="2")
    server = serve(service)
    yield server, llm
    llm.release.set()
    server.stop()


def _events(r: httpx.Response) -> list[tuple[str | None, dict[str, Any]]]:
    return [(e, json.loads(d)) for e, d in parse_sse(r.iter_lines())]


def _footnote(c: Citation, k: int) -> str:
    return f"[{k}] {c.file}, sentence {c.sentence}: “{c.quote}”"


# ---- SSE -----------------------------------------------------------------------------------------------
def test_sse_sends_the_draft_before_the_tokens_then_the_refined_answer(
    served: tuple[LiveServer, Any],
) -> None:
    server, _ = served
    with httpx.Client(base_url=server.url, timeout=60) as c:
        spec = c.get("/openapi.json").json()
        with c.stream("POST", "/api/ask/stream", json={"question": REFINED}) as r:
            events = _events(r)
    kinds = [e for e, _ in events]
    assert kinds[:2] == ["meta", "draft"] and kinds[-1] == "done"
    assert "token" in kinds and kinds.index("draft") < kinds.index("token")
    draft = events[1][1]["answer"]
    schema = spec["paths"]["/api/ask"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(draft, {**schema, "components": spec["components"]})
    assert draft["answer"] == "Imam Sahib [1]." and draft["citations"][0]["quote"].count("Imam Sahib") >= 1
    assert events[-1][1]["answer"]["answer"] == "The Imam Sahib district [1][2]."


def test_sse_shows_the_draft_while_the_model_is_still_running(served: tuple[LiveServer, Any]) -> None:
    server, llm = served
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    with (
        httpx.Client(base_url=server.url, timeout=60) as c,
        c.stream("POST", "/api/ask/stream", json={"question": REFINED}) as r,
    ):
        lines = r.iter_lines()
        seen: list[str | None] = []
        for event, data in parse_sse(lines):
            seen.append(event)
            if event == "draft":
                assert not llm.release.is_set()  # the model has not been let go yet
                assert json.loads(data)["answer"]["answer"] == "Imam Sahib [1]."
                break
        assert llm.entered.wait(10), "the model never started"
        llm.release.set()
        rest = [e for e, _ in parse_sse(lines)]
    assert seen == ["meta", "draft"] and rest[-1] == "done" and "token" in rest


def test_sse_has_no_draft_when_the_model_does_not_run(seed_data_dir: Path, retriever: Retriever) -> None:
    service, llm = _service(seed_data_dir, retriever, "never")
    server = serve(service)
    try:
        with (
            httpx.Client(base_url=server.url, timeout=60) as c,
            c.stream("POST", "/api/ask/stream", json={"question": REFINED}) as r,
        ):
            kinds = [e for e, _ in _events(r)]
    finally:
        server.stop()
    assert kinds[0] == "meta" and kinds[-1] == "done" and set(kinds[1:-1]) == {"claim"}
    assert llm.prompts == []


# ---- OpenAI streaming ----------------------------------------------------------------------------------
def _openai_stream(base: str, question: str) -> tuple[list[str], dict[str, Any]]:
    with (
        httpx.Client(base_url=base, timeout=60) as c,
        c.stream(
            "POST",
            "/v1/chat/completions",
            json={"stream": True, "messages": [{"role": "user", "content": question}]},
        ) as r,
    ):
        chunks = [json.loads(d) for _, d in parse_sse(r.iter_lines()) if d != "[DONE]"]
    content = [ch["choices"][0]["delta"].get("content", "") for ch in chunks]
    return content, chunks[-1]


def test_openai_stream_sends_the_draft_then_appends_the_refined_answer(
    served: tuple[LiveServer, Any], retriever: Retriever
) -> None:
    server, _ = served
    content, last = _openai_stream(server.url, REFINED)
    district = _sentence(retriever, "Imam Sahib district")
    spokesman = _sentence(retriever, "Taliban spokesman Zabihullah Mujahed")
    assert "".join(content) == (
        f"Imam Sahib [1].\n\n{_footnote(district, 1)}"
        f"\n\nRefined: The Imam Sahib district [1][2].\n\n{_footnote(district, 1)}\n{_footnote(spokesman, 2)}"
    )
    assert [c["id"] for c in last["citations"]] == [district.id, spokesman.id]  # the final answer's


def test_openai_stream_sends_a_kept_draft_once(served: tuple[LiveServer, Any], retriever: Retriever) -> None:
    server, _ = served
    content, _ = _openai_stream(server.url, KEPT)
    spokesman = _sentence(retriever, "Taliban spokesman Zabihullah Mujahed")
    assert "".join(content) == f"Zabihullah Mujahed [1].\n\n{_footnote(spokesman, 1)}"


def test_openai_stream_sends_the_draft_before_the_model_finishes(served: tuple[LiveServer, Any]) -> None:
    server, llm = served
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    text = ""
    with (
        httpx.Client(base_url=server.url, timeout=60) as c,
        c.stream(
            "POST",
            "/v1/chat/completions",
            json={"stream": True, "messages": [{"role": "user", "content": REFINED}]},
        ) as r,
    ):
        lines = r.iter_lines()
        for _, data in parse_sse(lines):
            text += json.loads(data)["choices"][0]["delta"].get("content", "")
            if text.startswith("Imam Sahib [1].") and "sentence" in text and text.endswith("”"):
                break
        assert llm.entered.wait(10) and not llm.release.is_set()
        llm.release.set()
        for _, data in parse_sse(lines):
            if data != "[DONE]" and json.loads(data)["choices"]:
                text += json.loads(data)["choices"][0]["delta"].get("content", "")
    assert "\n\nRefined: The Imam Sahib district [1][2]." in text


# ---- scheduling ----------------------------------------------------------------------------------------
def test_an_answer_that_needs_no_model_does_not_wait_for_it(
    seed_data_dir: Path, retriever: Retriever
) -> None:
    service, llm = _service(seed_data_dir, retriever, "weak")
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    slow: dict[str, Answer] = {}
    t = threading.Thread(target=lambda: slow.update(a=service.ask(REFINED)))
    t.start()
    try:
        assert llm.entered.wait(10), "the first question never reached the model"
        t0 = time.perf_counter()
        quick = service.ask(QUICK)
        took = time.perf_counter() - t0
        assert quick.answer == "Amruddin Wali [1]." and took < 5.0
        assert "a" not in slow and service.health().queue.at_model == 1  # still at the model
    finally:
        llm.release.set()
        t.join(30)
    assert slow["a"].answer == "The Imam Sahib district [1][2]."
    assert service.health().queue.at_model == 0


def test_a_refinement_skips_a_busy_model_and_keeps_the_draft(
    seed_data_dir: Path, retriever: Retriever
) -> None:
    service, llm = _service(seed_data_dir, retriever, "weak", QA_CONCURRENCY="1")
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    t = threading.Thread(target=service.ask, args=(REFINED,))
    t.start()
    try:
        assert llm.entered.wait(10)
        kinds = []
        for ev in service.stream(KEPT):
            kinds.append(ev.type)
            if ev.type == "done":
                kept = ev.data["answer"]
    finally:
        llm.release.set()
        t.join(30)
    assert "token" not in kinds and kept.answer == "Zabihullah Mujahed [1]."
    assert kept.notes[-1] == BUSY_NOTE
    assert len(llm.prompts) == 1  # only the first question reached the model


def test_admission_limit_is_the_models_only_when_every_answer_runs_it(
    seed_data_dir: Path, retriever: Retriever
) -> None:
    env = {"QA_CONCURRENCY": "3", "QA_CONCURRENCY_NO_MODEL": "40"}
    for refine, limit in (("always", 3), ("weak", 40), ("never", 40)):
        service, _ = _service(seed_data_dir, retriever, refine, **env)
        assert service.health().queue.limit == limit, refine


def test_model_free_requests_beyond_the_limit_get_503_and_none_is_lost(
    seed_data_dir: Path, retriever: Retriever
) -> None:
    service, _ = _service(seed_data_dir, retriever, "never", QA_CONCURRENCY_NO_MODEL="2")
    server = serve(service)
    results: list[httpx.Response] = []

    def ask() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            results.append(c.post("/api/ask", json={"question": QUICK}))

    service._scheduler.cpu.acquire()  # the CPU is busy: admitted questions wait their turn
    threads = [threading.Thread(target=ask) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        wait_until(lambda: service.in_flight == 2, timeout=10)
        with httpx.Client(base_url=server.url, timeout=10) as c:
            busy = c.post("/api/ask", json={"question": QUICK})
    finally:
        service._scheduler.cpu.release()
        for t in threads:
            t.join(30)
        server.stop()
    assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
    assert busy.json()["error"]["type"] == "BusyError"
    assert [r.status_code for r in results] == [200, 200]
    assert all(r.json()["answer"] == "Amruddin Wali [1]." for r in results)


# ---- the chat's Stop -----------------------------------------------------------------------------------
def test_stop_keeps_the_draft_as_the_answer_and_cancels_the_run(
    seed_data_dir: Path, retriever: Retriever
) -> None:
    service, llm = _service(seed_data_dir, retriever, "always")
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    from ui.app import STOPPED_NOTE, Stops, chat_turn  # gradio loads in ~3 s: only for this test

    stops = Stops()
    turn = chat_turn(service, REFINED, [], stops, "session-1")
    try:
        for html, turns, _ in turn:
            if turns[-1]["draft_answer"] is not None:
                assert "Refining with the model" in html and 'data-stop="0"' in html
                break
        stops.stop(("session-1", 0))
        html, turns, _ = list(turn)[-1]
    finally:
        llm.release.set()
    answer = Answer.model_validate(turns[-1]["answer"])
    assert answer.answer == "Imam Sahib [1]." and answer.notes[-1] == STOPPED_NOTE
    assert "Refining" not in html and "qa-answer" in html
    wait_until(lambda: service.health().queue.at_model == 0, timeout=10)
