"""OpenAI-compatible chat API: `POST /v1/chat/completions` (streaming and not) and `GET /v1/models`.

The last user message is the question; the messages before it are the history (a follow-up is made
standalone by the pipeline). The reply's content is the verified answer followed by footnotes
(`[1] file, sentence n: “quote”`); the same citations come as data in `citations`, on the message (or the
final chunk's choice) and at the top level, and beside them `conflicts`: when the articles disagree, every
version of the answer with the citations that state it (`Answer.conflicts`, as in /api/ask).

Streaming sends verified answers, not the raw model tokens: an OpenAI client concatenates every
`delta.content` and cannot take text back, while raw tokens carry the model's evidence numbers and
sentences that verification may drop. When the model is about to refine an answer the pipeline has
already verified, that answer (the draft) is sent at once, with its footnotes; if the final answer differs,
it follows after a blank line as "Refined: …" with its own footnotes. Otherwise the content chunks start
once the answer is verified. The final chunk's `citations` and `conflicts` are the final answer's. A queued
request first gets the role chunk and keep-alive comments.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from index.errors import InputError
from qa.api.auth import add_fallback, guarded_router
from qa.api.common import (
    ServiceDep,
    answer_events,
    check_question,
    error_payload,
)
from qa.api.sse import event, event_stream, stream_responses, text_event
from qa.present import refinement, with_footnotes
from qa.types import Answer, Citation, Conflict

router = guarded_router("/v1", "openai")
_CHUNK_CHARS = 24  # content is sent in pieces of about this size, split at spaces


# ---- request -------------------------------------------------------------------------------------------
class ChatMessage(BaseModel):
    """An OpenAI chat message; `content` may be a string or a list of `{"type": "text", "text": …}` parts."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (text parts joined; other parts ignored)."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(str(p.get("text", "")) for p in self.content or [] if p.get("type") == "text")


class StreamOptions(BaseModel):
    """OpenAI `stream_options`."""

    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The subset of OpenAI's request that matters here; other fields (temperature, …) are accepted and
    ignored: decoding is greedy and the answer length is the server's setting."""

    model_config = ConfigDict(extra="allow")
    model: str | None = Field(default=None, description="Ignored: the server's backend answers.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    top_k: int | None = Field(default=None, ge=1, le=20, description="Extension: evidence groups to use.")


# ---- response ------------------------------------------------------------------------------------------
_CONFLICTS = (
    "Extension: when the articles disagree, every version of the answer, the most supported first; each "
    "version's `citations` are 1-based indices into `citations`. Empty when they agree."
)


class AssistantMessage(BaseModel):
    """The answer with footnotes, and its citations as data."""

    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[Citation] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list, description=_CONFLICTS)
    refusal: str | None = None


class Choice(BaseModel):
    """The single choice."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Token counts where the backend reports them (0 when it does not)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    """A non-streaming reply, plus `citations`, `conflicts` and `refused` at the top level."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list, description=_CONFLICTS)
    refused: bool = False


class Model(BaseModel):
    """One model."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "local"


class ModelList(BaseModel):
    """`GET /v1/models`."""

    object: Literal["list"] = "list"
    data: list[Model]


def _split_messages(req: ChatCompletionRequest) -> tuple[str, list[dict[str, str]]]:
    """(question, history): the last user message, and the messages before it."""
    for i in range(len(req.messages) - 1, -1, -1):
        if req.messages[i].role == "user":
            history = [{"role": m.role, "content": m.text()} for m in req.messages[:i]]
            return req.messages[i].text(), history
    raise InputError("The messages hold no user message: send the question as a message with role 'user'.")


def _usage(answer: Answer) -> Usage:
    p = int(answer.timings.get("prompt_tokens", 0))
    c = int(answer.timings.get("completion_tokens", 0))
    return Usage(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)


def _pieces(text: str) -> list[str]:
    """`text` cut after spaces into pieces of about _CHUNK_CHARS; joined, they give `text` back."""
    out: list[str] = []
    while len(text) > _CHUNK_CHARS:
        cut = text.find(" ", _CHUNK_CHARS)
        if cut < 0:
            break
        out.append(text[: cut + 1])
        text = text[cut + 1 :]
    if text:
        out.append(text)
    return out


# ---- routes --------------------------------------------------------------------------------------------
@router.get("/models", response_model=ModelList, summary="The model that answers")
async def models(service: ServiceDep) -> ModelList:
    """One entry: the backend and model in use (`backend:model`)."""
    pipeline = await run_in_threadpool(service.pipeline)
    return ModelList(data=[Model(id=pipeline.model_label)])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat completion with citations",
    responses=stream_responses(
        "`chat.completion`, or with `stream: true` a stream of `chat.completion.chunk` events ending with "
        "`data: [DONE]`."
    ),
)
async def chat_completions(
    req: ChatCompletionRequest, service: ServiceDep
) -> ChatCompletion | EventSourceResponse:
    """Answer the last user message; earlier messages are the conversation."""
    question, history = _split_messages(req)
    check_question(question, service)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    slot = ExitStack()
    slot.enter_context(service.admit())
    try:
        pipeline = await run_in_threadpool(service.pipeline)
        if not req.stream:
            answer = await run_in_threadpool(service.ask, question, history, req.top_k)
    finally:
        if not req.stream:
            slot.close()
    model = pipeline.model_label
    if not req.stream:
        message = AssistantMessage(
            content=with_footnotes(answer), citations=answer.citations, conflicts=answer.conflicts
        )
        return ChatCompletion(
            id=completion_id,
            created=created,
            model=model,
            choices=[Choice(message=message)],
            usage=_usage(answer),
            citations=answer.citations,
            conflicts=answer.conflicts,
            refused=answer.refused,
        )

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> ServerSentEvent:
        """A `chat.completion.chunk` with one choice of `delta` (None: no choice, as in the usage chunk);
        `extra` goes at the top level and, the citations and conflicts, on the choice too."""
        choices: list[dict[str, Any]] = []
        if delta is not None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            choices.append({**choice, **{k: v for k, v in extra.items() if k in ("citations", "conflicts")}})
        head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        return event({**head, "choices": choices, **extra})

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            yield chunk({"role": "assistant", "content": ""})
            answer: Answer | None = None
            draft: Answer | None = None
            async for ev in answer_events(service, question, history, req.top_k):
                if ev.type == "draft":
                    draft = ev.data["answer"]
                    for piece in _pieces(with_footnotes(draft)):
                        yield chunk({"content": piece})
                elif ev.type == "done":
                    answer = ev.data["answer"]
            if answer is None:
                raise RuntimeError("the pipeline ended without an answer")
            rest = with_footnotes(answer) if draft is None else refinement(draft, answer)
            for piece in _pieces(rest):
                yield chunk({"content": piece})
            yield chunk(
                {},
                "stop",
                citations=[c.model_dump() for c in answer.citations],
                conflicts=[v.model_dump() for v in answer.conflicts],
                refused=answer.refused,
            )
            if req.stream_options and req.stream_options.include_usage:
                yield chunk(None, usage=_usage(answer).model_dump())
        except Exception as e:
            yield event(error_payload(e))
        finally:
            slot.close()
        yield text_event("[DONE]")

    return event_stream(events(), on_close=slot.close)


add_fallback(router)  # after the last route
