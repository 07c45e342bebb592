"""The scope of one running tool call: its paid upstream calls go through the call pipeline, and each upstream
call it makes gets one row in the usage ledger."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import anyio

from grok_mcp.calls import DEFAULT_CACHE_TTL_S, check_budget, is_cached
from grok_mcp.calls.route import CHAT_COMPLETIONS, RESPONSES, CacheCodec, Route, through_pipeline
from grok_mcp.context import AppContext
from grok_mcp.errors import StreamInterruptedError, UpstreamCall, XAIError
from grok_mcp.grok import ChatCompletion, ImageGeneration, ResponseResult, StreamDone, StreamEvent, Usage
from grok_mcp.store import RequestRecord

logger = logging.getLogger(__name__)


class Answer(Protocol):
    """What every upstream answer carries: the exchange, the model that answered, its usage and its text."""

    @property
    def call(self) -> UpstreamCall: ...
    @property
    def model(self) -> str: ...
    @property
    def usage(self) -> Usage | None: ...
    @property
    def text(self) -> str: ...


A = TypeVar("A", bound=Answer)


@dataclass
class CallScope:
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

    # ------------------------------------------------------------------------------- the usage ledger

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
        record = self._ledger_row(call, model, usage, cost_ticks=cost_ticks, images=images, error=error, cached=cached)
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

    async def record_answer(self, answer: Answer, *, images: int = 0, prompt: Any = None, text: bool = False) -> int:
        """Record an upstream answer (free when it came from the cache) and return what it cost, in ticks.

        With `text`, the answer's text goes to the request log as well (when content logging is on).
        """
        cost = 0 if is_cached(answer.call) else await self.cost_ticks(answer.model, answer.usage)
        await self.record(
            answer.call,
            model=answer.model,
            usage=answer.usage,
            cost_ticks=cost,
            images=images,
            prompt=prompt,
            answer=answer.text if text else None,
        )
        return cost

    async def record_failure(self, exc: XAIError, *, model: str | None = None, prompt: Any = None) -> None:
        """The ledger row of a failed upstream exchange (what xAI billed for it, if anything)."""
        if exc.call is not None:
            await self.record(
                exc.call,
                model=model or self.model,
                cost_ticks=exc.call.cost_ticks,
                error=f"{type(exc).__name__}: {exc}",
                prompt=prompt,
            )

    def _ledger_row(
        self,
        call: UpstreamCall,
        model: str | None,
        usage: Usage | None,
        *,
        cost_ticks: int,
        images: int,
        error: str | None,
        cached: bool,
    ) -> RequestRecord:
        return RequestRecord(
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
            simulated=self.app.answers_are_simulated,
        )

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
        if not logger.isEnabledFor(logging.DEBUG):
            return
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
            return await self._recorded(self.app.grok.chat(body), prompt=body.get("messages"), images=images)

        return await self._through_pipeline(CHAT_COMPLETIONS, body, self.cache_ttl(cache), fetch)

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

        async def fetch() -> ChatCompletion:
            return await self._recorded(self._streamed(body, on_delta), prompt=body.get("messages"))

        return await self._through_pipeline(CHAT_COMPLETIONS, body, self.cache_ttl(cache), fetch)

    async def _streamed(
        self, body: dict[str, Any], on_delta: Callable[[StreamEvent], Awaitable[None]] | None
    ) -> ChatCompletion:
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

    async def responses(self, body: dict[str, Any], *, cache: bool | None = False) -> ResponseResult:
        """A Responses API call through the pipeline (budget; cache and single-flight when cacheable).

        Raises BudgetExceededError and the XAIError subclasses of GrokClient.responses.
        """

        async def fetch() -> ResponseResult:
            return await self._recorded(self.app.grok.responses(body), prompt=body.get("input"))

        return await self._through_pipeline(RESPONSES, body, self.cache_ttl(cache, by_default=False), fetch)

    async def generate_images(self, body: dict[str, Any]) -> ImageGeneration:
        """An image generation, after the budget check (never cached: each image is new).

        Raises BudgetExceededError and the XAIError subclasses of GrokClient.generate_images.
        """
        await self.guard_budget()
        return await self.app.grok.generate_images(body)

    async def _recorded(self, pending: Awaitable[A], *, prompt: Any, images: int = 0) -> A:
        """The answer of an upstream request, with its ledger row (a failure's row too)."""
        try:
            answer = await pending
        except XAIError as exc:
            await self.record_failure(exc, prompt=prompt)
            raise
        await self.record_answer(answer, images=images, prompt=prompt, text=True)
        return answer

    async def _through_pipeline(
        self, codec: CacheCodec[A], body: dict[str, Any], ttl_s: float | None, fetch: Callable[[], Awaitable[A]]
    ) -> A:
        route = Route(
            pipeline=self.app.pipeline,
            store=self.app.store,
            codec=codec,
            body=body,
            fetch=fetch,
            guard_budget=self.guard_budget,
            label=self.tool,
        )
        return await through_pipeline(route, ttl_s)
