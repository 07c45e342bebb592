"""What every tool shares: the call boundary (ledger row, error mapping, draining), the way every paid upstream
call goes through the call pipeline (grok_mcp.calls: budget, cache, single-flight, jobs) and the result shapes."""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from grok_mcp.calls import DEFAULT_CACHE_TTL_S, Detached, WorkCancelledError, cache_key, check_budget, is_cached
from grok_mcp.calls.cache import (
    cached_completion,
    cached_response,
    decode_completion,
    decode_response,
    encode_completion,
    encode_response,
)
from grok_mcp.calls.jobs import running_as_job
from grok_mcp.context import AppContext
from grok_mcp.errors import StreamInterruptedError, UpstreamCall, UserFacingError, XAIError
from grok_mcp.grok import ChatCompletion, ImageGeneration, ResponseResult, StreamDone, StreamEvent, Usage
from grok_mcp.store import RequestRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")

CHAT_ENDPOINT = "chat/completions"
RESPONSES_ENDPOINT = "responses"
CALL_JOB_KIND = "chat"
"""Job ids of chat-like calls that outlived the job threshold: `chat:<uuid>`."""

CACHED_NOTE = "(Answered from Grok MCP's cache at no cost: an identical request was answered earlier.)"


SIMULATED_NOTE = (
    "(Simulated answer: Grok MCP is in demo mode. Store an xAI key with `grok-mcp keys set` for real answers.)"
)


class TokenUsage(BaseModel):
    """Tokens of one call, in xAI's accounting (cached is part of prompt; reasoning is billed as output)."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def of(cls, usage: Usage | None) -> TokenUsage:
        if usage is None:
            return cls()
        return cls(
            prompt_tokens=usage.prompt_tokens,
            cached_tokens=usage.cached_tokens,
            completion_tokens=usage.completion_tokens,
            reasoning_tokens=usage.reasoning_tokens,
        )


class ChatResult(BaseModel):
    """A chat-like answer (DESIGN.md §3: the fields every chat-like result carries)."""

    text: str = Field(description="The answer.")
    model: str = Field(description="The canonical model id that answered (aliases resolved by xAI).")
    request_id: str | None = Field(description="xAI's request id, for support and the usage ledger.")
    usage: TokenUsage
    cost_usd: float = Field(description="What this call cost, in US dollars.")
    cached: bool = Field(default=False, description="True when answered from Grok MCP's cache at no cost.")
    simulated: bool = Field(default=False, description="True when the simulator answered (demo mode).")
    conversation_id: str | None = None
    finish_reason: str | None = None
    latency_ms: float = 0.0
    data: Any | None = Field(default=None, description="The parsed JSON answer when a json_schema was given.")
    route: str | None = Field(default=None, description="Why `model: auto` picked this model, when it did.")
    job_id: str | None = Field(
        default=None,
        description="Set when the call is still running as a job: pass it to job_result for the answer.",
    )


def app_context(ctx: Context) -> AppContext:
    return cast(AppContext, ctx.request_context.lifespan_context)


def client_name(ctx: Context) -> str | None:
    """The MCP client's own name (e.g. "claude-ai"), when it told us."""
    try:
        params = ctx.session.client_params
    except Exception:  # no session outside a request, or a transport without one
        return None
    if params is None:
        return None
    return params.client_info.name or None


def tool_result(text: str, structured: BaseModel, extra: list[ContentBlock] | None = None) -> CallToolResult:
    """A result whose text is for people and whose structuredContent is for programs."""
    content: list[ContentBlock] = [TextContent(type="text", text=text)]
    content.extend(extra or [])
    return CallToolResult(content=content, structured_content=structured.model_dump(mode="json"))


