"""The HTTP server: the native API under /api (qa/api/routes.py; the articles, qa/api/documents.py), the
OpenAI-compatible API under /v1 (qa/api/openai.py), both behind the bearer token when one is set
(qa/api/auth.py), and the chat UI mounted at /ui (`/` redirects there). OpenAPI schemas at /docs.

Layering: qa/ never imports gradio. The one exception is `create_app`, which imports `ui.app` lazily, and
only when it is asked to mount the chat; that single import is the seam between the API and the UI.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import QAError
from qa.api.common import AuthError, error_body, error_payload, status_of
from qa.api.documents import documents_router
from qa.api.openai import router as openai_router
from qa.api.routes import router as native_router
from qa.service import BusyError, QAService
from qa.settings import Settings

log = logging.getLogger(__name__)
UI_PATH = "/ui"


# ---- the app -------------------------------------------------------------------------------------------
def _install_error_handlers(app: FastAPI) -> None:
    async def on_qa_error(request: Request, e: Exception) -> JSONResponse:
        assert isinstance(e, QAError)
        status = status_of(e)
        headers = None
        if isinstance(e, BusyError):
            headers = {"Retry-After": str(e.retry_after)}
        elif isinstance(e, AuthError):
            headers = {"WWW-Authenticate": "Bearer"}
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
    service = service or QAService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Warm the index, the model and the examples so the first question is fast; failures show in
        # /api/health.
        threading.Thread(target=service.warm, name="qa-warmup", daemon=True).start()
        # Articles a killed server left queued are indexed again.
        threading.Thread(target=service.documents, name="qa-documents-resume", daemon=True).start()
        yield

    app = FastAPI(
        title="cited-qa",
        version="0.1.0",
        summary="Questions over your articles; every answer sentence cites the exact file and sentence.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.api_token = settings.server.api_token  # read by qa/api/auth.py on every /api and /v1 request
    _install_error_handlers(app)
    app.include_router(documents_router(settings))  # before the native router's catch-all under /api
    app.include_router(native_router)
    app.include_router(openai_router)
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

    if host not in ("127.0.0.1", "localhost", "::1") and not settings.server.api_token:
        log.warning("serving on %s without QA_API_TOKEN: anyone who can reach this port can ask", host)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    print(f"cited-qa: chat at http://{shown}:{port}/  ·  API docs at http://{shown}:{port}/docs", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
