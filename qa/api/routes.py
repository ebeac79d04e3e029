"""The native API under /api: `POST /api/ask`, `POST /api/ask/stream` (server-sent events),
`GET /api/sources/{file}` and `GET /api/health`.

Answers run in worker threads, scheduled by qa/service.py (the model generates one answer at a time;
answers that need no model do not wait for it), so the event loop stays free for health checks, source
lookups and streaming. At most `QAService.admission_limit()` requests are answering or waiting; more get
503 with Retry-After.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.api.auth import add_fallback, guarded_router
from qa.api.common import (
    ServiceDep,
    answer_events,
    check_question,
    error_payload,
)
from qa.api.sse import event, event_stream, stream_responses
from qa.events import Event
from qa.present import unsent_claims
from qa.schemas import Health
from qa.sources import SourceView, source_view
from qa.types import Answer, Citation


# ---- schemas -------------------------------------------------------------------------------------------
class Turn(BaseModel):
    """One earlier message of the conversation."""

    role: Literal["user", "assistant", "system"]
    content: str


class AskRequest(BaseModel):
    """`POST /api/ask` and `POST /api/ask/stream`."""

    question: str = Field(description="The question. Empty → 422; longer than QA_MAX_QUESTION_CHARS → 413.")
    history: list[Turn] | None = Field(
        default=None, description="Earlier turns, oldest first; a follow-up question is made standalone."
    )
    top_k: int | None = Field(default=None, ge=1, le=20, description="Evidence groups shown to the model.")


class AnswerJSON(Answer):
    """The answer, exactly as `qa ask --json` prints it."""

    extra: dict[str, Any] = Field(default_factory=dict, exclude=True)


def answer_json(answer: Answer) -> dict[str, Any]:
    """`Answer.model_dump(exclude={"extra"})`: the body of /api/ask and of the stream's `done` event."""
    return answer.model_dump(exclude={"extra"})


def _history(turns: Sequence[Turn] | None) -> list[dict[str, str]]:
    return [t.model_dump() for t in turns or []]


# ---- routes --------------------------------------------------------------------------------------------
router = guarded_router("/api", "native")


@router.post("/ask", response_model=AnswerJSON, summary="Answer a question with verified citations")
async def ask(req: AskRequest, service: ServiceDep) -> dict[str, Any]:
    """The same JSON as `qa ask --json`. Marker `[k]` in `answer` refers to `citations[k-1]`."""
    check_question(req.question, service)
    with service.admit():
        answer = await run_in_threadpool(service.ask, req.question, _history(req.history), req.top_k)
    return answer_json(answer)


_STREAM_DOC = """Server-sent events, in this order:

- `meta`: `{"backend", "model", "question"}` (the standalone question after follow-up rewriting)
- `draft`: `{"answer": <the /api/ask JSON>}`, only when the model is about to refine an answer the pipeline
  has already verified: that answer, to show at once (`done` may repeat it or replace it)
- `token`: `{"text"}`, raw model text as it is generated (unverified; its `[n]` are evidence numbers)
- `claim`: `{"text", "sentence_ids", "citations"}`, a sentence of the final answer, verified
- `done`: `{"answer": <the /api/ask JSON>}`, the final answer (a refusal has no citations)
- `error`: `{"error": {"message", "type", "code"}}`, instead of `done` when answering failed

Errors found before streaming (empty question, no index, busy) are plain HTTP errors."""


@router.post(
    "/ask/stream",
    summary="Answer a question, streamed as server-sent events",
    description=_STREAM_DOC,
    response_class=EventSourceResponse,
    responses=stream_responses("An event stream (see above)."),
)
async def ask_stream(req: AskRequest, service: ServiceDep) -> EventSourceResponse:
    """Stream the verified draft (when the model will refine it), tokens, verified claims, then the final
    answer."""
    check_question(req.question, service)
    slot = ExitStack()
    slot.enter_context(service.admit())
    try:
        pipeline = await run_in_threadpool(service.pipeline)  # no index / no backend → 503 before streaming
    except BaseException:
        slot.close()
        raise

    def claim_payload(ev: Event) -> dict[str, Any]:
        cits = []
        for sid in ev.data.get("sentence_ids", []):
            s = pipeline.retriever.sentence(sid)
            if s is not None:
                cits.append(Citation.of(s).model_dump())
        return {**ev.data, "citations": cits}

    async def events() -> AsyncIterator[ServerSentEvent]:
        sent: list[str] = []
        try:
            async for ev in answer_events(service, req.question, _history(req.history), req.top_k):
                if ev.type == "done":
                    for claim in unsent_claims(ev.data["answer"], sent):
                        yield event(claim, "claim")
                    yield event({"answer": answer_json(ev.data["answer"])}, "done")
                elif ev.type == "claim":
                    sent.append(ev.data.get("text", ""))
                    yield event(claim_payload(ev), "claim")
                elif ev.type == "draft":
                    yield event({"answer": answer_json(ev.data["answer"])}, "draft")
                else:
                    yield event(ev.data, ev.type)
        except Exception as e:
            yield event(error_payload(e), "error")
        finally:
            slot.close()

    return event_stream(events(), on_close=slot.close)


@router.get(
    "/sources/{file:path}",
    response_model=SourceView,
    summary="An article's indexed sentences and the text read from it",
)
async def sources(file: str, service: ServiceDep) -> SourceView:
    """The sentences of one indexed article, with ids and character spans, and the text they index: the
    text read from the file when it was indexed (for HTML, PDF, Word and Markdown the extracted text, for
    .txt the file itself), with its format, title, date and, for a PDF, each sentence's page.

    `file` must be exactly the name of an indexed article (as in `Citation.file`); anything else,
    including any path, is 404. Nothing is read from the file system: the text comes from the index.
    """
    doc = await run_in_threadpool(source_view, service, file)
    if doc is None:
        raise StarletteHTTPException(404, "No indexed article has that name.")
    return doc


@router.get(
    "/health",
    response_model=Health,
    summary="Index and backend status",
    responses={503: {"model": Health, "description": "Not ready: see `index.error`, `backend.error`."}},
)
async def health(service: ServiceDep) -> JSONResponse:
    """200 when questions can be answered, else 503 with what is missing."""
    h = await run_in_threadpool(service.health)
    return JSONResponse(h.model_dump(), status_code=200 if h.status == "ok" else 503)


add_fallback(router)  # after the last route