@dataclass
class ToolCall:
    """One running tool call: sends its paid upstream calls through the call pipeline and records every
    upstream call it makes in the usage ledger (once each, however many places ask)."""

    app: AppContext
    tool: str
    client: str | None
    model: str | None = None
    conversation_id: str | None = None
    route: str | None = None  # why `model: auto` picked the model, when it did
    started: float = field(default_factory=time.monotonic)
    upstream_ms: float = 0.0
    store_ms: float = 0.0
    recorded: list[RequestRecord] = field(default_factory=list[RequestRecord])
    _seen: dict[int, UpstreamCall] = field(default_factory=dict[int, UpstreamCall], repr=False)

    async def cost_ticks(self, model: str, usage: Usage | None) -> int:
        """xAI's billed cost when it sent one, else computed from the live catalog's prices."""
        if usage is None:
            return 0
        if usage.cost_ticks is not None:
            return usage.cost_ticks
        return await self.app.catalog.cost_ticks(model, usage)

    async def record(
        self,
        call: UpstreamCall,
        *,
        model: str | None,
        usage: Usage | None = None,
        cost_ticks: int = 0,
        images: int = 0,
        error: str | None = None,
        cached: bool = False,
        prompt: Any = None,
        answer: str | None = None,
    ) -> None:
        """Write the ledger row (and request-log line) of one upstream exchange; a second call for the same
        exchange does nothing.

        An answer served from the cache (or shared by another call's request) gets a row flagged `cached`
        with no tokens and no cost. `prompt` and `answer` reach the request log only when the user opted in
        to content logging. Never raises: a row that cannot be written is logged.
        """
        if self._seen.get(id(call)) is call:
            return
        self._seen[id(call)] = call
        if cached or is_cached(call):
            cached, usage, cost_ticks = True, None, 0
        record = RequestRecord(
            id=call.request_id,
            ts=time.time(),
            tool=self.tool,
            model=model,
            endpoint=call.endpoint,
            status=call.status or 0,
            error=error,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            cached_tokens=usage.cached_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            reasoning_tokens=usage.reasoning_tokens if usage else 0,
            images=images,
            cost_ticks=cost_ticks,
            latency_ms=call.latency_ms,
            ttft_ms=call.ttft_ms,
            client=self.client,
            transport=self.app.settings.transport,
            conversation_id=self.conversation_id,
            cached=cached,
        )
        self.recorded.append(record)
        if not cached:
            self.upstream_ms += call.latency_ms
        began = time.monotonic()
        try:
            # The row is durable before the answer goes out (a crash right after answering loses nothing).
            # Usually the write needs no waiting and takes less time than a trip to a worker thread would.
            if self.app.store.record_request_if_free(record):
                self._log_request(record, prompt, answer)
            else:
                await anyio.to_thread.run_sync(self._write, record, prompt, answer)
        except Exception:
            # The answer matters more than its ledger row; the failure is logged with its cause.
            logger.exception("Could not write the usage ledger row for %s", self.tool)
        self.store_ms += (time.monotonic() - began) * 1000
        if self.app.metrics is not None:
            self.app.metrics.observe_upstream(record)

    def _write(self, record: RequestRecord, prompt: Any, answer: str | None) -> None:
        """The ledger row and the request-log line, in one trip to a worker thread."""
        self.app.store.record_request(record)
        self._log_request(record, prompt, answer)

    def _log_request(self, record: RequestRecord, prompt: Any, answer: str | None) -> None:
        if self.app.request_log is not None:
            try:
                self.app.request_log.write(record, prompt=prompt, answer=answer)
            except OSError as exc:
                logger.warning("Could not write the request log: %s", exc.strerror)

    def log_timings(self) -> None:
        """At DEBUG, one line saying where this call's time went (--debug traces)."""
        total = (time.monotonic() - self.started) * 1000
        other = max(0.0, total - self.upstream_ms - self.store_ms)
        logger.debug(
            "%s timings: total %.1f ms = upstream %.1f ms (%d call(s)) + ledger %.1f ms + other %.1f ms "
            "(queueing, model choice, budget, shaping)",
            self.tool,
            total,
            self.upstream_ms,
            len([r for r in self.recorded if not r.cached]),
            self.store_ms,
            other,
        )

    # ------------------------------------------------------------------ the call pipeline (grok_mcp.calls)

    def cache_ttl(self, cache: bool | None, *, by_default: bool = True) -> float | None:
        """How long this call's answer may be cached, or None when it must not touch the cache.

        `cache` True asks for it (settings' TTL, else DEFAULT_CACHE_TTL_S); False forbids it; None follows
        settings.toml's [cache] ttl_seconds when `by_default` (tools whose answers go stale pass False).
        """
        ttl = self.app.settings.cache_ttl_s
        if cache is False:
            return None
        if cache is None:
            return ttl if by_default and ttl > 0 else None
        return ttl if ttl > 0 else DEFAULT_CACHE_TTL_S

    async def guard_budget(self) -> None:
        """Refuse to start a paid call past the daily or monthly budget (no upstream request, no ledger row).

        Raises BudgetExceededError naming the limit and the spend so far.
        """
        settings = self.app.settings
        if settings.daily_budget_usd is None and settings.monthly_budget_usd is None:
            return
        now = self.app.pipeline.now()
        await anyio.to_thread.run_sync(lambda: check_budget(settings, self.app.store, now=now, tool=self.tool))

    async def chat(self, body: dict[str, Any], *, cache: bool | None = False, images: int = 0) -> ChatCompletion:
        """A chat completion through the pipeline: budget, then cache and single-flight when cacheable.

        The upstream call gets its ledger row here (even if this caller is cancelled meanwhile); an answer
        from the cache or another call's identical request comes back marked cached and free. Raises
        BudgetExceededError, and the XAIError subclasses of GrokClient.chat.
        """

        async def fetch() -> ChatCompletion:
            return await self._recorded_chat(self.app.grok.chat(body), body=body, images=images)

        return await self._chat_through_pipeline(body, cache, fetch)

    async def chat_stream(
        self,
        body: dict[str, Any],
        *,
        cache: bool | None = False,
        on_delta: Callable[[StreamEvent], Awaitable[None]] | None = None,
    ) -> ChatCompletion:
        """A streamed chat completion through the pipeline; `on_delta` sees each text or reasoning delta.

        An answer from the cache or another call's identical stream arrives whole, with no deltas.
        Raises BudgetExceededError, StreamInterruptedError and the XAIError subclasses of GrokClient.chat.
        """

        async def consume() -> ChatCompletion:
            reporting = on_delta is not None
            async for event in self.app.grok.chat_stream(body):
                if isinstance(event, StreamDone):
                    return event.completion
                if reporting and on_delta is not None:
                    try:
                        await on_delta(event)
                    except Exception:  # the caller went away (a cancelled leader): the stream goes on
                        logger.debug("progress for %s could not be sent; streaming on", self.tool, exc_info=True)
                        reporting = False
            # The client raises before this; a guard against a silent end.
            raise StreamInterruptedError("xAI's stream ended without an answer. Try again.")

        async def fetch() -> ChatCompletion:
            return await self._recorded_chat(consume(), body=body)

        return await self._chat_through_pipeline(body, cache, fetch)

    async def _chat_through_pipeline(
        self, body: dict[str, Any], cache: bool | None, fetch: Callable[[], Awaitable[ChatCompletion]]
    ) -> ChatCompletion:
        """Chat completions, plain or streamed, share one cache entry kind and one pipeline route."""
        return await self._through_pipeline(
            CHAT_ENDPOINT,
            body,
            self.cache_ttl(cache),
            fetch,
            encode_completion,
            decode_completion,
            cached_completion,
        )

    async def responses(self, body: dict[str, Any], *, cache: bool | None = False) -> ResponseResult:
        """A Responses API call through the pipeline (budget; cache and single-flight when cacheable).

        Raises BudgetExceededError and the XAIError subclasses of GrokClient.responses.
        """

        async def fetch() -> ResponseResult:
            try:
                response = await self.app.grok.responses(body)
            except XAIError as exc:
                await self._record_failure(exc, prompt=body.get("input"))
                raise
            cost = await self.cost_ticks(response.model, response.usage)
            await self.record(
                response.call,
                model=response.model,
                usage=response.usage,
                cost_ticks=cost,
                prompt=body.get("input"),
                answer=response.text,
            )
            return response

        return await self._through_pipeline(
            RESPONSES_ENDPOINT,
            body,
            self.cache_ttl(cache, by_default=False),
            fetch,
            encode_response,
            decode_response,
            cached_response,
        )

    async def generate_images(self, body: dict[str, Any]) -> ImageGeneration:
        """An image generation, after the budget check (never cached: each image is new).

        Raises BudgetExceededError and the XAIError subclasses of GrokClient.generate_images.
        """
        await self.guard_budget()
        return await self.app.grok.generate_images(body)

    async def _recorded_chat(
        self, pending: Awaitable[ChatCompletion], *, body: dict[str, Any], images: int = 0
    ) -> ChatCompletion:
        prompt = body.get("messages")
        try:
            completion = await pending
        except XAIError as exc:
            await self._record_failure(exc, prompt=prompt)
            raise
        cost = await self.cost_ticks(completion.model, completion.usage)
        await self.record(
            completion.call,
            model=completion.model,
            usage=completion.usage,
            cost_ticks=cost,
            images=images,
            prompt=prompt,
            answer=completion.text,
        )
        return completion

    async def _record_failure(self, exc: XAIError, *, prompt: Any = None) -> None:
        if exc.call is not None:
            await self.record(
                exc.call,
                model=self.model,
                cost_ticks=exc.call.cost_ticks,
                error=f"{type(exc).__name__}: {exc}",
                prompt=prompt,
            )

    async def _through_pipeline(
        self,
        endpoint: str,
        body: Mapping[str, Any],
        ttl_s: float | None,
        fetch: Callable[[], Awaitable[T]],
        encode: Callable[[T], str],
        decode: Callable[[str, str], T | None],
        share: Callable[[T, str], T],
    ) -> T:
        pipeline = self.app.pipeline
        store = self.app.store
        if ttl_s is None:
            await self.guard_budget()
            return await fetch()
        await pipeline.key_ready()
        key = cache_key(pipeline.key_scope(), endpoint, body)
        flight = pipeline.flights.find(key)
        if flight is None:
            now = pipeline.now()
            entry = await anyio.to_thread.run_sync(lambda: store.cached_response_at(key, now=now))
            hit = decode(entry, endpoint) if entry is not None else None
            if hit is not None:
                return hit
            flight = pipeline.flights.find(key)
        if flight is None:
            await self.guard_budget()
            flight = pipeline.flights.find(key)
        is_leader = flight is None

        async def fly() -> T:
            result = await fetch()
            try:
                entry = encode(result)
                now = pipeline.now()
                await anyio.to_thread.run_sync(lambda: store.cache_response_at(key, entry, now=now, ttl_s=ttl_s))
            except Exception:  # an answer that cannot be cached is still an answer
                logger.exception("Could not cache the answer of %s", self.tool)
            return result

        if flight is None:
            host = pipeline.host
            if host is None:  # no long-lived task group (not served by open_app_context): run inline
                return await fly()
            flight = pipeline.flights.start(host, key, fly, ttl_s=ttl_s)
        try:
            result = cast(T, await flight.wait())
        except XAIError as exc:
            if is_leader:
                raise
            raise _unrecorded(exc) from None
        except WorkCancelledError:
            raise UserFacingError(
                "An identical request this call was waiting for was cancelled (the server is stopping). Try again."
            ) from None
        return result if is_leader else share(result, endpoint)


