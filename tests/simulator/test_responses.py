"""The Responses API on the simulator: output items, usage, server-side search, storage and streaming."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import jsonschema
import pytest
from grok_mcp.simulator.usage import SERVER_TOOL_CALL_TICKS

from tests.simulator.helpers import sse_data, sse_events


def _create(xai: httpx2.Client, **body: Any) -> httpx2.Response:
    return xai.post("/responses", json={"model": "grok-4.3", "input": "What is new with Starship?", **body})


def _message(body: dict[str, Any]) -> dict[str, Any]:
    return next(item for item in body["output"] if item["type"] == "message")


def _cost(xai: httpx2.Client, usage: dict[str, Any], model: str = "grok-4.3") -> int:
    prices = xai.get(f"/language-models/{model}").json()
    cached = usage["input_tokens_details"]["cached_tokens"]
    return (
        (usage["input_tokens"] - cached) * prices["prompt_text_token_price"]
        + cached * prices["cached_prompt_text_token_price"]
        + usage["output_tokens"] * prices["completion_text_token_price"]
        + usage["num_server_side_tools_used"] * SERVER_TOOL_CALL_TICKS
    )


def test_a_response_has_reasoning_and_message_items_and_the_request_id_header(xai: httpx2.Client) -> None:
    response = _create(xai, model="grok-4.3-latest")
    body = response.json()

    assert body["id"] == response.headers["x-request-id"]
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["model"] == "grok-4.3"
    assert [item["type"] for item in body["output"]] == ["reasoning", "message"]
    assert body["output"][0]["id"] == f"rs_{body['id']}"
    message = _message(body)
    assert message["id"] == f"msg_{body['id']}"
    assert message["content"][0]["type"] == "output_text"
    assert "What is new with Starship?" in message["content"][0]["text"]
    assert response.headers["x-ratelimit-limit-tokens"] == "18000000"


def test_response_usage_counts_reasoning_inside_output_tokens(xai: httpx2.Client) -> None:
    usage = _create(xai).json()["usage"]

    reasoning = usage["output_tokens_details"]["reasoning_tokens"]
    assert 0 < reasoning < usage["output_tokens"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["cost_in_usd_ticks"] == _cost(xai, usage)


def test_an_unknown_model_is_a_400_model_not_found_on_this_endpoint(xai: httpx2.Client) -> None:
    response = _create(xai, model="grok-nonexistent")

    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": "Model not found: grok-nonexistent",
    }


def test_web_search_adds_a_call_item_cited_sources_and_the_tool_price(xai: httpx2.Client) -> None:
    body = _create(xai, tools=[{"type": "web_search", "allowed_domains": ["spacex.com", "nasa.gov"]}]).json()

    call = next(item for item in body["output"] if item["type"] == "web_search_call")
    assert call["id"].startswith(f"fc_{body['id']}")
    assert call["name"] == "web_search"
    assert call["status"] == "completed"
    assert json.loads(call["arguments"])["query"]
    content = _message(body)["content"][0]
    annotations = content["annotations"]
    assert [a["type"] for a in annotations] == ["url_citation", "url_citation"]
    assert [a["url"].split("/")[2] for a in annotations] == ["spacex.com", "nasa.gov"]
    for annotation in annotations:
        assert annotation["url"] in content["text"][annotation["start_index"] : annotation["end_index"]]
    usage = body["usage"]
    assert usage["num_server_side_tools_used"] == 1
    assert usage["server_side_tool_usage_details"] == {"web_search_calls": 1}
    assert usage["cost_in_usd_ticks"] == _cost(xai, usage)


def test_excluded_domains_are_never_cited(xai: httpx2.Client) -> None:
    body = _create(xai, tools=[{"type": "web_search", "excluded_domains": ["en.wikipedia.org"]}]).json()

    urls = [a["url"] for a in _message(body)["content"][0]["annotations"]]
    assert urls
    assert not any("wikipedia" in url for url in urls)


def test_x_search_cites_posts_of_the_allowed_handles(xai: httpx2.Client) -> None:
    tool = {
        "type": "x_search",
        "allowed_x_handles": ["elonmusk"],
        "from_date": "2026-01-01",
        "to_date": "2026-02-01",
    }

    body = _create(xai, tools=[tool]).json()

    assert [item["type"] for item in body["output"]][1] == "x_search_call"
    urls = [a["url"] for a in _message(body)["content"][0]["annotations"]]
    assert urls and all(url.startswith("https://x.com/elonmusk/status/") for url in urls)
    assert body["usage"]["server_side_tool_usage_details"] == {"x_search_calls": 1}


_SIX_DOMAINS = [f"d{i}.com" for i in range(6)]
_ELEVEN_HANDLES = [f"user{i}" for i in range(11)]


@pytest.mark.parametrize(
    ("tool", "fields", "message"),
    [
        (
            "web_search",
            {"allowed_domains": _SIX_DOMAINS},
            "A maximum of 5 domains can be allowed, but 6 were provided.",
        ),
        (
            "web_search",
            {"excluded_domains": _SIX_DOMAINS},
            "A maximum of 5 domains can be excluded, but 6 were provided.",
        ),
        ("web_search", {"allowed_domains": ["a.com"], "excluded_domains": ["b.com"]}, "Only one of allowed_domains"),
        ("web_search", {"search_context_size": "high"}, "search_context_size"),
        (
            "x_search",
            {"allowed_x_handles": _ELEVEN_HANDLES},
            "A maximum of 10 handles can be allowed, but 11 were provided.",
        ),
        (
            "x_search",
            {"excluded_x_handles": _ELEVEN_HANDLES},
            "A maximum of 10 handles can be excluded, but 11 were provided.",
        ),
        ("x_search", {"allowed_x_handles": ["a"], "excluded_x_handles": ["b"]}, "Only one of allowed_x_handles"),
        ("x_search", {"from_date": "01/02/2026"}, "from_date"),
        ("x_search", {"from_date": "2026-03-01", "to_date": "2026-02-01"}, "is after to_date"),
    ],
)
def test_search_filters_are_validated_with_xais_messages(
    xai: httpx2.Client, tool: str, fields: dict[str, Any], message: str
) -> None:
    response = _create(xai, tools=[{"type": tool, **fields}])

    assert response.status_code == 400
    assert response.json()["code"] == "Client specified an invalid argument"
    assert message in response.json()["error"]


def test_two_searches_are_billed_as_two_tool_calls(xai: httpx2.Client) -> None:
    usage = _create(xai, tools=[{"type": "web_search"}, {"type": "x_search"}]).json()["usage"]

    assert usage["num_server_side_tools_used"] == 2
    assert usage["cost_in_usd_ticks"] == _cost(xai, usage)
    assert usage["cost_in_usd_ticks"] > 2 * 50_000_000


def test_search_parameters_are_gone(xai: httpx2.Client) -> None:
    assert _create(xai, search_parameters={"mode": "on"}).status_code == 410


def test_a_stored_response_can_be_fetched_and_deleted(xai: httpx2.Client) -> None:
    created = _create(xai).json()

    fetched = xai.get(f"/responses/{created['id']}")
    deleted = xai.delete(f"/responses/{created['id']}")
    missing = xai.get(f"/responses/{created['id']}")

    assert fetched.json() == created
    assert deleted.json() == {"id": created["id"], "object": "response", "deleted": True}
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "Some requested entity was not found",
        "error": f"Response with id={created['id']} not found",
    }


def test_an_unstored_response_cannot_be_fetched(xai: httpx2.Client) -> None:
    created = _create(xai, store=False).json()

    assert created["store"] is False
    assert xai.get(f"/responses/{created['id']}").status_code == 404


def test_a_follow_up_continues_the_stored_conversation_with_cached_tokens(xai: httpx2.Client) -> None:
    first = _create(xai, instructions="Answer briefly.").json()

    follow = _create(xai, input="And when is the next launch?", previous_response_id=first["id"]).json()

    usage = follow["usage"]
    assert follow["previous_response_id"] == first["id"]
    assert usage["input_tokens"] > first["usage"]["input_tokens"]
    assert usage["input_tokens_details"]["cached_tokens"] >= first["usage"]["input_tokens"]
    assert usage["cost_in_usd_ticks"] == _cost(xai, usage)
    assert "And when is the next launch?" in _message(follow)["content"][0]["text"]


def test_an_unknown_previous_response_or_one_combined_with_instructions_is_refused(
    xai: httpx2.Client,
) -> None:
    first = _create(xai).json()

    unknown = _create(xai, previous_response_id="resp-unknown")
    combined = _create(xai, previous_response_id=first["id"], instructions="Be brief.")

    assert unknown.status_code == 404
    assert combined.status_code == 400


def test_reasoning_effort_is_checked_per_model(xai: httpx2.Client) -> None:
    refused = _create(xai, model="grok-4.20", reasoning={"effort": "high"})
    high = _create(xai, model="grok-4.7", reasoning={"effort": "high"}).json()

    assert refused.status_code == 400
    assert refused.json()["error"] == "Model grok-4.20-0309-reasoning does not support parameter reasoningEffort."
    assert high["reasoning"]["effort"] == "high"


def test_a_json_schema_text_format_returns_valid_json(xai: httpx2.Client) -> None:
    schema = {"type": "object", "properties": {"summary": {"type": "string"}, "score": {"type": "number"}},
              "required": ["summary", "score"]}  # fmt: skip

    body = _create(xai, text={"format": {"type": "json_schema", "name": "s", "schema": schema}}).json()

    jsonschema.validate(json.loads(_message(body)["content"][0]["text"]), schema)


def test_max_output_tokens_leaves_the_response_incomplete(xai: httpx2.Client) -> None:
    body = _create(xai, max_output_tokens=70).json()

    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["usage"]["output_tokens"] == 70


def test_a_function_tool_yields_a_function_call_item(xai: httpx2.Client) -> None:
    tools = [{"type": "function", "name": "launch_date", "parameters": {"type": "object",
              "properties": {"vehicle": {"type": "string"}}, "required": ["vehicle"]}}]  # fmt: skip

    body = _create(xai, tools=tools).json()

    call = body["output"][-1]
    assert call["type"] == "function_call"
    assert call["name"] == "launch_date"
    assert call["call_id"].startswith("call_")
    assert "vehicle" in json.loads(call["arguments"])


def test_input_items_with_images_and_function_outputs_are_understood(xai: httpx2.Client) -> None:
    items = [
        {"role": "user", "content": [
            {"type": "input_text", "text": "What is in this picture?"},
            {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "low"},
        ]},
        {"type": "function_call", "call_id": "call_1", "name": "look", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "a red rocket"},
    ]  # fmt: skip

    body = _create(xai, input=items).json()

    assert "a red rocket" in _message(body)["content"][0]["text"]
    bad = _create(xai, input=[{"role": "robot", "content": "hi"}])
    assert bad.status_code == 422
    assert "unknown variant `robot`" in bad.text


def test_a_streamed_response_emits_typed_events_ending_with_completed_and_done(xai: httpx2.Client) -> None:
    response = _create(xai, stream=True, tools=[{"type": "web_search"}])

    events = sse_events(response.text)
    types = [event["type"] for event in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert sse_data(response.text)[-1] == "[DONE]"
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert "response.web_search_call.searching" in types
    assert "response.output_text.annotation.added" in types
    deltas = "".join(event["delta"] for event in events if event["type"] == "response.output_text.delta")
    final = events[-1]["response"]
    assert deltas == _message(final)["content"][0]["text"]
    assert final["usage"]["total_tokens"] == final["usage"]["input_tokens"] + final["usage"]["output_tokens"]
    assert "event: response.created" in response.text
