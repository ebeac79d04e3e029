"""Faults: `kill -9` during `qa index`, a second writer, damaged Chroma files, a changed embedding model,
and an Ollama backend that is down, lacks the model, drops the stream or hangs.

Indexing faults run the real `qa` command in subprocesses (a damaged HNSW file crashes a process that lets
Chroma read it, so detection is proved where a crash could not take pytest down). Backend faults run the
real API on 127.0.0.1 against tests/ollama_server.py, which speaks Ollama's wire protocol.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from index.build import evidence_sentences, index_corpus
from index.corpus import load_corpus
from index.embed import make_embedder
from index.errors import IndexCorruptError, IndexLockedError
from index.store import Store, disk_generation
from qa.api.app import create_app
from qa.pipeline import Pipeline
from qa.retrieve import Retriever
from qa.service import QAService
from qa.settings import Settings
from tests.helpers import MAX_CHARS, assert_valid_answer
from tests.live_server import ROOT, SEEDS, LiveServer, ScriptedLLM, client, start_server, wait_until
from tests.ollama_server import OllamaTestServer
from tests.sse import parse_sse
from ui.app import chat_turn

QUESTION = "Which district did the Taliban take?"
KILLED = "How many Taliban fighters were killed?"
COPIES = 6  # seeds × 6 with distinct names: 30 articles, some seconds of indexing
# A fixed reply for the Ollama test server: the model's text does not matter for faults.
REPLY = ["Taliban fighters overran a key district", " in Kunduz [1]."]


def qa(*args: str, data: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the real `qa` command with its data dir at `data` (no Ollama, embedded model)."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        env=_env(data),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") and k != "OLLAMA_HOST"}
    return env | {
        "QA_DATA_DIR": str(data),
        "QA_OLLAMA_HOST": "http://127.0.0.1:9",
        "QA_LLM": "llamacpp",
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def _copies(folder: Path, copies: range) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in copies:
        for p in sorted(SEEDS.glob("*.txt")):
            shutil.copy(p, folder / f"{p.stem}_copy{k}.txt")


def _committed_rows(data: Path) -> int:
    """Manifest records written so far, read from SQLite directly (only to time the kill)."""
    try:
        con = sqlite3.connect(f"file:{data / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=5)
        try:
            return int(
                con.execute("SELECT COUNT(*) FROM embedding_metadata WHERE key = 'sentences'").fetchone()[0]
            )
        finally:
            con.close()
    except sqlite3.Error:
        return -1


def _one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 1, (r.returncode, r.stderr[-3000:])  # -11 would be a segmentation fault
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr[-3000:]
    return lines[0]


# ---- kill -9 during indexing, a second writer ----------------------------------------------------------
def test_kill_9_during_index_second_writer_and_rerun_converge(tmp_path: Path) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    _copies(corpus, range(COPIES))
    expected = {
        p.name: len(evidence_sentences(p.name, p.read_text("utf-8"), MAX_CHARS)[0])
        for p in corpus.glob("*.txt")
    }
    versions = {a.file: a.sha256 for a in load_corpus(corpus)[0]}
    settings = Settings(data_dir=data, corpus_dir=corpus)
    # The copy0 articles first, so a reader is open (as a server would be) before the big run starts.
    first = tmp_path / "first"
    _copies(first, range(1))
    index_corpus(settings.index, corpus_dir=first)
    emb = make_embedder(settings.index, settings.llm)
    reader = Store(settings.index, emb.name, emb.dim)

    violations: list[str] = []
    seen: list[int] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                sentences, vectors = reader.all_sentences()
            except (IndexCorruptError, IndexLockedError) as e:
                violations.append(f"{type(e).__name__}: {e}")
                continue
            per_file = collections.Counter(s.file for s in sentences)
            for f, n in per_file.items():
                if n != expected[f]:
                    violations.append(f"{f}: {n} sentences visible, {expected[f]} expected")
            if vectors.shape[0] != len(sentences):
                violations.append("vectors and sentences disagree")
            seen.append(len(per_file))
            time.sleep(0.02)

    gen0 = disk_generation(settings.index)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    writer = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus)],
        env=_env(data),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: disk_generation(settings.index) != gen0 or writer.poll() is not None, timeout=60)
        assert writer.poll() is None, writer.communicate()
        second = qa("index", "--corpus", str(corpus), data=data)  # while the first one writes
        assert "The index is locked" in _one_error_line(second)
        wait_until(lambda: _committed_rows(data) >= 5 + 3 or writer.poll() is not None, timeout=120)
        assert writer.poll() is None, "the writer finished before it could be killed: use a larger corpus"
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == -signal.SIGKILL
    wait_until(lambda: len(seen) > 0 and seen[-1] > 5, timeout=30)  # the reader reopened after the kill
    after_kill = seen[-1]
    assert 5 < after_kill < len(expected), "some articles, not all, were committed before the kill"

    rerun = qa("index", "--corpus", str(corpus), data=data)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"{len(expected) - after_kill} new" in rerun.stdout, rerun.stdout
    wait_until(lambda: seen[-1] == len(expected), timeout=30)
    stop.set()
    poller.join(10)
    assert violations == []
    # Converged: what a clean index of this corpus holds (tests/test_index.py checks a clean index equals
    # exactly these evidence sentences), and the killed run's uncommitted records were swept.
    assert reader.manifest() == versions
    sentences, _ = reader.all_sentences()
    assert collections.Counter(s.file for s in sentences) == expected
    assert reader.count() == sum(expected.values())


# ---- damaged files, another embedding model --------------------------------------------------------------
@pytest.fixture(scope="module")
def digest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, data dir) of one long article (the seeds nine times over) indexed by the real `qa index`:
    past 1,000 records Chroma writes its HNSW segment to disk, which a small index never does."""
    root = tmp_path_factory.mktemp("digest")
    corpus, data = root / "corpus", root / "data"
    corpus.mkdir()
    text = "".join(p.read_text("utf-8") + "\n" for p in sorted(SEEDS.glob("*.txt")))
    (corpus / "digest.txt").write_text(text * 9, "utf-8")
    r = qa("index", "--corpus", str(corpus), data=data)
    assert r.returncode == 0, r.stderr
    return corpus, data


