"""Replies the simulator never sends (junk bodies, odd streams), served by a scripted loopback host."""

from __future__ import annotations

import json
from contextlib import aclosing
from typing import Any

import pytest
from grok_mcp.errors import StreamInterruptedError, UpstreamUnavailableError
from grok_mcp.grok import GrokClient, StreamDone, StreamEvent, TextDelta
from grok_mcp.imaging import fetch_image_bytes

from tests.grok.conftest import ClientFactory, ForeignHost, RecordingSleep

pytestmark = pytest.mark.anyio

SSE = {"Content-Type": "text/event-stream"}
JSON_TYPE = {"Content-Type": "application/json"}
BODY: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def sse(*payloads: object) -> bytes:
    lines = [f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n" for p in payloads]
    return ("".join(lines)).encode()


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "s1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


@pytest.fixture
def scripted(make_client: ClientFactory, foreign_host: ForeignHost) -> tuple[GrokClient, ForeignHost]:
    return make_client(base_url=f"{foreign_host.base_url}/v1"), foreign_host


async def stream(client: GrokClient) -> list[StreamEvent]:
    seen: list[StreamEvent] = []
    async with aclosing(client.chat_stream(BODY)) as events:
        async for event in events:
            seen.append(event)
    return seen


async def test_a_server_that_ignores_stream_still_yields_the_answer(
    scripted: tuple[GrokClient, ForeignHost],
) -> None:
    client, host = scripted
    completion = {"id": "c1", "model": "m", "choices": [{"index": 0, "message": {"content": "whole"}}]}
    host.replies["/v1/chat/completions"] = (200, JSON_TYPE, json.dumps(completion).encode())

    events = await stream(client)

    assert events[0] == TextDelta("whole")
    assert isinstance(events[1], StreamDone) and events[1].completion.text == "whole"


async def test_keep_alives_comments_and_blank_events_are_skipped_and_done_is_optional_after_finish(
    scripted: tuple[GrokClient, ForeignHost],
) -> None:
    client, host = scripted
    body = b": keep-alive\n\ndata:\n\n" + sse(chunk({"content": "a"}), chunk({}, "stop"))
    host.replies["/v1/chat/completions"] = (200, SSE, body)

    events = await stream(client)

    assert events[0] == TextDelta("a")
    assert isinstance(events[-1], StreamDone) and events[-1].completion.finish_reason == "stop"


async def test_a_stream_that_ends_without_finishing_is_interrupted(
    scripted: tuple[GrokClient, ForeignHost],
) -> None:
    client, host = scripted
    host.replies["/v1/chat/completions"] = (200, SSE, sse(chunk({"content": "half"})))

    with pytest.raises(StreamInterruptedError, match="ended before the answer was complete"):
        await stream(client)


async def test_a_stream_event_that_is_not_json_interrupts_the_stream(
    scripted: tuple[GrokClient, ForeignHost],
) -> None:
    client, host = scripted
    host.replies["/v1/chat/completions"] = (200, SSE, sse(chunk({"content": "a"}), "{not json"))

    with pytest.raises(StreamInterruptedError, match="not JSON"):
        await stream(client)


async def test_a_stream_event_that_is_not_an_object_fails_without_retrying_a_billed_request(
    scripted: tuple[GrokClient, ForeignHost], sleeps: RecordingSleep
) -> None:
    client, host = scripted
    host.replies["/v1/chat/completions"] = (200, SSE, sse("[1, 2]"))

    with pytest.raises(UpstreamUnavailableError, match="not a JSON object"):
        await stream(client)
    assert sleeps.delays == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<<garbage>>", "the reply is not JSON"), (b"[1, 2]", "the reply is not a JSON object")],
)
async def test_a_200_reply_that_is_not_a_json_object_is_reported(
    scripted: tuple[GrokClient, ForeignHost], body: bytes, reason: str
) -> None:
    client, host = scripted
    host.replies["/v1/chat/completions"] = (200, JSON_TYPE, body)

    with pytest.raises(UpstreamUnavailableError, match=reason):
        await client.chat(BODY)


async def test_a_deferred_start_without_a_request_id_is_reported(
    scripted: tuple[GrokClient, ForeignHost],
) -> None:
    client, host = scripted
    host.replies["/v1/chat/completions"] = (200, JSON_TYPE, b'{"request_id": ""}')

    with pytest.raises(UpstreamUnavailableError, match="no request_id"):
        await client.deferred_start(BODY)


async def test_a_retryable_image_host_error_is_retried_then_reported(
    scripted: tuple[GrokClient, ForeignHost], sleeps: RecordingSleep
) -> None:
    client, host = scripted
    host.replies["/flaky.png"] = (503, {"Retry-After": "2"}, b"busy")

    with pytest.raises(UpstreamUnavailableError, match="HTTP 503"):
        await fetch_image_bytes(client, f"{host.base_url}/flaky.png", max_bytes=100)
    assert sleeps.delays == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("base_url", ["not a url", "ftp://example.com/v1", "http://"])
def test_a_base_url_that_is_not_http_is_refused_at_construction(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        GrokClient(base_url=base_url, api_key=lambda: "xai-unused-key-0001")


async def test_a_connection_lost_after_the_answer_finished_still_returns_the_answer(
    scripted: tuple[GrokClient, ForeignHost], caplog: pytest.LogCaptureFixture
) -> None:
    client, host = scripted
    body = sse(chunk({"content": "done"}), chunk({}, "stop"))
    host.replies["/v1/chat/completions"] = (200, {**SSE, "Content-Length": str(len(body) + 500)}, body)

    events = await stream(client)

    assert isinstance(events[-1], StreamDone) and events[-1].completion.text == "done"
    assert any("broke after the answer finished" in r.getMessage() for r in caplog.records)
