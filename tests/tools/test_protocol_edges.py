"""Protocol edges an outside client finds, through the MCP SDK's client against the real server in-process.

MCP 2025-11-25: an unknown tool or prompt is a JSON-RPC error (-32602), not a result; resources/list lists
what can be read; a tool's input schema says everything its arguments are refused for.
"""

from __future__ import annotations

import pytest
from grok_mcp.config import Settings
from grok_mcp.store import Store
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, TextResourceContents

from tests.support.conversations import imported_conversations
from tests.support.simulator import RunningSimulator
from tests.tools.conftest import text_of

pytestmark = pytest.mark.anyio


def _import(settings: Settings, n: int) -> None:
    store = Store.open(settings.db_path)
    try:
        store.import_conversations(imported_conversations(n))
    finally:
        store.close()


async def test_count_tokens_refuses_empty_text_in_its_schema_and_in_the_call(
    mcp: Client, simulator: RunningSimulator
) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert tools["count_tokens"].input_schema["properties"]["text"]["minLength"] == 1
    result = await mcp.call_tool("count_tokens", {"text": ""})
    assert result.is_error
    assert "text" in text_of(result)
    assert simulator.request_count("/v1/tokenize-text") == 0
