"""Server-sent event responses for `POST /api/ask/stream` and the streaming `POST /v1/chat/completions`,
through sse-starlette: its `EventSourceResponse` frames the events, sends the keep-alive comments and
watches for the client leaving.

A client that leaves cancels the stream's task at once (not only at the next write, which for a queued or
prefilling answer can be seconds away). The library then closes the event generator, whose `finally`
cancels the answer run (qa/api/common.py `answer_events`) and frees the admission slot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from sse_starlette import EventSourceResponse, JSONServerSentEvent, ServerSentEvent
from starlette.background import BackgroundTask

# A comment line this often keeps a queued stream's connection alive through proxies.
KEEPALIVE_S = 10.0
_SEP = "\n"  # the line ending of every event these streams have sent


def stream_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry of a route that answers with an event stream."""
    return {
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": description}
    }


def event(data: Any, name: str | None = None) -> ServerSentEvent:
    """One event: `data: <data as one line of JSON>`, after `event: <name>` when it has a name."""
    return JSONServerSentEvent(data, event=name, sep=_SEP)


def text_event(text: str) -> ServerSentEvent:
    """One unnamed event whose data is `text` as is (OpenAI's closing `data: [DONE]`)."""
    return ServerSentEvent(text, sep=_SEP)


def _keepalive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive", sep=_SEP)


def event_stream(events: AsyncIterator[ServerSentEvent], on_close: Callable[[], None]) -> EventSourceResponse:
    """A text/event-stream response of `events`, with a keep-alive comment every KEEPALIVE_S.

    `on_close` (idempotent) runs after the response however it ended: finished, failed, the client gone,
    or the generator never started because the client left first, so an admission slot cannot leak. The
    generator should release what it holds in its own `finally` too: that runs as soon as it ends, and
    also when sending fails, where the response ends with the error and runs no background task."""
    return EventSourceResponse(
        events,
        ping=KEEPALIVE_S,
        ping_message_factory=_keepalive,
        sep=_SEP,
        background=BackgroundTask(on_close),
    )
