"""Slow and greedy HTTP clients: headers sent a byte at a time are cut off, and one address holds a bounded
number of MCP sessions, while every other client keeps being served."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from grok_mcp.hosting.sessions_per_address import MAX_SESSIONS_PER_ADDRESS, SessionsPerAddress
from grok_mcp.hosting.uvicorn_serve import HEADER_READ_TIMEOUT_S

from tests.support.processes import HttpServer, http_server

INITIALIZE = (
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},'
    '"clientInfo":{"name":"greedy","version":"1"}}}'
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    home = tmp_path_factory.mktemp("slow-and-greedy")
    with http_server(home, base_url=None, key=None, extra_args=("--simulate",)) as running:
        yield running


def _trickle_until_closed(port: int, *, budget_s: float) -> tuple[bytes, float]:
    """Send a request's headers one byte every 0.2 s, never finishing them; what the server sent when it closed
    the connection, and after how long. Fails if the server holds the connection past `budget_s`."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 10_000
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=budget_s) as sock:
        sock.settimeout(0.2)
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
                answer = sock.recv(65536)
            except TimeoutError:
                if time.monotonic() - started > budget_s:
                    pytest.fail(f"the server still held a connection with unfinished headers after {budget_s} s")
                continue
            except (BrokenPipeError, ConnectionResetError):
                return b"", time.monotonic() - started
            return answer, time.monotonic() - started
    pytest.fail("the whole request was sent and the server never closed the connection")


def test_a_client_that_sends_headers_a_byte_at_a_time_is_cut_off_while_others_are_served(
    server: HttpServer,
) -> None:
    served: list[int] = []

    def healthy_client() -> None:
        with httpx2.Client(timeout=5) as client:
            for _ in range(20):
                served.append(client.get(f"{server.root}/healthz").status_code)

    others = threading.Thread(target=healthy_client)
    others.start()
    answer, _ = _trickle_until_closed(server.port, budget_s=10 * HEADER_READ_TIMEOUT_S)
    others.join(timeout=30)

    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
    assert f"within {HEADER_READ_TIMEOUT_S:g} s".encode() in answer
    assert served == [200] * 20


def test_a_connection_that_never_sends_a_byte_is_closed(server: HttpServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10 * HEADER_READ_TIMEOUT_S) as sock:
        try:
            answer = sock.recv(65536)  # blocks until the server sends or closes; the socket timeout bounds it
        except TimeoutError:
            pytest.fail(f"an idle connection was held for {10 * HEADER_READ_TIMEOUT_S} s")
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")


def _open_session(client: httpx2.Client, server: HttpServer) -> httpx2.Response:
    return client.post(
        server.url,
        headers={
            "Authorization": f"Bearer {server.token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
        content=INITIALIZE,
    )


def _client_from(address: str) -> httpx2.Client:
    return httpx2.Client(transport=httpx2.HTTPTransport(local_address=address), timeout=30)


def test_one_address_holds_a_bounded_number_of_sessions_and_others_are_still_served(server: HttpServer) -> None:
    with _client_from("127.0.0.3") as greedy, _client_from("127.0.0.4") as other:
        sessions = []
        for _ in range(MAX_SESSIONS_PER_ADDRESS):
            opened = _open_session(greedy, server)
            assert opened.status_code == 200, opened.text
            sessions.append(opened.headers["mcp-session-id"])

        refused = _open_session(greedy, server)
        assert refused.status_code == 429
        assert f"{MAX_SESSIONS_PER_ADDRESS} MCP sessions" in refused.text
        assert "mcp-session-id" not in refused.headers

        assert _open_session(other, server).status_code == 200
        closed = greedy.delete(
            server.url, headers={"Authorization": f"Bearer {server.token}", "mcp-session-id": sessions.pop()}
        )
        assert closed.status_code < 300
        assert _open_session(greedy, server).status_code == 200
        assert greedy.get(f"{server.root}/healthz").status_code == 200


def test_a_refused_request_without_the_token_opens_no_session_and_counts_for_nothing(server: HttpServer) -> None:
    with _client_from("127.0.0.5") as client:
        for _ in range(MAX_SESSIONS_PER_ADDRESS + 5):
            assert client.post(server.url, content=INITIALIZE).status_code == 401
        assert _open_session(client, server).status_code == 200


@pytest.mark.anyio
async def test_a_session_whose_opening_request_is_still_winding_down_counts_once() -> None:
    winding_down = anyio.Event()
    answered = 0

    async def app_that_lingers(scope: Any, receive: Any, send: Any) -> None:
        """Like the SDK: the answer is sent, then the request's task still has cleaning up to do."""
        nonlocal answered
        answered += 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"mcp-session-id", b"s%d" % answered)]})
        await send({"type": "http.response.body", "body": b"{}"})
        await winding_down.wait()

    bounded = SessionsPerAddress(app_that_lingers, limit=2)
    scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": [], "client": ("127.0.0.9", 1)}
    statuses: list[int] = []

    async def record(message: Any) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(bounded, dict(scope), receive, record)
            await anyio.wait_all_tasks_blocked()
        assert statuses == [200, 200, 429]
        assert bounded.held_by("127.0.0.9") == 2
        winding_down.set()
