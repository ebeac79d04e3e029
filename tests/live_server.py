"""A real server on a free 127.0.0.1 port, in a background thread, for the API and browser tests.

`shared_server` builds the real one (seed index, packaged model, chat UI) once per test session, however
many test modules ask for it. `start_server` runs any app (tests build small ones around a scripted LLM).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from index.errors import BackendError
from qa.service import QAService
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@dataclass
class LiveServer:
    """A running server: its base URL, settings and service."""

    url: str
    settings: Settings
    service: QAService
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)


def start_server(app: FastAPI, settings: Settings, service: QAService) -> LiveServer:
    """Serve `app` on a free loopback port; returns once it answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}"
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return LiveServer(url, settings, service, server, thread)


def serve(service: QAService, ui: bool = False) -> LiveServer:
    """The app around `service` (with the chat when `ui`), served on a free loopback port."""
    from qa.api.app import create_app

    return start_server(create_app(service.settings, service, ui=ui), service.settings, service)


def settings_from_env(**env: str) -> Settings:
    """Settings read from QA_* environment variables, as `qa serve` reads them."""
    with pytest.MonkeyPatch.context() as mp:
        for key in ("QA_API_TOKEN", "QA_CHROMA_URL", "OLLAMA_HOST"):
            mp.delenv(key, raising=False)
        for key, value in env.items():
            mp.setenv(key, value)
        return Settings()


_shared: LiveServer | None = None
_shared_lock = threading.Lock()


def shared_server(data_dir: Path) -> LiveServer:
    """The real server over the seed index in `data_dir`, with the chat UI; started once per session."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from qa.api.app import create_app

            settings = settings_from_env(
                QA_DATA_DIR=str(data_dir),
                QA_CORPUS_DIR=str(SEEDS),
                QA_LLM="llamacpp",
                QA_OLLAMA_HOST="http://127.0.0.1:9",
                QA_CONCURRENCY="4",
            )
            service = QAService(settings)
            service.pipeline()  # load the index and the model before the first request
            _shared = start_server(create_app(settings, service), settings, service)
        return _shared


def stop_shared() -> None:
    """Stop the shared server if it runs (idempotent)."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


class ScriptedLLM:
    """A fake backend whose reply depends on the prompt: it repeats the first evidence sentence and cites
    it as [1]. `mode` "block" waits for `release` first; "fail" raises BackendError after one token."""

    backend = "scripted"
    name = "echo-first-evidence"
    n_ctx = 2048

    def __init__(self) -> None:
        self.stats: dict[str, float] = {}
        self.mode = "echo"
        self.prompts: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def count_tokens(self, text: str) -> int:
        """About one token a word."""
        return len(text.split()) + 1

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        """The first evidence sentence with marker [1], word by word."""
        self.prompts.append(user)
        self.entered.set()
        if self.mode == "block":
            self.release.wait(timeout=60)
        m = re.search(r"^\[1\] (.+)$", user, re.MULTILINE)
        words = (m.group(1) if m else "Nothing.").split(" ")
        for i, w in enumerate(words):
            if self.mode == "fail" and i == 1:
                raise BackendError("The scripted backend dropped the connection mid-answer; ask again.")
            yield w if i == 0 else " " + w
        yield " [1]"
        self.stats = {"completion_tokens": float(len(words) + 1)}


def wait_until(predicate: object, timeout: float = 30.0) -> None:
    """Poll `predicate()` until it is true."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.02)


def auth(token: str) -> dict[str, str]:
    """The bearer header."""
    return {"Authorization": f"Bearer {token}"}


def client(base: str, token: str | None = None, timeout: float = 300.0) -> httpx.Client:
    """An httpx client for `base`."""
    return httpx.Client(base_url=base, headers=auth(token) if token else {}, timeout=timeout)
