"""The `chat` and `chat_stream` tools: one question (or a whole message list) to Grok, whole or streamed."""

from __future__ import annotations

import json
import logging
import time
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from grok_mcp.calls import is_cached
from grok_mcp.context import AppContext
from grok_mcp.conversation_history import estimate_tokens
from grok_mcp.errors import InputError
from grok_mcp.grok import ChatCompletion, ReasoningDelta, StreamEvent, TextDelta
from grok_mcp.routing import RouteNeeds
from grok_mcp.store.units import ticks_to_usd
from grok_mcp.structured import check_answer, check_schema, repair_messages
from grok_mcp.structured import failure as structured_failure
from grok_mcp.tools.common import (
    CACHED_NOTE,
    SIMULATED_NOTE,
    ChatResult,
    TokenUsage,
    ToolCall,
    job_started_result,
    run_long_call,
    tool_call,
    tool_result,
)
from grok_mcp.tools.models import resolve_chat_model

logger = logging.getLogger(__name__)

ReasoningEffort = Literal["none", "low", "medium", "high", "xhigh"]

# How often chat_stream sends a progress notification at most; each one carries the text so far.
PROGRESS_INTERVAL_S = 0.1

CacheArgument = Annotated[
    bool | None,
    Field(
        description="Answer an identical earlier request from Grok MCP's cache at no cost (true), never (false), "
        "or as settings.toml's [cache] ttl_seconds says (omitted). Identical calls running at once share one "
        "request to xAI either way when caching is on."
    ),
]


