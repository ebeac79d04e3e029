"""Hostile input: requests generated from the OpenAPI schema, odd questions, odd corpus files.

The server under test runs the real app over the seed index with the scripted backend (the model's text
does not matter here) and room for 64 requests, so a 503 could only mean a failure, never "busy".
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from index.build import evidence_sentences, index_corpus
from index.embed import make_embedder
from index.store import Store
from qa.api.app import create_app
from qa.pipeline import Pipeline
from qa.retrieve import Retriever
from qa.service import QAService
from qa.settings import Settings
from tests.helpers import MAX_CHARS
from tests.live_server import SEEDS, LiveServer, ScriptedLLM, settings_from_env, start_server

EXAMPLES_PER_OPERATION = 300  # 6 of the 9 operations take input: over 1,000 generated requests


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Its own copy of the seeds and its own index: generated uploads and deletions (POST and DELETE
    # /api/documents) change this folder, never seeds/ or the session's shared seed index.
    corpus = tmp_path_factory.mktemp("hostile") / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = settings_from_env(
        QA_DATA_DIR=str(corpus.parent / "data"), QA_CORPUS_DIR=str(corpus), QA_CONCURRENCY="64"
    )
    index_corpus(settings.index)
    service = QAService(
        settings, pipeline=Pipeline(settings, llm=ScriptedLLM(), retriever=Retriever(settings))
    )
    live = start_server(create_app(settings, service, ui=False), settings, service)
    yield live
    live.stop()


def _raw(server: LiveServer, path: str, body: bytes) -> httpx.Response:
    return httpx.post(
        server.url + path, content=body, headers={"content-type": "application/json"}, timeout=60
    )


def _fuzz(operation: Any, calls: list[tuple[str, int]], failures: list[str]) -> None:
    """Send EXAMPLES_PER_OPERATION generated requests to one operation; record every 5xx."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(timeout=60)
        calls.append((f"{case.method} {case.path}", response.status_code))
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} {case.body!r:.300} → {response.status_code}"
            )

    run()


# ---- generated requests --------------------------------------------------------------------------------
def test_a_thousand_generated_requests_get_no_5xx(server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    calls: list[tuple[str, int]] = []
    failures: list[str] = []
    for op in schema.get_all_operations():
        _fuzz(op.ok(), calls, failures)
    assert len(calls) >= 1000, len(calls)
    assert failures == [], failures[:10]
    assert server.service.in_flight == 0


# ---- questions -----------------------------------------------------------------------------------------
EMPTY = ["", " ", "\t\n", "\u3000", "\u200b\u200b", "\ufeff", "\u00a0 \u2028", "\x00", "\x01\x02\x7f", "?!…"]


@pytest.mark.parametrize("question", EMPTY)
def test_empty_or_blank_questions_are_422_with_a_message(server: LiveServer, question: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for r in (
            c.post("/api/ask", json={"question": question}),
            c.post("/api/ask/stream", json={"question": question}),
            c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}),
        ):
            assert r.status_code == 422, (question, r.text)
            assert "empty" in r.json()["error"]["message"]


def test_oversized_questions_are_413(server: LiveServer) -> None:
    big = "Which district did the Taliban take? " * 200
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for r in (
            c.post("/api/ask", json={"question": big}),
            c.post("/api/ask/stream", json={"question": big}),
            c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": big}]}),
            c.post("/api/ask", json={"question": "x" * 1_500_000}),
        ):
            assert r.status_code == 413, r.text[:300]


ODD = {
    "nul": "Which district\x00 did the Taliban take?",
    "controls": "Which\x07 district\x1b[31m did the\x7f Taliban take?\x9b",
    "rtl": "Which district did the Taliban take? \u202eكم عدد\u202c مقاتلي طالبان",
    "emoji": "Which district did the Taliban take? 🏳️‍🌈🔥💥",
    "zalgo": "Whi\u0336ch di\u0337strict di\u0338d the Taliban take?",
    "fullwidth": "Ｗｈｉｃｈ district did the Taliban take？",
    "html": "<script>alert(1)</script> Which district did the Taliban take?",
}


