"""Reading xAI's wire formats: error bodies of every shape, usage conventions, responses and stream chunks."""

from __future__ import annotations

import json

import pytest
from grok_mcp.errors import (
    CreditsExhaustedError,
    InvalidKeyError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    StreamInterruptedError,
    UpstreamCall,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    XAIError,
)
from grok_mcp.grok.errors import CallContext, Failure, error_in_body, failure_from_body, make_error, status_for_code
from grok_mcp.grok.parsing import (
    parse_api_key_info,
    parse_chat_completion,
    parse_chat_usage,
    parse_language_models,
    parse_response,
    parse_responses_usage,
    parse_tokens,
)
from grok_mcp.grok.stream import ChatStreamAssembler
from grok_mcp.grok.types import ReasoningDelta, TextDelta

CALL = UpstreamCall(endpoint="/v1/x", status=200, request_id="rid")
CONTEXT = CallContext(endpoint="/v1/chat/completions", host="api.x.ai", model="grok-x", timeout_s=900)


def error_for(failure: Failure, attempts: int = 1) -> XAIError:
    return make_error(failure, UpstreamCall(endpoint="/v1/x", attempts=attempts), CONTEXT)


def json_failure(status: int, body: object) -> Failure:
    return failure_from_body(status, json.dumps(body).encode(), "application/json", retry_after=None, request_id=None)


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (
            400,
            "Incorrect API key provided: xa***yz. You can obtain an API key from https://console.x.ai.",
            InvalidKeyError,
        ),
        (400, "Model not found: grok-2", ModelNotFoundError),
        (400, "Argument not supported on this model: reasoning_effort", InvalidRequestError),
        (401, "", InvalidKeyError),
        (403, "Your newly created team doesn't have any credits or licenses yet.", CreditsExhaustedError),
        (403, "The caller may not use this model", PermissionDeniedError),
        (
            404,
            "The model grok-beta was deprecated on 2025-09-15 and is no longer accessible",
            ModelNotFoundError,
        ),
        (404, "Response with id=abc not found", NotFoundError),
        (405, "", InvalidRequestError),
        (408, "", UpstreamUnavailableError),
        (429, "The service is temporarily at capacity. Please retry your request shortly.", RateLimitedError),
        (
            429,
            "Your team t has either used all available credits or reached its monthly spending limit.",
            CreditsExhaustedError,
        ),
        (500, "Image generation failed. Please try again later.", UpstreamUnavailableError),
        (503, "Grammar is too complex.", InvalidRequestError),
    ],
)
def test_status_and_message_choose_the_error_class(status: int, message: str, expected: type[XAIError]) -> None:
    error = error_for(json_failure(status, {"code": "c", "error": message}))
    assert type(error) is expected
    assert error.status == status


def test_the_invalid_key_message_shows_only_xais_redacted_form() -> None:
    error = error_for(json_failure(400, {"code": "c", "error": "Incorrect API key provided: xa***yz. Get one."}))
    assert str(error) == (
        "xAI rejected the API key (xa***yz). Check it at https://console.x.ai and store the right one "
        "with `grok-mcp keys set`."
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"code": "Some resource has been exhausted", "error": "slow down"},
            ("Some resource has been exhausted", "slow down", 429),
        ),
        (
            {"code": "400", "error": "Bad data: Messages cannot be empty"},
            ("400", "Bad data: Messages cannot be empty", 400),
        ),
        ({"error": {"code": "rate_limit", "message": "nope"}, "status": 429}, ("rate_limit", "nope", 429)),
        ({"error": {"type": "invalid_request_error", "message": "bad"}}, (None, "bad", None)),
        ({"type": "error", "code": "unavailable", "message": "later"}, ("unavailable", "later", 503)),
        (
            {"code": 16, "message": "Invalid bearer token.", "details": []},
            ("16", "Invalid bearer token.", 401),
        ),
        ({"id": "x", "choices": [], "error": None}, None),
        (["not", "an", "object"], None),
    ],
)
def test_error_bodies_of_every_known_shape_are_recognised(
    body: object, expected: tuple[str | None, str, int | None] | None
) -> None:
    assert error_in_body(body) == expected


def test_grpc_codes_map_to_http_statuses() -> None:
    assert status_for_code("The service is currently unavailable") == 503
    assert status_for_code("Internal error.") == 500
    assert status_for_code(14) == 503
    assert status_for_code("429") == 429
    assert status_for_code(True) is None
    assert status_for_code("something else") is None
    assert status_for_code(None) is None


