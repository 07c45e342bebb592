"""What a user sees when xAI refuses or fails a call: the right error, and a message saying what to do."""

from __future__ import annotations

import random
from typing import Any

import pytest
from grok_mcp.errors import (
    CreditsExhaustedError,
    GoneError,
    InvalidKeyError,
    InvalidRequestError,
    ModelNotFoundError,
    NoApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    UpstreamUnavailableError,
    XAIError,
)
from grok_mcp.grok import GrokClient, ModelCatalog

from tests.grok.conftest import ClientFactory, RecordingSleep
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"


async def chat_model(client: GrokClient) -> str:
    return (await ModelCatalog(client).default_chat_model()).id


def ask(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hello there"}], **extra}


async def assert_answered_after_one_retry(client: GrokClient, sleeps: RecordingSleep, model: str) -> None:
    """A chat call gets its answer on the second attempt, after one backoff sleep."""
    completion = await client.chat(ask(model))
    assert completion.text
    assert completion.call.attempts == 2
    assert len(sleeps.delays) == 1


async def test_an_invalid_key_says_which_key_and_how_to_store_the_right_one(
    make_client: ClientFactory, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    key = "xai-invalid-key-for-tests-09"
    client = make_client(key=key)

    with pytest.raises(InvalidKeyError) as caught:
        await client.chat(ask("grok-4.3"))

    message = str(caught.value)
    assert "xa***09" in message
    assert "https://console.x.ai" in message
    assert "grok-mcp keys set" in message
    assert key not in message
    assert caught.value.status == 400
    assert caught.value.call is not None and caught.value.call.attempts == 1
    assert sleeps.delays == []
    assert simulator.request_count(CHAT) == 1


async def test_a_blocked_key_is_a_permission_error_that_points_to_the_console(
    make_client: ClientFactory, sleeps: RecordingSleep
) -> None:
    client = make_client(key="xai-blocked-key-for-tests")

    with pytest.raises(PermissionDeniedError) as caught:
        await client.chat(ask("grok-4.3"))

    assert caught.value.status == 403
    assert "https://console.x.ai" in str(caught.value)
    assert "blocked" in (caught.value.upstream_message or "")
    assert sleeps.delays == []


async def test_a_key_without_credits_is_not_retried_and_points_to_billing(
    make_client: ClientFactory, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    client = make_client(key="xai-nocredit-key-for-tests")

    with pytest.raises(CreditsExhaustedError) as caught:
        await client.chat(ask("grok-4.3"))

    assert caught.value.status == 429
    assert "Billing" in str(caught.value) and "https://console.x.ai" in str(caught.value)
    assert sleeps.delays == []
    assert simulator.request_count(CHAT) == 1


async def test_a_credits_429_is_told_apart_from_a_rate_limit_429(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = await chat_model(client)
    simulator.add_faults({"kind": "credits", "path": CHAT})

    with pytest.raises(CreditsExhaustedError):
        await client.chat(ask(model))
    assert sleeps.delays == []

    simulator.add_faults({"kind": "rate_limit", "path": CHAT})
    await assert_answered_after_one_retry(client, sleeps, model)


async def test_a_rate_limit_that_persists_says_it_was_retried_and_to_lower_concurrency(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = await chat_model(client)
    simulator.add_faults({"kind": "rate_limit", "count": 10, "path": CHAT})

    with pytest.raises(RateLimitedError) as caught:
        await client.chat(ask(model))

    message = str(caught.value)
    assert "retried 3 times" in message
    assert "concurrency" in message
    assert "Too many requests" in (caught.value.upstream_message or "")
    assert caught.value.call is not None and caught.value.call.attempts == 4
    assert len(sleeps.delays) == 3
    assert simulator.request_count(CHAT) == 4


async def test_a_422_text_plain_body_becomes_an_invalid_request_with_xais_words(
    client: GrokClient, sleeps: RecordingSleep
) -> None:
    model = await chat_model(client)
    body = {"model": model, "messages": [{"role": "wizard", "content": "hi"}]}

    with pytest.raises(InvalidRequestError) as caught:
        await client.chat(body)

    assert caught.value.status == 422
    upstream = caught.value.upstream_message or ""
    assert "unknown variant `wizard`" in upstream
    assert upstream in str(caught.value)
    assert sleeps.delays == []


async def test_an_error_sent_with_http_200_is_recognised_and_retried(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = await chat_model(client)
    simulator.add_faults({"kind": "error_200", "path": CHAT})

    await assert_answered_after_one_retry(client, sleeps, model)


async def test_an_error_with_http_200_that_persists_keeps_xais_message(
    client: GrokClient, simulator: RunningSimulator
) -> None:
    model = await chat_model(client)
    simulator.add_faults({"kind": "error_200", "count": 10, "path": CHAT})

    with pytest.raises(UpstreamUnavailableError) as caught:
        await client.chat(ask(model))

    assert caught.value.status == 200
    assert "Timed out waiting for first token" in str(caught.value)
    assert "retried 3 times" in str(caught.value)


async def test_an_html_page_from_the_edge_is_an_outage_not_a_parse_error(
    client: GrokClient, simulator: RunningSimulator
) -> None:
    simulator.add_faults({"kind": "status", "status": 502, "count": 10, "path": "/v1/language-models"})

    with pytest.raises(UpstreamUnavailableError) as caught:
        await client.language_models()

    assert caught.value.status == 502
    assert "xAI is having trouble (502)" in str(caught.value)
    assert "retried 3 times" in str(caught.value)
    assert "<html" not in str(caught.value)
    assert "502 Bad Gateway" in (caught.value.upstream_message or "")


async def test_live_search_parameters_are_answered_with_the_replacement_tools(client: GrokClient) -> None:
    model = await chat_model(client)

    with pytest.raises(GoneError) as caught:
        await client.chat(ask(model, search_parameters={"mode": "on"}))

    assert caught.value.status == 410
    assert "web_search" in str(caught.value) and "x_search" in str(caught.value)


async def test_an_unknown_model_suggests_list_models(client: GrokClient, sleeps: RecordingSleep) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        await client.chat(ask("grok-nonexistent-9"))

    assert "list_models" in str(caught.value)
    assert "grok-nonexistent-9" in str(caught.value)
    assert sleeps.delays == []


async def test_a_retired_model_is_reported_as_not_found(client: GrokClient) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        await client.chat(ask("grok-beta"))
    assert "list_models" in str(caught.value)


async def test_a_too_complex_schema_is_an_invalid_request_and_not_retried(
    client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = await chat_model(client)
    simulator.add_faults({"kind": "status", "status": 503, "message": "Grammar is too complex.", "path": CHAT})

    with pytest.raises(InvalidRequestError) as caught:
        await client.chat(ask(model))

    assert "Simplify the schema" in str(caught.value)
    assert sleeps.delays == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 415, 422])
async def test_client_errors_are_never_retried(
    status: int, client: GrokClient, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    model = await chat_model(client)
    simulator.add_faults({"kind": "status", "status": status, "count": 5, "path": CHAT})

    with pytest.raises(XAIError) as caught:
        await client.chat(ask(model))

    assert caught.value.status == status
    assert caught.value.call is not None and caught.value.call.attempts == 1
    assert sleeps.delays == []
    assert simulator.request_count(CHAT) == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_server_errors_are_retried_up_to_max_attempts_within_the_backoff_bounds(
    status: int, make_client: ClientFactory, sleeps: RecordingSleep, simulator: RunningSimulator
) -> None:
    client = make_client(max_attempts=3, random=random.random)
    model = await chat_model(client)
    simulator.add_faults({"kind": "status", "status": status, "count": 10, "path": CHAT})

    with pytest.raises(XAIError) as caught:
        await client.chat(ask(model))

    assert caught.value.retryable
    assert caught.value.call is not None and caught.value.call.attempts == 3
    assert simulator.request_count(CHAT) == 3
    assert len(sleeps.delays) == 2
    for attempt, delay in enumerate(sleeps.delays, start=1):
        assert 0 <= delay <= min(8.0, 0.5 * 2 ** (attempt - 1))


async def test_an_unknown_response_id_is_not_found(client: GrokClient) -> None:
    with pytest.raises(NotFoundError):
        await client.deferred_result("00000000-0000-4000-8000-000000000000")


async def test_an_empty_key_raises_no_api_key_without_calling_xai(
    make_client: ClientFactory, simulator: RunningSimulator
) -> None:
    client = make_client(key="  ")
    with pytest.raises(NoApiKeyError):
        await client.list_models()
    assert simulator.request_count("/v1/models") == 0


async def test_a_key_with_characters_that_cannot_be_sent_is_refused_without_echoing_it(
    make_client: ClientFactory,
) -> None:
    key = "xai-bad key-\u00e9-0123456789"
    client = make_client(key=key)
    with pytest.raises(InvalidKeyError) as caught:
        await client.list_models()
    assert key not in str(caught.value) and "grok-mcp keys set" in str(caught.value)
