"""What the native API (qa/api.py) and the OpenAI-compatible API (qa/api_openai.py) share: the error body,
the mapping from QAError to HTTP status, the question check, and reading a pipeline run without blocking
the event loop."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

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
# A comment line keeps a queued stream's connection alive through proxies.
KEEPALIVE_S = 10.0
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


def status_of(e: QAError) -> int:
    """The HTTP status for a QAError."""
    if isinstance(e, QuestionTooLongError):
        return 413
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
    limit = service.settings.max_question_chars
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
) -> AsyncIterator[Event | None]:
    """The pipeline's events, read in worker threads so the event loop stays free. Yields None as a
    keep-alive tick when nothing happened for KEEPALIVE_S (the run is waiting for its turn). If the
    consumer stops early (client gone), the run is cancelled."""
    run = service.start(question, history, top_k)
    idle = 0.0
    try:
        while True:
            try:
                ev = await anyio.to_thread.run_sync(run.next, _POLL_S)
            except TimeoutError:
                idle += _POLL_S
                if idle >= KEEPALIVE_S:
                    idle = 0.0
                    yield None
                continue
            if ev is None:
                return
            idle = 0.0
            yield ev
    finally:
        run.cancel()


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; `data` is JSON-encoded on one line (or sent as is when it is a str)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


SSE_KEEPALIVE = b": keep-alive\n\n"


class EventStream(StreamingResponse):
    """A text/event-stream response that notices a client leaving at once (not only at the next write,
    which for a queued or prefilling answer can be seconds away), which cancels the answer, and that runs
    `on_close` however it ends: finished, failed, or never started (so an admission slot cannot leak)."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[bytes], on_close: Callable[[], None]) -> None:
        super().__init__(content, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as tg:

                async def stream() -> None:
                    with contextlib.suppress(OSError):  # the client went away mid-write
                        await self.stream_response(send)
                    tg.cancel_scope.cancel()

                tg.start_soon(stream)
                await self.listen_for_disconnect(receive)
                tg.cancel_scope.cancel()
        finally:
            self._on_close()
