"""A hostile xAI look-alike on loopback: it forwards to the simulator, except where a test scripts an attack.

An attacker who controls the upstream (a wrong GROK_MCP_BASE_URL, a proxy, a compromised edge) can send
any status, header and body. `HostileUpstream` is that attacker: each path can be given a reply that
never ends, is hundreds of megabytes, or carries a request id that is a path, while every other request
(the catalog, the models list) is answered by the real simulator so the tools run as they would.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import httpx2
from starlette.types import Receive, Scope, Send

from tests.support.simulator import AppThread

MB = 1_048_576
Attack = Callable[[Send, "Disconnect"], Awaitable[None]]
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}


@dataclass
class Disconnect:
    """Set once the client hung up; an attack stops writing then (it has made its point)."""

    is_set: bool = False


@dataclass
class HostileUpstream:
    """The ASGI app: `attacks` by path replace the simulator's reply; `request_ids` by path replace its id."""

    simulator_root: str
    attacks: dict[str, Attack] = field(default_factory=dict[str, Attack])
    request_ids: dict[str, str] = field(default_factory=dict[str, str])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        attack = self.attacks.get(path)
        if attack is None:
            await self._forward(scope, body, send)
            return
        gone = Disconnect()
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone.is_set = True

            group.start_soon(watch)
            await attack(send, gone)
            group.cancel_scope.cancel()

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> None:
        headers = {k.decode(): v.decode() for k, v in scope["headers"] if k.decode().lower() not in ("host",)}
        query = scope.get("query_string", b"").decode()
        url = f"{self.simulator_root}{scope['path']}" + (f"?{query}" if query else "")
        async with httpx2.AsyncClient(timeout=30) as client:
            reply = await client.request(scope["method"], url, headers=headers, content=body)
        out = [(k.encode(), v.encode()) for k, v in reply.headers.items() if k.lower() not in _HOP_BY_HOP]
        forged = self.request_ids.get(scope["path"])
        if forged is not None:
            out = [(k, v) for k, v in out if k.lower() != b"x-request-id"] + [(b"x-request-id", forged.encode())]
        out.append((b"content-length", str(len(reply.content)).encode()))
        await send({"type": "http.response.start", "status": reply.status_code, "headers": out})
        await send({"type": "http.response.body", "body": reply.content})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _start(send: Send, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"x-request-id", b"hostile-0001")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})


def huge_json(total_bytes: int) -> Attack:
    """A chat completion whose answer is `total_bytes` long, sent as fast as the socket takes it, no length."""

    async def attack(send: Send, gone: Disconnect) -> None:
        await _start(send, "application/json")
        head = b'{"id":"hostile-0001","object":"chat.completion","model":"grok-4.3","choices":[{"index":0,'
        await send(
            {
                "type": "http.response.body",
                "body": head + b'"message":{"role":"assistant","content":"',
                "more_body": True,
            }
        )
        block = b"a" * MB
        sent = 0
        while sent < total_bytes and not gone.is_set:
            await send({"type": "http.response.body", "body": block, "more_body": True})
            await anyio.lowlevel.checkpoint()  # let the disconnect be noticed
            sent += len(block)
        tail = b'"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}'
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    return attack


def endless_body(every_s: float) -> Attack:
    """A JSON reply that starts well and then sends one space every `every_s` seconds, forever."""

    async def attack(send: Send, gone: Disconnect) -> None:
        await _start(send, "application/json")
        await send({"type": "http.response.body", "body": b'{"id":"hostile-0001",', "more_body": True})
        while not gone.is_set:
            await anyio.sleep(every_s)
            await send({"type": "http.response.body", "body": b" ", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return attack


def endless_stream(every_s: float, text: str = "tick ") -> Attack:
    """A chat completion stream of `text` deltas every `every_s` seconds (0: as fast as it goes) that never ends."""
    chunk = {
        "id": "hostile-0001",
        "object": "chat.completion.chunk",
        "model": "grok-4.3",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}],
    }
    event = f"data: {json.dumps(chunk)}\n\n".encode()

    async def attack(send: Send, gone: Disconnect) -> None:
        await _start(send, "text/event-stream")
        while not gone.is_set:
            await send({"type": "http.response.body", "body": event * (1 if every_s else 64), "more_body": True})
            await anyio.sleep(every_s)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return attack


@contextmanager
def hostile_upstream(simulator_root: str) -> Iterator[tuple[HostileUpstream, str]]:
    """A HostileUpstream on a free loopback port and its base URL (`http://127.0.0.1:N/v1`)."""
    app = HostileUpstream(simulator_root)
    server = AppThread(app, name="hostile-upstream")
    server.start()
    try:
        yield app, f"http://127.0.0.1:{server.port}/v1"
    finally:
        server.stop()
