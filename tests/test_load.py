"""Load: 32 concurrent HTTP clients × 5 questions against a live server on 127.0.0.1.

The backend is the scripted fake (tests/live_server.py), so the numbers measure the server itself:
admission, the worker thread, retrieval, verification and HTTP, not a model. Every request must be
answered (200) or refused at once with 503 and Retry-After when the bounded queue is full; none may hang
or be lost, and no client's question or history may show up in another client's answer. The latency of
answered requests (p50, p95) goes to artifacts/load.json and is printed.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qa.api.app import create_app
from qa.inputs import clean_question, rewrite_followup
from qa.pipeline import Pipeline
from qa.retrieve import Retriever
from qa.service import QAService
from tests.live_server import (
    ROOT,
    SEEDS,
    LiveServer,
    ScriptedLLM,
    serve,
    settings_from_env,
    start_server,
    wait_until,
)
from tests.sse import parse_sse

CLIENTS = 32
QUESTIONS = 5
CONCURRENCY = 4
CLIENT_DEADLINE_S = 120.0
THINK_S = 0.3  # the most a client waits between its requests (seeded, uniform)
POOL = [
    "Which district did the Taliban take?",
    "How many Taliban fighters were killed?",
    "How close were the Taliban fighters to the city of Kunduz?",
    "When did the withdrawal begin?",
    "Who is the Taliban spokesman?",
    "Who was the provincial police spokesman?",
    "Where are the peace talks held?",
    "Which province is Imam Sahib in?",
    "What did the White House announce?",
    "Who said the militants were at the gates of the city?",
    "Who will Biden meet in Washington?",
]
FOLLOW_UP = "Who confirmed it?"


@pytest.fixture(scope="module")
def server(seed_data_dir: Path) -> Iterator[LiveServer]:
    """The API (no chat UI) over the seed index, scripted backend, QA_CONCURRENCY=4."""
    settings = settings_from_env(
        QA_DATA_DIR=str(seed_data_dir), QA_CORPUS_DIR=str(SEEDS), QA_CONCURRENCY=str(CONCURRENCY)
    )
    service = QAService(
        settings, pipeline=Pipeline(settings, llm=ScriptedLLM(), retriever=Retriever(settings))
    )
    live = start_server(create_app(settings, service, ui=False), settings, service)
    yield live
    live.stop()


def _client_run(base: str, i: int, out: dict[str, Any]) -> None:
    """One client: 5 requests, a short think time before each; turns 1 and 3 are follow-ups (when an
    earlier turn was answered), streamed with this client's own history."""
    records: list[dict[str, Any]] = []
    history: list[dict[str, str]] = []
    think = random.Random(i)
    with httpx.Client(base_url=base, timeout=60) as c:
        for j in range(QUESTIONS):
            time.sleep(think.uniform(0, THINK_S))
            streamed = j % 2 == 1 and bool(history)
            q = FOLLOW_UP if streamed else POOL[(i + 3 * j) % len(POOL)]
            sent_history = list(history)
            t0 = time.perf_counter()
            rec: dict[str, Any] = {"q": q, "history": sent_history, "streamed": streamed}
            if streamed:
                with c.stream("POST", "/api/ask/stream", json={"question": q, "history": sent_history}) as r:
                    rec["status"], rec["retry_after"] = r.status_code, r.headers.get("retry-after")
                    if r.status_code == 200:
                        rec["events"] = [(e, json.loads(d)) for e, d in parse_sse(r.iter_lines())]
                    else:
                        r.read()
                        rec["body"] = r.json()
            else:
                r = c.post("/api/ask", json={"question": q, "history": sent_history})
                rec["status"], rec["retry_after"], rec["body"] = (
                    r.status_code,
                    r.headers.get("retry-after"),
                    r.json(),
                )
            rec["seconds"] = time.perf_counter() - t0
            records.append(rec)
            if rec["status"] == 200 and not streamed:
                history += [
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": rec["body"]["answer"]},
                ]
    out[i] = records


