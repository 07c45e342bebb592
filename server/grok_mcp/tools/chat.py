"""The `chat` and `chat_stream` tools: one question (or a whole message list) to Grok, whole or streamed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from grok_mcp.context import AppContext
from grok_mcp.conversation_history import estimate_tokens
from grok_mcp.errors import InputError
from grok_mcp.grok import ChatCompletion, ReasoningDelta, StreamEvent, TextDelta
from grok_mcp.routing import RouteNeeds
from grok_mcp.structured import Checked, check_answer, check_schema, repair_messages
from grok_mcp.structured import failure as structured_failure
from grok_mcp.tools.annotations import ASKS_GROK
from grok_mcp.tools.boundary import tool_call
from grok_mcp.tools.long_calls import job_started_result, run_long_call
from grok_mcp.tools.models import resolve_chat_model
from grok_mcp.tools.results import ChatResult, answer_facts, parsed_json, tool_result, with_notes
from grok_mcp.tools.scope import CallScope

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


@dataclass(frozen=True)
class ChatRequest:
    """The arguments `chat` and `chat_stream` share."""

    prompt: str | None
    messages: list[ChatMessage] | None
    model: str | None
    system: str | None
    temperature: float | None
    max_tokens: int | None
    reasoning_effort: str | None
    json_schema: dict[str, Any] | None
    cache: bool | None


async def prepare_chat(call: CallScope, request: ChatRequest) -> dict[str, Any]:
    """The Chat Completions body for a chat-like tool's arguments, with the model resolved and noted on
    the call. Raises InputError for unusable arguments."""
    built = build_messages(request.prompt, request.messages, request.system)
    if request.json_schema is not None:
        await check_schema(request.json_schema)
    needs = RouteNeeds(prompt_tokens=sum(estimate_tokens(str(m["content"])) for m in built))
    chosen = await resolve_chat_model(call.app, request.model, needs=needs, call=call)
    call.model = chosen
    return build_chat_body(
        model=chosen,
        messages=built,
        temperature=request.temperature,
        max_tokens=request.max_tokens,
        reasoning_effort=request.reasoning_effort,
        json_schema=request.json_schema,
    )


async def enforce_schema(
    call: CallScope, body: dict[str, Any], completion: ChatCompletion, schema: dict[str, Any] | None
) -> tuple[ChatCompletion, Any]:
    """With a schema, check the answer and, when it does not match, ask once more with what is wrong.

    Returns the completion to show and its parsed data (None without a schema). The failed first answer
    keeps its own ledger row. Raises StructuredOutputError when the repaired answer still does not match.
    """
    if schema is None:
        return completion, None
    checked = await _check_recorded(call, completion, schema)
    if checked.is_valid:
        return completion, checked.data
    await call.record_answer(completion)
    logger.info("The answer did not match the schema (%d problems); asking once more", len(checked.errors))
    repaired = await call.chat({**body, "messages": repair_messages(body["messages"], completion.text, checked)})
    rechecked = await _check_recorded(call, repaired, schema)
    if not rechecked.is_valid:
        await call.record_answer(repaired)
        raise structured_failure(rechecked)
    return repaired, rechecked.data


async def _check_recorded(call: CallScope, completion: ChatCompletion, schema: dict[str, Any]) -> Checked:
    """Check an answer against the schema; when the check itself fails (too slow), the paid answer is recorded."""
    try:
        return await check_answer(completion.text, schema)
    except InputError:
        await call.record_answer(completion)
        raise


async def shape_chat_result(
    call: CallScope,
    completion: ChatCompletion,
    *,
    wants_json: bool,
    started: float,
    images: int = 0,
    data: Any = None,
) -> CallToolResult:
    """Record the call in the ledger (unless the pipeline already did) and turn the completion into the tool's
    result. An answer from the cache is marked `cached`, costs nothing and says so."""
    cost = await call.record_answer(completion, images=images)
    if data is None:
        data = parsed_json(completion.text, wanted=wants_json)
    result = ChatResult(
        **answer_facts(completion, cost),
        simulated=call.app.answers_are_simulated,
        conversation_id=call.conversation_id,
        finish_reason=completion.finish_reason,
        latency_ms=round((time.monotonic() - started) * 1000, 1),
        data=data,
        route=call.route,
    )
    text = completion.text
    if completion.finish_reason == "length":
        text += "\n\n(The answer was cut off at max_tokens.)"
    text = with_notes(text, route=call.route, model=completion.model, cached=result.cached, simulated=result.simulated)
    return tool_result(text, result)


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
    request = ChatRequest(
        prompt, messages, model, system, temperature, max_tokens, reasoning_effort, json_schema, cache
    )
    started = time.monotonic()
    async with tool_call(ctx, "chat") as call:
        body = await prepare_chat(call, request)

        async def answer() -> CallToolResult:
            completion = await call.chat(body, cache=cache)
            return await _checked_result(call, body, completion, request, started)

        return await run_long_call(call, answer)


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
    request = ChatRequest(
        prompt, messages, model, system, temperature, max_tokens, reasoning_effort, json_schema, cache
    )
    started = time.monotonic()
    async with tool_call(ctx, "chat_stream") as call:
        body = await prepare_chat(call, request)
        progress = StreamProgress(ctx)

        async def answer() -> CallToolResult:
            completion = await call.chat_stream(body, cache=cache, on_delta=progress.on_delta)
            return await _checked_result(call, body, completion, request, started, progress)

        def as_job(job_id: str) -> CallToolResult:
            progress.detached = True  # the client has its answer (the job id): no more progress for this request
            return job_started_result(call, job_id)

        return await run_long_call(call, answer, started=as_job)


async def _checked_result(
    call: CallScope,
    body: dict[str, Any],
    completion: ChatCompletion,
    request: ChatRequest,
    started: float,
    progress: StreamProgress | None = None,
) -> CallToolResult:
    """The result of a whole answer, checked against the request's JSON Schema (repaired once) when it has one;
    a streamed answer's last progress notification goes out before the result."""
    completion, data = await enforce_schema(call, body, completion, request.json_schema)
    if progress is not None:
        await progress.finished(completion)
    return await shape_chat_result(
        call, completion, wants_json=request.json_schema is not None, started=started, data=data
    )


class StreamProgress:
    """chat_stream's progress notifications: the text so far (or how much Grok has thought), at most every
    PROGRESS_INTERVAL_S, until the call's client has its answer or a job id."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.received = ""
        self.thinking = 0
        self._last_sent = 0.0
        self.detached = False

    async def on_delta(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self.received += event.text
        elif isinstance(event, ReasoningDelta):
            self.thinking += len(event.text)
        now = time.monotonic()
        if not self.detached and now - self._last_sent >= PROGRESS_INTERVAL_S:
            self._last_sent = now
            message = self.received if self.received else f"Grok is thinking… ({self.thinking} characters of reasoning)"
            await self._ctx.report_progress(len(self.received) + self.thinking, None, message)

    async def finished(self, completion: ChatCompletion) -> None:
        """The last notification: the whole answer."""
        if not self.detached:
            total = len(completion.text) + self.thinking
            await self._ctx.report_progress(total, total, completion.text)


def register(server: MCPServer[AppContext]) -> None:
    """Add the chat tools to the server."""
    server.add_tool(chat, title="Ask Grok", annotations=ASKS_GROK)
    server.add_tool(chat_stream, title="Ask Grok (streamed)", annotations=ASKS_GROK)