def _unrecorded(exc: XAIError) -> XAIError:
    """The same error for a call that shared another's request: its ledger row belongs to that call."""
    clone = copy.copy(exc)
    clone.call = None
    return clone


@asynccontextmanager
async def tool_call(ctx: Context, tool: str) -> AsyncGenerator[ToolCall]:
    """The boundary of one tool call.

    Refuses new calls while the server drains for shutdown, writes a ledger row for an upstream
    failure, and turns every world-fault error into a ToolError whose text tells the user what to do.
    Our own bugs are logged with their traceback and reported without internals.
    """
    app = app_context(ctx)
    if app.inflight.is_draining:
        raise ToolError("Grok MCP is shutting down and takes no new calls. Try again in a moment.")
    call = ToolCall(app=app, tool=tool, client=client_name(ctx))
    scope = anyio.CancelScope()
    app.inflight.enter(scope)
    ok = False
    try:
        with scope:
            yield call
        if scope.cancelled_caught:
            raise ToolError("Grok MCP was shut down before this call finished. Try again when it is back.")
        ok = True
    except XAIError as exc:
        if exc.call is not None:
            await call.record(
                exc.call,
                model=call.model,
                cost_ticks=exc.call.cost_ticks,
                error=f"{type(exc).__name__}: {exc}",
            )
        raise ToolError(str(exc)) from None
    except UserFacingError as exc:
        raise ToolError(str(exc)) from None
    except ToolError:
        raise
    except Exception:
        logger.exception("Tool %s failed unexpectedly", tool)
        raise ToolError(
            f"{tool} failed because of a bug in Grok MCP. The details are in the server log "
            "(`grok-mcp doctor` shows where); please report it."
        ) from None
    finally:
        app.inflight.leave(scope)
        if app.metrics is not None:
            app.metrics.observe_call(tool, ok=ok, seconds=time.monotonic() - call.started)
        if logger.isEnabledFor(logging.DEBUG):
            call.log_timings()


