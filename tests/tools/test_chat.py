"""The chat tools, called through a real MCP client against the simulator."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.support.simulator import RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio


async def test_chat_answers_with_canonical_model_usage_and_exact_cost(mcp: Client, ledger: Any) -> None:
    result = await mcp.call_tool("chat", {"prompt": "What is the capital of France?", "model": "grok-4.3-latest"})

    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert data["model"] == "grok-4.3"
    assert data["text"] and data["text"] in text_of(result)
    assert data["usage"]["prompt_tokens"] > 0
    assert data["usage"]["completion_tokens"] > 0
    assert data["request_id"]
    assert data["simulated"] is True
    rows = ledger()
    assert len(rows) == 1
    row = rows[0]
    assert row.id == data["request_id"]
    assert row.tool == "chat"
    assert row.model == "grok-4.3"
    assert row.status == 200
    assert row.error is None
    assert row.prompt_tokens == data["usage"]["prompt_tokens"]
    assert row.cost_ticks > 0
    assert data["cost_usd"] == pytest.approx(row.cost_ticks / 1e10)


async def test_chat_takes_a_message_list_and_system_prompt(mcp: Client) -> None:
    result = await mcp.call_tool(
        "chat",
        {
            "system": "Answer in one word.",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "Name a colour"},
            ],
        },
    )
    assert not result.is_error, text_of(result)
    assert result.structured_content and result.structured_content["usage"]["prompt_tokens"] > 10


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "either `prompt`"),
        ({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}, "either `prompt`"),
        ({"prompt": "   "}, "`prompt` is empty"),
        ({"messages": []}, "`messages` is empty"),
    ],
)
async def test_chat_explains_unusable_arguments(
    mcp: Client, ledger: Any, arguments: dict[str, Any], expected: str
) -> None:
    assert expected in await error_of(mcp, "chat", arguments)
    assert ledger() == []


async def test_chat_refuses_an_unknown_role_before_calling_xai(mcp: Client, ledger: Any) -> None:
    await error_of(mcp, "chat", {"messages": [{"role": "wizard", "content": "hi"}]})
    assert ledger() == []


async def test_chat_returns_parsed_json_for_a_schema(mcp: Client) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    }
    result = await mcp.call_tool("chat", {"prompt": "Largest city in Japan?", "json_schema": schema})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert isinstance(data["data"], dict)
    assert set(data["data"]) >= {"city", "population"}
    assert isinstance(data["data"]["population"], int)


async def test_a_rejected_key_tells_the_user_how_to_fix_it_and_is_recorded(
    mcp: Client, ledger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", "xai-this-key-is-invalid-000")
    message = await error_of(mcp, "chat", {"prompt": "hello"})

    assert "grok-mcp keys set" in message
    assert "xai-this-key-is-invalid-000" not in message
    rows = ledger()
    assert len(rows) == 1
    assert rows[0].status == 400
    assert rows[0].error and "InvalidKeyError" in rows[0].error


async def test_a_passing_503_is_retried_and_the_user_gets_the_answer(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.add_faults({"kind": "status", "status": 503, "count": 1, "path": "/v1/chat/completions"})
    result = await mcp.call_tool("chat", {"prompt": "hello"})
    assert not result.is_error, text_of(result)
    assert [r.status for r in ledger()] == [200]


async def test_credits_exhausted_is_not_retried_and_says_what_to_do(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.add_faults({"kind": "credits", "count": 5, "path": "/v1/chat/completions"})
    assert "credits" in (await error_of(mcp, "chat", {"prompt": "hello"})).lower()
    chat_calls = [r for r in simulator.requests() if r["path"] == "/v1/chat/completions"]
    assert len(chat_calls) == 1
    assert ledger()[0].status == 429


async def test_chat_stream_reports_the_text_as_it_arrives(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.set_config(chunk_ms=30)
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    result = await mcp.call_tool(
        "chat_stream",
        {"prompt": "Tell me a long story about a lighthouse keeper."},
        progress_callback=on_progress,
    )

    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert len(updates) >= 3
    progresses = [u[0] for u in updates]
    assert progresses == sorted(progresses)
    messages = [u[2] or "" for u in updates]
    assert messages[-1] == data["text"]
    assert any(0 < len(m) < len(data["text"]) and data["text"].startswith(m) for m in messages)
    row = ledger()[0]
    assert row.tool == "chat_stream"
    assert row.ttft_ms is not None and row.ttft_ms >= 0
    assert row.completion_tokens == data["usage"]["completion_tokens"] > 0


async def test_a_stream_that_breaks_midway_is_an_error_with_a_ledger_row(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.add_faults({"kind": "midstream", "after_chunks": 2, "count": 5, "path": "/v1/chat/completions"})
    assert "xAI" in await error_of(mcp, "chat_stream", {"prompt": "Tell me a story."})
    rows = ledger()
    assert len(rows) == 1
    assert rows[0].error is not None


async def test_every_tool_has_annotations_and_an_output_schema(mcp: Client) -> None:
    tools = (await mcp.list_tools()).tools
    names = {t.name for t in tools}
    assert names >= {
        "chat",
        "chat_stream",
        "analyze_image",
        "generate_image",
        "web_search",
        "x_search",
        "list_models",
        "count_tokens",
        "usage_summary",
    }
    for tool in tools:
        assert tool.annotations is not None, tool.name
        assert tool.output_schema is not None, tool.name
        assert tool.description, tool.name
    chat = next(t for t in tools if t.name == "chat")
    assert chat.output_schema is not None
    required = set(chat.output_schema["required"])
    assert {"text", "model", "request_id", "usage", "cost_usd"} <= required
    assert {"cached", "simulated", "conversation_id"} <= set(chat.output_schema["properties"])
