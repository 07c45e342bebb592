"""The Responses API: `POST /v1/responses` (server-side web and X search included), GET and DELETE by id."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from starlette.responses import JSONResponse, Response

from grok_mcp.simulator.catalog import EFFORTS, Effort, LanguageModel
from grok_mcp.simulator.chat import OutputFormat, SimulatedToolCall, call_function, write_answer
from grok_mcp.simulator.gateway import Exchange
from grok_mcp.simulator.policy import (
    check_prompt,
    check_sampling_parameters,
    effective_effort,
    reject_live_search,
    resolve_language_model,
)
from grok_mcp.simulator.prompt import Prompt, Turn
from grok_mcp.simulator.replies import summarize
from grok_mcp.simulator.state import StoredResponse
from grok_mcp.simulator.streaming import EventStream, SSEEvent
from grok_mcp.simulator.tokenizer import count_tokens, split_tokens, truncate
from grok_mcp.simulator.usage import Usage, bill, reasoning_tokens
from grok_mcp.simulator.wire import BodyReader, XAIFailure

INPUT_ROLES = ("user", "assistant", "system", "developer")
ITEM_TYPES = (
    "message", "function_call", "function_call_output", "reasoning", "web_search_call", "x_search_call",
    "compaction",
)  # fmt: skip
PART_TYPES = ("input_text", "input_image", "input_file", "output_text")
TOOL_TYPES = (
    "function",
    "web_search",
    "x_search",
    "code_interpreter",
    "code_execution",
    "file_search",
    "mcp",
    "shell",
)
FORMAT_TYPES = ("text", "json_object", "json_schema")
MAX_DOMAINS = 5
MAX_HANDLES = 10
DEFAULT_DOMAINS = ("en.wikipedia.org", "docs.x.ai", "arxiv.org", "github.com", "www.reuters.com")
DEFAULT_HANDLES = ("xai", "grok", "SpaceX")
CITATIONS_PER_SEARCH = 3
_OPENAI_ONLY_WEB_FIELDS = ("search_context_size", "user_location", "external_web_access")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def not_found(response_id: str) -> XAIFailure:
    return XAIFailure(404, f"Response with id={response_id} not found")


@dataclass(frozen=True)
class Search:
    """One server-side search the simulated agent runs: its tool, and the sources it will cite."""

    tool: str
    sources: tuple[str, ...]


@dataclass
class ResponseRequest:
    """A parsed `POST /v1/responses` body."""

    model: LanguageModel
    effort: Effort
    prompt: Prompt
    output: OutputFormat
    searches: list[Search] = field(default_factory=list[Search])
    functions: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    max_output_tokens: int | None = None
    store: bool = True
    stream: bool = False
    include_encrypted: bool = False
    previous_response_id: str | None = None


def _read_part(reader: BodyReader, part: dict[str, Any], kind: str, path: str) -> tuple[str | None, str | None]:
    """One input content part: its text (a file stands as its name), or its image's detail level."""
    if kind in ("input_text", "output_text"):
        return reader.string(part, "text", path) or "", None
    if kind == "input_image":
        reader.required_string(part, "image_url", path)
        return None, reader.variant(part, "detail", ("auto", "low", "high"), path) or "auto"
    return f"[file {part.get('filename') or part.get('file_id') or part.get('file_url') or ''}]", None


def read_input(reader: BodyReader, raw_input: object) -> list[Turn]:
    """The `input` as turns; 422 text/plain for anything that does not deserialize."""
    if isinstance(raw_input, str):
        return [Turn("user", raw_input)]
    if not isinstance(raw_input, list):
        raise reader.wrong_type("input", raw_input, "a string or an array of input items")
    turns: list[Turn] = []
    for index, raw in enumerate(cast(list[Any], raw_input)):
        path = f"input[{index}]"
        item = reader.object(raw, path)
        kind = reader.variant(item, "type", ITEM_TYPES, path) or "message"
        if kind == "message":
            role = reader.required_variant(item, "role", INPUT_ROLES, path)
            text, details = reader.message_content(item.get("content", ""), path, PART_TYPES, _read_part)
            turns.append(Turn(role, text, details))
        elif kind == "function_call_output":
            call_id = reader.required_string(item, "call_id", path)
            turns.append(Turn("function_call_output", reader.required_string(item, "output", path), (), call_id))
        elif kind == "function_call":
            arguments = reader.string(item, "arguments", path) or ""
            turns.append(Turn("assistant", arguments, (), str(item.get("call_id") or "")))
    return turns