def _vector_segment(data: Path) -> Path:
    """The sentences' HNSW segment folder (the largest one)."""
    return max(
        (p for p in (data / "chroma").iterdir() if p.is_dir()),
        key=lambda p: sum(f.stat().st_size for f in p.iterdir()),
    )


def _truncate_sqlite(data: Path) -> None:
    db = data / "chroma" / "chroma.sqlite3"
    os.truncate(db, db.stat().st_size // 3)


def _garble_sqlite_middle(data: Path) -> None:
    db = data / "chroma" / "chroma.sqlite3"
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.seek((size // 2) // 4096 * 4096)
        f.write(b"\xa5" * 8 * 4096)


def _garble_hnsw(data: Path) -> None:
    path = _vector_segment(data) / "data_level0.bin"
    size = path.stat().st_size
    assert size >= 1_000_000, "the HNSW segment was not written to disk"
    with path.open("r+b") as f:
        f.seek(size // 3)
        f.write(np.random.default_rng(7).bytes(size // 3))


def _other_embedding_model(data: Path) -> None:
    code = (
        "import chromadb, sys\n"
        "c = chromadb.PersistentClient(path=sys.argv[1])\n"
        "c.get_collection('qa_sentences').modify(metadata="
        "{'embed_model': 'ollama:nomic-embed-text', 'embed_dim': 768, 'schema': 1})\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(data / "chroma")], env=_env(data), capture_output=True
    )
    assert r.returncode == 0, r.stderr


DAMAGE = {
    "truncated-sqlite": _truncate_sqlite,
    "garbled-sqlite-middle": _garble_sqlite_middle,
    "garbled-hnsw-segment": _garble_hnsw,
    "other-embedding-model": _other_embedding_model,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_is_detected_at_start_and_rebuild_restores_service(
    request: pytest.FixtureRequest, tmp_path: Path, damage: str
) -> None:
    if damage == "garbled-hnsw-segment":
        corpus, clean = request.getfixturevalue("digest")
    else:
        corpus, clean = SEEDS, request.getfixturevalue("seed_data_dir")
    data = tmp_path / "data"
    shutil.copytree(clean, data, ignore=shutil.ignore_patterns("index.lock", "index.rw"))
    DAMAGE[damage](data)

    line = _one_error_line(qa("ask", QUESTION, data=data))  # the command a server start runs too
    assert "qa index --rebuild" in line, line

    rebuilt = qa("index", "--rebuild", "--corpus", str(corpus), data=data)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert rebuilt.stdout.startswith("indexed "), rebuilt.stdout
    settings = Settings(data_dir=data, corpus_dir=corpus)
    service = QAService(
        settings, pipeline=Pipeline(settings, llm=ScriptedLLM(), retriever=Retriever(settings))
    )
    answer = service.ask(KILLED)
    assert not answer.refused, answer.notes
    assert_valid_answer(answer, corpus)


# ---- Ollama down, model missing, dropped stream, hang --------------------------------------------------
def _ollama_api(data: Path, url: str) -> tuple[LiveServer, QAService]:
    settings = Settings(
        data_dir=data,
        corpus_dir=SEEDS,
        llm="ollama",
        ollama_host=url,
        ollama_model="smollm2:135m",
        ollama_timeout_s=2,
    )
    service = QAService(settings)
    return start_server(create_app(settings, service, ui=False), settings, service), service


def _ask_all(base: str) -> dict[str, Any]:
    """The question on all three answering routes: /api/ask, /api/ask/stream, /v1/chat/completions."""
    with client(base, timeout=60) as c:
        ask = c.post("/api/ask", json={"question": QUESTION})
        with c.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as s:
            s.read()
            stream_status = s.status_code
            body = s.text
        v1 = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
    events = [(e, json.loads(d)) for e, d in parse_sse(body.splitlines())] if stream_status == 200 else []
    return {"ask": ask, "stream_status": stream_status, "stream_body": body, "events": events, "v1": v1}


def _ui_error(service: QAService) -> str:
    """The chat transcript after asking through the UI's turn function; it must show an error box."""
    html, turns, _ = list(chat_turn(service, QUESTION, []))[-1]
    assert "qa-error" in html and turns[-1]["error"], html[-2000:]
    return str(turns[-1]["error"])


def _assert_recovers(base: str) -> None:
    with client(base, timeout=60) as c:
        r = c.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    assert r.json()["backend"] == "ollama"


def test_ollama_down_then_started_serves_again(seed_data_dir: Path) -> None:
    url = OllamaTestServer.unused_url()
    server, service = _ollama_api(seed_data_dir, url)
    try:
        got = _ask_all(server.url)
        for r in (got["ask"], got["v1"]):
            assert r.status_code == 503 and "not reachable" in r.json()["error"]["message"], r.text
            assert "ollama serve" in r.json()["error"]["message"]
        assert got["stream_status"] == 503 and "not reachable" in got["stream_body"]
        with client(server.url) as c:
            h = c.get("/api/health")
        assert h.status_code == 503 and "not reachable" in h.json()["backend"]["error"]
        assert "not reachable" in _ui_error(service)
        port = int(url.rsplit(":", 1)[1])
        with OllamaTestServer(port=port, reply_chunks=REPLY):
            _assert_recovers(server.url)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ollama() -> Iterator[OllamaTestServer]:
    """An Ollama test server with the model, a fixed reply, and no faults until a test sets one."""
    with OllamaTestServer(models=["smollm2:135m"], reply_chunks=REPLY) as srv:
        yield srv


@pytest.fixture(scope="module")
def ollama_api(seed_data_dir: Path, ollama: OllamaTestServer) -> Iterator[tuple[LiveServer, QAService]]:
    """The API answering through the Ollama test server (its pipeline already built)."""
    server, service = _ollama_api(seed_data_dir, ollama.url)
    _assert_recovers(server.url)
    yield server, service
    server.stop()


FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "model-missing": ({"models": ["other-model:1b"]}, "ollama pull smollm2:135m"),
    "dropped-mid-stream": ({"drop_after_chunks": 1}, "dropped mid-answer"),
    "error-mid-stream": ({"error_after_chunks": 1}, "failed mid-answer"),
    "hang": ({"hang": True}, "sent nothing for 2 s"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_backend_fault_is_a_clear_error_everywhere_and_the_server_keeps_serving(
    ollama: OllamaTestServer, ollama_api: tuple[LiveServer, QAService], fault: str
) -> None:
    server, service = ollama_api
    knobs, says = FAULTS[fault]
    ollama.configure(**knobs)
    try:
        got = _ask_all(server.url)
        ui_error = _ui_error(service)
    finally:
        ollama.configure(models=["smollm2:135m"], drop_after_chunks=None, error_after_chunks=None, hang=False)
    for r in (got["ask"], got["v1"]):
        assert r.status_code == 503, r.text
        err = r.json()["error"]
        assert err["type"] == "BackendError" and says in err["message"], err
    assert got["stream_status"] == 200  # the failure comes after the stream started: an `error` event
    kinds = [e for e, _ in got["events"]]
    assert kinds[0] == "meta" and kinds[-1] == "error" and "done" not in kinds, kinds
    assert says in got["events"][-1][1]["error"]["message"]
    assert says in ui_error
    wait_until(lambda: service.in_flight == 0, timeout=10)
    _assert_recovers(server.url)
    with httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.get("/api/health").status_code == 200
