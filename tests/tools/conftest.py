"""Fixtures for tool tests: the real MCP server in-process (SDK client) against the simulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from grok_mcp.store import Store
from mcp import Client
from mcp.types import CallToolResult, TextContent

from tests.support.simulator import TEST_KEY, RunningSimulator


@pytest.fixture
def settings(isolated_home: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    return Settings(
        home=isolated_home,
        base_url=simulator.base_url,
        transport="test",
        max_attempts=3,
        local_image_folders=(isolated_home.parent,),  # the tests' pictures live beside the data dir
    )


@pytest.fixture
async def mcp(settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings)) as client:
        yield client


@pytest.fixture
def ledger(settings: Settings):
    def rows() -> list[Any]:
        store = Store.open(settings.db_path)
        try:
            return list(reversed(store.recent_requests(1000)))
        finally:
            store.close()

    return rows


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def error_of(mcp: Client, tool: str, arguments: dict[str, Any]) -> str:
    """Call `tool`, which must fail; the text of the error it reports."""
    result = await mcp.call_tool(tool, arguments)
    assert result.is_error
    return text_of(result)
