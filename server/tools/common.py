"""What every tool shares: the call boundary (ledger row, error mapping, draining) and the result shapes."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from server.context import AppContext
from server.errors import UpstreamCall, UserFacingError, XAIError
from server.grok import Usage
from server.store import RequestRecord

logger = logging.getLogger(__name__)

TICKS_PER_USD = 10_000_000_000

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


def usd(ticks: int) -> float:
    return round(ticks / TICKS_PER_USD, 10)


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
    """One running tool call: records every upstream call it makes in the usage ledger."""

    app: AppContext
    tool: str
    client: str | None
    model: str | None = None
    conversation_id: str | None = None
    recorded: list[RequestRecord] = field(default_factory=list[RequestRecord])

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
    ) -> None:
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
        try:
            await anyio.to_thread.run_sync(self.app.store.record_request, record)
        except Exception:
            # The answer matters more than its ledger row; the failure is logged with its cause.
            logger.exception("Could not write the usage ledger row for %s", self.tool)


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
    try:
        with scope:
            yield call
        if scope.cancelled_caught:
            raise ToolError("Grok MCP was shut down before this call finished. Try again when it is back.")
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