def _strings(reader: BodyReader, holder: dict[str, Any], name: str, path: str) -> list[str]:
    values = reader.array(holder, name, path)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise reader.wrong_type(f"{path}.{name}[{index}]", value, "a string")
    return cast(list[str], values)


def _check_source_filter(allowed: list[str], excluded: list[str], sources: str, most: int) -> None:
    """xAI's 400s for a search tool's `allowed_<sources>` / `excluded_<sources>` lists."""
    if allowed and excluded:
        raise XAIFailure(400, f"Only one of allowed_{sources} and excluded_{sources} can be set, not both.")
    noun = sources.removeprefix("x_")
    for verb, listed in (("allowed", allowed), ("excluded", excluded)):
        if len(listed) > most:
            raise XAIFailure(400, f"A maximum of {most} {noun} can be {verb}, but {len(listed)} were provided.")


def _web_search(reader: BodyReader, tool: dict[str, Any], path: str) -> Search:
    for name in _OPENAI_ONLY_WEB_FIELDS:
        if tool.get(name) is not None:
            raise XAIFailure(400, f"The web_search parameter {name} is not supported. Remove it and try again.")
    filters = reader.mapping(tool, "filters", path) or {}
    allowed = _strings(reader, tool, "allowed_domains", path) or _strings(reader, filters, "allowed_domains", path)
    excluded = _strings(reader, tool, "excluded_domains", path) or _strings(reader, filters, "excluded_domains", path)
    _check_source_filter(allowed, excluded, "domains", MAX_DOMAINS)
    domains = allowed or [d for d in DEFAULT_DOMAINS if d not in excluded]
    return Search("web_search", tuple(domains[:CITATIONS_PER_SEARCH]))


def _check_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise XAIFailure(400, f"Invalid {name} {value!r}: dates must be ISO 8601 (YYYY-MM-DD).") from None


def _x_search(reader: BodyReader, tool: dict[str, Any], path: str) -> Search:
    allowed = _strings(reader, tool, "allowed_x_handles", path)
    excluded = _strings(reader, tool, "excluded_x_handles", path)
    _check_source_filter(allowed, excluded, "x_handles", MAX_HANDLES)
    start = _check_date(reader.string(tool, "from_date", path), "from_date")
    end = _check_date(reader.string(tool, "to_date", path), "to_date")
    if start is not None and end is not None and start > end:
        raise XAIFailure(400, f"from_date {start.isoformat()} is after to_date {end.isoformat()}.")
    excluded_lower = {handle.lower().lstrip("@") for handle in excluded}
    handles = [h.lstrip("@") for h in allowed] or [h for h in DEFAULT_HANDLES if h.lower() not in excluded_lower]
    return Search("x_search", tuple(handles[:CITATIONS_PER_SEARCH]))


def read_tools(reader: BodyReader, body: dict[str, Any]) -> tuple[list[Search], list[dict[str, Any]]]:
    """Server-side searches to run and client functions offered; xAI's 400s for bad search filters."""
    searches: list[Search] = []
    functions: list[dict[str, Any]] = []
    for index, raw in enumerate(reader.array(body, "tools")):
        path = f"tools[{index}]"
        tool = reader.object(raw, path)
        kind = reader.required_variant(tool, "type", TOOL_TYPES, path)
        if kind == "web_search":
            searches.append(_web_search(reader, tool, path))
        elif kind == "x_search":
            searches.append(_x_search(reader, tool, path))
        elif kind == "function":
            reader.required_string(tool, "name", path)
            functions.append(tool)
    return searches, functions


def _read_format(reader: BodyReader, body: dict[str, Any]) -> OutputFormat:
    text = reader.mapping(body, "text") or {}
    spec = reader.mapping(text, "format", "text")
    if spec is None:
        return OutputFormat()
    kind = reader.required_variant(spec, "type", FORMAT_TYPES, "text.format")
    if kind != "json_schema":
        return OutputFormat(kind)
    reader.required_string(spec, "name", "text.format")
    return OutputFormat(kind, reader.mapping(spec, "schema", "text.format") or {})


