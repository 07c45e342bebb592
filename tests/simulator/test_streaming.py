"""Streamed chat completions: xAI's chunk sequence, usage only on request, and `[DONE]`."""

from __future__ import annotations

import httpx2

from tests.simulator.helpers import chat, sse_data, sse_events
from tests.support.simulator import RunningSimulator


def test_a_stream_starts_with_the_role_and_ends_with_an_empty_finish_delta_and_done(
    xai: httpx2.Client,
) -> None:
    response = xai.post("/chat/completions", json=chat(stream=True))

    assert response.headers["content-type"].startswith("text/event-stream")
    data = sse_data(response.text)
    assert data[-1] == "[DONE]"
    chunks = sse_events(response.text)
    assert {chunk["id"] for chunk in chunks} == {response.headers["x-request-id"]}
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in chunk["choices"][0]["delta"] for chunk in chunks[1:])
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert all("usage" not in chunk for chunk in chunks)


def test_streamed_text_equals_the_non_streamed_answer(xai: httpx2.Client) -> None:
    plain = xai.post("/chat/completions", json=chat(content="Tell me about Mars")).json()
    chunks = sse_events(xai.post("/chat/completions", json=chat(content="Tell me about Mars", stream=True)).text)

    streamed = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks if chunk["choices"])
    assert streamed == plain["choices"][0]["message"]["content"]
    assert len(chunks) > 3


def test_include_usage_adds_one_usage_chunk_with_no_choices(xai: httpx2.Client) -> None:
    body = chat(stream=True, stream_options={"include_usage": True})

    chunks = sse_events(xai.post("/chat/completions", json=body).text)

    usage_chunks = [chunk for chunk in chunks if "usage" in chunk]
    assert usage_chunks == [chunks[-1]]
    assert chunks[-1]["choices"] == []
    usage = chunks[-1]["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning
    assert usage["cost_in_usd_ticks"] > 0


def test_reasoning_content_streams_before_content_for_models_that_show_it(xai: httpx2.Client) -> None:
    chunks = sse_events(xai.post("/chat/completions", json=chat("grok-3-mini", stream=True)).text)

    kinds = [next(iter(k for k in chunk["choices"][0]["delta"] if k != "role"), None) for chunk in chunks]
    assert kinds[0] == "reasoning_content"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    first_content = kinds.index("content")
    assert set(kinds[:first_content]) == {"reasoning_content"}
    assert "reasoning_content" not in kinds[first_content:]


def test_a_tool_call_arrives_whole_in_one_chunk(xai: httpx2.Client) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]

    chunks = sse_events(xai.post("/chat/completions", json=chat(stream=True, tools=tools)).text)

    calls = [
        chunk["choices"][0]["delta"]["tool_calls"] for chunk in chunks if "tool_calls" in chunk["choices"][0]["delta"]
    ]
    assert len(calls) == 1
    (call,) = calls[0]
    assert call["index"] == 0
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "lookup"
    assert call["function"]["arguments"].startswith("{")
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_stream_pacing_is_reported_in_the_ttft_header(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    simulator.set_config(ttft_ms=20, chunk_ms=1)

    response = xai.post("/chat/completions", json=chat(stream=True))

    assert response.headers["x-metrics-ttft-ms"] == "20.0"
    assert sse_data(response.text)[-1] == "[DONE]"
