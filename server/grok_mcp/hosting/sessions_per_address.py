"""A bound on the live MCP sessions one client address holds over streamable HTTP; more are refused with 429.

The SDK bounds sessions only in total (`max_sessions`), so one client could take them all. This middleware sits
in front of it and keeps its own book from what crosses the wire: a session is counted from the response that
gives it an `mcp-session-id` until the client deletes it, its ID answers 404, or it has had no request in flight
for `idle_timeout_s` (the SDK ends idle sessions by the same rule, given the same number).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

MAX_SESSIONS_PER_ADDRESS = 64
"""Live MCP sessions one client address may hold at once (every local client shares 127.0.0.1)."""
SESSION_IDLE_TIMEOUT_S = 30 * 60.0
"""A session with no request in flight for this long is ended (by the SDK) and stops counting (here)."""

_SESSION_HEADER = b"mcp-session-id"


@dataclass
class _Session:
    address: str
    in_flight: int
    last_active: float


class SessionsPerAddress:
    """ASGI middleware for the MCP endpoint: at most `limit` live sessions per client address."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int = MAX_SESSIONS_PER_ADDRESS,
        idle_timeout_s: float = SESSION_IDLE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self._limit = limit
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._opening: dict[str, int] = {}  # requests without a session ID under way, per address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/mcp" or path.startswith("/mcp/")):
            await self.app(scope, receive, send)
            return
        session_id = _header(scope, _SESSION_HEADER)
        if session_id is not None:
            await self._use(session_id, scope, receive, send)
        elif scope.get("method") == "POST":  # the only request that can open a session
            await self._open(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def held_by(self, address: str) -> int:
        """Live sessions of `address`, and requests of it that may open one."""
        self._forget_idle()
        return sum(1 for s in self._sessions.values() if s.address == address) + self._opening.get(address, 0)

    async def _open(self, scope: Scope, receive: Receive, send: Send) -> None:
        address = _address(scope)
        if self.held_by(address) >= self._limit:
            logger.warning("Refused a new MCP session for %s: it holds %d already", address, self._limit)
            await _too_many(send, self._limit, self._idle_timeout_s)
            return
        self._opening[address] = self._opening.get(address, 0) + 1  # reserved while the request runs
        opened: list[str] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                session_id = _header(message, _SESSION_HEADER)
                if session_id is not None:
                    # From now on the session counts instead of the reservation: the client may open its next
                    # one before this request has wound down.
                    self._sessions[session_id] = _Session(address, in_flight=1, last_active=self._clock())
                    opened.append(session_id)
                    self._release(address)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not opened:
                self._release(address)
            for session_id in opened:
                self._done(session_id)

    def _release(self, address: str) -> None:
        self._opening[address] -= 1
        if not self._opening[address]:
            del self._opening[address]

    async def _use(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.in_flight += 1
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if session is not None:
                self._done(session_id)
                ended = status and (status[0] == 404 or (scope.get("method") == "DELETE" and status[0] < 300))
                if ended:
                    self._sessions.pop(session_id, None)

    def _done(self, session_id: str) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.in_flight -= 1
            session.last_active = self._clock()

    def _forget_idle(self) -> None:
        cutoff = self._clock() - self._idle_timeout_s
        for session_id, session in list(self._sessions.items()):
            if session.in_flight == 0 and session.last_active < cutoff:
                del self._sessions[session_id]


def _header(scope_or_message: MutableMapping[str, Any], name: bytes) -> str | None:
    for key, value in scope_or_message.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _too_many(send: Send, limit: int, idle_timeout_s: float) -> None:
    message = (
        f"Too many open sessions: this address already holds {limit} MCP sessions, the most Grok MCP gives one "
        "client address. Close sessions you no longer use (an MCP client closes its own when it exits), or wait: "
        f"a session with no request for {idle_timeout_s / 60:g} minutes ends by itself."
    )
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
