"""The index layer's settings: where the store lives, what it reads, how it embeds and splits.

A plain pydantic model, not a settings source: it reads no environment. The composed `qa.settings.Settings`
holds one as its `index` section (env `QA_DATA_DIR` or `QA_INDEX__DATA_DIR`), built once at an entry point
and passed down; index functions take this section and know nothing of qa's. Nothing runs at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


class IndexSettings(BaseModel):
    """Indexing and the store: the corpus folder, the data dir, the embedder, extraction limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=lambda: _project_root() / "data",
        description="Where the Chroma store, lock file and caches live.",
        json_schema_extra={"shown": "`<project>/data`"},
    )
    corpus_dir: Path = Field(
        default_factory=lambda: _project_root() / "seeds",
        description="Folder of articles that `qa index` reads: .txt (UTF-8), .md, .html/.htm, .pdf, .docx.",
        json_schema_extra={"shown": "`<project>/seeds`"},
    )
    embed: str = Field(
        default="onnx:all-MiniLM-L6-v2",
        description="Embedding model: the packaged int8 ONNX model, or `ollama:<model>` (through the Ollama "
        "server of `QA_OLLAMA_HOST`). Stamped on the index; changing it needs `qa index --rebuild`.",
    )
    embed_batch_size: int = Field(default=64, ge=1, description="Sentences per embedding batch.")
    embed_threads: int = Field(default=2, ge=1, description="CPU threads for the packaged ONNX embedder.")
    chroma_url: str | None = Field(
        default=None, description="Use a Chroma server (`http://host:port`) instead of the on-disk store."
    )
    max_file_mb: float = Field(
        default=20, gt=0, description="Article files larger than this (in MB) are skipped with a warning."
    )
    max_upload_mb: float = Field(
        default=50,
        gt=0,
        description="Largest file (in MB) that `POST /api/documents`, the chat's documents panel and "
        "`qa add` take; a larger one is skipped with the reason and nothing is saved (indexing then applies "
        "`QA_MAX_FILE_MB` as to any article).",
    )
    max_pdf_pages: int = Field(
        default=2000, ge=1, description="PDFs with more pages than this are skipped with a warning."
    )
    extract_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest time reading one HTML, PDF, Word or Markdown file may take; a file that takes "
        "longer is stopped and skipped with a warning, and the rest are indexed.",
    )
    extract_memory_mb: int = Field(
        default=1024,
        ge=128,
        description="Memory limit (address space, MB) of the worker process that reads HTML, PDF, Word and "
        "Markdown files; a file that needs more is skipped with a warning, and the rest are indexed.",
    )
    max_sentence_chars: int = Field(
        default=600,
        ge=50,
        description="A sentence longer than this (a table row, a run-on line) is cut at a space into pieces "
        "of at most this many characters, each citable on its own. Changing it needs `qa index --rebuild`.",
    )