def test_a_text_plain_422_keeps_the_serde_message() -> None:
    failure = failure_from_body(
        422,
        b"Failed to deserialize the JSON body into the target type: missing field `model` at line 1 column 2",
        "text/plain; charset=utf-8",
        retry_after=None,
        request_id="r1",
    )
    error = error_for(failure)
    assert isinstance(error, InvalidRequestError)
    assert error.upstream_message and error.upstream_message.startswith("Failed to deserialize")
    assert "wrong name, type or value" in str(error)


def test_an_html_page_without_a_title_is_summarised_not_quoted() -> None:
    failure = failure_from_body(504, b"<!DOCTYPE html><body>gateway</body>", None, retry_after=None, request_id=None)
    assert failure.upstream_message == "an error page from xAI's edge (HTML)"


def test_an_empty_error_body_still_gives_a_useful_message() -> None:
    error = error_for(failure_from_body(500, b"", None, retry_after=None, request_id=None), attempts=4)
    assert str(error) == "xAI is having trouble (500). Grok MCP retried 3 times. Try again in a few minutes."


def test_an_error_that_still_billed_reports_its_cost() -> None:
    failure = json_failure(
        400,
        {
            "code": "c",
            "error": "Generated image rejected by content moderation.",
            "usage": {"cost_in_usd_ticks": 5},
        },
    )
    assert failure.cost_ticks == 5


def test_long_upstream_messages_are_clipped() -> None:
    failure = json_failure(400, {"code": "c", "error": "x" * 2000})
    assert failure.upstream_message is not None and len(failure.upstream_message) == 500


@pytest.mark.parametrize(
    ("failure", "expected", "fragment"),
    [
        (
            Failure(transport="connect", reason="ConnectError: refused"),
            UpstreamUnavailableError,
            "Could not reach api.x.ai",
        ),
        (Failure(transport="connect_timeout"), UpstreamTimeoutError, "Could not connect to api.x.ai"),
        (Failure(transport="pool_timeout"), UpstreamTimeoutError, "Lower the concurrency"),
        (Failure(transport="read_timeout"), UpstreamTimeoutError, "no answer within 900 s"),
        (Failure(transport="protocol", reason="bad"), UpstreamUnavailableError, "could not read (bad)"),
        (Failure(transport="broken", reason="closed"), UpstreamUnavailableError, "broke while its reply"),
        (Failure(transport="read_timeout", mid_stream=True), StreamInterruptedError, "went silent for 900 s"),
        (
            Failure(status=200, implied_status=503, mid_stream=True, upstream_message="gone"),
            StreamInterruptedError,
            "xAI sent an error",
        ),
        (Failure(status=410), type(error_for(Failure(status=410))), "removed this feature"),
        (Failure(status=429, retry_after=7), RateLimitedError, "asked to wait 7 s"),
    ],
)
def test_each_failure_gets_a_message_that_says_what_to_do(
    failure: Failure, expected: type[XAIError], fragment: str
) -> None:
    error = error_for(failure)
    assert type(error) is expected
    assert fragment in str(error)


def test_chat_usage_keeps_reasoning_apart_from_completion() -> None:
    usage = parse_chat_usage(
        {
            "prompt_tokens": 1040,
            "completion_tokens": 4,
            "total_tokens": 1102,
            "prompt_tokens_details": {"image_tokens": 256, "cached_tokens": 896},
            "completion_tokens_details": {"reasoning_tokens": 58},
            "cost_in_usd_ticks": "5142000",
        }
    )
    assert (usage.prompt_tokens, usage.cached_tokens, usage.image_tokens) == (1040, 896, 256)
    assert (usage.completion_tokens, usage.reasoning_tokens) == (4, 58)
    assert usage.total_tokens == 1102
    assert usage.cost_ticks == 5_142_000


def test_responses_usage_takes_reasoning_out_of_output_tokens() -> None:
    usage = parse_responses_usage(
        {
            "input_tokens": 170,
            "input_tokens_details": {"cached_tokens": 153},
            "output_tokens": 98,
            "output_tokens_details": {"reasoning_tokens": 97},
            "total_tokens": 268,
            "num_server_side_tools_used": 2,
            "cost_in_usd_ticks": 2968500,
        }
    )
    assert (usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens) == (1, 97, 268)
    assert usage.num_server_side_tools_used == 2
    assert usage.cost_ticks == 2_968_500


def test_a_missing_cost_is_none_not_zero() -> None:
    assert parse_chat_usage({"prompt_tokens": 3}).cost_ticks is None
    assert parse_chat_usage(None).prompt_tokens == 0


