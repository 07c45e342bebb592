"""Streams that go wrong: errors mid-way, dropped connections and stalls (goal R3), and what is retried."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest
from grok_mcp.errors import RateLimitedError, StreamInterruptedError, UpstreamTimeoutError, UpstreamUnavailableError
from grok_mcp.grok import GrokClient, ModelCatalog, StreamDone, StreamEvent, TextDelta

from tests.grok.conftest import ClientFactory, RecordingSleep
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"


def ask(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Explain the tides in some detail."}]}


async def drain(client: GrokClient, body: dict[str, Any], seen: list[StreamEvent]) -> None:
    async with aclosing(client.chat_stream(body)) as stream:
        async for event in stream:
            seen.append(event)


async def test_an_error_event_mid_stream_interrupts_after_the_text_already_shown(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({"kind": "midstream", "after_chunks": 2, "path": CHAT})
    seen: list[StreamEvent] = []

    with pytest.raises(StreamInterruptedError) as caught:
        await drain(client, ask(model), seen)

    assert len(seen) == 2 and all(isinstance(e, TextDelta) for e in seen)
    assert "broke off midway" in str(caught.value)
    assert "Service temporarily unavailable" in (caught.value.upstream_message or "")
    assert caught.value.call is not None and caught.value.call.ttft_ms is not None
    assert caught.value.call.request_id
    assert sleeps.delays == [], "a stream that showed content is never retried"
    assert simulator.request_count(CHAT) == 1


@pytest.mark.parametrize(
    ("fault", "timeout_s", "says"),
    [
        pytest.param({"kind": "drop", "after_chunks": 3}, 30, "connection broke", id="connection-dropped"),
        pytest.param({"kind": "stall", "seconds": 30, "after_chunks": 2}, 0.3, "went silent for 0.3 s", id="stalled"),
    ],
)
async def test_a_stream_that_breaks_off_after_some_text_is_reported_as_interrupted_and_not_retried(
    make_client: ClientFactory,
    sleeps: RecordingSleep,
    simulator: RunningSimulator,
    fault: dict[str, Any],
    timeout_s: float,
    says: str,
) -> None:
    client = make_client(timeout_s=timeout_s)
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({**fault, "path": CHAT})
    seen: list[StreamEvent] = []

    with pytest.raises(StreamInterruptedError) as caught:
        await drain(client, ask(model), seen)

    assert len(seen) == fault["after_chunks"]
    assert says in str(caught.value)
    assert sleeps.delays == []


async def test_a_stall_before_any_reply_is_a_timeout_that_is_not_retried(
    make_client: ClientFactory, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    client = make_client(timeout_s=0.3)
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({"kind": "stall", "seconds": 30, "path": CHAT})

    with pytest.raises(UpstreamTimeoutError) as caught:
        await client.chat(ask(model))

    assert "no answer within 0.3 s" in str(caught.value)
    assert "streaming" in str(caught.value)
    assert sleeps.delays == []
    assert simulator.request_count(CHAT) == 1


@pytest.mark.parametrize(
    ("fault", "attempts", "delays"),
    [
        pytest.param({"kind": "midstream", "after_chunks": 0}, 2, [0.5], id="error-event-before-any-content"),
        pytest.param({"kind": "rate_limit", "count": 2}, 3, [0.5, 1.0], id="refused-with-a-rate-limit"),
    ],
)
async def test_a_stream_that_fails_before_any_content_is_retried(
    client: GrokClient,
    sleeps: RecordingSleep,
    simulator: RunningSimulator,
    fault: dict[str, Any],
    attempts: int,
    delays: list[float],
) -> None:
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({**fault, "path": CHAT})
    seen: list[StreamEvent] = []

    await drain(client, ask(model), seen)

    assert isinstance(seen[-1], StreamDone)
    assert seen[-1].completion.call.attempts == attempts
    assert sleeps.delays == delays


async def test_a_stream_refused_for_good_raises_before_yielding_anything(
    client: GrokClient, simulator: RunningSimulator
) -> None:
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({"kind": "rate_limit", "count": 10, "path": CHAT})
    seen: list[StreamEvent] = []

    with pytest.raises(RateLimitedError):
        await drain(client, ask(model), seen)

    assert seen == []


async def test_a_stream_closed_early_by_the_reader_releases_its_connection(
    client: GrokClient, simulator: RunningSimulator
) -> None:
    model = (await ModelCatalog(client).default_chat_model()).id
    async with aclosing(client.chat_stream(ask(model))) as stream:
        async for event in stream:
            assert isinstance(event, TextDelta)
            break
    # The pool is usable afterwards, and nothing leaked (warnings are errors in this suite).
    assert (await client.chat(ask(model))).text


async def test_a_stream_to_an_unreachable_host_is_retried_then_reported(
    make_client: ClientFactory, closed_port: int, sleeps: RecordingSleep
) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}/v1")

    with pytest.raises(UpstreamUnavailableError, match="Could not reach"):
        await drain(client, ask("any-model"), [])

    assert sleeps.delays == [0.5, 1.0, 2.0]