# ---------------------------------------------------------------------------------------- long calls


def result_text(result: CallToolResult) -> str:
    """The text a person reads in a tool result (its text blocks joined)."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def encode_job_result(result: CallToolResult) -> str:
    """A finished call's result as stored for job_result: its text and its structuredContent."""
    return json.dumps({"text": result_text(result), "structured": result.structured_content}, ensure_ascii=False)


def describe_job_failure(exc: BaseException) -> str:
    """What job_result says about a job that failed: the user-facing message, or a bug notice (logged)."""
    if isinstance(exc, UserFacingError | ToolError):
        return str(exc)
    logger.error("A long call failed unexpectedly", exc_info=exc)
    return "This call failed because of a bug in Grok MCP. The details are in the server log; please report it."


def job_started_result(
    call: ToolCall, job_id: str, shape: type[ChatResult] = ChatResult, **extra: Any
) -> CallToolResult:
    """The result of a chat-like call that became a job: the job id and what to do with it."""
    threshold = call.app.settings.job_threshold_s
    text = (
        f"Grok is still working on this after {threshold:g} s, so the answer will come later: it is running as job "
        f'{job_id}. Call job_result with job_id "{job_id}" to get it (it says when it is still running). '
        "The answer is kept, so nothing is lost if you ask later."
    )
    app = call.app
    structured = shape(
        text=text,
        model=call.model or "",
        request_id=None,
        usage=TokenUsage(),
        cost_usd=0.0,
        simulated=app.answers_are_simulated,
        conversation_id=call.conversation_id,
        job_id=job_id,
        **extra,
    )
    return tool_result(text, structured)


