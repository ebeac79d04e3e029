"""What the native API (qa/api/routes.py) and the OpenAI-compatible API (qa/api/openai.py) share: the error
body, the mapping from QAError to HTTP status, the question check, the service dependency, and reading a
pipeline run without blocking the event loop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from pydantic import BaseModel, Field

from index.errors import (
    BackendError,
    CorpusError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
    QAError,
)
from qa.events import Event
from qa.inputs import clean_question
from qa.service import BusyError, QAService

log = logging.getLogger(__name__)

# Largest request body accepted on /api and /v1: a long conversation fits, a flood does not.
MAX_BODY_BYTES = 1_000_000
# How long a worker thread waits for the run's next event before the consumer looks again (so a cancelled
# stream lets go of its thread within this time).
_POLL_S = 0.25


class ErrorDetail(BaseModel):
    """What went wrong and what to do (OpenAI's error shape, so their clients show the message)."""

    message: str = Field(description="A complete sentence for the user, with the fix.")
    type: str = Field(description="Error class, e.g. InputError, BackendError, IndexMissingError.")
    code: int = Field(description="The HTTP status.")


class ErrorBody(BaseModel):
    """Every error response of /api and /v1."""

    error: ErrorDetail


class QuestionTooLongError(InputError):
    """The question exceeds `max_question_chars` (HTTP 413)."""


class AuthError(QAError):
    """A request to /api or /v1 without the server's bearer token (HTTP 401, qa/api/auth.py)."""


def status_of(e: QAError) -> int:
    """The HTTP status for a QAError."""
    if isinstance(e, QuestionTooLongError):
        return 413
    if isinstance(e, AuthError):
        return 401
    if isinstance(e, InputError):
        return 422
    if isinstance(
        e,
        BusyError
        | BackendError
        | IndexMissingError
        | IndexCorruptError
        | IndexMismatchError
        | IndexLockedError
        | CorpusError,
    ):
        return 503
    return 500


def error_body(status: int, message: str, kind: str) -> dict[str, Any]:
    """The JSON of an error response."""
    return ErrorBody(error=ErrorDetail(message=message, type=kind, code=status)).model_dump()


def error_payload(e: BaseException) -> dict[str, Any]:
    """The error body for any exception; unexpected ones are logged and described without internals."""
    if isinstance(e, QAError):
        return error_body(status_of(e), str(e), type(e).__name__)
    log.exception("unexpected error while answering", exc_info=e)
    return error_body(500, "The server failed while answering; see its log. Ask again.", "InternalError")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong bearer token (when QA_API_TOKEN is set)."},
    413: {"model": ErrorBody, "description": "The question or the request body is too long."},
    422: {"model": ErrorBody, "description": "Empty question or malformed request."},
    503: {
        "model": ErrorBody,
        "description": "No index yet (run `qa index`), backend unavailable, or too many requests "
        "(with Retry-After).",
    },
}


def check_question(question: str, service: QAService) -> str:
    """The cleaned question, or InputError (422, empty) / QuestionTooLongError (413)."""
    limit = service.settings.answer.max_question_chars
    if len(question) > limit:
        raise QuestionTooLongError(
            f"The question is {len(question)} characters long; the limit is {limit}. Ask a shorter question."
        )
    return clean_question(question, service.settings)


def get_service(request: Request) -> QAService:
    """The app's QAService (a FastAPI dependency)."""
    service = request.app.state.service
    assert isinstance(service, QAService)
    return service


ServiceDep = Annotated[QAService, Depends(get_service)]


async def answer_events(
    service: QAService, question: str, history: Sequence[dict[str, str]] | None, top_k: int | None
) -> AsyncIterator[Event]:
    """The pipeline's events, read in worker threads so the event loop stays free. If the consumer stops
    early (the client went away and the stream was cancelled), the run is cancelled."""
    run = service.start(question, history, top_k)
    try:
        while True:
            try:
                ev = await anyio.to_thread.run_sync(run.next, _POLL_S)
            except TimeoutError:
                continue  # still queued or generating: look again (a cancellation lands here)
            if ev is None:
                return
            yield ev
    finally:
        run.cancel()
