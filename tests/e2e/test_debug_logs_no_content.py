"""`serve --debug` logs traces, never content: with `[logging] content = false` no prompt or answer reaches the
server log file or stderr, over stdio and over HTTP; with `content = true` the user opted in and they may.

Each test runs a real `grok-mcp serve --simulate --debug` child, sends a prompt carrying a marker, and looks
for that marker, and for words only the answer has, in logs/grok-mcp.log and in what the child wrote to stderr.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from tests.support.processes import INITIALIZE_AND_LIST_TOOLS, http_server, server_env, stdio_server

pytestmark = pytest.mark.anyio

PROMPT_MARKER = "PROMPTMARKER-5f0c"
ANSWER_MARKER = "You asked:"
"""Words the simulator's answer has and no prompt here does."""


def _settings(home: Path, *, content: bool) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(f"[logging]\ncontent = {'true' if content else 'false'}\n", encoding="utf-8")


def _log_file(home: Path) -> str:
    return (home / "logs" / "grok-mcp.log").read_text(encoding="utf-8")


def _chat_over_stdio(home: Path) -> tuple[str, str]:
    """(the chat's reply line, stderr) of a stdio server that answered one chat carrying the marker."""
    call = (
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"chat","arguments":'
        f'{{"prompt":"{PROMPT_MARKER} tell me about zebras"}}}}}}\n'
    )
    server = stdio_server("--simulate", "--debug", env=server_env(home))
    assert server.stdin is not None and server.stdout is not None
    try:
        server.stdin.write(INITIALIZE_AND_LIST_TOOLS + call)
        server.stdin.flush()
        reply = ""
        while '"id":3' not in reply:  # bounded by the reads below: the server ends when stdin closes
            reply = server.stdout.readline()
            assert reply, "the server ended before answering the chat"
        _, stderr = server.communicate(timeout=60)  # closes stdin: the client is gone
    except subprocess.TimeoutExpired:
        server.kill()
        raise
    return reply, stderr


async def _chat_over_http(url: str, token: str) -> CallToolResult:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await session.call_tool("chat", {"prompt": f"{PROMPT_MARKER} tell me about zebras"})


def _answer_text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def _assert_traces_without_content(home: Path, stderr: str) -> None:
    """Debug was on (the log file holds DEBUG traces), yet neither the log file nor stderr holds a marker."""
    log = _log_file(home)
    assert " DEBUG " in log
    for sink in (log, stderr):
        assert PROMPT_MARKER not in sink
        assert ANSWER_MARKER not in sink


def test_debug_over_stdio_logs_no_prompt_or_answer_when_content_is_off(isolated_home: Path) -> None:
    _settings(isolated_home, content=False)

    stdout, stderr = _chat_over_stdio(isolated_home)

    assert PROMPT_MARKER in stdout and ANSWER_MARKER in stdout  # the call was answered
    _assert_traces_without_content(isolated_home, stderr)


async def test_debug_over_http_logs_no_prompt_or_answer_when_content_is_off(isolated_home: Path) -> None:
    _settings(isolated_home, content=False)
    with http_server(isolated_home, base_url=None, key=None, extra_args=("--simulate", "--debug")) as server:
        result = await _chat_over_http(server.url, server.token)
        assert ANSWER_MARKER in _answer_text(result)
        stderr = server.stderr_text()

    _assert_traces_without_content(isolated_home, stderr)


async def test_debug_over_http_may_log_content_once_the_user_opted_in(isolated_home: Path) -> None:
    _settings(isolated_home, content=True)
    with http_server(isolated_home, base_url=None, key=None, extra_args=("--simulate", "--debug")) as server:
        result = await _chat_over_http(server.url, server.token)
        assert ANSWER_MARKER in _answer_text(result)

    assert ANSWER_MARKER in _log_file(isolated_home)
