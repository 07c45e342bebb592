"""Turns xAI's JSON bodies into the typed results of `grok_mcp.grok.types`, tolerating missing fields."""

from __future__ import annotations

from typing import Any, cast

from grok_mcp.errors import UpstreamCall
from grok_mcp.grok.types import (
    ApiKeyInfo,
    ChatCompletion,
    Citation,
    FunctionCall,
    GeneratedImage,
    ImageGeneration,
    ImageModel,
    LanguageModel,
    ModelInfo,
    ResponseResult,
    ResponseToolCall,
    Token,
    Usage,
)

JSON = dict[str, Any]

# Keys a catalog entry may use for the context window and the accepted reasoning efforts; xAI's
# language-model schema has neither today, the management API calls the former maxPromptLength.
_CONTEXT_KEYS = ("context_length", "max_prompt_length", "context_window", "maxPromptLength")
_EFFORT_KEYS = ("reasoning_efforts", "supported_reasoning_efforts", "reasoning_effort_values")


def as_object(value: object) -> JSON:
    """`value` if it is a JSON object, else an empty one."""
    return cast(JSON, value) if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return cast(list[Any], value) if isinstance(value, list) else []


def as_optional_int(value: object) -> int | None:
    """`value` as an integer (int64s may come as strings), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def as_int(value: object, default: int = 0) -> int:
    number = as_optional_int(value)
    return default if number is None else number


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(item for item in as_list(value) if isinstance(item, str))


def parse_chat_usage(value: object) -> Usage:
    """Usage of a Chat Completions body: `completion_tokens` already excludes reasoning."""
    usage = as_object(value)
    prompt_details = as_object(usage.get("prompt_tokens_details"))
    completion_details = as_object(usage.get("completion_tokens_details"))
    return Usage(
        prompt_tokens=as_int(usage.get("prompt_tokens")),
        cached_tokens=as_int(prompt_details.get("cached_tokens")),
        completion_tokens=as_int(usage.get("completion_tokens")),
        reasoning_tokens=as_int(completion_details.get("reasoning_tokens")),
        image_tokens=as_int(prompt_details.get("image_tokens")),
        num_sources_used=as_int(usage.get("num_sources_used")),
        num_server_side_tools_used=as_int(usage.get("num_server_side_tools_used")),
        cost_ticks=as_optional_int(usage.get("cost_in_usd_ticks")),
    )


def parse_responses_usage(value: object) -> Usage:
    """Usage of a Responses body, whose `output_tokens` include reasoning: that share is taken out."""
    usage = as_object(value)
    input_details = as_object(usage.get("input_tokens_details"))
    output_details = as_object(usage.get("output_tokens_details"))
    reasoning = as_int(output_details.get("reasoning_tokens"))
    return Usage(
        prompt_tokens=as_int(usage.get("input_tokens")),
        cached_tokens=as_int(input_details.get("cached_tokens")),
        completion_tokens=max(0, as_int(usage.get("output_tokens")) - reasoning),
        reasoning_tokens=reasoning,
        image_tokens=as_int(input_details.get("image_tokens")),
        num_sources_used=as_int(usage.get("num_sources_used")),
        num_server_side_tools_used=as_int(usage.get("num_server_side_tools_used")),
        cost_ticks=as_optional_int(usage.get("cost_in_usd_ticks")),
    )


def parse_tool_calls(value: object) -> list[FunctionCall]:
    calls: list[FunctionCall] = []
    for item in as_list(value):
        entry = as_object(item)
        function = as_object(entry.get("function"))
        calls.append(
            FunctionCall(
                id=as_str(entry.get("id")) or "",
                name=as_str(function.get("name")) or "",
                arguments=as_str(function.get("arguments")) or "",
                type=as_str(entry.get("type")) or "function",
            )
        )
    return calls


def _url_citations(value: object) -> list[Citation]:
    citations: list[Citation] = []
    for item in as_list(value):
        if isinstance(item, str):
            citations.append(Citation(url=item))
        else:
            url = as_str(as_object(item).get("url"))
            if url:
                citations.append(Citation(url=url, title=as_str(as_object(item).get("title"))))
    return citations


def parse_chat_completion(body: JSON, call: UpstreamCall) -> ChatCompletion:
    """A Chat Completions body (first choice) as a ChatCompletion."""
    choice = as_object(next(iter(as_list(body.get("choices"))), None))
    message = as_object(choice.get("message"))
    return ChatCompletion(
        id=as_str(body.get("id")) or call.request_id or "",
        model=as_str(body.get("model")) or "",
        text=as_str(message.get("content")) or "",
        reasoning=as_str(message.get("reasoning_content")),
        finish_reason=as_str(choice.get("finish_reason")),
        tool_calls=parse_tool_calls(message.get("tool_calls")),
        citations=_url_citations(body.get("citations")),
        usage=parse_chat_usage(body.get("usage")),
        call=call,
        system_fingerprint=as_str(body.get("system_fingerprint")),
        raw=body,
    )


def parse_response(body: JSON, call: UpstreamCall) -> ResponseResult:
    """A Responses API body: output text joined, citations deduplicated by URL, tool calls in order."""
    texts: list[str] = []
    reasoning: list[str] = []
    citations: list[Citation] = []
    tool_calls: list[ResponseToolCall] = []
    for raw_item in as_list(body.get("output")):
        item = as_object(raw_item)
        kind = as_str(item.get("type")) or ""
        if kind == "message":
            for raw_part in as_list(item.get("content")):
                part = as_object(raw_part)
                if part.get("type") == "output_text":
                    texts.append(as_str(part.get("text")) or "")
                    citations.extend(_url_citations(part.get("annotations")))
        elif kind == "reasoning":
            for raw_summary in as_list(item.get("summary")):
                text = as_str(as_object(raw_summary).get("text"))
                if text:
                    reasoning.append(text)
        elif kind.endswith("_call"):
            tool_calls.append(
                ResponseToolCall(
                    id=as_str(item.get("id")) or as_str(item.get("call_id")) or "",
                    type=kind,
                    name=as_str(item.get("name")) or kind.removesuffix("_call"),
                    arguments=as_str(item.get("arguments")) or "",
                    status=as_str(item.get("status")),
                )
            )
    citations.extend(_url_citations(body.get("citations")))
    unique: dict[str, Citation] = {}
    for citation in citations:
        known = unique.get(citation.url)
        if known is None or (known.title is None and citation.title is not None):
            unique[citation.url] = citation
    return ResponseResult(
        id=as_str(body.get("id")) or call.request_id or "",
        model=as_str(body.get("model")) or "",
        text="".join(texts),
        citations=list(unique.values()),
        tool_calls=tool_calls,
        usage=parse_responses_usage(body.get("usage")),
        call=call,
        status=as_str(body.get("status")),
        reasoning="\n".join(reasoning) or None,
        raw=body,
    )


def _entries_with_id(body: JSON, key: str) -> list[JSON]:
    """The objects listed under `key` that carry an id: a catalog entry without one cannot be asked for."""
    return [entry for entry in map(as_object, as_list(body.get(key))) if as_str(entry.get("id"))]


def parse_model_list(body: JSON) -> list[ModelInfo]:
    return [
        ModelInfo(
            id=as_str(entry.get("id")) or "",
            created=as_optional_int(entry.get("created")),
            owned_by=as_str(entry.get("owned_by")),
        )
        for entry in _entries_with_id(body, "data")
    ]


def _first_int(entry: JSON, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        number = as_optional_int(entry.get(key))
        if number is not None:
            return number
    return None


def _efforts(entry: JSON) -> tuple[str, ...] | None:
    for key in _EFFORT_KEYS:
        if isinstance(entry.get(key), list):
            return _strings(entry[key])
    nested = as_object(entry.get("reasoning"))
    if isinstance(nested.get("efforts"), list):
        return _strings(nested["efforts"])
    return None


def parse_language_model(entry: JSON) -> LanguageModel:
    return LanguageModel(
        id=as_str(entry.get("id")) or "",
        aliases=_strings(entry.get("aliases")),
        created=as_optional_int(entry.get("created")),
        input_modalities=_strings(entry.get("input_modalities")) or ("text",),
        output_modalities=_strings(entry.get("output_modalities")) or ("text",),
        prompt_text_token_price=as_int(entry.get("prompt_text_token_price")),
        cached_prompt_text_token_price=as_int(
            entry.get("cached_prompt_text_token_price", entry.get("prompt_text_token_price"))
        ),
        completion_text_token_price=as_int(entry.get("completion_text_token_price")),
        prompt_image_token_price=as_optional_int(entry.get("prompt_image_token_price")),
        prompt_text_token_price_long_context=as_optional_int(entry.get("prompt_text_token_price_long_context")),
        cached_prompt_text_token_price_long_context=as_optional_int(
            entry.get("cached_prompt_text_token_price_long_context")
        ),
        completion_text_token_price_long_context=as_optional_int(entry.get("completion_text_token_price_long_context")),
        long_context_threshold=as_optional_int(entry.get("long_context_threshold")),
        search_price=as_optional_int(entry.get("search_price")),
        context_length=_first_int(entry, _CONTEXT_KEYS),
        reasoning_efforts=_efforts(entry),
    )


def parse_language_models(body: JSON) -> list[LanguageModel]:
    return [parse_language_model(entry) for entry in _entries_with_id(body, "models")]


def parse_image_models(body: JSON) -> list[ImageModel]:
    return [
        ImageModel(
            id=as_str(entry.get("id")) or "",
            aliases=_strings(entry.get("aliases")),
            created=as_optional_int(entry.get("created")),
            input_modalities=_strings(entry.get("input_modalities")) or ("text",),
            output_modalities=_strings(entry.get("output_modalities")) or ("image",),
            image_price=as_int(entry.get("image_price")),
            max_prompt_length=as_optional_int(entry.get("max_prompt_length")),
        )
        for entry in _entries_with_id(body, "models")
    ]


def parse_image_generation(body: JSON, model: str | None, call: UpstreamCall) -> ImageGeneration:
    images = [
        GeneratedImage(
            b64_json=as_str(entry.get("b64_json")),
            url=as_str(entry.get("url")),
            mime_type=as_str(entry.get("mime_type")),
            revised_prompt=as_str(entry.get("revised_prompt")),
        )
        for entry in map(as_object, as_list(body.get("data")))
    ]
    usage = Usage(cost_ticks=as_optional_int(as_object(body.get("usage")).get("cost_in_usd_ticks")))
    return ImageGeneration(images=images, model=as_str(body.get("model")) or model, usage=usage, call=call)


def parse_tokens(body: JSON) -> list[Token]:
    tokens: list[Token] = []
    for entry in map(as_object, as_list(body.get("token_ids"))):
        raw_bytes = [b for b in as_list(entry.get("token_bytes")) if isinstance(b, int) and 0 <= b < 256]
        tokens.append(
            Token(
                token_id=as_int(entry.get("token_id")),
                string_token=as_str(entry.get("string_token")) or "",
                token_bytes=bytes(raw_bytes),
            )
        )
    return tokens


def parse_api_key_info(body: JSON, call: UpstreamCall) -> ApiKeyInfo:
    def text(key: str) -> str:
        value = body.get(key)
        # The schema calls the times Unix timestamps while the examples are RFC 3339 strings.
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else as_str(value) or ""

    return ApiKeyInfo(
        redacted_api_key=text("redacted_api_key"),
        user_id=text("user_id"),
        name=text("name"),
        create_time=text("create_time"),
        modify_time=text("modify_time"),
        modified_by=text("modified_by"),
        team_id=text("team_id"),
        acls=_strings(body.get("acls")),
        api_key_id=text("api_key_id"),
        team_blocked=body.get("team_blocked") is True,
        api_key_blocked=body.get("api_key_blocked") is True,
        api_key_disabled=body.get("api_key_disabled") is True,
        call=call,
    )
