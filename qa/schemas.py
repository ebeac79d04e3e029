"""What `GET /api/health` and `GET /api/sources/{file}` return, and what the chat shows from them: the
service's status and an article's indexed sentences (qa/service.py fills them; ui/ renders them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SourceSentence(BaseModel):
    """One indexed sentence of an article, as the source viewer shows it."""

    id: str = Field(description="Sentence id `<file>#<n>`, as in Citation.id.")
    n: int = Field(description="1-based sentence number within the file.")
    start: int = Field(description="Character offset where the sentence starts in the file.")
    end: int = Field(description="Character offset where the sentence ends in the file.")
    text: str = Field(description="The exact sentence: file_text[start:end].")


class SourceDoc(BaseModel):
    """An article's indexed sentences, in order. Boilerplate (share widgets, disclaimers) is not indexed,
    so sentence numbers may skip."""

    file: str
    sentences: list[SourceSentence]


class IndexStatus(BaseModel):
    """Whether the index can be read, and what it holds."""

    ready: bool
    articles: int = 0
    sentences: int = 0
    error: str | None = None


class BackendStatus(BaseModel):
    """Which language-model backend answers, and why it was chosen."""

    ready: bool
    backend: str = ""
    model: str = ""
    reason: str = ""
    error: str | None = None


class QueueStatus(BaseModel):
    """API requests admitted now (answering or waiting their turn) and the limit before 503."""

    in_flight: int
    limit: int
    at_model: int = Field(default=0, description="Answers waiting for the language model or using it.")


class Health(BaseModel):
    """`GET /api/health`: `ok` when questions can be answered."""

    status: Literal["ok", "unavailable"]
    index: IndexStatus
    backend: BackendStatus
    queue: QueueStatus
