"""How every tool result is shaped: text for people, structuredContent for programs, and the notes they share."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from grok_mcp.calls import is_cached
from grok_mcp.grok import ChatCompletion, ResponseResult, Usage
from grok_mcp.store.units import ticks_to_usd

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


class AnswerFacts(TypedDict):
    """What every result shows of one answer from xAI: chat, search and batch items alike."""

    text: str
    model: str
    request_id: str | None
    usage: TokenUsage
    cost_usd: float
    cached: bool


def answer_facts(answer: ChatCompletion | ResponseResult, cost_ticks: int) -> AnswerFacts:
    """The answer's text, model, request id (xAI's, else the answer's own id), tokens and cost; `cached` when
    Grok MCP's cache gave it."""
    return AnswerFacts(
        text=answer.text,
        model=answer.model,
        request_id=answer.call.request_id or answer.id,
        usage=TokenUsage.of(answer.usage),
        cost_usd=ticks_to_usd(cost_ticks),
        cached=is_cached(answer.call),
    )


def parsed_json(text: str, *, wanted: bool) -> Any:
    """The answer parsed as JSON when a JSON answer was asked for; None when not, or when it is no JSON."""
    if not wanted:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


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
        description="Set when the call is still running as a job, or when its result was too large for one reply "
        "(`result:` jobs, see `spilled`): pass it to job_result for the answer.",
    )


def with_notes(
    text: str, *, route: str | None = None, model: str | None = None, cached: bool = False, simulated: bool = False
) -> str:
    """The text a person reads, then a paragraph for each note that applies: why `model: auto` picked
    `model`, that the answer came from the cache at no cost, that the simulator answered (demo mode)."""
    notes: list[str] = []
    if route:
        notes.append(f"({route} Model: {model}.)")
    if cached:
        notes.append(CACHED_NOTE)
    if simulated:
        notes.append(SIMULATED_NOTE)
    return "\n\n".join([text, *notes])


def tool_result(text: str, structured: BaseModel, extra: list[ContentBlock] | None = None) -> CallToolResult:
    """A result whose text is for people and whose structuredContent is for programs."""
    content: list[ContentBlock] = [TextContent(type="text", text=text)]
    content.extend(extra or [])
    return CallToolResult(content=content, structured_content=structured.model_dump(mode="json"))


def result_text(result: CallToolResult) -> str:
    """The text a person reads in a tool result (its text blocks joined)."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))
