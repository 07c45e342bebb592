"""When and how long the client waits before trying again (goal R1), measured on a fake clock."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest
from grok_mcp.errors import RateLimitedError, UpstreamUnavailableError
from grok_mcp.grok import GrokClient, ModelCatalog, RetryBudget, RetryPolicy
from grok_mcp.grok.errors import Failure
from grok_mcp.grok.retry import parse_retry_after

from tests.grok.conftest import ClientFactory, RecordingSleep
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"


def ask(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hello"}]}


async def test_retry_after_3_makes_the_next_attempt_wait_at_least_3_seconds(
    make_client: ClientFactory, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    client = make_client(random=lambda: 0.0)
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({"kind": "rate_limit", "retry_after": 3, "path": CHAT})

    completion = await client.chat(ask(model))

    assert completion.call.attempts == 2
    assert sleeps.delays == [3.0]


async def test_retry_after_is_a_floor_under_the_jittered_backoff(
    make_client: ClientFactory, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    client = make_client(random=lambda: 1.0)
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({"kind": "status", "status": 503, "retry_after": 0.2, "path": CHAT})

    await client.chat(ask(model))

    assert sleeps.delays == [0.5]


async def test_a_retry_after_longer_than_a_minute_ends_the_retries_and_says_how_long_to_wait(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({"kind": "rate_limit", "retry_after": 120, "count": 5, "path": CHAT})

    with pytest.raises(RateLimitedError) as caught:
        await client.chat(ask(model))

    assert caught.value.retry_after == 120
    assert "wait 120 s" in str(caught.value)
    assert sleeps.delays == []
    assert simulator.request_count(CHAT) == 1


async def test_a_refused_connection_is_retried_then_reported_as_unreachable(
    closed_port: int, sleeps: RecordingSleep
) -> None:
    async with GrokClient(
        base_url=f"http://127.0.0.1:{closed_port}/v1",
        api_key=lambda: "xai-test-simulator-key-0001",
        sleep=sleeps,
        random=lambda: 1.0,
        connect_timeout_s=2,
    ) as client:
        with pytest.raises(UpstreamUnavailableError) as caught:
            await client.list_models()

    assert caught.value.status is None
    assert caught.value.call is not None and caught.value.call.attempts == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert "Could not reach 127.0.0.1" in str(caught.value)
    assert "retried 3 times" in str(caught.value)


async def test_a_connection_dropped_after_the_reply_began_is_retried_for_a_free_read(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    simulator.add_faults({"kind": "drop", "path": "/v1/language-models"})

    models = await client.language_models()

    assert models
    assert len(sleeps.delays) == 1
    assert simulator.request_count("/v1/language-models") == 2


async def test_a_connection_dropped_during_a_billed_answer_is_not_retried(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = (await ModelCatalog(client).default_chat_model()).id
    simulator.add_faults({"kind": "drop", "path": CHAT})

    with pytest.raises(UpstreamUnavailableError) as caught:
        await client.chat(ask(model))

    assert "broke while its reply was arriving" in str(caught.value)
    assert sleeps.delays == []
    assert simulator.request_count(CHAT) == 1


async def test_a_long_outage_spends_the_retry_budget_then_retries_at_most_a_tenth_of_calls(
    make_client: ClientFactory, simulator: RunningSimulator
) -> None:
    client = make_client(retry_budget=RetryBudget(ratio=0.1, reserve=3))
    simulator.add_faults({"kind": "status", "status": 503, "count": 1000, "path": "/v1/models"})

    for _ in range(40):
        with pytest.raises(UpstreamUnavailableError):
            await client.list_models()

    # 40 calls: the reserve of 3 retries plus a tenth of a retry per call, never 40 × 3.
    retries = simulator.request_count("/v1/models") - 40
    assert 3 <= retries <= 3 + 4


def test_the_retry_budget_earns_a_tenth_per_call_up_to_its_reserve() -> None:
    budget = RetryBudget(ratio=0.1, reserve=2)
    assert budget.try_spend() and budget.try_spend()
    assert not budget.try_spend()
    for _ in range(9):
        budget.record_call()
    assert not budget.try_spend()
    budget.record_call()
    assert budget.try_spend()
    for _ in range(100):
        budget.record_call()
    assert budget.balance == 2


def test_backoff_doubles_from_half_a_second_and_is_capped_at_eight() -> None:
    policy = RetryPolicy(max_attempts=10)
    ceilings = [policy.backoff_ceiling(attempt) for attempt in range(1, 8)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_full_jitter_draws_anywhere_between_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(max_attempts=10)
    failure = Failure(status=503)
    assert policy.delay(failure, 3, lambda: 0.0) == 0.0
    assert policy.delay(failure, 3, lambda: 0.25) == 0.5
    assert policy.delay(failure, 3, lambda: 1.0) == 2.0


def test_no_delay_is_offered_once_the_attempts_are_used_up() -> None:
    policy = RetryPolicy(max_attempts=2)
    assert policy.delay(Failure(status=503), 1, lambda: 1.0) == 0.5
    assert policy.delay(Failure(status=503), 2, lambda: 1.0) is None


@pytest.mark.parametrize(
    ("failure", "retryable"),
    [
        (Failure(status=429, upstream_message="Too many requests for team t"), True),
        (Failure(status=429, upstream_message="Your team t has either used all available credits"), False),
        (Failure(status=503, upstream_message="Grammar is too complex."), False),
        (Failure(status=408), True),
        (Failure(status=500), True),
        (Failure(status=400), False),
        (Failure(status=404), False),
        (Failure(transport="connect"), True),
        (Failure(transport="connect_timeout"), True),
        (Failure(transport="dropped"), True),
        (Failure(transport="read_timeout"), False),
        (Failure(transport="pool_timeout"), False),
        (Failure(transport="broken"), False),
        (Failure(status=503, mid_stream=True), False),
        (Failure(status=200, implied_status=503), True),
    ],
)
def test_which_failures_are_worth_another_attempt(failure: Failure, retryable: bool) -> None:
    assert RetryPolicy().is_retryable(failure) is retryable


def test_a_broken_reply_is_retried_only_for_free_reads() -> None:
    assert RetryPolicy().is_retryable(Failure(transport="broken"), idempotent=True) is True


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(date, now=lambda: now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=lambda: now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
