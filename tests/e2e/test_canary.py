"""A canary API key travels through every path of a real server and shows up nowhere it must not be."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import TextContent

from tests.support.processes import ROOT, SERVER_COMMAND, server_env
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.anyio


def windows(secret: str, width: int = 8) -> set[str]:
    """Every substring of the secret that is `width` characters long (the bar of goal K1)."""
    return {secret[i : i + width] for i in range(len(secret) - width + 1)}


def leaks(text: str, secret: str) -> list[str]:
    return sorted(w for w in windows(secret) if w in text)


async def exercise(home: Path, base_url: str, key: str, simulator: RunningSimulator) -> str:
    """Run a debug-logging stdio server with this key through success and failure paths; return all output."""
    env = server_env(home, base_url=base_url, key=key)
    params = StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "serve", "--debug"], env=env, cwd=str(ROOT)
    )
    collected: list[str] = []
    errlog_path = home / f"stderr-{uuid.uuid4().hex}.txt"
    with errlog_path.open("w+", encoding="utf-8") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            calls: list[tuple[str, dict[str, object], list[dict[str, object]]]] = [
                ("chat", {"prompt": "hello"}, []),
                ("chat", {"prompt": "retry me"}, [{"kind": "status", "status": 500, "count": 2}]),
                ("chat", {"prompt": "fail me"}, [{"kind": "status", "status": 503, "count": 10}]),
                ("chat_stream", {"prompt": "break me"}, [{"kind": "midstream", "after_chunks": 1}]),
                ("chat", {"prompt": "drop me"}, [{"kind": "drop", "count": 10}]),
                ("chat", {"prompt": "odd"}, [{"kind": "error_200"}]),
                ("count_tokens", {"text": "tokens"}, []),
                ("web_search", {"query": "news"}, []),
            ]
            for tool, arguments, faults in calls:
                if faults:
                    simulator.add_faults(*faults)
                result = await session.call_tool(tool, arguments)
                collected.extend(b.text for b in result.content if isinstance(b, TextContent))
                collected.append(str(result.structured_content))
                simulator.reset()
    collected.append(errlog_path.read_text(encoding="utf-8"))
    for log_file in (home / "logs").glob("*"):
        collected.append(log_file.read_text(encoding="utf-8", errors="replace"))
    with sqlite3.connect(home / "grok-mcp.db") as db:
        collected.extend(db.iterdump())
    db.close()
    return "\n".join(collected)


async def test_a_working_canary_key_appears_in_no_output_log_or_database_row(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    canary = f"xai-CANARY-{uuid.uuid4().hex}"
    output = await exercise(isolated_home, simulator.base_url, canary, simulator)
    assert "DEBUG" in output  # the debug logs really were captured
    assert "INSERT INTO" in output  # and the ledger really was dumped
    assert leaks(output, canary) == []


async def test_a_rejected_canary_key_appears_in_no_error_message_or_log(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    canary = f"xai-CANARY-invalid-{uuid.uuid4().hex}"
    output = await exercise(isolated_home, simulator.base_url, canary, simulator)
    assert "grok-mcp keys set" in output
    assert leaks(output, canary) == []
