"""A hostile `pattern` against a real `grok-mcp serve --transport http`: the other clients are still served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent

from tests.support.processes import HttpServer, http_server
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio

DID_NOT_HANG_S = 30  # far more than the 2 s validation bound: only proves that nothing hung


async def _call_over_http(server: HttpServer, tool: str, arguments: dict[str, Any]) -> Any:
    """One call from its own MCP client (its own HTTP connection and session)."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {server.token}"}, timeout=DID_NOT_HANG_S) as http,
        streamable_http_client(server.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await session.call_tool(tool, arguments)


async def test_a_backtracking_pattern_leaves_healthz_and_other_clients_answered(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    schema = {
        "type": "object",
        "properties": {"word": {"type": "string", "const": "a" * 40 + "!", "pattern": "(a|aa)+$"}},
        "required": ["word"],
    }
    finished: list[str] = []
    hostile: dict[str, Any] = {}
    with http_server(isolated_home, base_url=simulator.base_url, key=TEST_KEY) as server:

        async def attacker() -> None:
            hostile["result"] = await _call_over_http(server, "chat", {"prompt": "Say a word.", "json_schema": schema})
            finished.append("attacker")

        async def bystanders() -> None:
            with anyio.fail_after(DID_NOT_HANG_S):
                while not await anyio.to_thread.run_sync(simulator.request_count, "/v1/chat/completions"):
                    await anyio.sleep(0.01)  # polling the simulator's log with a bound, not waiting for time
                async with httpx2.AsyncClient(timeout=DID_NOT_HANG_S) as http:
                    health = await http.get(f"{server.root}/healthz")
                other = await _call_over_http(server, "count_tokens", {"text": "Still there?"})
            assert health.status_code == 200
            assert not other.is_error
            finished.append("bystanders")

        with anyio.fail_after(DID_NOT_HANG_S * 2):
            async with anyio.create_task_group() as group:
                group.start_soon(attacker)
                group.start_soon(bystanders)
        stderr = server.stderr_text()

    assert finished == ["bystanders", "attacker"]
    result = hostile["result"]
    assert result.is_error
    message = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
    assert "(a|aa)+$" in message
    assert "2 s" in message
    assert "Traceback" not in stderr
