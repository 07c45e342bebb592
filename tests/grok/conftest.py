"""Fixtures for the xAI client tests: clients on the loopback simulator, a recording sleep, a foreign host."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from grok_mcp.grok import GrokClient

from tests.support.simulator import TEST_KEY, RunningSimulator


@dataclass
class RecordingSleep:
    """Stands in for anyio.sleep: remembers every requested delay and returns at once (a fake clock)."""

    delays: list[float] = field(default_factory=list[float])

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


ClientFactory = Callable[..., GrokClient]


@pytest.fixture
async def make_client(simulator: RunningSimulator, sleeps: RecordingSleep) -> AsyncIterator[ClientFactory]:
    """Build GrokClients on the simulator (any argument can be overridden); all are closed afterwards."""
    clients: list[GrokClient] = []

    def build(**overrides: Any) -> GrokClient:
        key = overrides.pop("key", TEST_KEY)
        options: dict[str, Any] = {
            "base_url": simulator.base_url,
            "api_key": lambda: key,
            "sleep": sleeps,
            "random": lambda: 1.0,
            "timeout_s": 30,
            "connect_timeout_s": 5,
        }
        options.update(overrides)
        client = GrokClient(**options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(make_client: ClientFactory) -> GrokClient:
    return make_client()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class ForeignHost:
    """A plain HTTP server on another loopback port that records the headers it was sent.

    `replies` scripts answers by path (for GET and POST) for shapes the simulator never sends.
    """

    base_url: str
    seen_headers: list[dict[str, str]]
    replies: dict[str, Reply]


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 120


class _ForeignHandler(BaseHTTPRequestHandler):
    seen: list[dict[str, str]]
    replies: dict[str, Reply]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def do_GET(self) -> None:
        self.seen.append({k.lower(): v for k, v in self.headers.items()})
        scripted = self.replies.get(self.path)
        if scripted is not None:
            status, headers, body = scripted
            self._send(status, body, {"Content-Length": str(len(body)), **headers})
        elif self.path == "/image.png":
            self._send(200, PNG_BYTES, {"Content-Type": "image/png", "Content-Length": str(len(PNG_BYTES))})
        elif self.path == "/big-declared.png":
            self._send(200, b"\x00" * 4096, {"Content-Type": "image/png", "Content-Length": "4096"})
        elif self.path == "/big-undeclared.png":
            # No Content-Length: the size is only found out while reading.
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(8):
                self.wfile.write(b"\x00" * 1024)
            self.close_connection = True
        else:
            self._send(404, b"missing", {"Content-Type": "text/plain", "Content-Length": "7"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hang up early on purpose here (size limits); that is not worth a traceback."""


@pytest.fixture
def foreign_host() -> Iterator[ForeignHost]:
    seen: list[dict[str, str]] = []
    replies: dict[str, Reply] = {}
    handler = type("Handler", (_ForeignHandler,), {"seen": seen, "replies": replies})
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield ForeignHost(base_url=f"http://127.0.0.1:{server.server_address[1]}", seen_headers=seen, replies=replies)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
