"""`POST /v1/chat/completions` (plain, streamed and deferred) and `GET /v1/chat/deferred-completion/{id}`."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, cast

from starlette.responses import JSONResponse, Response

from grok_mcp.simulator.catalog import EFFORTS, Effort, LanguageModel
from grok_mcp.simulator.gateway import Exchange
from grok_mcp.simulator.policy import (
    check_prompt,
    check_sampling_parameters,
    effective_effort,
    reject_live_search,
    resolve_language_model,
)
from grok_mcp.simulator.prompt import Prompt, Turn
from grok_mcp.simulator.replies import (
    answer_text,
    broken_json,
    json_object_text,
    json_schema_text,
    reasoning_text,
    summarize,
)
from grok_mcp.simulator.schema_fill import fill
from grok_mcp.simulator.state import DeferredJob
from grok_mcp.simulator.streaming import EventStream, SSEEvent
from grok_mcp.simulator.tokenizer import count_tokens, split_tokens, truncate
from grok_mcp.simulator.usage import Usage, bill, reasoning_tokens
from grok_mcp.simulator.wire import BodyReader, XAIFailure

ROLES = ("system", "user", "assistant", "tool", "function", "developer")
PART_TYPES = ("text", "image_url", "file", "text_file")
DETAILS = ("auto", "low", "high")
FORMAT_TYPES = ("text", "json_object", "json_schema")
TOKENS_PER_CHUNK = 4
MAX_CHOICES = 8


@dataclass(frozen=True)
class SimulatedToolCall:
    """A client-side function call the simulated model makes."""

    id: str
    name: str
    arguments: str

    def to_json(self, index: int | None = None) -> dict[str, object]:
        body: dict[str, object] = {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }
        return body if index is None else {"index": index} | body


@dataclass(frozen=True)
class Choice:
    """One answer: visible text, optional thinking and tool calls, and why it stopped."""

    content: str
    finish_reason: str
    reasoning: str | None = None
    tool_calls: tuple[SimulatedToolCall, ...] = ()

    @property
    def completion_tokens(self) -> int:
        calls = sum(count_tokens(call.name + call.arguments) for call in self.tool_calls)
        return count_tokens(self.content) + calls


@dataclass(frozen=True)
class OutputFormat:
    """What shape the visible answer must have."""

    kind: str = "text"
    schema: dict[str, Any] = field(default_factory=dict[str, Any])


def read_turns(reader: BodyReader, messages: list[Any]) -> Prompt:
    """The chat `messages` as turns; 422 text/plain for anything that does not deserialize."""
    turns: list[Turn] = []
    for index, raw in enumerate(messages):
        path = f"messages[{index}]"
        message = reader.object(raw, path)
        role = reader.required_variant(message, "role", ROLES, path)
        content = message.get("content")
        text, details = ("", ()) if content is None else reader.message_content(content, path, PART_TYPES, _read_part)
        extra = json.dumps([message.get("tool_calls"), message.get("tool_call_id")], sort_keys=True)
        turns.append(Turn(role, text, details, extra))
    return Prompt(tuple(turns))


def _read_part(reader: BodyReader, part: dict[str, Any], kind: str, path: str) -> tuple[str | None, str | None]:
    """One chat content part: its text, or its image's detail level (a file part adds neither)."""
    if kind in ("text", "text_file"):
        return reader.string(part, "text", path) or "", None
    if kind == "image_url":
        image = reader.required_mapping(part, "image_url", path)
        reader.required_string(image, "url", f"{path}.image_url")
        return None, reader.variant(image, "detail", DETAILS, f"{path}.image_url") or "auto"
    return None, None


def read_format(reader: BodyReader, body: dict[str, Any]) -> OutputFormat:
    response_format = reader.mapping(body, "response_format")
    if response_format is None:
        return OutputFormat()
    kind = reader.required_variant(response_format, "type", FORMAT_TYPES, "response_format")
    if kind != "json_schema":
        return OutputFormat(kind)
    spec = reader.required_mapping(response_format, "json_schema", "response_format")
    reader.required_string(spec, "name", "response_format.json_schema")
    schema = reader.mapping(spec, "schema", "response_format.json_schema") or {}
    return OutputFormat(kind, schema)


def _call_id(seed: str) -> str:
    digest = hashlib.blake2b(seed.encode("utf-8"), digest_size=8).digest()
    return f"call_{int.from_bytes(digest, 'big') % 100_000_000:08d}"


