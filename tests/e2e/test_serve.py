"""Real `grok-mcp serve` processes, over stdio and HTTP, driven by the MCP SDK's own clients."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from grok_mcp.store import Store
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent

from tests.support.processes import (
    INITIALIZE_AND_LIST_TOOLS,
    ROOT,
    SERVER_COMMAND,
    HttpServer,
    http_server,
    run_cli,
    server_env,
    stdio_server,
)
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio


def stdio_params(env: dict[str, str], *args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "serve", *args], env=env, cwd=str(ROOT)
    )


async def test_stdio_server_answers_a_chat_and_records_it(isolated_home: Path, simulator: RunningSimulator) -> None:
    env = server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)
    errlog = (isolated_home / "stderr.txt").open("w+", encoding="utf-8")
    with errlog:
        async with (
            stdio_client(stdio_params(env), errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            assert init.server_info.name == "grok"
            result = await session.call_tool("chat", {"prompt": "Say hello"})
            assert not result.is_error
            assert result.structured_content and result.structured_content["model"]
    store = Store.open(isolated_home / "grok-mcp.db")
    try:
        rows = store.recent_requests(10)
    finally:
        store.close()
    assert len(rows) == 1
    assert rows[0].transport == "stdio"


async def test_stdio_demo_mode_needs_no_key_and_says_it_is_simulated(isolated_home: Path) -> None:
    env = server_env(isolated_home)
    async with (
        stdio_client(stdio_params(env, "--simulate")) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("chat", {"prompt": "Hello?"})
        assert not result.is_error
        assert result.structured_content and result.structured_content["simulated"] is True
        assert "demo mode" in "".join(b.text for b in result.content if isinstance(b, TextContent))


def test_serve_without_a_key_exits_3_and_says_how_to_add_one(isolated_home: Path, keychain: Any) -> None:
    done = run_cli("serve", env=server_env(isolated_home))
    assert done.returncode == 3
    assert "grok-mcp keys set" in done.stderr
    assert done.stdout == ""


def test_serve_refuses_a_database_from_a_newer_version_with_exit_4(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    import sqlite3

    db = isolated_home / "grok-mcp.db"
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA user_version = 9999")
    connection.close()
    before = db.read_bytes()
    done = run_cli("serve", env=server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY), stdin="")
    assert done.returncode == 4
    assert "newer" in done.stderr
    assert db.read_bytes() == before
    assert done.stdout == ""


def test_http_serve_on_a_taken_port_exits_5(isolated_home: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(
            "serve",
            "--transport",
            "http",
            "--simulate",
            "--port",
            str(port),
            env=server_env(isolated_home, GROK_MCP_HTTP_TOKEN="t" * 32),
        )
    assert done.returncode == 5
    assert f"Port {port}" in done.stderr


async def test_http_server_serves_mcp_with_the_bearer_token(isolated_home: Path, simulator: RunningSimulator) -> None:
    with http_server(isolated_home, base_url=simulator.base_url, key=TEST_KEY) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            streamable_http_client(server.url, http_client=http) as (
                read,
                write,
            ),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("chat", {"prompt": "Hello over HTTP"})
            assert not result.is_error
        health = httpx2.get(f"{server.root}/healthz").json()
        assert health["app"] == "grok-mcp"
        assert health["pid"] == server.process.pid
        assert "token" not in str(health).lower()
        ready = httpx2.get(f"{server.root}/readyz")
        assert ready.status_code == 200, ready.text


GOOD = "GOOD"  # stands for the server's real token in the cases below


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": GOOD, "Host": "attacker.example"}, 421),
        ({"Authorization": GOOD, "Host": "127.0.0.1.nip.io"}, 421),
        ({"Authorization": GOOD, "Origin": "http://attacker.example"}, 403),
        ({"Authorization": GOOD, "Origin": "null"}, 403),
    ],
)
def test_http_server_refuses_unauthenticated_and_foreign_requests(
    headers: dict[str, str], status: int, http_demo_server: Any
) -> None:
    server = http_demo_server
    sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers}
    if sent.get("Authorization") == GOOD:
        sent["Authorization"] = f"Bearer {server.token}"
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
    response = httpx2.post(server.url, headers=sent, content=body)
    assert response.status_code == status
    if "Host" in headers or "Origin" in headers:
        foreign = {k: v for k, v in headers.items() if k != "Authorization"}
        assert httpx2.get(f"{server.root}/healthz", headers=foreign).status_code == status


@pytest.fixture(scope="module")
def http_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("http-demo")
    with http_server(home, base_url=None, key=None, extra_args=("--simulate",)) as server:
        yield server


async def _chat_over_http(server: HttpServer, prompt: str) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as http,
        streamable_http_client(server.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await session.call_tool("chat", {"prompt": prompt})


async def _until_upstream_started(simulator: RunningSimulator) -> None:
    """Wait (bounded) until a chat request reached the simulator: the call is in flight upstream."""
    with anyio.fail_after(10):
        while not simulator.request_count("/v1/chat/completions"):
            await anyio.sleep(0.02)


async def _until_logged(server: HttpServer, text: str) -> None:
    """Wait (bounded) until the server's stderr says `text`."""
    with anyio.fail_after(10):
        while text not in server.stderr_text():
            await anyio.sleep(0.02)


