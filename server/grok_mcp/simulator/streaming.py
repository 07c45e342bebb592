"""Paced SSE streams with injected mid-stream faults, the dropped connection, and disconnect-aware sleeps."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from grok_mcp.simulator.faults import Fault

MIDSTREAM_CODE = "The service is currently unavailable"
MIDSTREAM_MESSAGE = "Service temporarily unavailable. The model did not respond to this request."


class ConnectionDropped(Exception):
    """Raised inside a response to make uvicorn close the connection mid-body (a simulated network drop)."""


def quiet_dropped_connections(record: logging.LogRecord) -> bool:
    """Logging filter for uvicorn's error logger: a simulated drop is not an application error."""
    error: BaseException | None = record.exc_info[1] if record.exc_info else None
    while isinstance(error, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], error)
        if len(group.exceptions) != 1:
            break
        error = group.exceptions[0]
    return not isinstance(error, ConnectionDropped)


async def sleep_or_disconnect(ms: float, receive: Receive) -> bool:
    """Sleep, but stop early when the client goes away; True if it disconnected.

    Only call once the request body has been read: then `receive` yields nothing but the disconnect.
    """
    if ms <= 0:
        return False
    disconnected = False
    with anyio.move_on_after(ms / 1000):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
    return disconnected


@dataclass(frozen=True)
class SSEEvent:
    """One server-sent event: its JSON data (or a literal like `[DONE]`) and an optional event name."""

    data: str
    event: str | None = None

    @staticmethod
    def of(payload: Mapping[str, object], event: str | None = None) -> SSEEvent:
        return SSEEvent(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), event)

    def encode(self) -> bytes:
        prefix = f"event: {self.event}\n" if self.event else ""
        return f"{prefix}data: {self.data}\n\n".encode()


class _UnsizedResponse(Response):
    """A response that writes its own body: headers without a computed content-length."""

    def __init__(self, status_code: int, headers: Mapping[str, str] | None, media_type: str) -> None:
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)


class EventStream(_UnsizedResponse):
    """An SSE response: `ttft_ms` before the first event, `chunk_ms` between events, faults mid-way."""

    def __init__(
        self,
        events: Sequence[SSEEvent],
        *,
        ttft_ms: float,
        chunk_ms: float,
        fault: Fault | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(200, headers, "text/event-stream")
        self.events = list(events)
        self.ttft_ms = ttft_ms
        self.chunk_ms = chunk_ms
        self.fault = fault if fault is not None and fault.is_midstream else None
        self.headers["cache-control"] = "no-cache"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for index, event in enumerate(self.events):
            strikes = self.fault is not None and index == self.fault.chunks_before
            if strikes and self.fault is not None and await self._strike(self.fault, receive, send):
                return
            delay = self.ttft_ms if index == 0 else self.chunk_ms
            if await sleep_or_disconnect(delay, receive):
                return
            await send({"type": "http.response.body", "body": event.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _strike(self, fault: Fault, receive: Receive, send: Send) -> bool:
        """Apply the mid-stream fault; True when the stream is over."""
        if fault.kind == "drop":
            raise ConnectionDropped
        if fault.kind == "stall":
            return await sleep_or_disconnect(fault.seconds * 1000, receive)
        error = SSEEvent.of({"code": MIDSTREAM_CODE, "error": fault.message or MIDSTREAM_MESSAGE})
        await send({"type": "http.response.body", "body": error.encode(), "more_body": False})
        return True


class DroppedResponse(_UnsizedResponse):
    """Headers promising a body, a few bytes of it, then a closed connection."""

    def __init__(self) -> None:
        super().__init__(200, {"content-length": "4096"}, "application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b'{"id":"', "more_body": True})
        raise ConnectionDropped
