"""The HTTP API over real HTTP: a live uvicorn server on 127.0.0.1 with a real index of seeds/.

Two servers. `live` is the real product (packaged model, chat UI), shared with the browser test; it
answers a handful of questions (each a model call of a few seconds). `scripted` runs the same app over the
same index with a scripted backend (tests/live_server.py: it repeats the first evidence sentence), with
QA_API_TOKEN set and room for one request, for auth, back-pressure, failure and cancellation tests that
need no model.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import openai
import pytest

from index.errors import QAError
from qa.api.app import create_app
from qa.pipeline import Pipeline
from qa.present import with_footnotes
from qa.retrieve import Retriever
from qa.service import QAService
from qa.types import Answer
from tests.helpers import assert_valid_answer
from tests.live_server import (
    SEEDS,
    LiveServer,
    ScriptedLLM,
    auth,
    client,
    settings_from_env,
    shared_server,
    start_server,
    stop_shared,
    wait_until,
)
from tests.sse import parse_sse

TOKEN = "s3cret-token"
DISTRICT = "Which district did the Taliban take?"
# The seeds disagree on one distance: four articles give one kilometre ("1 kilometer", "one kilometer", "a
# kilometer (0.6 mile)", "a kilometre"), and one of them converts it to "6 miles".
DISTANCE = "How close did the Taliban get to the city of Kunduz?"
FILE = "000_f9686eb01d8f09a5.txt"


# ---- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def live(seed_data_dir: Path) -> Iterator[LiveServer]:
    """The real server, started once per session (shared with tests/test_ui_browser.py)."""
    yield shared_server(seed_data_dir)
    stop_shared()


@pytest.fixture(scope="module")
def scripted(seed_data_dir: Path) -> Iterator[tuple[LiveServer, ScriptedLLM]]:
    """The app over the seed index with a scripted backend, a token, and one request slot."""
    settings = settings_from_env(
        QA_DATA_DIR=str(seed_data_dir), QA_CORPUS_DIR=str(SEEDS), QA_API_TOKEN=TOKEN, QA_CONCURRENCY="1"
    )
    llm = ScriptedLLM()
    service = QAService(settings, pipeline=Pipeline(settings, llm=llm, retriever=Retriever(settings)))
    server = start_server(create_app(settings, service), settings, service)
    yield server, llm
    llm.release.set()
    server.stop()


@pytest.fixture(scope="module")
def no_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API over an empty data dir: `qa index` has not run."""
    settings = settings_from_env(QA_DATA_DIR=str(tmp_path_factory.mktemp("empty")), QA_CORPUS_DIR=str(SEEDS))
    service = QAService(settings)
    server = start_server(create_app(settings, service, ui=False), settings, service)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def district(live: LiveServer) -> dict[str, Any]:
    """`POST /api/ask` for the district question, asked once (a model call)."""
    with client(live.url) as c:
        r = c.post("/api/ask", json={"question": DISTRICT})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def raw_get(base: str, raw_path: str, token: str | None = None) -> tuple[int, bytes]:
    """GET a path exactly as written (no client-side normalisation of `..` or `%2e`)."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=30)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        if token:
            conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ---- the real server -----------------------------------------------------------------------------------
def test_ask_returns_the_cli_json_and_matches_the_openapi_schema(
    live: LiveServer, district: dict[str, Any]
) -> None:
    with client(live.url) as c:
        spec = c.get("/openapi.json").json()
    schema = spec["paths"]["/api/ask"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(district, {**schema, "components": spec["components"]})
    assert set(district) == set(Answer.model_fields) - {"extra"}  # Answer.model_dump(exclude={"extra"})
    answer = Answer.model_validate(district)
    assert answer.question == DISTRICT
    assert not answer.refused, answer.notes
    assert_valid_answer(answer)  # every quote is the exact sentence of its file


def test_stream_sends_meta_then_verified_claims_then_done(live: LiveServer) -> None:
    events: list[tuple[str | None, dict[str, Any]]] = []
    with client(live.url) as c, c.stream("POST", "/api/ask/stream", json={"question": DISTRICT}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [(e, json.loads(d)) for e, d in parse_sse(r.iter_lines())]
    kinds = [e for e, _ in events]
    assert kinds[0] == "meta" and kinds[-1] == "done" and kinds.count("done") == 1
    assert "error" not in kinds
    # The embedded default makes no model call: no draft, no raw tokens (with the model: test_instant.py).
    assert "token" not in kinds and "draft" not in kinds
    answer = Answer.model_validate(events[-1][1]["answer"])
    assert_valid_answer(answer)
    claims = [d for e, d in events if e == "claim"]
    assert claims, "an answer streams its verified sentences before `done`"
    cited = {c.id for c in answer.citations}
    for claim in claims:
        assert claim["sentence_ids"] and {c["id"] for c in claim["citations"]} == set(claim["sentence_ids"])
        for c in claim["citations"]:
            assert (SEEDS / c["file"]).read_text("utf-8")[c["start"] : c["end"]] == c["quote"]
        assert set(claim["sentence_ids"]) & cited


def test_openai_client_non_streaming(live: LiveServer, district: dict[str, Any]) -> None:
    oa = openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0, timeout=300)
    resp = oa.chat.completions.create(model="anything", messages=[{"role": "user", "content": DISTRICT}])
    assert resp.object == "chat.completion"
    assert resp.model.startswith("llamacpp:")
    msg = resp.choices[0].message
    expected = Answer.model_validate(district)  # greedy decoding: the same answer as /api/ask
    assert msg.content == with_footnotes(expected)
    assert msg.content.startswith(expected.answer + "\n\n[1] ")
    c1 = expected.citations[0]
    assert f"[1] {c1.file}, sentence {c1.sentence}: “{c1.quote}”" in msg.content
    extra = resp.model_extra or {}
    assert extra["citations"] == [c.model_dump() for c in expected.citations]
    assert (msg.model_extra or {})["citations"] == extra["citations"]
    assert extra["refused"] is False
    assert extra["conflicts"] == (msg.model_extra or {})["conflicts"] == []  # the five articles agree


def test_openai_client_streaming(live: LiveServer, district: dict[str, Any]) -> None:
    oa = openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0, timeout=300)
    stream = oa.chat.completions.create(
        model="anything",
        messages=[{"role": "user", "content": DISTRICT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(ch.object == "chat.completion.chunk" for ch in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    expected = Answer.model_validate(district)
    assert content == with_footnotes(expected)
    final = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason == "stop"]
    assert len(final) == 1
    assert (final[0].model_extra or {})["citations"] == [c.model_dump() for c in expected.citations]
    assert chunks[-1].usage is not None and chunks[-1].choices == []


def test_openai_carries_the_versions_when_the_articles_disagree(live: LiveServer) -> None:
    oa = openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0, timeout=300)
    messages: list[Any] = [{"role": "user", "content": DISTANCE}]
    resp = oa.chat.completions.create(model="x", messages=messages)
    extra = resp.model_extra or {}
    conflicts = extra["conflicts"]
    assert [v["files"] for v in conflicts] == [4, 1]
    assert "kilomet" in conflicts[0]["value"] and conflicts[1]["value"] == "6 miles"
    # Each version's citations are 1-based indices into the reply's citations, which state it.
    cited = extra["citations"]
    assert all(1 <= k <= len(cited) for v in conflicts for k in v["citations"])
    miles = conflicts[1]["citations"]
    assert miles and all("6 miles" in cited[k - 1]["quote"] for k in miles)
    assert len({cited[k - 1]["file"] for k in conflicts[0]["citations"]}) == 4
    assert (resp.choices[0].message.model_extra or {})["conflicts"] == conflicts
    # Streamed, the final chunk carries the same versions, on its choice and at the top level.
    chunks = list(oa.chat.completions.create(model="x", messages=messages, stream=True))
    final = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason == "stop"]
    assert len(final) == 1
    assert (final[0].model_extra or {})["conflicts"] == conflicts
    assert (final[0].choices[0].model_extra or {})["conflicts"] == conflicts
    assert all("conflicts" not in (ch.model_extra or {}) for ch in chunks if ch is not final[0])


def test_openai_stream_ends_with_done_sentinel(live: LiveServer) -> None:
    body = {
        "model": "x",
        "stream": True,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
    }
    with client(live.url) as c, c.stream("POST", "/v1/chat/completions", json=body) as r:
        raw = [d for _, d in parse_sse(r.iter_lines())]
    assert raw[-1] == "[DONE]"
    chunks = [json.loads(d) for d in raw[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["refused"] is True and chunks[-1]["citations"] == [] and chunks[-1]["conflicts"] == []
    assert "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks).startswith(
        "I cannot answer"
    )


def test_models_lists_the_backend_in_use(live: LiveServer) -> None:
    oa = openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0)
    ids = [m.id for m in oa.models.list()]
    assert ids == [live.service.pipeline().model_label]


def test_sources_returns_indexed_sentences_with_spans(live: LiveServer) -> None:
    with client(live.url) as c:
        r = c.get(f"/api/sources/{FILE}")
    assert r.status_code == 200
    doc = r.json()
    text = (SEEDS / FILE).read_text("utf-8")
    assert doc["file"] == FILE and len(doc["sentences"]) > 5
    for s in doc["sentences"]:
        assert s["id"] == f"{FILE}#{s['n']}" and text[s["start"] : s["end"]] == s["text"]
    assert [s["n"] for s in doc["sentences"]] == sorted(s["n"] for s in doc["sentences"])


TRAVERSALS = [
    "/api/sources/../../../../etc/passwd",
    "/api/sources/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/api/sources/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/api/sources/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/api/sources/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/api/sources//etc/passwd",
    "/api/sources/%2Fetc%2Fpasswd",
    "/api/sources/..%5c..%5cpyproject.toml",
    "/api/sources/..\\..\\pyproject.toml",
    f"/api/sources/{FILE}%00",
    f"/api/sources/{FILE}%00.png",
    f"/api/sources/..%2fseeds%2f{FILE}",
    f"/api/sources/./{FILE}",
    f"/api/sources/seeds/{FILE}",
    f"/api/sources/{SEEDS / FILE}",
    f"/api/sources/{FILE}/..",
    "/api/sources/..",
    "/api/sources/",
    "/api/sources/pyproject.toml",
    "/api/sources/%C0%AE%C0%AE%2fetc%2fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_sources_is_404_for_anything_but_an_indexed_file(live: LiveServer, path: str) -> None:
    status, body = raw_get(live.url, path)
    assert status == 404, (path, body[:200])
    assert b"root:" not in body and b"[project]" not in body


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x01\x02", "?!"])
@pytest.mark.parametrize("route", ["/api/ask", "/api/ask/stream"])
def test_empty_question_is_422_with_a_message(live: LiveServer, route: str, question: str) -> None:
    with client(live.url) as c:
        r = c.post(route, json={"question": question})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["type"] == "InputError" and "empty" in err["message"]


def test_oversized_question_is_413(live: LiveServer) -> None:
    limit = live.settings.answer.max_question_chars
    with client(live.url) as c:
        r = c.post("/api/ask", json={"question": "why " * limit})
        r2 = c.post("/api/ask", json={"question": "x" * 2_000_000})  # past the body limit
    assert r.status_code == 413 and str(limit) in r.json()["error"]["message"]
    assert r2.status_code == 413


@pytest.mark.parametrize(
    "body",
    [{}, {"question": 3}, {"question": "ok", "top_k": 0}, {"question": "ok", "history": "nope"}, [1, 2]],
)
def test_malformed_request_is_422(live: LiveServer, body: object) -> None:
    with client(live.url) as c:
        r = c.post("/api/ask", json=body)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("The request is not valid")


def test_openai_rejects_empty_and_userless_messages(live: LiveServer) -> None:
    oa = openai.OpenAI(base_url=live.url + "/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError, match="empty"):
        oa.chat.completions.create(model="x", messages=[{"role": "user", "content": "  "}])
    with pytest.raises(openai.UnprocessableEntityError, match="user"):
        oa.chat.completions.create(model="x", messages=[{"role": "system", "content": "hi"}])


def test_health_reports_index_and_backend(live: LiveServer) -> None:
    with client(live.url) as c:
        h = c.get("/api/health").json()
    assert h["status"] == "ok"
    assert h["index"] == {"ready": True, "articles": 5, "sentences": h["index"]["sentences"], "error": None}
    assert h["backend"]["backend"] == "llamacpp" and h["backend"]["reason"] == "QA_LLM=llamacpp"
    # The embedded model does not refine answers by default, so no answer waits for it: the larger limit.
    assert h["queue"]["limit"] == live.settings.server.concurrency_no_model == 64


def test_root_leads_to_the_chat_and_docs_are_served(live: LiveServer) -> None:
    with client(live.url) as c:
        r = c.get("/", follow_redirects=True)
        docs = c.get("/docs")
    assert r.status_code == 200 and str(r.url).endswith("/ui/") and "<html" in r.text.lower()
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


# ---- the scripted server: auth, back-pressure, failures, follow-ups ------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/ask"),
        ("POST", "/api/ask/stream"),
        ("GET", "/api/health"),
        ("GET", f"/api/sources/{FILE}"),
        ("GET", "/api/nope"),
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
    ],
)
@pytest.mark.parametrize(
    "headers", [{}, auth("wrong"), {"Authorization": TOKEN}, {"Authorization": "Basic eDp5"}]
)
def test_token_is_required_on_api_and_v1(
    scripted: tuple[LiveServer, ScriptedLLM], method: str, path: str, headers: dict[str, str]
) -> None:
    server, _ = scripted
    r = httpx.request(method, server.url + path, headers=headers, json={"question": "q"}, timeout=30)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "QA_API_TOKEN" in r.json()["error"]["message"]


def test_token_lets_requests_through_and_the_chat_asks_for_it(
    scripted: tuple[LiveServer, ScriptedLLM],
) -> None:
    server, _ = scripted
    with client(server.url, TOKEN) as c:
        assert c.get("/api/health").status_code == 200
        assert c.get(f"/api/sources/{FILE}").status_code == 200
        oa = openai.OpenAI(base_url=server.url + "/v1", api_key=TOKEN, max_retries=0)
        assert [m.id for m in oa.models.list()] == ["scripted:echo-first-evidence"]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0).models.list()
        assert c.get("/ui/config").status_code == 401  # the chat is behind Gradio's login
        # With the token, a path under /api or /v1 that names no route is 404, a route's path with another
        # method 405.
        assert c.get("/api/nope").status_code == c.get("/v1").status_code == 404
        nope = c.get("/api/nope").json()["error"]
        assert nope == {"message": "Not found.", "type": "HTTPError", "code": 404}
        wrong = c.get("/api/ask")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"


def test_scripted_answer_goes_through_verification(scripted: tuple[LiveServer, ScriptedLLM]) -> None:
    server, llm = scripted
    llm.mode = "echo"
    with client(server.url, TOKEN) as c:
        r = c.post("/api/ask", json={"question": DISTRICT, "top_k": 3})
    answer = Answer.model_validate(r.json())
    assert r.status_code == 200 and answer.backend == "scripted" and not answer.refused
    assert_valid_answer(answer)
    assert re.findall(r"^\[(\d+)\] ", llm.prompts[-1], re.MULTILINE) == ["1", "2", "3"]  # top_k=3 reached it


def test_followups_carry_history_on_both_apis(scripted: tuple[LiveServer, ScriptedLLM]) -> None:
    server, llm = scripted
    llm.mode = "echo"
    history = [{"role": "user", "content": DISTRICT}, {"role": "assistant", "content": "Imam Sahib [1]."}]
    with (
        client(server.url, TOKEN) as c,
        c.stream("POST", "/api/ask/stream", json={"question": "Who confirmed it?", "history": history}) as r,
    ):
        meta = json.loads(next(d for e, d in parse_sse(r.iter_lines()) if e == "meta"))
    assert meta["question"] == f"Who confirmed it? (about: {DISTRICT})"
    wait_until(lambda: server.service.in_flight == 0)
    oa = openai.OpenAI(base_url=server.url + "/v1", api_key=TOKEN, max_retries=0)
    messages: list[Any] = [
        {"role": "system", "content": "Be brief."},
        *history,
        {"role": "user", "content": [{"type": "text", "text": "Who confirmed it?"}]},
    ]
    oa.chat.completions.create(model="x", messages=messages)
    assert f"Question: Who confirmed it? (about: {DISTRICT})" in llm.prompts[-1]


def test_busy_server_answers_503_with_retry_after_and_stays_responsive(
    scripted: tuple[LiveServer, ScriptedLLM],
) -> None:
    server, llm = scripted
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:
        with client(server.url, TOKEN) as c:
            results["first"] = c.post("/api/ask", json={"question": DISTRICT})

    t = threading.Thread(target=first)
    t.start()
    try:
        assert llm.entered.wait(30), "the first request never reached the model"
        with client(server.url, TOKEN, timeout=10) as c:
            busy = c.post("/api/ask", json={"question": DISTRICT})
            busy_v1 = c.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": DISTRICT}]}
            )
            health = c.get("/api/health")  # the event loop is free while the model runs in a thread
    finally:
        llm.release.set()
        t.join(60)
    assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
    assert busy.json()["error"]["type"] == "BusyError" and "busy" in busy.json()["error"]["message"]
    assert busy_v1.status_code == 503 and "retry-after" in busy_v1.headers
    assert health.status_code == 200
    assert health.json()["queue"] == {"in_flight": 1, "limit": 1, "at_model": 1}
    assert results["first"].status_code == 200
    llm.mode = "echo"


def test_client_leaving_mid_stream_cancels_the_answer(scripted: tuple[LiveServer, ScriptedLLM]) -> None:
    server, llm = scripted
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    with (
        client(server.url, TOKEN) as c,
        c.stream("POST", "/api/ask/stream", json={"question": DISTRICT}) as r,
    ):
        assert r.status_code == 200
        assert llm.entered.wait(30)
    # The connection is closed while the model is busy: the slot is freed and the run stops.
    llm.release.set()
    wait_until(lambda: server.service.in_flight == 0)
    wait_until(lambda: server.service._scheduler.at_model == 0)
    wait_until(lambda: not server.service._scheduler.cpu.locked())
    llm.mode = "echo"
    with client(server.url, TOKEN) as c:
        assert c.post("/api/ask", json={"question": DISTRICT}).status_code == 200


def test_a_waiting_stream_gets_keepalive_comments_then_its_events(
    scripted: tuple[LiveServer, ScriptedLLM], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qa.api.sse.KEEPALIVE_S", 1.0)  # the server runs in this process: 1 s, not 10
    server, llm = scripted
    llm.mode, llm.entered, llm.release = "block", threading.Event(), threading.Event()
    lines: list[str] = []
    try:
        with (
            client(server.url, TOKEN) as c,
            c.stream("POST", "/api/ask/stream", json={"question": DISTRICT}) as r,
        ):
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                lines.append(line)
                if line == ": keep-alive":  # sent while the model holds the answer (every KEEPALIVE_S)
                    llm.release.set()
    finally:
        llm.release.set()
        llm.mode = "echo"
    assert ": keep-alive" in lines
    # The wire format clients parse: `event: <name>` then one `data:` line of JSON, then a blank line.
    first = lines.index("event: meta")
    assert lines[first + 1].startswith("data: {") and lines[first + 2] == ""
    kinds = [e for e, _ in parse_sse(lines)]
    assert kinds[0] == "meta" and kinds[-1] == "done" and "error" not in kinds


def test_backend_failure_is_503_or_an_error_event(scripted: tuple[LiveServer, ScriptedLLM]) -> None:
    server, llm = scripted
    llm.mode = "fail"
    try:
        with client(server.url, TOKEN) as c:
            r = c.post("/api/ask", json={"question": DISTRICT})
            with c.stream("POST", "/api/ask/stream", json={"question": DISTRICT}) as s:
                events = [(e, json.loads(d)) for e, d in parse_sse(s.iter_lines())]
        oa = openai.OpenAI(base_url=server.url + "/v1", api_key=TOKEN, max_retries=0)
        with pytest.raises(openai.APIError, match="dropped the connection"):
            list(
                oa.chat.completions.create(
                    model="x", messages=[{"role": "user", "content": DISTRICT}], stream=True
                )
            )
    finally:
        llm.mode = "echo"
    assert r.status_code == 503
    assert r.json()["error"] == {
        "message": "The scripted backend dropped the connection mid-answer; ask again.",
        "type": "BackendError",
        "code": 503,
    }
    assert events[-1][0] == "error" and events[-1][1]["error"]["type"] == "BackendError"
    assert "done" not in [e for e, _ in events]


def test_missing_index_is_503_saying_run_qa_index(no_index: LiveServer) -> None:
    with client(no_index.url) as c:
        r = c.post("/api/ask", json={"question": DISTRICT})
        s = c.post("/api/ask/stream", json={"question": DISTRICT})
        h = c.get("/api/health")
        src = c.get(f"/api/sources/{FILE}")
    for resp in (r, s):
        assert resp.status_code == 503
        assert (
            resp.json()["error"]["type"] == "IndexMissingError"
            and "qa index" in resp.json()["error"]["message"]
        )
    assert (
        h.status_code == 503
        and h.json()["status"] == "unavailable"
        and "qa index" in h.json()["index"]["error"]
    )
    assert src.status_code == 503


def test_service_raises_qaerror_subclasses_to_python_callers(no_index: LiveServer) -> None:
    with pytest.raises(QAError, match="qa index"):
        no_index.service.ask(DISTRICT)
