"""`grok-mcp chat` shows a protocol error (an unknown tool is one, MCP 2025-11-25) as an error line and goes on."""

from __future__ import annotations

from pathlib import Path

from grok_mcp.cli.console import run_console
from grok_mcp.config import Settings


def test_the_console_shows_an_unknown_tool_as_an_error_and_keeps_taking_commands(isolated_home: Path) -> None:
    lines = iter(["/call no_such_tool {}", '/call count_tokens {"text": "still here"}', "/quit"])
    output: list[str] = []
    settings = Settings(home=isolated_home, simulate=True, transport="console")

    assert run_console(settings, read=lambda _prompt: next(lines), write=output.append) == 0

    text = "".join(output)
    assert "✘ Unknown tool: no_such_tool." in text
    assert "tokens for" in text
