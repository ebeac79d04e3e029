"""The HTTP server: the native API under /api, the OpenAI-compatible API under /v1 (qa/api_openai.py),
and the chat UI mounted at /ui (`/` redirects there). OpenAPI schemas at /docs.

Layering: qa/ never imports gradio. The one exception is `create_app`, which imports `ui.app` lazily, and
only when it is asked to mount the chat; that single import is the seam between the API and the UI.

Answers run in worker threads, scheduled by qa/service.py (the model generates one answer at a time;
answers that need no model do not wait for it), so the event loop stays free for health checks, source
lookups and streaming. At most `QAService.admission_limit()` API requests are answering or waiting; more
get 503 with Retry-After.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from index.errors import QAError
from index.settings import Settings
from qa.api_common import (
    ERROR_RESPONSES,
    MAX_BODY_BYTES,
    SSE_KEEPALIVE,
    EventStream,
    ServiceDep,
    answer_events,
    check_question,
    error_body,
    error_payload,
    sse,
    status_of,
)
from qa.events import Event
from qa.present import unsent_claims
from qa.service import BusyError, Health, QAService
from qa.sources import SourceView, source_view
from qa.types import Answer, Citation

log = logging.getLogger(__name__)
UI_PATH = "/ui"


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


# ---- auth ----------------------------------------------------------------------------------------------
class TokenGuard:
    """ASGI middleware: with a token configured, every /api and /v1 path (known or not) needs
    `Authorization: Bearer <token>`, else 401. The chat UI uses Gradio's login instead (ui/app.py)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    @staticmethod
    def guarded(path: str) -> bool:
        """Does `path` belong to the API?"""
        return any(path == p or path.startswith(p + "/") for p in ("/api", "/v1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.token and self.guarded(scope["path"]):
            auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(
                given.strip().encode(), self.token.encode()
            ):
                response = JSONResponse(
                    error_body(
                        401,
                        "This API needs `Authorization: Bearer <token>` (the server's QA_API_TOKEN).",
                        "AuthError",
                    ),
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ---- native routes -------------------------------------------------------------------------------------
router = APIRouter(prefix="/api", tags=["native"], responses=ERROR_RESPONSES, max_body_size=MAX_BODY_BYTES)


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
    response_class=EventStream,
    status_code=200,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "An event stream (see above).",
        }
    },
)
async def ask_stream(req: AskRequest, service: ServiceDep) -> EventStream:
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
                cits.append(
                    Citation(
                        id=s.id, file=s.file, sentence=s.n, quote=s.text, start=s.start, end=s.end
                    ).model_dump()
                )
        return {**ev.data, "citations": cits}

    async def events() -> AsyncIterator[bytes]:
        sent: list[str] = []
        try:
            async for ev in answer_events(service, req.question, _history(req.history), req.top_k):
                if ev is None:
                    yield SSE_KEEPALIVE
                elif ev.type == "done":
                    for claim in unsent_claims(ev.data["answer"], sent):
                        yield sse(claim, "claim")
                    yield sse({"answer": answer_json(ev.data["answer"])}, "done")
                elif ev.type == "claim":
                    sent.append(ev.data.get("text", ""))
                    yield sse(claim_payload(ev), "claim")
                elif ev.type == "draft":
                    yield sse({"answer": answer_json(ev.data["answer"])}, "draft")
                else:
                    yield sse(ev.data, ev.type)
        except Exception as e:
            yield sse(error_payload(e), "error")
        finally:
            slot.close()

    return EventStream(events(), on_close=slot.close)


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


# ---- the app -------------------------------------------------------------------------------------------
def _install_error_handlers(app: FastAPI) -> None:
    async def on_qa_error(request: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, QAError)
        status = status_of(e)
        headers = {"Retry-After": str(e.retry_after)} if isinstance(e, BusyError) else None
        return JSONResponse(error_payload(e), status_code=status, headers=headers)

    async def on_validation(request: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, RequestValidationError)
        parts = []
        for err in e.errors()[:5]:
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
        message = "The request is not valid: " + "; ".join(parts) + "."
        return JSONResponse(error_body(422, message, "ValidationError"), status_code=422)

    async def on_http(request: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, StarletteHTTPException)
        default = {404: "Not found.", 405: "Method not allowed.", 413: "The request body is too large."}
        message = e.detail if isinstance(e.detail, str) and e.detail else default.get(e.status_code, "Error.")
        if e.status_code == 404 and message == "Not Found":
            message = "Not found."
        return JSONResponse(
            error_body(e.status_code, message, "HTTPError"), status_code=e.status_code, headers=e.headers
        )

    app.add_exception_handler(QAError, on_qa_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def create_app(settings: Settings, service: QAService | None = None, ui: bool = True) -> FastAPI:
    """The FastAPI app: /api, /v1 and (with `ui`) the Gradio chat at /ui. Builds nothing heavy itself:
    the pipeline is built in the background at startup and again on demand until it succeeds."""
    from qa.api_openai import router as openai_router

    service = service or QAService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Warm the index, the model and the examples so the first question is fast; failures show in
        # /api/health.
        threading.Thread(target=service.warm, name="qa-warmup", daemon=True).start()
        yield

    app = FastAPI(
        title="cited-qa",
        version="0.1.0",
        summary="Questions over your articles; every answer sentence cites the exact file and sentence.",
        lifespan=lifespan,
    )
    app.state.service = service
    _install_error_handlers(app)
    app.include_router(router)
    app.include_router(openai_router)
    app.add_middleware(TokenGuard, token=settings.api_token)
    if ui:
        # The one qa → ui import (see the module docstring): lazy, so qa stays free of gradio.
        from ui.app import mount_ui

        mount_ui(app, service, path=UI_PATH)

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse(UI_PATH + "/")

        @app.get("/favicon.ico", include_in_schema=False)
        async def favicon() -> RedirectResponse:
            return RedirectResponse(UI_PATH + "/favicon.ico")

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the server until interrupted (`qa serve`)."""
    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_token:
        log.warning("serving on %s without QA_API_TOKEN: anyone who can reach this port can ask", host)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    print(f"cited-qa: chat at http://{shown}:{port}/  ·  API docs at http://{shown}:{port}/docs", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