def parse_request(exchange: Exchange) -> ResponseRequest:
    """Validate a Responses-API request as xAI does.

    Raises XAIFailure for everything xAI refuses (422, 400, 404, 410).
    """
    reader, body = exchange.reader, exchange.body
    name = reader.required_string(body, "model")
    if "input" not in body:
        raise reader.missing("", "input")
    turns = read_input(reader, body["input"])
    instructions = reader.string(body, "instructions")
    previous_id = reader.string(body, "previous_response_id")
    reasoning = reader.mapping(body, "reasoning") or {}
    requested = cast(Effort | None, reader.variant(reasoning, "effort", EFFORTS, "reasoning"))
    output = _read_format(reader, body)
    max_output_tokens = reader.integer(body, "max_output_tokens")
    store = body.get("store") is not False
    stream = reader.boolean(body, "stream")
    include = reader.array(body, "include")
    reject_live_search(body)
    searches, functions = read_tools(reader, body)
    model, redirected = resolve_language_model(
        exchange.state.catalog, name, exchange.config.retired_mode, exchange.key.team_id, endpoint="responses"
    )
    effort = effective_effort(model, requested, redirected)
    check_sampling_parameters(model, body)
    prompt = _conversation(exchange, turns, instructions, previous_id)
    check_prompt(model, prompt)
    return ResponseRequest(
        model=model,
        effort=effort,
        prompt=prompt,
        output=output,
        searches=searches,
        functions=functions,
        max_output_tokens=max_output_tokens,
        store=store,
        stream=stream,
        include_encrypted="reasoning.encrypted_content" in include,
        previous_response_id=previous_id,
    )


def _conversation(exchange: Exchange, turns: list[Turn], instructions: str | None, previous_id: str | None) -> Prompt:
    """The whole prompt: `instructions` or the turns of the stored `previous_id` response, then this input."""
    if instructions is not None and previous_id is not None:
        raise XAIFailure(400, "instructions cannot be combined with previous_response_id.")
    history: tuple[Turn, ...] = ()
    if previous_id is not None:
        stored = exchange.state.responses.get(previous_id)
        if stored is None or stored.owner != exchange.key.fingerprint:
            raise not_found(previous_id)
        history = stored.turns
    system = (Turn("system", instructions),) if instructions is not None else ()
    prompt = Prompt((*system, *history, *turns))
    if not prompt.turns:
        raise XAIFailure(400, "Bad data: input cannot be empty", code="400")
    return prompt


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:48].strip("-") or "result"


def _status_id(seed: str) -> int:
    return int.from_bytes(hashlib.blake2b(seed.encode("utf-8"), digest_size=7).digest(), "big")


def citation_urls(search: Search, query: str) -> list[str]:
    """The sources a simulated search cites, derived from the query and the tool's filters."""
    if search.tool == "web_search":
        return [f"https://{domain}/simulated/{_slug(query)}" for domain in search.sources]
    return [f"https://x.com/{handle}/status/{_status_id(handle + query)}" for handle in search.sources]


def _cited_text(answer: str, query: str, urls: list[str]) -> tuple[str, list[dict[str, object]]]:
    text = f"{answer} Simulated sources for “{query}”:"
    annotations: list[dict[str, object]] = []
    for number, url in enumerate(urls, start=1):
        marker = f"[[{number}]]({url})"
        text += " "
        annotations.append(
            {
                "type": "url_citation",
                "url": url,
                "title": str(number),
                "start_index": len(text),
                "end_index": len(text) + len(marker),
            }
        )
        text += marker
    return text, annotations


@dataclass(frozen=True)
class Outcome:
    """What the simulated model produced: output items, usage, and whether it ran out of tokens."""

    output: list[dict[str, object]]
    usage: Usage
    answer: str
    incomplete: bool


