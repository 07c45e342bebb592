"""A hostile upstream cannot grow the server without bound or hold a call forever: every reply, stream and
image download has a size cap and a total deadline, and the error a user reads names the limit it hit.

The upstream is a loopback look-alike of xAI (tests/support/hostile.py) that forwards to the simulator
except on the path under attack; the server is the real one, configured through a real settings.toml.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from grok_mcp.app import build_server
from grok_mcp.config import load_settings
from mcp import Client
from starlette.types import Send

from tests.support.hostile import (
    MB,
    Disconnect,
    HostileUpstream,
    endless_body,
    endless_stream,
    hostile_upstream,
    huge_json,
)
from tests.support.simulator import TEST_KEY, RunningSimulator
from tests.tools.conftest import text_of

pytestmark = pytest.mark.anyio

# Ten times the limits the tests set: a call that ends within this did not hang.
DID_NOT_HANG_S = 30


@pytest.fixture
def upstream(simulator: RunningSimulator) -> Iterator[tuple[HostileUpstream, str]]:
    with hostile_upstream(simulator.root_url) as running:
        yield running


def write_limits(home: Path, **limits: float) -> None:
    lines = ["[limits]", *(f"{key} = {value}" for key, value in limits.items())]
    (home / "settings.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
async def connect(
    isolated_home: Path, upstream: tuple[HostileUpstream, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    """Open an MCP client on a server built from this test's settings.toml, aimed at the hostile upstream."""
    _, base_url = upstream
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("GROK_MCP_BASE_URL", base_url)
    clients: list[Client] = []

    async def opened() -> Client:
        client = Client(build_server(load_settings()))
        await client.__aenter__()
        clients.append(client)
        return client

    yield opened
    for client in clients:
        await client.__aexit__(None, None, None)


async def failed_text(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    with anyio.fail_after(DID_NOT_HANG_S):
        result = await client.call_tool(tool, arguments)
    assert result.is_error, text_of(result)[:500]
    return text_of(result)


async def test_a_reply_larger_than_the_cap_is_refused_naming_the_size_limit(
    isolated_home: Path, upstream: tuple[HostileUpstream, str], connect: Any
) -> None:
    hostile, _ = upstream
    hostile.attacks["/v1/chat/completions"] = huge_json(100 * MB)
    write_limits(isolated_home, reply_mb=8)
    client = await connect()

    message = await failed_text(client, "chat", {"prompt": "hello", "model": "grok-4.3"})

    assert "8 MB" in message and "reply_mb" in message


async def test_a_reply_that_never_ends_is_abandoned_naming_the_reply_deadline(
    isolated_home: Path, upstream: tuple[HostileUpstream, str], connect: Any
) -> None:
    hostile, _ = upstream
    hostile.attacks["/v1/chat/completions"] = endless_body(every_s=0.05)
    write_limits(isolated_home, reply_seconds=2)
    client = await connect()

    message = await failed_text(client, "chat", {"prompt": "hello", "model": "grok-4.3"})

    assert "2 s" in message and "reply_seconds" in message
    # The server is still there for the next call, which the simulator answers.
    del hostile.attacks["/v1/chat/completions"]
    with anyio.fail_after(DID_NOT_HANG_S):
        assert not (await client.call_tool("chat", {"prompt": "hello", "model": "grok-4.3"})).is_error


async def test_a_stream_that_never_ends_is_abandoned_naming_the_stream_deadline(
    isolated_home: Path, upstream: tuple[HostileUpstream, str], connect: Any
) -> None:
    hostile, _ = upstream
    hostile.attacks["/v1/chat/completions"] = endless_stream(every_s=0.05)
    write_limits(isolated_home, stream_seconds=2)
    client = await connect()

    message = await failed_text(client, "chat_stream", {"prompt": "hello", "model": "grok-4.3"})

    assert "2 s" in message and "stream_seconds" in message


async def test_a_stream_that_never_stops_growing_is_cut_off_naming_the_stream_size_limit(
    isolated_home: Path, upstream: tuple[HostileUpstream, str], connect: Any
) -> None:
    hostile, _ = upstream
    hostile.attacks["/v1/chat/completions"] = endless_stream(every_s=0, text="x" * 4000)
    write_limits(isolated_home, stream_mb=2)
    client = await connect()

    message = await failed_text(client, "chat_stream", {"prompt": "hello", "model": "grok-4.3"})

    assert "2 MB" in message and "stream_mb" in message


def image_reply(url: str) -> Any:
    """An images/generations reply that hands back `url` instead of base64 data (xAI's `url` format)."""
    body = json.dumps(
        {"data": [{"url": url, "mime_type": "image/png", "revised_prompt": ""}], "usage": {"cost_in_usd_ticks": 1}}
    ).encode()

    async def attack(send: Send, _: Disconnect) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return attack


async def test_an_image_download_that_never_ends_is_abandoned_naming_its_deadline(
    isolated_home: Path, upstream: tuple[HostileUpstream, str], connect: Any
) -> None:
    hostile, base_url = upstream
    hostile.attacks["/v1/images/generations"] = image_reply(base_url.removesuffix("/v1") + "/slow.png")
    hostile.attacks["/slow.png"] = endless_body(every_s=0.05)
    write_limits(isolated_home, image_download_seconds=2)
    client = await connect()

    message = await failed_text(client, "generate_image", {"prompt": "a lighthouse"})

    assert "2 s" in message and "image_download_seconds" in message


async def test_an_image_download_larger_than_the_cap_is_refused_naming_the_size_limit(
    isolated_home: Path, upstream: tuple[HostileUpstream, str], connect: Any
) -> None:
    hostile, base_url = upstream
    hostile.attacks["/v1/images/generations"] = image_reply(base_url.removesuffix("/v1") + "/huge.png")
    hostile.attacks["/huge.png"] = huge_json(60 * MB)
    write_limits(isolated_home, image_download_mb=1)
    client = await connect()

    message = await failed_text(client, "generate_image", {"prompt": "a lighthouse"})

    assert "1 MB" in message and "image_download_mb" in message
