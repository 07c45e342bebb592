"""Chat completions on the simulator: shape, headers, usage and cost, answers, and xAI's refusals."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import jsonschema
from grok_mcp.simulator.usage import MESSAGE_OVERHEAD_TOKENS

from tests.simulator.helpers import chat
from tests.support.simulator import RunningSimulator


def _prices(xai: httpx2.Client, model: str) -> dict[str, Any]:
    return xai.get(f"/language-models/{model}").json()


def _expected_cost(prices: dict[str, Any], usage: dict[str, Any], *, long: bool = False) -> int:
    suffix = "_long_context" if long else ""
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    return (
        (usage["prompt_tokens"] - cached) * prices[f"prompt_text_token_price{suffix}"]
        + cached * prices[f"cached_prompt_text_token_price{suffix}"]
        + (usage["completion_tokens"] + reasoning) * prices[f"completion_text_token_price{suffix}"]
    )


def test_a_completion_has_xais_shape_and_the_request_id_header(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json=chat())

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"] == response.headers["x-request-id"]
    assert not body["id"].startswith("chatcmpl-")
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["choices"][0]["message"]["refusal"] is None
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["system_fingerprint"].startswith("fp_")
    assert response.headers["x-simulated"] == "true"


def test_text_endpoints_send_the_four_rate_limit_headers_and_latency_metrics(xai: httpx2.Client) -> None:
    headers = xai.post("/chat/completions", json=chat()).headers

    assert headers["x-ratelimit-limit-requests"] == "1200"
    assert int(headers["x-ratelimit-remaining-requests"]) < 1200
    assert headers["x-ratelimit-limit-tokens"] == "18000000"
    assert int(headers["x-ratelimit-remaining-tokens"]) < 18_000_000
    assert float(headers["x-metrics-e2e-ms"]) >= 0
    assert float(headers["x-metrics-ttft-ms"]) >= 0


def test_an_alias_is_answered_under_its_canonical_model_id(xai: httpx2.Client) -> None:
    assert xai.post("/chat/completions", json=chat("grok-4.3-latest")).json()["model"] == "grok-4.3"
    assert xai.post("/chat/completions", json=chat("grok-4.20")).json()["model"] == "grok-4.20-0309-reasoning"
    assert xai.post("/chat/completions", json=chat("grok-3-mini-fast")).json()["model"] == "grok-3-mini"


def test_the_answer_is_deterministic_names_the_model_and_echoes_the_question(xai: httpx2.Client) -> None:
    first = xai.post("/chat/completions", json=chat(content="Why is the sky blue?")).json()
    second = xai.post("/chat/completions", json=chat(content="Why is the sky blue?")).json()

    text = first["choices"][0]["message"]["content"]
    assert text == second["choices"][0]["message"]["content"]
    assert "grok-4.3" in text
    assert "Why is the sky blue?" in text
    assert "Simulated" in text


def test_chat_usage_adds_reasoning_to_the_total_and_costs_the_served_prices(xai: httpx2.Client) -> None:
    usage = xai.post("/chat/completions", json=chat()).json()["usage"]

    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["cost_in_usd_ticks"] == _expected_cost(_prices(xai, "grok-4.3"), usage)
    assert usage["cost_in_usd_ticks"] == (
        usage["prompt_tokens"] * 12_500 + (usage["completion_tokens"] + reasoning) * 25_000
    )


def test_a_repeated_conversation_is_billed_partly_as_cached_prompt(xai: httpx2.Client) -> None:
    first = xai.post("/chat/completions", json=chat()).json()
    answer = first["choices"][0]["message"]["content"]
    follow_up = {
        "model": "grok-4.3",
        "messages": [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": answer},
            {"role": "user", "content": "And of Spain?"},
        ],
    }
    usage = xai.post("/chat/completions", json=follow_up).json()["usage"]

    answer_tokens = len(xai.post("/tokenize-text", json={"model": "grok-4.3", "text": answer}).json()["token_ids"])
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert 0 < cached < usage["prompt_tokens"]
    assert cached == first["usage"]["prompt_tokens"] + MESSAGE_OVERHEAD_TOKENS + answer_tokens
    assert usage["cost_in_usd_ticks"] == _expected_cost(_prices(xai, "grok-4.3"), usage)


def test_the_same_request_twice_is_fully_cached_the_second_time(xai: httpx2.Client) -> None:
    xai.post("/chat/completions", json=chat())
    usage = xai.post("/chat/completions", json=chat()).json()["usage"]

    assert usage["prompt_tokens_details"]["cached_tokens"] == usage["prompt_tokens"]


def test_reasoning_tokens_grow_with_the_reasoning_effort(xai: httpx2.Client) -> None:
    def reasoning(effort: str) -> int:
        usage = xai.post("/chat/completions", json=chat("grok-4.7", reasoning_effort=effort)).json()["usage"]
        return usage["completion_tokens_details"]["reasoning_tokens"]

    assert 0 < reasoning("low") < reasoning("medium") < reasoning("high") < reasoning("xhigh")
    none = xai.post("/chat/completions", json=chat("grok-4.3", reasoning_effort="none")).json()["usage"]
    assert none["completion_tokens_details"]["reasoning_tokens"] == 0


def test_a_non_reasoning_model_spends_no_reasoning_tokens(xai: httpx2.Client) -> None:
    usage = xai.post("/chat/completions", json=chat("grok-4.20-non-reasoning")).json()["usage"]

    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_completion_tokens_cuts_the_answer_with_finish_reason_length(xai: httpx2.Client) -> None:
    for field in ("max_completion_tokens", "max_tokens"):
        limit: dict[str, Any] = {field: 5}
        body = xai.post("/chat/completions", json=chat(**limit)).json()

        assert body["choices"][0]["finish_reason"] == "length"
        assert body["usage"]["completion_tokens"] == 5


def test_n_choices_are_all_billed(xai: httpx2.Client) -> None:
    one = xai.post("/chat/completions", json=chat("grok-4.20-non-reasoning", content="hi")).json()
    two = xai.post("/chat/completions", json=chat("grok-4.20-non-reasoning", content="hello", n=2)).json()

    assert [c["index"] for c in two["choices"]] == [0, 1]
    texts = [c["message"]["content"] for c in two["choices"]]
    assert texts[0] != texts[1]
    assert two["usage"]["completion_tokens"] > one["usage"]["completion_tokens"]


def test_json_schema_output_validates_against_the_schema(xai: httpx2.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 3},
            "population": {"type": "integer", "minimum": 1000},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "kind": {"enum": ["capital", "town"]},
            "ratio": {"type": "number", "maximum": 1},
            "coastal": {"type": "boolean"},
        },
        "required": ["city", "population", "tags", "kind"],
        "additionalProperties": False,
    }
    body = chat(response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}})

    content = xai.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]

    jsonschema.validate(json.loads(content), schema)


def test_json_object_output_is_a_json_object(xai: httpx2.Client) -> None:
    body = chat(response_format={"type": "json_object"})

    content = xai.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]

    assert json.loads(content)["simulated"] is True


def test_a_function_tool_is_called_with_arguments_valid_for_its_parameters(xai: httpx2.Client) -> None:
    parameters = {
        "type": "object",
        "properties": {"location": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
        "required": ["location"],
    }
    tools = [{"type": "function", "function": {"name": "weather", "parameters": parameters}}]

    body = xai.post("/chat/completions", json=chat(content="Weather in SF?", tools=tools)).json()

    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["id"].startswith("call_")
    assert call["type"] == "function"
    assert call["function"]["name"] == "weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), parameters)


def test_after_a_tool_result_the_model_answers_in_text(xai: httpx2.Client) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    messages = [
        {"role": "user", "content": "Weather in SF?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
         "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny and 21 degrees"},
    ]  # fmt: skip

    body = xai.post("/chat/completions", json={"model": "grok-4.3", "messages": messages, "tools": tools}).json()

    assert body["choices"][0]["finish_reason"] == "stop"
    assert "Sunny and 21 degrees" in body["choices"][0]["message"]["content"]


def test_images_are_counted_per_image_in_the_prompt(xai: httpx2.Client) -> None:
    def image_tokens(detail: str) -> int:
        content = [
            {"type": "text", "text": "What colour is the car?"},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": detail},
            },
            {"type": "image_url", "image_url": {"url": "https://example.com/car.png", "detail": detail}},
        ]
        body = xai.post("/chat/completions", json=chat(content=content)).json()
        assert "2 images" in body["choices"][0]["message"]["content"]
        return body["usage"]["prompt_tokens_details"]["image_tokens"]

    assert image_tokens("high") == 2 * 1024
    assert image_tokens("low") == 2 * 256


def test_a_model_without_image_input_refuses_image_parts(xai: httpx2.Client) -> None:
    content = [{"type": "image_url", "image_url": {"url": "https://example.com/car.png"}}]

    response = xai.post("/chat/completions", json=chat("grok-3-mini", content=content))

    assert response.status_code == 400
    assert response.json()["code"] == "Client specified an invalid argument"
    assert "does not support image inputs" in response.json()["error"]


def test_a_prompt_longer_than_the_context_is_refused_with_xais_message(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json=chat("grok-3-mini", content="a " * 140_000))

    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": "This model's maximum prompt length is 131072 but the request contains 140004 tokens.",
    }


def test_a_prompt_over_the_long_context_threshold_is_billed_at_the_long_context_prices(
    xai: httpx2.Client,
) -> None:
    usage = xai.post("/chat/completions", json=chat("grok-4.3", content="a " * 200_000)).json()["usage"]

    assert usage["prompt_tokens"] >= 200_000
    assert usage["cost_in_usd_ticks"] == _expected_cost(_prices(xai, "grok-4.3"), usage, long=True)
    assert _prices(xai, "grok-4.3")["prompt_text_token_price_long_context"] == 25_000


def test_empty_messages_are_refused_with_bad_data(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json={"model": "grok-4.3", "messages": []})

    assert response.status_code == 400
    assert response.json() == {"code": "400", "error": "Bad data: Messages cannot be empty"}


def test_an_unknown_role_is_a_plain_text_422(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json={"model": "grok-4.3", "messages": [{"role": "x", "content": "hi"}]})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Failed to deserialize the JSON body into the target type: messages[0].role:")
    assert "unknown variant `x`, expected one of `system`, `user`, `assistant`" in response.text


def test_a_missing_field_or_a_wrong_type_is_a_plain_text_422(xai: httpx2.Client) -> None:
    missing = xai.post("/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
    wrong = xai.post("/chat/completions", json={"model": "grok-4.3", "messages": "hi"})

    assert missing.status_code == 422
    assert "missing field `model`" in missing.text
    assert wrong.status_code == 422
    assert 'messages: invalid type: string "hi", expected a sequence' in wrong.text


def test_a_body_that_is_not_json_or_not_labelled_json_is_refused(xai: httpx2.Client) -> None:
    broken = xai.post("/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    unlabelled = xai.post("/chat/completions", content=b'{"model": "grok-4.3"}', headers={"content-type": "text/plain"})
    empty = xai.post("/chat/completions", content=b"")

    assert broken.status_code == 400
    assert unlabelled.status_code == 415
    assert empty.status_code == 415


def test_reasoning_effort_is_refused_by_models_that_take_none(xai: httpx2.Client) -> None:
    for model, canonical in (("grok-4.20", "grok-4.20-0309-reasoning"), ("grok-build-0.1", "grok-build-0.1")):
        response = xai.post("/chat/completions", json=chat(model, reasoning_effort="low"))

        assert response.status_code == 400
        assert response.json()["error"] == f"Model {canonical} does not support parameter reasoningEffort."


def test_reasoning_effort_values_outside_a_models_list_are_refused(xai: httpx2.Client) -> None:
    mini = xai.post("/chat/completions", json=chat("grok-3-mini", reasoning_effort="medium"))
    unknown = xai.post("/chat/completions", json=chat("grok-4.3", reasoning_effort="extreme"))

    assert mini.status_code == 400
    assert "grok-3-mini" in mini.json()["error"]
    assert unknown.status_code == 422
    assert "unknown variant `extreme`" in unknown.text


def test_reasoning_models_refuse_stop_and_penalties(xai: httpx2.Client) -> None:
    for field, wire_name in (
        ("stop", "stop"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ):
        refused: dict[str, Any] = {field: ["\n"] if field == "stop" else 0.5}
        response = xai.post("/chat/completions", json=chat("grok-4.3", **refused))

        assert response.status_code == 400
        assert response.json()["error"] == f"Argument not supported on this model: {wire_name}"
    accepted = xai.post("/chat/completions", json=chat("grok-4.20-non-reasoning", stop=["\n"], presence_penalty=0.5))
    assert accepted.status_code == 200


def test_live_search_parameters_are_gone(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json=chat(search_parameters={"mode": "auto"}))

    assert response.status_code == 410
    assert "Live search is deprecated" in response.json()["error"]


def test_a_retired_model_is_refused_as_deprecated_by_default(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json=chat("grok-4"))

    assert response.status_code == 404
    assert response.json()["code"] == "Some requested entity was not found"
    assert response.json()["error"] == (
        "The model grok-4 was deprecated on 2026-05-15 and is no longer accessible via the API. "
        "Please use grok-4.3 instead."
    )


def test_in_redirect_mode_a_retired_model_is_served_and_billed_as_grok_4_3(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    simulator.set_config(retired_mode="redirect")

    body = xai.post("/chat/completions", json=chat("grok-3")).json()

    assert body["model"] == "grok-4.3"
    assert body["usage"]["cost_in_usd_ticks"] == _expected_cost(_prices(xai, "grok-4.3"), body["usage"])
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_an_unknown_model_is_a_404_naming_it(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json=chat("grok-video"))

    assert response.status_code == 404
    assert response.json()["error"].startswith("The model grok-video does not exist or your team ")


def test_an_image_model_cannot_chat(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json=chat("grok-imagine-image"))

    assert response.status_code == 400


def test_grok_3_mini_returns_its_reasoning_content(xai: httpx2.Client) -> None:
    message = xai.post("/chat/completions", json=chat("grok-3-mini")).json()["choices"][0]["message"]
    other = xai.post("/chat/completions", json=chat("grok-4.3")).json()["choices"][0]["message"]

    assert message["reasoning_content"]
    assert "reasoning_content" not in other