async def _stop_during_a_call(
    server: HttpServer, simulator: RunningSimulator, stop: Callable[[], Awaitable[None]]
) -> Any:
    """Start a chat, run `stop` once the call is in flight upstream, and return the call's result when it ends."""
    outcome: dict[str, Any] = {}

    async def call() -> None:
        outcome["result"] = await _chat_over_http(server, "slow question")

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await _until_upstream_started(simulator)
        await stop()
    return outcome["result"]


async def _exit_code(server: HttpServer, within_s: float = 40) -> int:
    return await anyio.to_thread.run_sync(lambda: server.process.wait(timeout=within_s))


def _stopper(server: HttpServer, *, close_stdin: bool = False, sigterm: bool = False) -> Callable[[], Awaitable[None]]:
    """A stop request: the parent closing the server's stdin, SIGTERM, or (both) the one, then the other."""

    async def stop() -> None:
        if close_stdin:
            assert server.process.stdin is not None
            server.process.stdin.close()  # the parent is gone
        if close_stdin and sigterm:
            await _until_logged(server, "Stdin closed")
        if sigterm:
            server.process.send_signal(signal.SIGTERM)

    return stop


async def test_sigterm_lets_a_running_call_finish_before_the_server_exits(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=1500)
    with http_server(isolated_home, base_url=simulator.base_url, key=TEST_KEY) as server:
        result = await _stop_during_a_call(server, simulator, _stopper(server, sigterm=True))
        assert not result.is_error
        assert await _exit_code(server) == 0


def test_serve_writes_nothing_but_protocol_to_stdout(isolated_home: Path, simulator: RunningSimulator) -> None:
    process = stdio_server("--debug", env=server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY))
    lines = _send_and_read_answers(process, 2)
    rest, err = process.communicate(timeout=30)  # closes stdin: the client is gone
    for line in [*lines, *rest.splitlines()]:
        if line.strip():
            assert json.loads(line)["jsonrpc"] == "2.0"
    assert "DEBUG" in err
    assert "pipe transports" in err  # a client on pipes is served by the event loop, not worker threads
    assert process.returncode == 0


async def test_a_second_sigterm_stops_at_once_without_waiting_for_running_calls(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=20_000)
    with http_server(isolated_home, base_url=simulator.base_url, key=TEST_KEY) as server:

        async def call() -> None:
            with contextlib.suppress(Exception):  # the server is told to stop without waiting for this call
                await _chat_over_http(server, "very slow question")

        code: int | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await _until_upstream_started(simulator)
            server.process.send_signal(signal.SIGTERM)
            # Two signals sent at once reach a process as one; send the second once the first was handled.
            await _until_logged(server, "Received SIGTERM")
            server.process.send_signal(signal.SIGTERM)
            # Far less than the 20 s the call would need: the server did not wait for it.
            code = await _exit_code(server, within_s=10)
            tg.cancel_scope.cancel()
        assert code == 0
        assert "Traceback" not in server.stderr_text()


