"""stdio hosting: protocol lines on the event loop's pipe transports, and the SDK's transport for anything else."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
from importlib.metadata import version
from pathlib import Path

import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from grok_mcp.hosting import startup
from grok_mcp.hosting.stdio import TOO_LONG_LINE, _PipeLines, protocol_server, unusable_line_error
from mcp.server.mcpserver import MCPServer
from mcp.types import PARSE_ERROR, jsonrpc_message_adapter
from pydantic import ValidationError

from tests.support.processes import INITIALIZE_AND_LIST_TOOLS, run_cli, server_env
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio


async def _lines(data: bytes, *, limit: int) -> list[str]:
    reader = asyncio.StreamReader(limit=limit)
    reader.feed_data(data)
    reader.feed_eof()
    return [line async for line in _PipeLines(io.StringIO(), reader)]


async def test_lines_arrive_whole_and_undecodable_bytes_are_replaced() -> None:
    lines = await _lines(b'{"a":1}\n{"b":"\xff"}\nlast without newline', limit=1024)
    assert lines == ['{"a":1}\n', '{"b":"\ufffd"}\n', "last without newline"]


async def test_a_line_longer_than_the_limit_is_dropped_and_the_next_one_still_arrives() -> None:
    lines = await _lines(b"x" * 500 + b"\n" + b'{"ok":true}\n', limit=64)
    assert lines == [TOO_LONG_LINE, '{"ok":true}\n']


def test_a_dropped_line_is_answered_with_a_parse_error_that_names_the_limit() -> None:
    with pytest.raises(ValidationError) as unread:  # what the SDK's stdio transport makes of the stand-in line
        jsonrpc_message_adapter.validate_json(TOO_LONG_LINE, by_name=False)
    answer = unusable_line_error(unread.value)
    assert answer.id is None and answer.error.code == PARSE_ERROR
    assert "longer than 256 MiB" in answer.error.message


def test_the_installed_sdk_still_lets_the_pipe_transport_reach_the_protocol_server() -> None:
    assert protocol_server(MCPServer("probe")) is not None, (
        f"mcp {version('mcp')} has no MCPServer._lowlevel_server: grok_mcp.hosting.stdio.protocol_server needs "
        "another way to run the server on the event loop's pipes, or every stdio call pays for worker threads"
    )


def test_an_sdk_without_the_protocol_server_is_served_by_its_own_transport_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = MCPServer("probe")
    del server._lowlevel_server  # pyright: ignore[reportPrivateUsage] - what a later SDK may look like
    with caplog.at_level(logging.WARNING, logger="grok_mcp.hosting.stdio"):
        assert protocol_server(server) is None
    assert "slower transport" in caplog.text


def _answers(stdout: str) -> set[int]:
    return {message["id"] for message in map(json.loads, stdout.splitlines()) if "id" in message}


def test_stdin_from_a_file_is_served_by_the_sdk_transport(
    isolated_home: Path, simulator: RunningSimulator, tmp_path: Path
) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(INITIALIZE_AND_LIST_TOOLS, encoding="utf-8")
    with requests.open("rb") as stdin:
        env = server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)
        done = run_cli("serve", "--debug", env=env, stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert "pipe transports" not in done.stderr
    assert 1 in _answers(done.stdout)  # the end of the file ends the session, maybe before later answers


def test_serve_pauses_the_collector_until_the_server_is_built(
    isolated_home: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    settings = Settings(home=isolated_home, base_url=simulator.base_url, transport="test")
    try:
        startup.pause_collector()
        assert not gc.isenabled()
        build_server(settings)
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        build_server(settings)  # a second server (tests, `grok-mcp chat`) leaves the collector alone
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