def test_a_response_joins_text_dedupes_citations_and_lists_tool_calls() -> None:
    body = {
        "id": "r1",
        "model": "grok-x",
        "status": "completed",
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}]},
            {
                "type": "web_search_call",
                "id": "fc_1",
                "name": "web_search",
                "arguments": '{"query":"q"}',
                "status": "completed",
            },
            {"type": "function_call", "call_id": "call_9", "name": "lookup", "arguments": "{}"},
            {
                "type": "message",
                "content": [
                    {
                        "type": "output_text",
                        "text": "Hello ",
                        "annotations": [
                            {"type": "url_citation", "url": "https://a.example"},
                            {"type": "url_citation", "url": "https://a.example", "title": "A"},
                        ],
                    },
                    {"type": "output_text", "text": "world"},
                ],
            },
        ],
        "citations": ["https://b.example", "https://a.example"],
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    result = parse_response(body, CALL)
    assert result.text == "Hello world"
    assert [(c.url, c.title) for c in result.citations] == [
        ("https://a.example", "A"),
        ("https://b.example", None),
    ]
    assert [(t.type, t.name, t.id) for t in result.tool_calls] == [
        ("web_search_call", "web_search", "fc_1"),
        ("function_call", "lookup", "call_9"),
    ]
    assert result.reasoning == "thinking"
    assert result.status == "completed"


def test_a_chat_completion_reads_tool_calls_reasoning_and_citations() -> None:
    body = {
        "id": "c1",
        "model": "grok-x",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "hmm",
                    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "citations": ["https://x.example"],
    }
    completion = parse_chat_completion(body, CALL)
    assert completion.text == ""
    assert completion.reasoning == "hmm"
    assert completion.tool_calls[0].name == "f"
    assert completion.citations[0].url == "https://x.example"


def test_catalog_entries_tolerate_older_shapes() -> None:
    models = parse_language_models(
        {
            "models": [
                {"id": "old", "prompt_text_token_price": 30000, "completion_text_token_price": 150000},
                {
                    "id": "new",
                    "prompt_text_token_price": "1",
                    "context_window": 5,
                    "reasoning_efforts": ["low"],
                },
                {"no_id": True},
            ]
        }
    )
    assert [m.id for m in models] == ["old", "new"]
    old, new = models
    assert old.cached_prompt_text_token_price == 30000
    assert old.long_context_threshold is None and old.context_length is None
    assert old.input_modalities == ("text",) and old.reasoning_efforts is None
    assert new.prompt_text_token_price == 1 and new.context_length == 5
    assert new.reasoning_efforts == ("low",)


def test_tokens_carry_their_bytes() -> None:
    tokens = parse_tokens(
        {"token_ids": [{"token_id": 17286, "string_token": "Hello", "token_bytes": [72, 101, 108, 108, 111, 999]}]}
    )
    assert tokens[0].token_bytes == b"Hello"


def test_api_key_times_may_be_numbers_or_strings() -> None:
    info = parse_api_key_info({"create_time": 1790000000, "modify_time": "2026-03-02T11:00:00Z"}, CALL)
    assert info.create_time == "1790000000"
    assert info.modify_time == "2026-03-02T11:00:00Z"
    assert info.team_blocked is False


def test_stream_chunks_accumulate_fragmented_tool_calls_by_index() -> None:
    assembler = ChatStreamAssembler()
    deltas = assembler.feed(
        {
            "id": "s1",
            "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "r", "content": "a"}}],
        }
    )
    assert deltas == [ReasoningDelta("r"), TextDelta("a")]
    assembler.feed(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"index": 1, "id": "call_b", "function": {"name": "b", "arguments": '{"x"'}}]
                    },
                }
            ]
        }
    )
    assembler.feed(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "a", "arguments": "{}"}}]
                    },
                }
            ]
        }
    )
    assembler.feed(
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": ":1}"}}]}}]}
    )
    assembler.feed(
        {"choices": [{"index": 1, "delta": {"content": "other choice"}}], "citations": ["https://c.example"]}
    )
    assembler.feed({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    assembler.feed({"choices": [], "usage": {"prompt_tokens": 3, "cost_in_usd_ticks": 9}})

    completion = assembler.completion(CALL)
    assert completion.text == "a"
    assert [(c.id, c.name, c.arguments) for c in completion.tool_calls] == [
        ("call_a", "a", "{}"),
        ("call_b", "b", '{"x":1}'),
    ]
    assert completion.finish_reason == "tool_calls"
    assert completion.usage.cost_ticks == 9
    assert completion.citations[0].url == "https://c.example"
    assert completion.id == "s1"