def test_32_clients_x_5_questions(server: LiveServer) -> None:
    results: dict[int, list[dict[str, Any]]] = {}
    threads = [threading.Thread(target=_client_run, args=(server.url, i, results)) for i in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    wall = time.perf_counter() - t0
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert sorted(results) == list(range(CLIENTS)), "a client failed before finishing"

    records = [r for i in range(CLIENTS) for r in results[i]]
    statuses = [r["status"] for r in records]
    assert len(records) == CLIENTS * QUESTIONS
    assert statuses.count(200) + statuses.count(503) == CLIENTS * QUESTIONS, sorted(set(statuses))
    for r in records:
        if r["status"] == 503:
            assert int(r["retry_after"]) >= 1
            assert r["body"]["error"]["type"] == "BusyError"
    for i in range(CLIENTS):
        for r in results[i]:
            if r["status"] != 200:
                continue
            expected = clean_question(r["q"], server.settings)
            if r["streamed"]:
                kinds = [e for e, _ in r["events"]]
                assert kinds[-1] == "done" and "error" not in kinds
                meta = r["events"][0][1]
                # The rewrite carries this client's own last question, never another client's.
                assert meta["question"] == rewrite_followup(expected, r["history"])
                assert r["events"][-1][1]["answer"]["question"] == expected
            else:
                assert r["body"]["question"] == expected
    assert statuses.count(200) > 0 and statuses.count(503) > 0  # the bound was reached and held
    wait_until(lambda: server.service.in_flight == 0, timeout=10)  # no admission slot leaked

    answered = sorted(r["seconds"] for r in records if r["status"] == 200)
    p50 = statistics.median(answered)
    p95 = answered[min(len(answered) - 1, int(round(0.95 * (len(answered) - 1))))]
    report = {
        "clients": CLIENTS,
        "questions_per_client": QUESTIONS,
        "concurrency_limit": CONCURRENCY,
        "backend": "scripted fake (tests/live_server.py)",
        "answered_200": statuses.count(200),
        "refused_503": statuses.count(503),
        "p50_s": round(p50, 4),
        "p95_s": round(p95, 4),
        "max_s": round(answered[-1], 4),
        "wall_s": round(wall, 2),
    }
    out = ROOT / "artifacts" / "load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    print(f"\nload: {json.dumps(report)}")


# ---- answers that need no model --------------------------------------------------------------------------
FREE_QUESTIONS = 2


@pytest.fixture(scope="module")
def free_server(seed_data_dir: Path) -> Iterator[LiveServer]:
    """The same API with the model out of the answers (QA_REFINE=never), as with the embedded default."""
    settings = settings_from_env(
        QA_DATA_DIR=str(seed_data_dir),
        QA_CORPUS_DIR=str(SEEDS),
        QA_CONCURRENCY=str(CONCURRENCY),
        QA_REFINE="never",
    )
    llm = ScriptedLLM()
    live = serve(QAService(settings, pipeline=Pipeline(settings, llm=llm, retriever=Retriever(settings))))
    yield live
    live.stop()
    assert llm.prompts == []  # the model never ran


def _free_client(base: str, i: int, out: dict[int, list[dict[str, Any]]]) -> None:
    """One client asking FREE_QUESTIONS questions back to back, the second one streamed."""
    records = []
    with httpx.Client(base_url=base, timeout=60) as c:
        for j in range(FREE_QUESTIONS):
            q = POOL[(i + j) % len(POOL)]
            if j % 2:
                with c.stream("POST", "/api/ask/stream", json={"question": q}) as r:
                    kinds = [e for e, _ in parse_sse(r.iter_lines())] if r.status_code == 200 else []
                    records.append({"q": q, "status": r.status_code, "kinds": kinds})
            else:
                r = c.post("/api/ask", json={"question": q})
                records.append({"q": q, "status": r.status_code, "body": r.json()})
    out[i] = records


def test_32_clients_x_2_questions_without_the_model_are_all_answered(free_server: LiveServer) -> None:
    """All 32 clients at once, as in the issue's measurement (where one lock over whole answers and room
    for 4 gave 8 answers and 56 × 503): answers that need no model are admitted 64 at a time and wait
    for no model, so every one is answered."""
    results: dict[int, list[dict[str, Any]]] = {}
    threads = [
        threading.Thread(target=_free_client, args=(free_server.url, i, results)) for i in range(CLIENTS)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(CLIENT_DEADLINE_S)
    wall = time.perf_counter() - t0
    assert not any(t.is_alive() for t in threads), "a client hung"
    records = [r for i in sorted(results) for r in results[i]]
    assert len(records) == CLIENTS * FREE_QUESTIONS
    assert [r["status"] for r in records] == [200] * (CLIENTS * FREE_QUESTIONS)
    for r in records:
        if "body" in r:
            assert r["body"]["question"] == clean_question(r["q"], free_server.settings)
            assert r["body"]["backend"] == "scripted"
        else:
            assert r["kinds"][0] == "meta" and r["kinds"][-1] == "done"
            assert "token" not in r["kinds"] and "draft" not in r["kinds"]
    wait_until(lambda: free_server.service.in_flight == 0, timeout=10)
    report = {
        "clients": CLIENTS,
        "questions_per_client": FREE_QUESTIONS,
        "refine": "never",
        "admission_limit": free_server.settings.server.concurrency_no_model,
        "answered_200": len(records),
        "wall_s": round(wall, 2),
        "answers_per_s": round(len(records) / wall, 2),
    }
    out = ROOT / "artifacts" / "load_no_model.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    print(f"\nload without the model: {json.dumps(report)}")