def choose_tool_call(
    reader: BodyReader, tools: list[Any], tool_choice: object, prompt: Prompt, request_seed: str
) -> SimulatedToolCall | None:
    """The function the model calls, if any: the named one, or the first one when the user just spoke."""
    functions: list[dict[str, Any]] = []
    for index, raw in enumerate(tools):
        tool = reader.object(raw, f"tools[{index}]")
        reader.variant(tool, "type", ("function",), f"tools[{index}]")
        function = reader.required_mapping(tool, "function", f"tools[{index}]")
        reader.required_string(function, "name", f"tools[{index}].function")
        functions.append(function)
    if not functions or tool_choice == "none":
        return None
    chosen = functions[0]
    if isinstance(tool_choice, dict):
        wanted = cast(dict[str, Any], cast(dict[str, Any], tool_choice).get("function") or {}).get("name")
        matches = [f for f in functions if f.get("name") == wanted]
        if not matches:
            raise XAIFailure(400, f"tool_choice names a function that is not in tools: {wanted}")
        chosen = matches[0]
    elif tool_choice != "required" and not prompt.awaits_answer_to_user:
        return None
    return call_function(chosen, prompt, request_seed)


def call_function(function: dict[str, Any], prompt: Prompt, seed: str) -> SimulatedToolCall:
    """The model's call of `function`: arguments filled from its schema and the question, an id derived from `seed`."""
    parameters = function.get("parameters")
    schema = cast(dict[str, Any], parameters) if isinstance(parameters, dict) else {"type": "object"}
    arguments = json.dumps(fill(schema, summarize(prompt.question, 8)), ensure_ascii=False)
    name = str(function["name"])
    return SimulatedToolCall(_call_id(f"{seed}:{name}"), name, arguments)


def write_answer(model: LanguageModel, prompt: Prompt, output: OutputFormat, *, bad_json: bool, choice: int = 0) -> str:
    """The visible answer in the requested shape; with `bad_json`, structured output arrives as broken JSON."""
    question = prompt.question
    if output.kind == "text":
        return answer_text(model.id, question, images=prompt.images, tool_result=prompt.tool_result, choice=choice)
    if output.kind == "json_schema":
        text = json_schema_text(output.schema, question)
    else:
        text = json_object_text(model.id, question)
    return broken_json(text) if bad_json else text


def compose_choice(
    model: LanguageModel,
    prompt: Prompt,
    output: OutputFormat,
    *,
    index: int,
    max_tokens: int | None,
    tool_call: SimulatedToolCall | None,
    bad_json: bool,
) -> Choice:
    """The deterministic answer for one choice."""
    reasoning = reasoning_text(model.id, prompt.question) if model.shows_reasoning else None
    if tool_call is not None:
        return Choice("", "tool_calls", reasoning, (tool_call,))
    text = write_answer(model, prompt, output, bad_json=bad_json, choice=index)
    if max_tokens is not None and count_tokens(text) > max_tokens:
        return Choice(truncate(text, max_tokens), "length", reasoning)
    return Choice(text, "stop", reasoning)


def answer_turn(choice: Choice) -> Turn:
    """The assistant message as a client sends it back in the next request (for the prompt cache)."""
    calls = [call.to_json() for call in choice.tool_calls] or None
    return Turn("assistant", choice.content, (), json.dumps([calls, None], sort_keys=True))


@dataclass(frozen=True)
class ChatPlan:
    """Everything decided about a chat request before anything is sent."""

    model: LanguageModel
    choices: list[Choice]
    usage: Usage
    stream: bool
    include_usage: bool
    deferred: bool


def plan_chat(exchange: Exchange) -> ChatPlan:
    """Validate a chat request as xAI does and decide the answer and its usage.

    Raises XAIFailure for everything xAI refuses (422, 400, 404, 410).
    """
    reader, body = exchange.reader, exchange.body
    name = reader.required_string(body, "model")
    messages = reader.array(body, "messages", required=True)
    prompt = read_turns(reader, messages)
    requested_effort = cast(Effort | None, reader.variant(body, "reasoning_effort", EFFORTS))
    output = read_format(reader, body)
    n = reader.integer(body, "n") or 1
    max_tokens = reader.integer(body, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = reader.integer(body, "max_tokens")
    stream = reader.boolean(body, "stream")
    stream_options = reader.mapping(body, "stream_options") or {}
    include_usage = reader.boolean(stream_options, "include_usage", "stream_options")
    deferred = reader.boolean(body, "deferred")
    tools = reader.array(body, "tools")
    reject_live_search(body)
    model, redirected = resolve_language_model(
        exchange.state.catalog, name, exchange.config.retired_mode, exchange.key.team_id, endpoint="chat"
    )
    if not messages:
        raise XAIFailure(400, "Bad data: Messages cannot be empty", code="400")
    effort = effective_effort(model, requested_effort, redirected)
    check_sampling_parameters(model, body)
    if not 1 <= n <= MAX_CHOICES:
        raise XAIFailure(400, f"n must be between 1 and {MAX_CHOICES}, but {n} was provided.")
    check_prompt(model, prompt)
    tool_call = choose_tool_call(reader, tools, body.get("tool_choice", "auto"), prompt, reader.raw)
    choices = [
        compose_choice(
            model,
            prompt,
            output,
            index=i,
            max_tokens=max_tokens,
            tool_call=tool_call,
            bad_json=exchange.structured_fault,
        )
        for i in range(n)
    ]
    usage = _billed(exchange, model, prompt, choices, reasoning_tokens(effort) * n)
    return ChatPlan(model, choices, usage, stream, include_usage, deferred)


def _billed(exchange: Exchange, model: LanguageModel, prompt: Prompt, choices: list[Choice], reasoning: int) -> Usage:
    """The usage of the answer, with the prompt's cached prefix; the first choice extends the cache."""
    cache_scope = exchange.cache_scope(model.id)
    cached = exchange.state.prompt_cache.cached_tokens(cache_scope, prompt.segments())
    exchange.state.prompt_cache.remember(cache_scope, [*prompt.segments(), answer_turn(choices[0]).segment()])
    return bill(
        model,
        text_tokens=prompt.text_tokens,
        image_tokens=prompt.image_tokens,
        cached_tokens=cached,
        completion_tokens=sum(choice.completion_tokens for choice in choices),
        reasoning_tokens=reasoning,
    )


def completion_body(plan: ChatPlan, request_id: str, created: int) -> dict[str, object]:
    """The `chat.completion` object."""
    choices: list[dict[str, object]] = []
    for index, choice in enumerate(plan.choices):
        message: dict[str, object] = {"role": "assistant", "content": choice.content, "refusal": None}
        if choice.reasoning is not None:
            message["reasoning_content"] = choice.reasoning
        if choice.tool_calls:
            message["tool_calls"] = [call.to_json() for call in choice.tool_calls]
        choices.append({"index": index, "message": message, "finish_reason": choice.finish_reason})
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": created,
        "model": plan.model.id,
        "choices": choices,
        "usage": plan.usage.chat_json(),
        "system_fingerprint": plan.model.fingerprint,
    }


