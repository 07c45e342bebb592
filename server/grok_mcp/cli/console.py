"""`grok-mcp chat`: an interactive console that calls the real tools through an in-process MCP client."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import anyio

from grok_mcp.cli.common import AddCommand, settings_from
from grok_mcp.config import Settings
from grok_mcp.errors import NoApiKeyError
from grok_mcp.logs import configure_logging, register_secret

if TYPE_CHECKING:  # every `grok-mcp` command builds the parser: only `chat` pays for the SDK
    from mcp import Client
    from mcp.types import CallToolResult

HELP = """\
Type a question to ask Grok (streamed), or a command:
  /model ID             use this model for questions (/model alone: back to the default)
  /image PATH|URL [Q]   ask about an image            /imagine PROMPT   generate an image
  /search QUERY         search the web                /x QUERY          search X
  /models               list models and prices        /tokens TEXT      count tokens
  /usage [PERIOD]       usage and cost (today, 7d, 30d, month, all)
  /tools                list the server's tools       /call TOOL JSON   call any tool with JSON arguments
  /help                 this help                     /quit             leave (Ctrl+D works too)"""

ONE_ARGUMENT_COMMANDS: dict[str, tuple[str, str, bool]] = {
    "/tokens": ("count_tokens", "text", True),
    "/search": ("web_search", "query", True),
    "/x": ("x_search", "query", True),
    "/imagine": ("generate_image", "prompt", False),
}
"""Commands that call one tool with the rest of the line as one argument: tool, argument, whether /model applies."""


class Console:
    """The read-eval-print loop; `write` is where output goes (stdout for a person)."""

    def __init__(self, client: Client, write: Callable[[str], None], model: str | None) -> None:
        self.client = client
        self.write = write
        self.model = model
        self._shown = 0

    async def call(self, tool: str, arguments: dict[str, Any], *, stream: bool = False) -> CallToolResult:
        self._shown = 0

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            if stream and message and not message.startswith("Grok is thinking"):
                self.write(message[self._shown :])
                self._shown = len(message)

        from mcp.shared.exceptions import MCPError
        from mcp.types import CallToolResult, TextContent

        try:
            return await self.client.call_tool(tool, arguments, progress_callback=on_progress if stream else None)
        except MCPError as exc:  # a protocol error, such as an unknown tool (-32602): shown like a failed call
            return CallToolResult(content=[TextContent(type="text", text=exc.message)], is_error=True)

    def show(self, result: CallToolResult, *, streamed: bool = False) -> None:
        from mcp.types import TextContent

        text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
        if result.is_error:
            self.write(f"\n✘ {text}\n")
            return
        if streamed and self._shown:
            text = text[self._shown :]
        self.write(text + "\n")
        data: dict[str, Any] = dict(result.structured_content or {})
        if "cost_usd" in data and "model" in data:
            usage: dict[str, Any] = dict(data.get("usage") or {})
            tokens = sum(int(usage.get(k, 0)) for k in ("prompt_tokens", "completion_tokens", "reasoning_tokens"))
            self.write(f"  [{data['model']} · {tokens:,} tokens · ${float(data['cost_usd']):.5f}]\n")

    def _with_model(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if self.model:
            arguments["model"] = self.model
        return arguments

    async def handle(self, line: str) -> bool:
        """Run one line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            result = await self.call("chat_stream", self._with_model({"prompt": line}), stream=True)
            self.show(result, streamed=True)
            return True
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        if command in ("/quit", "/exit"):
            return False
        if command in ONE_ARGUMENT_COMMANDS:
            tool, argument, takes_model = ONE_ARGUMENT_COMMANDS[command]
            arguments = {argument: rest}
            self.show(await self.call(tool, self._with_model(arguments) if takes_model else arguments))
            return True
        match command:
            case "/help":
                self.write(HELP + "\n")
            case "/model":
                self.model = rest or None
                self.write(f"Model: {self.model or 'the default'}\n")
            case "/models":
                self.show(await self.call("list_models", {}))
            case "/usage":
                self.show(await self.call("usage_summary", {"period": rest or "today", "group_by": "model"}))
            case "/image":
                await self._ask_about_image(rest)
            case "/tools":
                await self._list_tools()
            case "/call":
                await self._call_any(rest)
            case _:
                self.write(f"Unknown command {command}. /help lists them.\n")
        return True

    async def _ask_about_image(self, rest: str) -> None:
        parts = shlex.split(rest) if rest else []
        if not parts:
            self.write("Usage: /image PATH|URL [question]\n")
            return
        arguments: dict[str, Any] = {"images": [parts[0]]}
        if len(parts) > 1:
            arguments["prompt"] = " ".join(parts[1:])
        self.show(await self.call("analyze_image", self._with_model(arguments)))

    async def _list_tools(self) -> None:
        listing = await self.client.list_tools()
        for tool in listing.tools:
            summary = (tool.description or "").strip().splitlines()[0] if tool.description else ""
            self.write(f"  {tool.name:22} {summary}\n")

    async def _call_any(self, rest: str) -> None:
        name, _, raw = rest.partition(" ")
        try:
            parsed: object = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            self.write(f"The arguments are not JSON: {exc}\n")
            return
        if not isinstance(parsed, dict):
            self.write("The arguments must be a JSON object.\n")
            return
        self.show(await self.call(name, cast(dict[str, Any], parsed)))


async def _repl(
    settings: Settings, model: str | None, read: Callable[[str], str], write: Callable[[str], None]
) -> None:
    from mcp import Client

    from grok_mcp.app import build_server

    server = build_server(settings)
    async with Client(server) as client:
        console = Console(client, write, model)
        mode = " (demo mode: simulated answers)" if settings.simulate else ""
        write(f"Grok MCP console{mode}. Type a question, or /help.\n")
        while True:
            try:
                line = await anyio.to_thread.run_sync(read, "grok> ")
            except EOFError:
                write("\n")
                return
            if not await console.handle(line):
                return


def run_console(
    settings: Settings,
    *,
    model: str | None = None,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] | None = None,
) -> int:
    """Run the console until /quit or end of input; returns the exit code."""

    def out(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    anyio.run(_repl, settings, model, read, write or out)
    return 0


def add_console_parser(add: AddCommand) -> None:
    """Add `chat` through build_parser's `add` helper."""
    chat = add("chat", cmd_chat, "interactive console for trying every tool")
    chat.add_argument("--simulate", action="store_true", help="use the built-in simulator")
    chat.add_argument("--model", default=None)


def cmd_chat(args: argparse.Namespace) -> int:
    settings = settings_from(args, simulate=True if args.simulate else None, transport="console")
    configure_logging("DEBUG" if args.debug else "WARNING", log_dir=settings.logs_dir)
    if not settings.simulate:
        from grok_mcp import secrets

        key = secrets.get_api_key()
        if not key:
            raise NoApiKeyError()
        register_secret(key)
    return run_console(settings, model=args.model)
