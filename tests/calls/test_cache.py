"""Response cache entries: answers survive the round trip, free and marked cached, and entries that
earlier versions wrote still read (or miss), never crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from grok_mcp.calls.cache import (
    cached_completion,
    decode_completion,
    decode_response,
    encode_completion,
    encode_response,
    is_cached,
)
from grok_mcp.errors import UpstreamCall
from grok_mcp.grok import ChatCompletion, Citation, FunctionCall, ResponseResult, ResponseToolCall, Usage
from grok_mcp.store import Store

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"

# Rows as the hand-written codec of grok-mcp 0.x wrote them (format 1), kept verbatim.
OLD_COMPLETION_ROW = (
    '{"format": 1, "id": "chatcmpl-1", "request_id": "req-1", "model": "grok-4", "text": "Bonjour ☀", '
    '"reasoning": "thought", "finish_reason": "tool_calls", "tool_calls": [{"id": "call_1", "name": "lookup", '
    '"arguments": "{\\"q\\":\\"x\\"}", "type": "function"}], "citations": [{"url": "https://example.com/a", '
    '"title": "A"}], "usage": {"prompt_tokens": 12, "cached_tokens": 0, "completion_tokens": 5, '
    '"reasoning_tokens": 3, "image_tokens": 0, "num_sources_used": 0, "num_server_side_tools_used": 0, '
    '"cost_ticks": 4200}, "system_fingerprint": "fp_1"}'
)
OLD_RESPONSE_ROW = (
    '{"format": 1, "id": "resp-1", "request_id": "req-2", "model": "grok-4", "text": "Found it", '
    '"citations": [{"url": "https://example.com/b", "title": null}], "tool_calls": [{"id": "ws_1", '
    '"type": "web_search_call", "name": "web_search", "arguments": "{\\"query\\":\\"x\\"}", '
    '"status": "completed"}], "usage": {"prompt_tokens": 20, "cached_tokens": 0, "completion_tokens": 7, '
    '"reasoning_tokens": 0, "image_tokens": 0, "num_sources_used": 0, "num_server_side_tools_used": 1, '
    '"cost_ticks": 9000}, "status": "completed", "reasoning": null}'
)


def completion() -> ChatCompletion:
    return ChatCompletion(
        id="chatcmpl-1",
        model="grok-4",
        text="Bonjour ☀",
        reasoning="thought",
        finish_reason="tool_calls",
        tool_calls=[FunctionCall(id="call_1", name="lookup", arguments='{"q":"x"}')],
        citations=[Citation(url="https://example.com/a", title="A")],
        usage=Usage(prompt_tokens=12, completion_tokens=5, reasoning_tokens=3, cost_ticks=4200),
        call=UpstreamCall(endpoint=CHAT, status=200, request_id="req-1", latency_ms=812.0),
        system_fingerprint="fp_1",
        raw={"id": "chatcmpl-1"},
    )


def response() -> ResponseResult:
    return ResponseResult(
        id="resp-1",
        model="grok-4",
        text="Found it",
        citations=[Citation(url="https://example.com/b")],
        tool_calls=[
            ResponseToolCall(
                id="ws_1", type="web_search_call", name="web_search", arguments='{"query":"x"}', status="completed"
            )
        ],
        usage=Usage(prompt_tokens=20, completion_tokens=7, num_server_side_tools_used=1, cost_ticks=9000),
        call=UpstreamCall(endpoint=RESPONSES, status=200, request_id="req-2"),
        status="completed",
    )


def test_a_cached_completion_comes_back_whole_free_and_marked_cached() -> None:
    original = completion()

    decoded = decode_completion(encode_completion(original), CHAT)

    assert decoded is not None
    assert decoded.text == original.text and decoded.tool_calls == original.tool_calls
    assert decoded.citations == original.citations and decoded.system_fingerprint == "fp_1"
    assert decoded.usage.cost_ticks == 0 and decoded.usage.prompt_tokens == 12
    assert is_cached(decoded.call) and decoded.call.request_id == "req-1"
    assert decoded == cached_completion(original, CHAT)


def test_a_cached_responses_answer_comes_back_whole_free_and_marked_cached() -> None:
    original = response()

    decoded = decode_response(encode_response(original), RESPONSES)

    assert decoded is not None
    assert decoded.tool_calls == original.tool_calls and decoded.citations == original.citations
    assert decoded.status == "completed" and decoded.usage.num_server_side_tools_used == 1
    assert decoded.cost_ticks == 0 and is_cached(decoded.call)


def test_entries_are_written_in_the_shape_earlier_versions_wrote() -> None:
    assert json.loads(encode_completion(completion())) == json.loads(OLD_COMPLETION_ROW)
    assert json.loads(encode_response(response())) == json.loads(OLD_RESPONSE_ROW)


def test_rows_written_by_the_old_codec_still_read_from_the_database_file(tmp_path: Path) -> None:
    with Store.open(tmp_path / "grok-mcp.db") as store:
        store.cache_response_at("chat", OLD_COMPLETION_ROW, now=1000.0, ttl_s=3600)
        store.cache_response_at("responses", OLD_RESPONSE_ROW, now=1000.0, ttl_s=3600)
        chat_row = store.cached_response_at("chat", now=1001.0)
        responses_row = store.cached_response_at("responses", now=1001.0)

    assert chat_row is not None and responses_row is not None
    old_completion = decode_completion(chat_row, CHAT)
    old_response = decode_response(responses_row, RESPONSES)
    assert old_completion == cached_completion(completion(), CHAT)
    assert old_response is not None and old_response.text == "Found it" and old_response.usage.cost_ticks == 0


@pytest.mark.parametrize(
    "entry",
    [
        "not json",
        "[1, 2]",
        '{"format": 99, "id": "x"}',
        '{"format": 1, "id": "chatcmpl-1"}',
        OLD_COMPLETION_ROW.replace('"usage": {', '"usage": {"prompt_tokens": "many", "x": {'),
        OLD_COMPLETION_ROW.replace('"text": "Bonjour ☀"', '"text": ["not", "text"]'),
    ],
)
def test_an_entry_this_version_cannot_read_is_a_miss_not_a_crash(entry: str) -> None:
    assert decode_completion(entry, CHAT) is None
    assert decode_response(entry, RESPONSES) is None
