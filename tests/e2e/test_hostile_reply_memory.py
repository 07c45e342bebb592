"""A 500 MB reply from a hostile upstream leaves a real `grok-mcp serve` process small and answering.

Measured as the issue asks: the server is a child process, the hostile upstream streams 500 MB of JSON
on loopback, and the peak resident set (VmHWM in /proc/<pid>/status) is read once the call is over.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.support.hostile import MB, HostileUpstream, hostile_upstream, huge_json
from tests.support.processes import HttpServer, http_server
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]

PEAK_RSS_BOUND_MB = 300
HOSTILE_REPLY_BYTES = 500 * MB


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set size (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.M)
    assert match is not None, status
    return int(match.group(1)) / 1024


@pytest.fixture
def upstream(simulator: RunningSimulator) -> Iterator[tuple[HostileUpstream, str]]:
    with hostile_upstream(simulator.root_url) as running:
        yield running


async def call_tool(server: HttpServer, tool: str, arguments: dict[str, Any]) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {server.token}"}, timeout=120) as http,
        streamable_http_client(server.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        with anyio.fail_after(120):
            return await session.call_tool(tool, arguments)


async def test_a_500_mb_reply_keeps_the_server_under_300_mb_and_serving(
    tmp_path: Path, upstream: tuple[HostileUpstream, str], capsys: pytest.CaptureFixture[str]
) -> None:
    hostile, base_url = upstream
    hostile.attacks["/v1/chat/completions"] = huge_json(HOSTILE_REPLY_BYTES)
    home = tmp_path / "server-home"
    home.mkdir()
    with http_server(home, base_url=base_url, key=TEST_KEY) as server:
        before = peak_rss_mb(server.process.pid)

        result = await call_tool(server, "chat", {"prompt": "hello", "model": "grok-4.3"})

        peak = peak_rss_mb(server.process.pid)
        assert result.is_error
        text = " ".join(getattr(block, "text", "") for block in result.content)
        assert "64 MB" in text and "reply_mb" in text
        assert peak < PEAK_RSS_BOUND_MB, f"peak RSS {peak:.0f} MB (at start {before:.0f} MB)"
        with capsys.disabled():
            print(f"\npeak RSS during a 500 MB hostile reply: {peak:.0f} MB (at start {before:.0f} MB)")
        # Other calls are still served, by the real simulator behind the hostile host.
        del hostile.attacks["/v1/chat/completions"]
        assert not (await call_tool(server, "chat", {"prompt": "hello", "model": "grok-4.3"})).is_error