@pytest.mark.parametrize("name", list(ODD))
def test_odd_characters_never_crash(server: LiveServer, name: str) -> None:
    q = ODD[name]
    history = [{"role": "user", "content": q}, {"role": "assistant", "content": q}]
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post("/api/ask", json={"question": q, "history": history})
        s = c.post("/api/ask/stream", json={"question": "Who confirmed it?", "history": history})
        v = c.post("/v1/chat/completions", json={"messages": [*history, {"role": "user", "content": q}]})
    assert r.status_code == 200, r.text
    assert s.status_code == 200 and "event: error" not in s.text, s.text[-500:]
    assert v.status_code == 200, v.text
    assert "\x00" not in r.json()["question"]


@pytest.mark.parametrize("where", ["question", "history"])
def test_lone_surrogates_in_json_never_crash(server: LiveServer, where: str) -> None:
    q = "Which district did the Taliban take? \\ud800 \\udfff"
    if where == "question":
        body = '{"question": "' + q + '"}'
    else:
        body = '{"question": "Who confirmed it?", "history": [{"role": "user", "content": "' + q + '"}]}'
    for path in ("/api/ask", "/api/ask/stream"):
        r = _raw(server, path, body.encode())
        assert r.status_code in (200, 422), r.text[:500]
        assert "event: error" not in r.text, r.text[-500:]
    v = _raw(
        server, "/v1/chat/completions", ('{"messages": [{"role": "user", "content": "' + q + '"}]}').encode()
    )
    assert v.status_code in (200, 422), v.text[:500]


def test_fullwidth_digits_match_like_ascii_digits(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        wide = c.post("/api/ask", json={"question": "How many Taliban were killed on June ２０?"}).json()
        ascii_ = c.post("/api/ask", json={"question": "How many Taliban were killed on June 20?"}).json()
    assert wide["question"] == ascii_["question"] == "How many Taliban were killed on June 20?"
    for key in ("answer", "refused", "citations", "retrieved", "mode"):
        assert wide[key] == ascii_[key], key


def test_malformed_json_bodies_are_422(server: LiveServer) -> None:
    for body in (b"{", b"null", b'"q"', b"\xff\xfe", b'{"question": "a", "history": [{"role": "robot"}]}'):
        r = _raw(server, "/api/ask", body)
        assert r.status_code == 422, (body, r.text)
        assert json.loads(r.text)["error"]["message"]


# ---- corpus edge cases ---------------------------------------------------------------------------------
def test_corpus_edge_cases_are_skipped_or_indexed_safely(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a_real.txt").write_text((SEEDS / "000_f9686eb01d8f09a5.txt").read_text("utf-8"), "utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (corpus / "latin1.txt").write_bytes("Le café était fermé à Kunduz.".encode("latin-1"))
    words = "Kunduz residents waited for news from the district "  # no sentence end in 1 MB
    (corpus / "one_line.txt").write_text((words * (1_048_576 // len(words) + 1))[:1_048_575] + ".", "utf-8")
    words = " ".join(f"word{i % 97}" for i in range(5000)) + "."
    (corpus / "long_sentence.txt").write_text("The report said " + words + "\n", "utf-8")
    (corpus / "crlf_bom.txt").write_bytes(
        "\ufeffThe river rose on Monday.\r\nThe bridge closed on Tuesday.\r".encode()
    )

    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    with caplog.at_level("WARNING"):
        report = index_corpus(settings.index)
    skipped = {s.file: s.reason for s in report.skipped}
    assert set(skipped) == {"empty.txt", "binary.txt", "latin1.txt"}
    for name in skipped:
        assert any(name in rec.getMessage() for rec in caplog.records), name
    assert sorted(report.added) == ["a_real.txt", "crlf_bom.txt", "long_sentence.txt", "one_line.txt"]
    assert any("one_line.txt" in rec.getMessage() for rec in caplog.records)  # a warning says it was cut
    emb = make_embedder(settings.index, settings.llm)
    sentences, _ = Store(settings.index, emb.name, emb.dim).all_sentences()
    by_file: dict[str, int] = {}
    for s in sentences:  # every span still round-trips to the exact text in the file
        text = (corpus / s.file).read_bytes().decode("utf-8")  # offsets count \r too
        assert text[s.start : s.end] == s.text and len(s.text) <= 600
        by_file[s.file] = by_file.get(s.file, 0) + 1
    for f, n in by_file.items():
        assert n == len(evidence_sentences(f, (corpus / f).read_bytes().decode("utf-8"), MAX_CHARS)[0])
    assert by_file["long_sentence.txt"] > 1
