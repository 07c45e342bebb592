"""The one helper for running uvicorn inside our own event loop, with the signals left to the host process, and
the one place that leans on uvicorn's internals (its private `Server._serve`, its h11 protocol class).

uvicorn's public `Server.serve()` installs its own SIGTERM/SIGINT handlers and re-raises the signal once it
has stopped; ours drain in-flight calls first (grok_mcp.hosting.shutdown) and exit with code 0. uvicorn has no
public way to serve without that capture, so this module holds the only use of its private `Server._serve`;
tests/hosting/test_uvicorn_serve.py fails, naming the uvicorn version, the day it disappears or changes.
"""

from __future__ import annotations

import asyncio
import socket

import h11
import uvicorn


async def serve_without_signals(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
    """Serve until `server.should_exit` is set, on `sockets` if given (else the host and port of its config).

    Installs no signal handler: the caller decides what a signal means and sets `should_exit`.
    """
    await server._serve(sockets)  # pyright: ignore[reportPrivateUsage]


HEADER_READ_TIMEOUT_S = 10.0
"""How long a connection may take to send a request's headers: from when it opens, or from the end of the previous
response. uvicorn has no such bound for h11 (its keep-alive timer stops at the first byte), so a client sending one
byte at a time, or nothing, would hold its connection forever. h11 itself caps their size (16 KiB)."""

_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def h11_with_header_deadline(timeout_s: float = HEADER_READ_TIMEOUT_S) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, closing (with 408) a connection whose request headers are not all in within
    `timeout_s`; pass it as `uvicorn.Config(http=…)`.

    It subclasses `H11Protocol` and reads its `conn` (the h11 connection), `transport` and `on_response_complete`:
    uvicorn's own, not promised to stay; tests/hosting/test_http_slow_and_greedy_clients.py fails if they change.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    message = f"Request headers must arrive within {timeout_s:g} s; this connection is closed.".encode()

    class H11WithHeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._start_deadline()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # the request line and every header are in
                self._stop_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._start_deadline()  # the next request's headers get the same time

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_deadline()
            super().connection_lost(exc)

        def _start_deadline(self) -> None:
            self._stop_deadline()
            self._deadline = asyncio.get_running_loop().call_later(timeout_s, self._headers_too_slow)

        def _stop_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _headers_too_slow(self) -> None:
            self._deadline = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.conn.our_state is h11.IDLE:  # no response of ours is under way on this connection
                self.transport.write(_REQUEST_TIMEOUT % (len(message), message))
            self.transport.close()

    return H11WithHeaderDeadline
