"""A real `grok-mcp serve` over stdio answers what is not a usable message with its JSON-RPC error, then goes on.

Raw lines are written to the child's stdin as a hostile or broken client would; the SDK's own stdio client
checks the same edges as an MCP client sees them.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from tests.support.processes import ROOT, SERVER_COMMAND, server_env, stdio_server
from tests.support.simulator import TEST_KEY, RunningSimulator

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
ANSWER_TIMEOUT_S = 30.0

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}


class RawPeer:
    """Writes raw lines to a stdio server and reads every message it answers with."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.incoming: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="raw-peer", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.incoming.put(json.loads(line))  # stdout carries nothing but protocol
        self.incoming.put(None)

    def write(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.write(json.dumps(message))

    def next_message(self) -> dict[str, Any]:
        message = self.incoming.get(timeout=ANSWER_TIMEOUT_S)
        assert message is not None, f"the server closed stdout (exit code {self.process.poll()})"
        return message

    def answer_to(self, request_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while time.monotonic() < deadline:
            message = self.next_message()
            if message.get("id") == request_id:
                return message
        raise AssertionError(f"no answer to request {request_id}")


@pytest.fixture
def env(isolated_home: Path, simulator: RunningSimulator) -> dict[str, str]:
    return server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)


@pytest.fixture
def peer(env: dict[str, str], isolated_home: Path) -> Iterator[RawPeer]:
    with (isolated_home / "server.stderr").open("w", encoding="utf-8") as log:
        process = stdio_server(env=env, stderr=log)
        peer = RawPeer(process)
        try:
            peer.send(INITIALIZE)
            assert "result" in peer.answer_to(1)
            peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            yield peer
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                assert process.stdout is not None
                process.stdout.close()


def test_a_line_that_is_not_json_gets_a_parse_error_and_the_next_line_is_served(peer: RawPeer) -> None:
    peer.write('{"jsonrpc": "2.0", "id": 2, "method": "tools/list"')  # cut off mid-object
    error = peer.next_message()
    assert error["id"] is None
    assert error["error"]["code"] == PARSE_ERROR
    assert "not JSON" in error["error"]["message"]
    peer.send({"jsonrpc": "2.0", "id": 3, "method": "ping"})
    assert peer.answer_to(3)["result"] == {}


def test_json_that_is_no_json_rpc_message_is_an_invalid_request_answered_with_its_id(peer: RawPeer) -> None:
    peer.send({"jsonrpc": "2.0", "id": 7, "method": 42})
    error = peer.answer_to(7)
    assert error["error"]["code"] == INVALID_REQUEST
    peer.write("[1, 2, 3]")  # a batch: MCP sends none, and there is no id to answer
    error = peer.next_message()
    assert error["id"] is None and error["error"]["code"] == INVALID_REQUEST
    peer.send({"jsonrpc": "2.0", "id": 8, "method": "ping"})
    assert "result" in peer.answer_to(8)


def test_an_unknown_tool_over_stdio_is_invalid_params_and_so_is_an_unknown_tool_sent_as_a_task(
    peer: RawPeer,
) -> None:
    peer.send({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope", "arguments": {}}})
    plain = peer.answer_to(4)
    assert plain["error"]["code"] == INVALID_PARAMS, plain
    assert "Unknown tool: nope" in plain["error"]["message"]
    peer.send(
        {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "nope", "arguments": {}, "task": {}}}
    )
    assert peer.answer_to(5)["error"]["code"] == INVALID_PARAMS


def test_an_unknown_prompt_over_stdio_is_invalid_params_not_code_zero(peer: RawPeer) -> None:
    peer.send({"jsonrpc": "2.0", "id": 6, "method": "prompts/get", "params": {"name": "nope"}})
    error = peer.answer_to(6)["error"]
    assert error["code"] == INVALID_PARAMS
    assert "Unknown prompt: nope" in error["message"]


@pytest.mark.anyio
async def test_the_sdk_stdio_client_sees_the_same_edges(env: dict[str, str]) -> None:
    params = StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "serve"], env=env, cwd=str(ROOT)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        with pytest.raises(MCPError) as tool:
            await session.call_tool("nope", {})
        with pytest.raises(MCPError) as prompt:
            await session.get_prompt("nope")
        listed = await session.list_resources()
    assert tool.value.code == prompt.value.code == INVALID_PARAMS
    assert "grok://models" in {str(r.uri) for r in listed.resources}