def run_model(exchange: Exchange, request: ResponseRequest, response_id: str) -> Outcome:
    """Run the simulated agent loop: searches, then a cited answer (or a client function call)."""
    prompt = request.prompt
    query = summarize(prompt.question, 12)
    reasoning = reasoning_tokens(request.effort)
    output = [_reasoning_item(request, response_id)] if reasoning else []
    urls: list[str] = []
    tool_counts: dict[str, int] = {}
    for index, search in enumerate(request.searches):
        output.append(_search_item(search, query, f"fc_{response_id}_{index}"))
        tool_counts[search.tool] = tool_counts.get(search.tool, 0) + 1
        urls += citation_urls(search, query)
    call = _function_call(request, prompt)
    answer, incomplete = "", False
    if call is not None:
        output.append(_function_call_item(call, f"fc_{response_id}_{len(request.searches)}"))
        completion = count_tokens(call.name + call.arguments)
    else:
        if request.max_output_tokens is not None:
            reasoning = min(reasoning, request.max_output_tokens)
        message, answer, incomplete = _message_item(exchange, request, query, urls, reasoning, f"msg_{response_id}")
        output.append(message)
        completion = count_tokens(answer)
    scope = exchange.cache_scope(request.model.id)
    usage = bill(
        request.model,
        text_tokens=prompt.text_tokens,
        image_tokens=prompt.image_tokens,
        cached_tokens=exchange.state.prompt_cache.cached_tokens(scope, prompt.segments()),
        completion_tokens=completion,
        reasoning_tokens=reasoning,
        server_tool_calls=tool_counts,
    )
    return Outcome(output, usage, answer, incomplete)


def _reasoning_item(request: ResponseRequest, response_id: str) -> dict[str, object]:
    encrypted = f"simulated-encrypted-reasoning-{response_id}" if request.include_encrypted else None
    return {
        "type": "reasoning",
        "id": f"rs_{response_id}",
        "status": "completed",
        "summary": [],
        "encrypted_content": encrypted,
    }


def _search_item(search: Search, query: str, item_id: str) -> dict[str, object]:
    return {
        "type": f"{search.tool}_call",
        "id": item_id,
        "name": search.tool,
        "arguments": json.dumps({"query": query}, ensure_ascii=False),
        "call_id": "",
        "status": "completed",
    }


def _function_call_item(call: SimulatedToolCall, item_id: str) -> dict[str, object]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "status": "completed",
    }


def _message_item(
    exchange: Exchange, request: ResponseRequest, query: str, urls: list[str], reasoning: int, item_id: str
) -> tuple[dict[str, object], str, bool]:
    """The assistant's message, its text, and whether it was cut at `max_output_tokens` (after `reasoning`)."""
    answer = write_answer(request.model, request.prompt, request.output, bad_json=exchange.structured_fault)
    annotations: list[dict[str, object]] = []
    if urls:
        answer, annotations = _cited_text(answer, query, urls)
    incomplete = False
    if request.max_output_tokens is not None:
        budget = request.max_output_tokens - reasoning
        if count_tokens(answer) > budget:
            answer, annotations, incomplete = truncate(answer, budget), [], True
    message: dict[str, object] = {
        "type": "message",
        "id": item_id,
        "role": "assistant",
        "status": "incomplete" if incomplete else "completed",
        "content": [{"type": "output_text", "text": answer, "logprobs": [], "annotations": annotations}],
    }
    return message, answer, incomplete


def _function_call(request: ResponseRequest, prompt: Prompt) -> SimulatedToolCall | None:
    if not request.functions or not prompt.awaits_answer_to_user:
        return None
    return call_function(request.functions[0], prompt, prompt.question)


def response_body(
    exchange: Exchange, request: ResponseRequest, outcome: Outcome, response_id: str, created: int
) -> dict[str, Any]:
    """The `response` object, shaped after real xAI output."""
    body = exchange.body
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "completed_at": int(time.time()),
        "model": request.model.id,
        "status": "incomplete" if outcome.incomplete else "completed",
        "output": outcome.output,
        "usage": outcome.usage.responses_json(),
        "reasoning": {"effort": request.effort, "summary": None} if request.model.is_reasoning else None,
        "text": {"format": body.get("text", {}).get("format") or {"type": "text"}},
        "tools": body.get("tools") or [],
        "tool_choice": body.get("tool_choice") or "auto",
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": request.previous_response_id,
        "store": request.store,
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": body.get("max_tool_calls"),
        "instructions": body.get("instructions"),
        "user": body.get("user"),
        "incomplete_details": {"reason": "max_output_tokens"} if outcome.incomplete else None,
        "error": None,
        "metadata": body.get("metadata") or {},
        "background": False,
        "service_tier": body.get("service_tier") or "default",
        "truncation": "disabled",
        "top_logprobs": 0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "prompt_cache_key": body.get("prompt_cache_key"),
        "safety_identifier": None,
    }


