"""What a streamed answer yields, step by step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from index.errors import QAError

if TYPE_CHECKING:
    from qa.types import Answer

EventType = Literal["meta", "draft", "token", "claim", "done", "error"]


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: `meta` (backend info), `draft` (a verified extractive Answer shown
    at once while the model runs; the final answer may replace it), `token` (raw model text), `claim` (a
    verified sentence with its citations), `done` (the final Answer), `error` (a message; no answer
    follows)."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)


def final_answer(events: Iterable[Event]) -> Answer:
    """The Answer of the `done` event, once every event has been read (the one ask loop of the pipeline
    and the service). A stream always ends in `done` or raises; this guards a broken invariant."""
    final: Answer | None = None
    for ev in events:
        if ev.type == "done":
            final = ev.data["answer"]
    if final is None:
        raise QAError("The answer pipeline ended without an answer; ask again.")
    return final