async def run_long_call(
    call: ToolCall,
    work: Callable[[], Awaitable[CallToolResult]],
    *,
    started: Callable[[str], CallToolResult] | None = None,
) -> CallToolResult:
    """Run a chat-like tool's work; if it is still running after settings.job_threshold_s it continues as a job.

    The work runs in the pipeline's long-lived task group: when the threshold passes, the caller gets
    `started(job_id)` (by default a ChatResult naming the job) and the work's result goes to the store for
    job_result. A shutdown drains running jobs like calls. Work that already runs as a job (an MCP task) runs
    to its end here: its caller waits for it without a timeout. Raises what `work` raises when it ends in time.
    """
    app = call.app
    pipeline = app.pipeline
    host = pipeline.host
    threshold = app.settings.job_threshold_s
    if host is None or threshold <= 0 or running_as_job():
        return await work()
    outcome = await pipeline.jobs.run_or_detach(
        host,
        app.store,
        kind=CALL_JOB_KIND,
        tool=call.tool,
        client=call.client,
        threshold_s=threshold,
        work=work,
        encode=encode_job_result,
        describe=describe_job_failure,
        on_detach=lambda task: app.inflight.enter(task.scope),
        on_end=lambda task: app.inflight.leave(task.scope),
    )
    if isinstance(outcome, Detached):
        return started(outcome.job_id) if started is not None else job_started_result(call, outcome.job_id)
    return outcome
