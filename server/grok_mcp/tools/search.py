"""The `web_search` and `x_search` tools: Grok searches the web or X server-side and answers with citations."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from grok_mcp.context import AppContext
from grok_mcp.errors import InputError
from grok_mcp.grok import ResponseResult
from grok_mcp.tools.annotations import ASKS_GROK
from grok_mcp.tools.boundary import tool_call
from grok_mcp.tools.chat import ModelArgument
from grok_mcp.tools.long_calls import job_started_result, run_long_call
from grok_mcp.tools.models import resolve_chat_model
from grok_mcp.tools.results import ChatResult, answer_facts, tool_result, with_notes
from grok_mcp.tools.scope import CallScope

MAX_DOMAINS = 5  # xAI: "A maximum of 5 domains can be allowed"
MAX_HANDLES = 10

SearchCache = Annotated[
    bool | None,
    Field(
        description="Answer an identical earlier search from Grok MCP's cache at no cost (true). Off unless asked "
        "for, even when settings.toml sets a cache TTL: search answers go stale as the web and X change."
    ),
]


class Citation(BaseModel):
    url: str
    title: str | None = None


class SearchResult(ChatResult):
    """A chat-like answer plus the sources Grok cited."""

    citations: list[Citation] = Field(default_factory=list[Citation])
    searches: int = Field(default=0, description="Server-side searches Grok ran (each is billed).")


def _clean_list(values: list[str] | None, name: str, limit: int) -> list[str]:
    cleaned = [v.strip() for v in values or [] if v.strip()]
    if len(cleaned) > limit:
        raise InputError(f"`{name}` has {len(cleaned)} entries; xAI allows at most {limit}.")
    return cleaned


def _check_date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InputError(f"`{name}` must be a date like 2026-11-23, not {value!r}.") from None


async def _run_search(
    call: CallScope, model: str | None, query: str, tool: dict[str, Any], cache: bool | None = None
) -> CallToolResult:
    started = time.monotonic()
    if not query.strip():
        raise InputError("`query` is empty. Say what to search for.")
    app = call.app
    chosen = await resolve_chat_model(app, model, call=call)
    call.model = chosen
    body: dict[str, Any] = {"model": chosen, "input": query, "tools": [tool]}

    async def answer() -> CallToolResult:
        response = await call.responses(body, cache=cache)
        return await _shape_search(call, response, started)

    return await run_long_call(call, answer, started=lambda job_id: job_started_result(call, job_id, SearchResult))


async def _shape_search(call: CallScope, response: ResponseResult, started: float) -> CallToolResult:
    cost = await call.record_answer(response)
    simulated = call.app.answers_are_simulated
    citations = [Citation(url=c.url, title=c.title) for c in response.citations]
    result = SearchResult(
        **answer_facts(response, cost),
        simulated=simulated,
        latency_ms=round((time.monotonic() - started) * 1000, 1),
        citations=citations,
        searches=response.usage.num_server_side_tools_used if response.usage else 0,
    )
    text = response.text
    if citations:
        text += "\n\nSources:\n" + "\n".join(
            f"{i}. {c.title + ' — ' if c.title and c.title != str(i) else ''}{c.url}"
            for i, c in enumerate(citations, 1)
        )
    return tool_result(with_notes(text, cached=result.cached, simulated=simulated), result)


async def web_search(
    ctx: Context,
    query: Annotated[str, Field(description="What to find out; Grok searches and answers with sources.")],
    allowed_domains: Annotated[list[str] | None, Field(description="Only search these domains (at most 5).")] = None,
    excluded_domains: Annotated[list[str] | None, Field(description="Never search these domains (at most 5).")] = None,
    model: ModelArgument = None,
    cache: SearchCache = None,
) -> Annotated[CallToolResult, SearchResult]:
    """Search the web with Grok: an answer grounded in current pages, with its sources."""
    async with tool_call(ctx, "web_search") as call:
        allowed = _clean_list(allowed_domains, "allowed_domains", MAX_DOMAINS)
        excluded = _clean_list(excluded_domains, "excluded_domains", MAX_DOMAINS)
        if allowed and excluded:
            raise InputError("Give `allowed_domains` or `excluded_domains`, not both (xAI takes one or the other).")
        tool: dict[str, Any] = {"type": "web_search"}
        if allowed:
            tool["allowed_domains"] = allowed
        if excluded:
            tool["excluded_domains"] = excluded
        return await _run_search(call, model, query, tool, cache)


async def x_search(
    ctx: Context,
    query: Annotated[str, Field(description="What to find out from posts on X.")],
    handles: Annotated[
        list[str] | None, Field(description="Only posts from these X handles (at most 10, without @).")
    ] = None,
    excluded_handles: Annotated[list[str] | None, Field(description="Never posts from these handles.")] = None,
    from_date: Annotated[str | None, Field(description="Earliest post date, YYYY-MM-DD.")] = None,
    to_date: Annotated[str | None, Field(description="Latest post date, YYYY-MM-DD.")] = None,
    model: ModelArgument = None,
    cache: SearchCache = None,
) -> Annotated[CallToolResult, SearchResult]:
    """Search posts on X with Grok: an answer with links to the posts it used."""
    async with tool_call(ctx, "x_search") as call:
        allowed = [h.lstrip("@") for h in _clean_list(handles, "handles", MAX_HANDLES)]
        excluded = [h.lstrip("@") for h in _clean_list(excluded_handles, "excluded_handles", MAX_HANDLES)]
        if allowed and excluded:
            raise InputError("Give `handles` or `excluded_handles`, not both (xAI takes one or the other).")
        start = _check_date(from_date, "from_date")
        end = _check_date(to_date, "to_date")
        if start and end and start > end:
            raise InputError(f"`from_date` ({start}) is after `to_date` ({end}).")
        tool: dict[str, Any] = {"type": "x_search"}
        if allowed:
            tool["allowed_x_handles"] = allowed
        if excluded:
            tool["excluded_x_handles"] = excluded
        if start:
            tool["from_date"] = start
        if end:
            tool["to_date"] = end
        return await _run_search(call, model, query, tool, cache)


def register(server: MCPServer[AppContext]) -> None:
    """Add the search tools to the server."""
    server.add_tool(web_search, title="Search the web with Grok", annotations=ASKS_GROK)
    server.add_tool(x_search, title="Search X with Grok", annotations=ASKS_GROK)
