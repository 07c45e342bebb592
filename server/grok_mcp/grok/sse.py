"""Reads a server-sent-events reply as JSON payloads, ending at xAI's `data: [DONE]` marker."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any, Final, Literal, cast

import anyio
import httpx2

DONE: Final = "[DONE]"
MAX_EVENT_BYTES = 4 * 1024 * 1024


class MalformedEventError(ValueError):
    """An event's data was not a JSON object."""


class StreamLimitError(Exception):
    """The stream passed a limit: `kind` is "too_large" (its byte cap) or "deadline" (its total deadline)."""

    def __init__(self, kind: Literal["too_large", "deadline"]) -> None:
        super().__init__(kind)
        self.kind = kind


def is_event_stream(response: httpx2.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == "text/event-stream"


async def iter_json_events(
    response: httpx2.Response, *, max_bytes: int | None = None, deadline: float = math.inf
) -> AsyncGenerator[dict[str, Any] | str]:
    """Each event's data parsed as a JSON object, then the string `DONE` if the stream sent it.

    Comments, keep-alives and events without data are skipped; the `event:` name is ignored because
    every xAI payload names its own type. Raises MalformedEventError for data that is not a JSON
    object, StreamLimitError once the events' data passes `max_bytes` or the clock (anyio's) passes
    `deadline`, and httpx2.TransportError (including httpx2.SSEError for an oversized event) when the
    connection fails.
    """
    events = cast(
        AsyncGenerator[httpx2.ServerSentEvent],
        httpx2.EventSource(response, max_event_size=MAX_EVENT_BYTES).__aiter__(),
    )
    received = 0
    async with aclosing(events):
        while True:
            # The deadline covers the wait for each event, so a stream that trickles forever ends too.
            event: httpx2.ServerSentEvent | None = None
            with anyio.CancelScope(deadline=deadline) as waiting:
                event = await anext(events, None)
            if waiting.cancelled_caught:
                raise StreamLimitError("deadline")
            if event is None:
                return
            received += len(event.data)
            if max_bytes is not None and received > max_bytes:
                raise StreamLimitError("too_large")
            data = event.data.strip()
            if not data:
                continue
            if data == DONE:
                yield DONE
                return
            try:
                payload = json.loads(data)
            except ValueError:
                raise MalformedEventError(f"an event that is not JSON ({len(data)} bytes)") from None
            if not isinstance(payload, dict):
                raise MalformedEventError("an event that is not a JSON object")
            yield cast(dict[str, Any], payload)
