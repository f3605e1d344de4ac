"""A small Server-Sent Events parser over an iterator of text lines (the WHATWG rules that the
server uses: ``event:``, ``data:`` (joined by newlines), ``id:``, comments, blank line ends one)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional


@dataclass(frozen=True)
class Event:
    """One event of a job's stream: ``snapshot``, ``progress``, ``metrics``, ``status`` or
    ``done``; ``data`` is the decoded JSON (the raw text when it is not JSON)."""

    event: str
    data: Any
    id: Optional[str] = None


def parse(lines: Iterable[str], max_event_chars: int = 64 * 1024 * 1024) -> Iterator[Event]:
    """Yields the events of a stream; an event larger than ``max_event_chars`` is an error."""
    name = ""
    data: list[str] = []
    size = 0
    last_id: Optional[str] = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                text = "\n".join(data)
                try:
                    value: Any = json.loads(text)
                except ValueError:
                    value = text
                yield Event(name or "message", value, last_id)
            name, data, size = "", [], 0
            continue
        if line.startswith(":"):
            continue
        key, _, value_text = line.partition(":")
        if value_text.startswith(" "):
            value_text = value_text[1:]
        if key == "event":
            name = value_text
        elif key == "data":
            size += len(value_text)
            if size > max_event_chars:
                raise ValueError(f"an event of the stream is larger than {max_event_chars} characters")
            data.append(value_text)
        elif key == "id":
            last_id = value_text
