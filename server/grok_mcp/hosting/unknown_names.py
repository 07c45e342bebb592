"""Refuses a tools/call or prompts/get that names no tool or prompt of this server, with JSON-RPC's -32602.

MCP 2025-11-25 makes an unknown tool a protocol error (invalid params), not a tool result; the SDK answers
one with an `isError` result, and an unknown prompt with error code 0. `UnknownNames` is a server middleware
(the public seam in front of every handler) that answers both before the SDK's handlers run. It sits in
front of TaskSupport, so a task-augmented call to an unknown tool is refused the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

MAX_NAME_SHOWN = 80
"""How much of an unknown name the error repeats: names come from the client and may be huge."""

_CHECKED: dict[str, tuple[str, str]] = {"tools/call": ("tool", "tools/list"), "prompts/get": ("prompt", "prompts/list")}
"""The methods whose `name` is checked: what the name is of, and the method that lists them."""


class UnknownNames:
    """The server middleware that refuses unknown tool and prompt names as invalid params."""

    def __init__(self, server: MCPServer[Any]) -> None:
        self._server = server
        # Every tool is registered before the server serves: the names are listed once, and again only
        # when a name is missing from them, so a known call costs one set lookup.
        self._known: dict[str, frozenset[str]] = {}

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        checked = _CHECKED.get(ctx.method)
        if checked is None or ctx.request_id is None or not isinstance(ctx.params, Mapping):
            return await call_next(ctx)
        name = ctx.params.get("name")
        if isinstance(name, str) and not await self._is_known(ctx.method, name):
            kind, listing = checked
            shown = name if len(name) <= MAX_NAME_SHOWN else name[:MAX_NAME_SHOWN] + "…"
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown {kind}: {shown}. Grok MCP has no {kind} of that name; {listing} shows its {kind}s.",
            )
        return await call_next(ctx)  # a missing or non-string name: the SDK's own validation refuses it

    async def _is_known(self, method: str, name: str) -> bool:
        known = self._known.get(method)
        if known is None or name not in known:
            known = frozenset(await self._names(method))
            self._known[method] = known
        return name in known

    async def _names(self, method: str) -> list[str]:
        if method == "tools/call":
            return [tool.name for tool in await self._server.list_tools()]
        return [prompt.name for prompt in await self._server.list_prompts()]
