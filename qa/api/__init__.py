"""The HTTP API, one concern per module:

- `app.py`: `create_app` (the routers, the error handlers, the chat mounted at /ui) and `serve` (`qa serve`)
- `routes.py`: the native API under /api (ask, ask/stream, sources, health)
- `openai.py`: the OpenAI-compatible API under /v1 (chat/completions, models)
- `auth.py`: the bearer token (QA_API_TOKEN), a dependency of both routers
- `sse.py`: the server-sent event responses of the two streams (sse-starlette)
- `common.py`: what both APIs share: the error body and statuses, the question check, reading a run
"""
