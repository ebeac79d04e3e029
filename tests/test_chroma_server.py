"""The same product against a real Chroma server (`chroma run`) instead of the on-disk store.

`QA_CHROMA_URL=http://host:port` is how several API replicas share one index (docs/scaling.md). These tests
start the real `chroma` CLI from the venv on a free loopback port with its data in a tmp dir, index the
seeds into it over HTTP, re-index incrementally (nothing embedded), and run the end-to-end answer tables
of tests/test_answer_e2e.py with the packaged model.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.build import index_corpus
from index.store import Store
from qa.pipeline import Pipeline
from qa.settings import Settings
from tests.helpers import SEEDS, assert_answers, assert_refused, stop_process
from tests.test_answer_e2e import ANSWERABLE, UNANSWERABLE

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`chroma run` exited with code {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"`chroma run` did not answer {url}/api/v2/heartbeat within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on 127.0.0.1 with its data in a tmp dir; stopped with SIGTERM afterwards."""
    if not CHROMA.exists():
        pytest.skip(f"the chroma CLI is not installed at {CHROMA}: run `make install`")
    path = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    log = (path / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="module")
def server_settings(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings that put the index on the server (the data dir only holds the writer lock)."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("server-data"),
        corpus_dir=SEEDS,
        chroma_url=chroma_url,
        llm="llamacpp",
    )


@pytest.fixture(scope="module")
def server_index(server_settings: Settings) -> Settings:
    """The seeds indexed into the server once for this module."""
    report = index_corpus(server_settings.index)
    assert len(report.added) == 5 and report.sentences_embedded > 0
    return server_settings


@pytest.fixture(scope="module")
def server_pipeline(server_index: Settings) -> Pipeline:
    """An answer pipeline reading the index from the server, with the packaged model."""
    return Pipeline(server_index)


def test_index_lives_on_the_server_not_on_disk(server_index: Settings) -> None:
    store = Store(server_index.index, "onnx:all-MiniLM-L6-v2", 384)
    assert len(store.manifest()) == 5
    assert store.count() > 100
    assert not (server_index.index.data_dir / "chroma").exists()  # the data dir only holds the writer lock


def test_unchanged_corpus_embeds_nothing_against_the_server(server_index: Settings) -> None:
    again = index_corpus(server_index.index)
    assert again.sentences_embedded == 0
    assert again.added == again.updated == again.removed == []
    assert len(again.unchanged) == 5


def test_changed_article_is_replaced_on_the_server(server_index: Settings, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    changed = corpus / "000_f9686eb01d8f09a5.txt"
    changed.write_text("The river flooded the old mill on Tuesday, officials said.\n", "utf-8")
    try:
        report = index_corpus(server_index.index, corpus_dir=corpus)
        assert report.updated == ["000_f9686eb01d8f09a5.txt"] and report.sentences_embedded == 1
        sentences, _ = Store(server_index.index, "onnx:all-MiniLM-L6-v2", 384).all_sentences()
        mine = [s.text for s in sentences if s.file == changed.name]
        assert mine == ["The river flooded the old mill on Tuesday, officials said."]
    finally:  # put the seed back for the answer tests; only that article is re-embedded
        restored = index_corpus(server_index.index)
        assert restored.updated == ["000_f9686eb01d8f09a5.txt"]
        assert len(restored.unchanged) == 4


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from index.errors import QAError

    s = Settings(data_dir=tmp_path / "d", chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(QAError, match="chroma run"):
        Store(s.index, "onnx:all-MiniLM-L6-v2", 384)


@pytest.mark.slow
@pytest.mark.parametrize(("question", "expected"), ANSWERABLE)
def test_answers_from_the_server_cite_sentences_that_hold_the_fact(
    server_pipeline: Pipeline, question: str, expected: tuple[str, ...]
) -> None:
    assert_answers(server_pipeline.ask(question), expected)


@pytest.mark.slow
@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_are_refused_with_the_server(server_pipeline: Pipeline, question: str) -> None:
    assert_refused(server_pipeline.ask(question))