def stream_events(body: dict[str, Any]) -> list[SSEEvent]:
    """The Responses-API SSE events for a finished response (§6.4), ending with `[DONE]`."""
    events: list[SSEEvent] = []

    def emit(kind: str, **fields: object) -> None:
        events.append(SSEEvent.of({"type": kind, "sequence_number": len(events), **fields}, kind))

    pending: dict[str, object] = {**body, "status": "in_progress", "output": [], "usage": None}
    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    for index, item in enumerate(cast(list[dict[str, Any]], body["output"])):
        kind = str(item["type"])
        if kind == "message":
            started: dict[str, object] = {**item, "status": "in_progress", "content": []}
            emit("response.output_item.added", output_index=index, item=started)
            part = cast(dict[str, Any], item["content"][0])
            base: dict[str, object] = {"item_id": item["id"], "output_index": index, "content_index": 0}
            empty_part: dict[str, object] = {**part, "text": "", "annotations": []}
            emit("response.content_part.added", **base, part=empty_part)
            for piece in split_tokens(str(part["text"]), 4):
                emit("response.output_text.delta", **base, delta=piece)
            for number, annotation in enumerate(cast(list[object], part["annotations"])):
                emit(
                    "response.output_text.annotation.added",
                    **base,
                    annotation_index=number,
                    annotation=annotation,
                )
            emit("response.output_text.done", **base, text=part["text"])
            emit("response.content_part.done", **base, part=part)
        else:
            started = {**item, "status": "in_progress"}
            emit("response.output_item.added", output_index=index, item=started)
            if kind.endswith("_search_call"):
                for phase in ("in_progress", "searching", "completed"):
                    emit(f"response.{kind}.{phase}", output_index=index, item_id=item["id"])
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.completed", response=body)
    events.append(SSEEvent("[DONE]"))
    return events


async def create_response(exchange: Exchange) -> Response:
    """`POST /v1/responses`."""
    request = parse_request(exchange)
    response_id = exchange.request_id
    outcome = run_model(exchange, request, response_id)
    body = response_body(exchange, request, outcome, response_id, int(time.time()))
    answer = Turn("assistant", outcome.answer)
    turns = (*request.prompt.turns, answer)
    exchange.state.prompt_cache.remember(exchange.cache_scope(request.model.id), [turn.segment() for turn in turns])
    if request.store:
        exchange.state.responses[response_id] = StoredResponse(exchange.key.fingerprint, body, turns)
    usage = outcome.usage
    exchange.tokens_used = usage.prompt_tokens + usage.completion_tokens + usage.reasoning_tokens
    config = exchange.config
    if request.stream:
        exchange.ttft_ms = config.ttft_ms
        events = stream_events(body)
        return EventStream(events, ttft_ms=config.ttft_ms, chunk_ms=config.chunk_ms, fault=exchange.fault)
    await exchange.pause(config.latency_ms)
    return JSONResponse(body)


def _stored(exchange: Exchange) -> tuple[str, StoredResponse]:
    response_id = str(exchange.request.path_params["response_id"])
    stored = exchange.state.responses.get(response_id)
    if stored is None or stored.owner != exchange.key.fingerprint:
        raise not_found(response_id)
    return response_id, stored


async def get_response(exchange: Exchange) -> Response:
    """`GET /v1/responses/{id}`: the stored object, or 404."""
    response_id, stored = _stored(exchange)
    return JSONResponse(stored.body, headers={"x-request-id": response_id})


async def delete_response(exchange: Exchange) -> Response:
    """`DELETE /v1/responses/{id}`."""
    response_id, _ = _stored(exchange)
    del exchange.state.responses[response_id]
    return JSONResponse({"id": response_id, "object": "response", "deleted": True})