class ChatMessage(BaseModel):
    """One message of a conversation."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str = Field(min_length=1)


PromptArgument = Annotated[str | None, Field(description="A single question or instruction for Grok.")]
MessagesArgument = Annotated[list[ChatMessage] | None, Field(description="A whole conversation instead of `prompt`.")]
ModelArgument = Annotated[
    str | None,
    Field(
        description="Model id or alias (see list_models), or `auto` / `auto:cheap` / `auto:fast` / `auto:best` "
        "to let Grok MCP pick by the request's needs; the configured default if omitted."
    ),
]
SystemArgument = Annotated[str | None, Field(description="System prompt.")]
TemperatureArgument = Annotated[float | None, Field(ge=0, le=2)]
MaxTokensArgument = Annotated[int | None, Field(ge=1, description="Cap on the visible answer's tokens.")]
ReasoningEffortArgument = Annotated[
    ReasoningEffort | None, Field(description="How hard reasoning models think; model-specific.")
]
JsonSchemaArgument = Annotated[
    dict[str, Any] | None, Field(description="A JSON Schema the answer must follow (structured output).")
]


def build_messages(prompt: str | None, messages: list[ChatMessage] | None, system: str | None) -> list[dict[str, Any]]:
    """The Chat Completions `messages` for a prompt or a message list, with an optional system prompt.

    Raises InputError when neither or both of prompt and messages are given.
    """
    if (prompt is None) == (messages is None):
        raise InputError("Give either `prompt` (one question) or `messages` (a conversation), not both or neither.")
    built: list[dict[str, Any]] = []
    if system:
        built.append({"role": "system", "content": system})
    if prompt is not None:
        if not prompt.strip():
            raise InputError("`prompt` is empty. Ask Grok something.")
        built.append({"role": "user", "content": prompt})
    else:
        assert messages is not None
        if not messages:
            raise InputError("`messages` is empty. Give at least one message with role `user`.")
        built.extend({"role": m.role, "content": m.content} for m in messages)
    return built


def build_chat_body(
    *,
    model: str,
    messages: list[dict[str, Any]],
    temperature: float | None,
    max_tokens: int | None,
    reasoning_effort: str | None,
    json_schema: dict[str, Any] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": messages}
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_completion_tokens"] = max_tokens
    if reasoning_effort is not None:
        body["reasoning_effort"] = reasoning_effort
    if json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": json_schema, "strict": True},
        }
    return body


async def prepare_chat(
    call: ToolCall,
    *,
    prompt: str | None,
    messages: list[ChatMessage] | None,
    model: str | None,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
    reasoning_effort: str | None,
    json_schema: dict[str, Any] | None,
) -> dict[str, Any]:
    """The Chat Completions body for a chat-like tool's arguments, with the model resolved and noted on
    the call. Raises InputError for unusable arguments."""
    built = build_messages(prompt, messages, system)
    if json_schema is not None:
        check_schema(json_schema)
    needs = RouteNeeds(prompt_tokens=sum(estimate_tokens(str(m["content"])) for m in built))
    chosen = await resolve_chat_model(call.app, model, needs=needs, call=call)
    call.model = chosen
    return build_chat_body(
        model=chosen,
        messages=built,
        temperature=temperature,
        max_tokens=max_tokens,
        reasoning_effort=reasoning_effort,
        json_schema=json_schema,
    )


async def enforce_schema(
    call: ToolCall, body: dict[str, Any], completion: ChatCompletion, schema: dict[str, Any] | None
) -> tuple[ChatCompletion, Any]:
    """With a schema, check the answer and, when it does not match, ask once more with what is wrong.

    Returns the completion to show and its parsed data (None without a schema). The failed first answer
    keeps its own ledger row. Raises StructuredOutputError when the repaired answer still does not match.
    """
    if schema is None:
        return completion, None
    checked = check_answer(completion.text, schema)
    if checked.is_valid:
        return completion, checked.data
    cost = 0 if is_cached(completion.call) else await call.cost_ticks(completion.model, completion.usage)
    await call.record(completion.call, model=completion.model, usage=completion.usage, cost_ticks=cost)
    logger.info("The answer did not match the schema (%d problems); asking once more", len(checked.errors))
    repaired = await call.chat({**body, "messages": repair_messages(body["messages"], completion.text, checked)})
    rechecked = check_answer(repaired.text, schema)
    if not rechecked.is_valid:
        cost = await call.cost_ticks(repaired.model, repaired.usage)
        await call.record(repaired.call, model=repaired.model, usage=repaired.usage, cost_ticks=cost)
        raise structured_failure(rechecked)
    return repaired, rechecked.data


async def shape_chat_result(
    call: ToolCall,
    completion: ChatCompletion,
    *,
    wants_json: bool,
    started: float,
    images: int = 0,
    data: Any = None,
) -> CallToolResult:
    """Record the call in the ledger (unless the pipeline already did) and turn the completion into the tool's
    result. An answer from the cache is marked `cached`, costs nothing and says so."""
    app = call.app
    cached = is_cached(completion.call)
    cost = 0 if cached else await call.cost_ticks(completion.model, completion.usage)
    await call.record(completion.call, model=completion.model, usage=completion.usage, cost_ticks=cost, images=images)
    if wants_json and data is None:
        try:
            data = json.loads(completion.text)
        except ValueError:
            data = None
    simulated = app.answers_are_simulated
    result = ChatResult(
        text=completion.text,
        model=completion.model,
        request_id=completion.call.request_id or completion.id,
        usage=TokenUsage.of(completion.usage),
        cost_usd=ticks_to_usd(cost),
        cached=cached,
        simulated=simulated,
        conversation_id=call.conversation_id,
        finish_reason=completion.finish_reason,
        latency_ms=round((time.monotonic() - started) * 1000, 1),
        data=data,
        route=call.route,
    )
    text = completion.text
    if completion.finish_reason == "length":
        text += "\n\n(The answer was cut off at max_tokens.)"
    if call.route:
        text += f"\n\n({call.route} Model: {completion.model}.)"
    if cached:
        text += "\n\n" + CACHED_NOTE
    if simulated:
        text += "\n\n" + SIMULATED_NOTE
    return tool_result(text, result)


def register(server: MCPServer[AppContext]) -> None:
    """Add the chat tools to the server."""

    @server.tool(
        title="Ask Grok",
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True, idempotent_hint=False),
    )
    async def chat(
        ctx: Context,
        prompt: PromptArgument = None,
        messages: MessagesArgument = None,
        model: ModelArgument = None,
        system: SystemArgument = None,
        temperature: TemperatureArgument = None,
        max_tokens: MaxTokensArgument = None,
        reasoning_effort: ReasoningEffortArgument = None,
        json_schema: JsonSchemaArgument = None,
        cache: CacheArgument = None,
    ) -> Annotated[CallToolResult, ChatResult]:
        """Ask Grok a question and get the whole answer, with its model, tokens and cost. A call still running
        after a while (45 s by default) returns a job id for job_result instead, and keeps running."""
        started = time.monotonic()
        async with tool_call(ctx, "chat") as call:
            body = await prepare_chat(
                call,
                prompt=prompt,
                messages=messages,
                model=model,
                system=system,
                temperature=temperature,
                max_tokens=max_tokens,
                reasoning_effort=reasoning_effort,
                json_schema=json_schema,
            )

            async def answer() -> CallToolResult:
                completion = await call.chat(body, cache=cache)
                completion, data = await enforce_schema(call, body, completion, json_schema)
                return await shape_chat_result(
                    call, completion, wants_json=json_schema is not None, started=started, data=data
                )

            return await run_long_call(call, answer)

    @server.tool(
        title="Ask Grok (streamed)",
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True, idempotent_hint=False),
    )
    async def chat_stream(
        ctx: Context,
        prompt: PromptArgument = None,
        messages: MessagesArgument = None,
        model: ModelArgument = None,
        system: SystemArgument = None,
        temperature: TemperatureArgument = None,
        max_tokens: MaxTokensArgument = None,
        reasoning_effort: ReasoningEffortArgument = None,
        json_schema: JsonSchemaArgument = None,
        cache: CacheArgument = None,
    ) -> Annotated[CallToolResult, ChatResult]:
        """Ask Grok and watch the answer arrive: the text so far comes as progress notifications while
        Grok writes; the result is the whole answer (at once, when it comes from the cache). A call still
        running after a while (45 s by default) returns a job id for job_result instead, and keeps running."""
        started = time.monotonic()
        async with tool_call(ctx, "chat_stream") as call:
            body = await prepare_chat(
                call,
                prompt=prompt,
                messages=messages,
                model=model,
                system=system,
                temperature=temperature,
                max_tokens=max_tokens,
                reasoning_effort=reasoning_effort,
                json_schema=json_schema,
            )
            received = ""
            thinking = 0
            last_sent = 0.0
            detached = False

            async def on_delta(event: StreamEvent) -> None:
                nonlocal received, thinking, last_sent
                if isinstance(event, TextDelta):
                    received += event.text
                elif isinstance(event, ReasoningDelta):
                    thinking += len(event.text)
                now = time.monotonic()
                if not detached and now - last_sent >= PROGRESS_INTERVAL_S:
                    last_sent = now
                    message = received if received else f"Grok is thinking… ({thinking} characters of reasoning)"
                    await ctx.report_progress(len(received) + thinking, None, message)

            async def answer() -> CallToolResult:
                completion = await call.chat_stream(body, cache=cache, on_delta=on_delta)
                completion, data = await enforce_schema(call, body, completion, json_schema)
                if not detached:
                    total = len(completion.text) + thinking
                    await ctx.report_progress(total, total, completion.text)
                return await shape_chat_result(
                    call, completion, wants_json=json_schema is not None, started=started, data=data
                )

            def as_job(job_id: str) -> CallToolResult:
                nonlocal detached
                detached = True  # the client has its answer (the job id): no more progress for this request
                return job_started_result(call, job_id)

            return await run_long_call(call, answer, started=as_job)