def _delta(name: str, value: object) -> dict[str, object]:
    return {name: value}


def stream_events(plan: ChatPlan, request_id: str, created: int) -> list[SSEEvent]:
    """The chunks of a streamed completion, `[DONE]` included."""

    def chunk(choices: list[dict[str, object]], **extra: object) -> SSEEvent:
        return SSEEvent.of(
            {
                "id": request_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": plan.model.id,
                "choices": choices,
                **extra,
                "system_fingerprint": plan.model.fingerprint,
            }
        )

    events: list[SSEEvent] = []
    for index, choice in enumerate(plan.choices):
        deltas: list[dict[str, object]] = []
        if choice.reasoning:
            deltas += [_delta("reasoning_content", p) for p in split_tokens(choice.reasoning, TOKENS_PER_CHUNK)]
        deltas += [_delta("content", piece) for piece in split_tokens(choice.content, TOKENS_PER_CHUNK)]
        if choice.tool_calls:
            deltas.append({"tool_calls": [call.to_json(i) for i, call in enumerate(choice.tool_calls)]})
        if not deltas:
            deltas.append({"content": ""})
        deltas[0] = {"role": "assistant"} | deltas[0]
        events += [chunk([{"index": index, "delta": delta}]) for delta in deltas]
        events.append(chunk([{"index": index, "delta": {}, "finish_reason": choice.finish_reason}]))
    if plan.include_usage:
        events.append(chunk([], usage=plan.usage.chat_json()))
    events.append(SSEEvent("[DONE]"))
    return events


async def chat_completions(exchange: Exchange) -> Response:
    """`POST /v1/chat/completions`."""
    plan = plan_chat(exchange)
    config = exchange.config
    created = int(time.time())
    exchange.tokens_used = plan.usage.prompt_tokens + plan.usage.completion_tokens + plan.usage.reasoning_tokens
    if plan.deferred:
        body = completion_body(plan, exchange.request_id, created)
        ready_at = time.monotonic() + config.latency_ms / 1000
        exchange.state.deferred[exchange.request_id] = DeferredJob(exchange.key.fingerprint, body, ready_at)
        return JSONResponse({"request_id": exchange.request_id})
    if plan.stream:
        events = stream_events(plan, exchange.request_id, created)
        exchange.ttft_ms = config.ttft_ms
        e2e = config.ttft_ms + config.chunk_ms * (len(events) - 1)
        return EventStream(
            events,
            ttft_ms=config.ttft_ms,
            chunk_ms=config.chunk_ms,
            fault=exchange.fault,
            headers={"x-metrics-e2e-ms": f"{e2e:.1f}"},
        )
    await exchange.pause(config.latency_ms)
    return JSONResponse(completion_body(plan, exchange.request_id, created))


async def deferred_completion(exchange: Exchange) -> Response:
    """`GET /v1/chat/deferred-completion/{request_id}`: 202 while pending, 200 once, then 404."""
    request_id = str(exchange.request.path_params["request_id"])
    job = exchange.state.deferred.get(request_id)
    if job is None or job.owner != exchange.key.fingerprint:
        raise XAIFailure(404, f"Deferred completion with request_id={request_id} not found")
    job.polls += 1
    headers = {"x-request-id": request_id}
    if job.polls == 1 or time.monotonic() < job.ready_at:
        return Response(status_code=202, headers=headers)
    del exchange.state.deferred[request_id]
    return JSONResponse(job.body, headers=headers)
