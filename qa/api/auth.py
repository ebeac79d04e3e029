"""The bearer token of /api and /v1 (QA_API_TOKEN), as a FastAPI dependency of their routers.

With a token configured, every request to a path under /api or /v1 needs `Authorization: Bearer <token>`,
else 401 with `WWW-Authenticate: Bearer`; without one, everything is open. A path there that names no
route answers 401 too, not 404, so a client without the token learns nothing about which paths exist:
each router ends with catch-all routes behind the same dependency (`add_fallback`). The chat at /ui uses
Gradio's login instead (ui/app.py); /docs and /openapi.json are open.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from qa.api.common import ERROR_RESPONSES, MAX_BODY_BYTES, AuthError

_bearer = HTTPBearer(auto_error=False, description="The server's QA_API_TOKEN, when it has one.")
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Let the request through when the server has no token or the request carries it; else AuthError
    (401). The comparison takes the same time wherever the given token differs."""
    token: str | None = request.app.state.api_token
    if not token:
        return
    given = credentials.credentials if credentials is not None else ""
    if not secrets.compare_digest(given.encode(), token.encode()):
        raise AuthError("This API needs `Authorization: Bearer <token>` (the server's QA_API_TOKEN).")


def guarded_router(prefix: str, tag: str) -> APIRouter:
    """A router under `prefix` whose every route needs the token, with the shared error responses and the
    request body limit. End it with `add_fallback`."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=[Depends(require_token)],
        responses=ERROR_RESPONSES,
        max_body_size=MAX_BODY_BYTES,
    )


def add_fallback(router: APIRouter) -> None:
    """End `router` with routes for every other path under its prefix, so that they are guarded like its
    routes: 405 (with Allow) where the path is a route's with other methods, else 404. Call it after the
    router's last route."""

    async def no_route(request: Request) -> None:
        allowed = {
            method
            for route in router.routes
            if isinstance(route, APIRoute)
            and route.endpoint is not no_route
            and route.matches(request.scope)[0] is Match.PARTIAL
            for method in route.methods or ()
        }
        if allowed:
            raise StarletteHTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        raise StarletteHTTPException(404)

    for path in ("", "/{rest:path}"):
        router.add_api_route(path, no_route, methods=_METHODS, include_in_schema=False)
