"""The client's successful calls against the simulator: chat, streams, responses, images, tokens, key info."""

from __future__ import annotations

import base64
from contextlib import aclosing
from typing import Any

import pytest
from grok_mcp.errors import NotFoundError
from grok_mcp.grok import ChatCompletion, GrokClient, ModelCatalog, ReasoningDelta, StreamDone, StreamEvent, TextDelta
from grok_mcp.imaging import fetch_image_bytes

from tests.grok.conftest import RecordingSleep
from tests.support.simulator import TEST_KEY

pytestmark = pytest.mark.anyio


def ask(model: str, text: str = "What colour is the sky?", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


async def collect(client: GrokClient, body: dict[str, Any]) -> list[StreamEvent]:
    async with aclosing(client.chat_stream(body)) as stream:
        return [event async for event in stream]


async def test_chat_answers_with_the_canonical_model_usage_cost_and_request_id(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    model = next(m for m in await catalog.language_models() if m.aliases)

    completion = await client.chat(ask(model.aliases[0]))

    assert completion.model == model.id
    assert completion.text
    assert completion.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.cost_ticks is not None and completion.usage.cost_ticks > 0
    assert completion.call.cost_ticks == completion.usage.cost_ticks
    assert completion.call.request_id == completion.id
    assert completion.call.status == 200
    assert completion.call.attempts == 1
    assert completion.call.endpoint == "/v1/chat/completions"
    assert completion.call.latency_ms > 0


async def test_client_knows_it_talks_to_the_simulator_once_a_reply_says_so(client: GrokClient) -> None:
    assert client.simulated is False
    await client.list_models()
    assert client.simulated is True


async def test_chat_ignores_a_stream_flag_and_still_returns_one_completion(client: GrokClient) -> None:
    model = await ModelCatalog(client).default_chat_model()
    completion = await client.chat(ask(model.id, stream=True, stream_options={"include_usage": True}))
    assert isinstance(completion, ChatCompletion)
    assert completion.text


async def test_stream_yields_text_as_it_comes_and_ends_with_the_assembled_completion(
    client: GrokClient,
) -> None:
    model = await ModelCatalog(client).default_chat_model()
    plain = await client.chat(ask(model.id, "Tell me about streams."))

    events = await collect(client, ask(model.id, "Tell me about streams."))

    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1, "the answer should arrive in several pieces"
    assert isinstance(events[-1], StreamDone)
    assert sum(isinstance(e, StreamDone) for e in events) == 1
    done = events[-1].completion
    assert done.text == "".join(d.text for d in deltas) == plain.text
    assert done.model == model.id
    assert done.finish_reason == "stop"
    assert done.call.ttft_ms is not None and done.call.ttft_ms <= done.call.latency_ms
    assert done.call.request_id == done.id


async def test_stream_asks_for_usage_so_the_completion_carries_tokens_and_cost(client: GrokClient) -> None:
    model = await ModelCatalog(client).default_chat_model()
    plain = await client.chat(ask(model.id, "Count the stars."))

    events = await collect(client, ask(model.id, "Count the stars."))

    done = events[-1]
    assert isinstance(done, StreamDone)
    usage = done.completion.usage
    assert usage.prompt_tokens == plain.usage.prompt_tokens
    assert usage.completion_tokens == plain.usage.completion_tokens
    assert usage.cost_ticks is not None and usage.cost_ticks > 0
    assert done.completion.call.cost_ticks == usage.cost_ticks


async def test_stream_separates_reasoning_from_the_answer_for_a_model_that_shows_its_thinking(
    client: GrokClient,
) -> None:
    events = await collect(client, ask("grok-3-mini", "Why is the sky blue?", reasoning_effort="high"))

    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert reasoning and done.completion.reasoning == reasoning
    assert text and done.completion.text == text
    assert done.completion.usage.reasoning_tokens > 0
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert all(not isinstance(e, ReasoningDelta) for e in events[first_text:])


async def test_stream_assembles_tool_calls_with_their_arguments(client: GrokClient) -> None:
    model = await ModelCatalog(client).default_chat_model()
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    body = ask(model.id, "What is the weather in Paris?", tools=[tool], tool_choice="required")

    events = await collect(client, body)
    plain = await client.chat(body)

    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.finish_reason == "tool_calls"
    assert [c.name for c in done.completion.tool_calls] == ["get_weather"]
    call = done.completion.tool_calls[0]
    assert call.id.startswith("call_")
    assert '"city"' in call.arguments
    assert [(c.name, c.arguments) for c in plain.tool_calls] == [(call.name, call.arguments)]


async def test_responses_returns_text_usage_and_cost(client: GrokClient) -> None:
    model = await ModelCatalog(client).default_chat_model()

    result = await client.responses({"model": model.id, "input": "What is 2 + 2?"})

    assert result.text
    assert result.model == model.id
    assert result.id and result.call.request_id == result.id
    assert result.cost_ticks is not None and result.cost_ticks > 0
    assert result.call.endpoint == "/v1/responses"


async def test_responses_reports_web_search_calls_and_citations(client: GrokClient) -> None:
    model = await ModelCatalog(client).default_chat_model()

    result = await client.responses(
        {"model": model.id, "input": "Latest news about Mars rovers", "tools": [{"type": "web_search"}]}
    )

    assert result.tool_calls, "the web_search call should be reported"
    assert all(call.type.endswith("_call") for call in result.tool_calls)
    assert any("search" in call.name for call in result.tool_calls)
    assert result.citations and all(c.url.startswith("http") for c in result.citations)
    assert len({c.url for c in result.citations}) == len(result.citations)
    assert result.usage.num_server_side_tools_used >= 1


async def test_generate_images_returns_each_image_and_the_billed_cost(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    model = await catalog.default_image_model()

    generation = await client.generate_images(
        {"model": model.id, "prompt": "a red bicycle", "n": 2, "response_format": "b64_json"}
    )

    assert len(generation.images) == 2
    for image in generation.images:
        assert image.b64_json is not None and image.url is None
        assert base64.b64decode(image.b64_json)
        assert image.mime_type and image.mime_type.startswith("image/")
    assert generation.cost_ticks == 2 * model.image_price
    assert generation.call.cost_ticks == generation.cost_ticks
    assert generation.model == model.id


async def test_generated_image_urls_can_be_downloaded(client: GrokClient) -> None:
    model = await ModelCatalog(client).default_image_model()
    generation = await client.generate_images({"model": model.id, "prompt": "a blue kite", "response_format": "url"})
    url = generation.images[0].url
    assert url is not None

    data, content_type = await fetch_image_bytes(client, url, max_bytes=10_000_000)

    assert data
    assert content_type is not None and content_type.startswith("image/")


async def test_tokenize_returns_tokens_that_spell_the_text(client: GrokClient) -> None:
    model = await ModelCatalog(client).default_chat_model()
    text = "Hello world, how are you?"

    tokenization = await client.tokenize(model.id, text)
    tokens = tokenization.tokens

    assert len(tokens) > 1
    assert tokenization.call.status == 200 and tokenization.call.request_id
    assert "".join(t.string_token for t in tokens) == text
    assert b"".join(t.token_bytes for t in tokens) == text.encode()
    assert all(isinstance(t.token_id, int) for t in tokens)


async def test_api_key_info_has_all_twelve_fields_and_only_a_redacted_key(client: GrokClient) -> None:
    info = await client.api_key_info()

    assert "***" in info.redacted_api_key or "..." in info.redacted_api_key
    assert info.redacted_api_key[-4:] == TEST_KEY[-4:]
    assert info.team_id and info.user_id and info.api_key_id and info.name
    assert info.create_time and info.modify_time and info.modified_by
    assert info.acls
    assert (info.team_blocked, info.api_key_blocked, info.api_key_disabled) == (False, False, False)
    assert info.call.endpoint == "/v1/api-key"


async def test_a_blocked_key_is_described_rather_than_refused_by_api_key_info(make_client: Any) -> None:
    client = make_client(key="xai-blocked-key-0001")
    info = await client.api_key_info()
    assert info.api_key_blocked is True


async def test_list_models_includes_chat_and_image_models(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    ids = {m.id for m in await client.list_models()}
    assert {m.id for m in await catalog.language_models()} <= ids
    assert {m.id for m in await catalog.image_models()} <= ids


async def test_deferred_completion_is_pending_then_ready_once_then_gone(
    client: GrokClient, sleeps: RecordingSleep
) -> None:
    model = await ModelCatalog(client).default_chat_model()
    request_id = await client.deferred_start(ask(model.id))

    results: list[ChatCompletion | None] = []
    for _ in range(20):
        result = await client.deferred_result(request_id)
        results.append(result)
        if result is not None:
            break

    assert results[0] is None, "the first poll finds the job still running (HTTP 202)"
    completion = results[-1]
    assert completion is not None and completion.text and completion.model == model.id
    assert completion.call.endpoint == "/v1/chat/deferred-completion"
    with pytest.raises(NotFoundError) as caught:
        await client.deferred_result(request_id)
    assert caught.value.status == 404
    assert sleeps.delays == []
