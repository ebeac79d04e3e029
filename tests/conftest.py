"""Shared fixtures. Every data path points into pytest's tmp dirs; nothing leaves the loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class OutboundConnectionError(AssertionError):
    """A test (or the product under test) tried to reach a host that is not loopback."""


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost: would need DNS, so it is outbound


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise OutboundConnectionError(f"outbound connection attempted to {address!r}")
    _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_loopback(address):
        raise OutboundConnectionError(f"outbound connection attempted to {address!r}")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def socket_guard() -> Iterator[None]:
    """Fail any connection from this process to a non-loopback address (no telemetry, no hub)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point QA_DATA_DIR at this test's tmp dir and keep Ollama out of `auto` unless a test sets it."""
    data = tmp_path / "data"
    monkeypatch.setenv("QA_DATA_DIR", str(data))
    monkeypatch.setenv("QA_OLLAMA_HOST", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("QA_API_TOKEN", raising=False)
    monkeypatch.delenv("QA_CHROMA_URL", raising=False)
    return data


@pytest.fixture(scope="session")
def seed_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding an index of seeds/, built once per session."""
    from index.build import index_corpus
    from qa.settings import Settings

    data = tmp_path_factory.mktemp("seed-index")
    index_corpus(Settings(data_dir=data, corpus_dir=SEEDS).index)
    return data


@pytest.fixture(scope="session")
def seed_settings(seed_data_dir: Path) -> object:
    """Settings for the seed index with the embedded model."""
    from qa.settings import Settings

    return Settings(data_dir=seed_data_dir, corpus_dir=SEEDS, llm="llamacpp")


@pytest.fixture(scope="session")
def pipeline(seed_settings: object) -> object:
    """One answer pipeline over the seed index with the real packaged model (loaded once)."""
    from qa.pipeline import Pipeline

    return Pipeline(seed_settings)  # type: ignore[arg-type]


class RecordingLLM:
    """Streams a canned reply in small chunks (splitting markers) and records every prompt."""

    backend = "fake"
    name = "recording"
    n_ctx = 2048

    def __init__(self) -> None:
        self.reply = ""
        self.prompts: list[tuple[str, str]] = []
        self.stats: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        self.prompts.append((system, user))
        for i in range(0, len(self.reply), 3):
            yield self.reply[i : i + 3]
        self.stats = {"prefill_ms": 1.0, "decode_ms": 1.0}