def test_serve_profile_writes_cprofile_stats_when_the_server_stops(isolated_home: Path) -> None:
    import pstats

    profile = isolated_home / "serve.prof"
    done = run_cli("serve", "--simulate", "--profile", str(profile), env=server_env(isolated_home), stdin="")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    stats = pstats.Stats(str(profile))
    assert any("run_stdio" in name for (_, _, name) in stats.stats)  # pyright: ignore[reportAttributeAccessIssue]


# --- the parent's lifeline (--exit-with-parent) --------------------------------------------------------


async def _close_stdin_during_a_call(
    isolated_home: Path, simulator: RunningSimulator, *, latency_ms: int, sigterm: bool = False
) -> str:
    """Close the stdin of an HTTP server run with --exit-with-parent (then SIGTERM it, if asked) while a call
    runs; check that the call still finished and the server exited 0, and return its stderr."""
    simulator.set_config(latency_ms=latency_ms)
    with http_server(
        isolated_home, base_url=simulator.base_url, key=TEST_KEY, extra_args=("--exit-with-parent",), stdin_pipe=True
    ) as server:
        result = await _stop_during_a_call(server, simulator, _stopper(server, close_stdin=True, sigterm=sigterm))
        assert not result.is_error
        assert await _exit_code(server) == 0
        return server.stderr_text()


async def test_with_exit_with_parent_closing_stdin_lets_a_running_call_finish_then_exits_0(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    stderr = await _close_stdin_during_a_call(isolated_home, simulator, latency_ms=1500)
    assert "Stdin closed (the parent process is gone): finishing 1 running call(s)" in stderr
    assert "Traceback" not in stderr


async def test_a_closed_stdin_then_one_sigterm_is_one_stop_request_and_running_calls_still_finish(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    # A tray that dies on Linux both closes the pipe and (PR_SET_PDEATHSIG) sends SIGTERM: that must not count
    # as the "second signal" that cancels running calls.
    stderr = await _close_stdin_during_a_call(isolated_home, simulator, latency_ms=2500, sigterm=True)
    assert "Received SIGTERM while finishing running calls" in stderr
    assert "cancelling" not in stderr


async def test_without_exit_with_parent_closing_stdin_changes_nothing_in_http_mode(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    with http_server(isolated_home, base_url=simulator.base_url, key=TEST_KEY, stdin_pipe=True) as server:
        assert server.process.stdin is not None
        server.process.stdin.close()
        # A draining server refuses new calls: this one is served, so the closed stdin was no stop request.
        result = await _chat_over_http(server, "still there?")
        assert not result.is_error
        assert server.process.poll() is None
        server.process.send_signal(signal.SIGTERM)
        assert await _exit_code(server) == 0
        stderr = server.stderr_text()
    assert "Received SIGTERM: finishing 0 running call(s)" in stderr
    assert "Stdin closed" not in stderr


def test_exit_with_parent_leaves_stdin_to_the_protocol_in_stdio_mode(isolated_home: Path) -> None:
    process = stdio_server("--simulate", "--exit-with-parent", env=server_env(isolated_home))
    # Every request reached the protocol (a stdin watcher would have swallowed some): both get answers.
    answers = [json.loads(line) for line in _send_and_read_answers(process, 2)]
    _, err = process.communicate(timeout=30)  # closes stdin: the client is gone, and stdio ends as always
    assert [answer.get("id") for answer in answers] == [1, 2]
    assert any(tool["name"] == "chat" for tool in answers[1]["result"]["tools"])
    assert process.returncode == 0, err
    assert "Stdin closed" not in err


def _send_and_read_answers(process: subprocess.Popen[str], count: int) -> list[str]:
    """Write a client's first requests (initialize, tools/list) to a stdio server and read `count` lines back."""
    assert process.stdin and process.stdout
    process.stdin.write(INITIALIZE_AND_LIST_TOOLS)
    process.stdin.flush()
    return [process.stdout.readline() for _ in range(count)]


def test_serve_help_documents_exit_with_parent(isolated_home: Path) -> None:
    done = run_cli("serve", "--help", env=server_env(isolated_home))
    assert done.returncode == 0
    assert "--exit-with-parent" in done.stdout
    assert "stdin" in done.stdout
