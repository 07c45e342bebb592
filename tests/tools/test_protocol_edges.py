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


async def test_calling_an_unknown_tool_is_an_invalid_params_error_that_names_it(
    mcp: Client, simulator: RunningSimulator
) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp.call_tool("no_such_tool", {"prompt": "hi"})
    assert raised.value.code == INVALID_PARAMS
    assert "Unknown tool: no_such_tool" in raised.value.message
    assert "tools/list" in raised.value.message
    assert simulator.requests() == []


async def test_a_huge_unknown_tool_name_is_not_echoed_back_whole(mcp: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp.call_tool("x" * 100_000, {})
    assert raised.value.code == INVALID_PARAMS
    assert len(raised.value.message) < 1_000


async def test_a_known_tool_is_still_served_after_an_unknown_one(mcp: Client) -> None:
    with pytest.raises(MCPError):
        await mcp.call_tool("chatt", {"prompt": "hi"})
    result = await mcp.call_tool("chat", {"prompt": "hi"})
    assert not result.is_error, text_of(result)


async def test_getting_an_unknown_prompt_is_an_invalid_params_error(mcp: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp.get_prompt("no_such_prompt")
    assert raised.value.code == INVALID_PARAMS
    assert "Unknown prompt: no_such_prompt" in raised.value.message
    assert "prompts/list" in raised.value.message


async def test_resources_list_names_the_model_catalog_and_the_recent_conversations(
    mcp: Client, settings: Settings
) -> None:
    _import(settings, 3)
    listed = await mcp.list_resources(cache_mode="bypass")
    by_uri = {str(r.uri): r for r in listed.resources}
    assert by_uri["grok://models"].mime_type == "application/json"
    conversations = [r for r in listed.resources if str(r.uri).startswith("grok://conversations/")]
    assert [r.title for r in conversations] == ["conversation 2", "conversation 1", "conversation 0"]
    assert all(r.mime_type == "text/markdown" and r.name for r in conversations)
    assert listed.next_cursor is None
    read = await mcp.read_resource(str(conversations[0].uri))
    [content] = read.contents
    assert isinstance(content, TextResourceContents) and "question 2 about apples" in content.text


async def test_resources_list_pages_through_every_conversation_once(mcp: Client, settings: Settings) -> None:
    _import(settings, 130)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):  # a bound: 130 conversations take three pages
        page = await mcp.list_resources(cursor=cursor, cache_mode="bypass")
        seen += [str(r.uri) for r in page.resources if str(r.uri).startswith("grok://conversations/")]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert cursor is None
    assert len(seen) == len(set(seen)) == 130


async def test_a_resources_list_cursor_not_made_by_the_server_is_invalid_params(mcp: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp.list_resources(cursor="not-ours", cache_mode="bypass")
    assert raised.value.code == INVALID_PARAMS
    assert "without one" in raised.value.message


async def test_count_tokens_refuses_empty_text_in_its_schema_and_in_the_call(
    mcp: Client, simulator: RunningSimulator
) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert tools["count_tokens"].input_schema["properties"]["text"]["minLength"] == 1
    result = await mcp.call_tool("count_tokens", {"text": ""})
    assert result.is_error
    assert "text" in text_of(result)
    assert simulator.request_count("/v1/tokenize-text") == 0
