"""What a streamed answer yields, step by step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal["meta", "draft", "token", "claim", "done", "error"]


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: `meta` (backend info), `draft` (a verified extractive Answer shown
    at once while the model runs; the final answer may replace it), `token` (raw model text), `claim` (a
    verified sentence with its citations), `done` (the final Answer), `error` (a message; no answer
    follows)."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)
