"""Reading server-sent events in tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def parse_sse(lines: Iterable[str]) -> Iterator[tuple[str | None, str]]:
    """(event, data) pairs from an event stream; comment lines are skipped."""
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        yield event, "\n".join(data)
