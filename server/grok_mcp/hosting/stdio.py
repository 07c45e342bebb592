"""stdio hosting: MCP on stdin/stdout for clients that start the server themselves (Claude Desktop, Codex …).

stdout carries nothing but protocol. SIGTERM or SIGINT stops new calls, lets running ones finish
(up to 30 s) and then exits.

When stdin and stdout are pipes or sockets (as every MCP client starts us) on POSIX, the protocol runs on
the event loop's own non-blocking pipe transports. The SDK's default reads and writes through worker
threads: three thread round trips per request and answer, a quarter of a millisecond of every call. Like
the SDK, it first moves the wire to private descriptors and points fd 0 at the null device and fd 1 at
stderr, so stray output from a library or a child process never reaches the client. Anything else (a
terminal, a file, Windows, another event loop) keeps the SDK's transport. Either way `AnsweredLines` answers
a line that is no JSON-RPC message with its JSON-RPC error (the SDK's server drops it without a word).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import stat
import sys
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from types import TracebackType
from typing import IO, Any, Protocol, Self, cast

import anyio
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError, RequestId
from pydantic import ValidationError

from grok_mcp.app import build_server, open_app_context
from grok_mcp.config import Settings
from grok_mcp.hosting.shutdown import drain_on_signal

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 256 * 1024 * 1024
"""The longest protocol line read; a longer one is dropped (the client gets a parse error), not buffered."""

TOO_LONG_LINE = "\x00 line too long\n"
"""What stands for a dropped line: not JSON, so it reaches AnsweredLines as a parse error it recognises."""


async def run_stdio(settings: Settings) -> None:
    """Serve MCP over stdio until the client closes stdin or a stop signal arrives."""
    async with open_app_context(settings) as context:
        server = build_server(settings, context=context)
        async with anyio.create_task_group() as tg:
            if sys.platform != "win32":
                tg.start_soon(drain_on_signal, context, tg.cancel_scope.cancel)
            await serve_stdio(server)
            tg.cancel_scope.cancel()


async def serve_stdio(server: MCPServer[Any]) -> None:
    """Run `server` on this process's stdin and stdout until stdin closes.

    A line that is no JSON-RPC message gets its error (-32700 or -32600) and the next line is read.
    """
    lowlevel = protocol_server(server)
    if lowlevel is None:
        await server.run_stdio_async()
        return
    async with AsyncExitStack() as stack:
        if _pipes_usable():
            logger.debug("MCP over stdio on the event loop's pipe transports")
            stdin, stdout = await stack.enter_async_context(_claimed_wire())
            read, write = await stack.enter_async_context(stdio_server(stdin, stdout))
        else:
            read, write = await stack.enter_async_context(stdio_server())
        await lowlevel.run(AnsweredLines(read, write), write, lowlevel.create_initialization_options())


def protocol_server(server: MCPServer[Any]) -> Server[Any] | None:
    """The low-level protocol server inside `server`, to run on streams we open; None if this SDK hides it.

    MCPServer offers no public way to run on other streams than its own, so this is the one reader of its
    private `_lowlevel_server`. tests/hosting/test_stdio.py fails, naming the SDK version, the day it is gone;
    a user who installs such an SDK is served by the SDK's transport (slower, and silent on lines that are no
    JSON-RPC message) and told so in the log.
    """
    lowlevel = getattr(server, "_lowlevel_server", None)
    if isinstance(lowlevel, Server):
        return cast("Server[Any]", lowlevel)
    logger.warning(
        "This MCP SDK has no MCPServer._lowlevel_server: stdio runs on the SDK's slower transport, "
        "which leaves lines that are not JSON-RPC unanswered"
    )
    return None


class _Sender(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...


class _Receiver(Protocol):
    async def receive(self) -> SessionMessage | Exception: ...
    async def aclose(self) -> None: ...


class AnsweredLines:
    """The wire's read side with every unusable line answered: the server reads only messages.

    The SDK's stdio transport hands on a line that does not parse as an exception, which its server drops
    without a word, leaving the client waiting. Here each gets JSON-RPC's answer on the write side: -32700
    for a line that is not JSON (id null), -32600 for JSON that is no JSON-RPC message (with its id, when
    it has one a client could be waiting on).
    """

    def __init__(self, inner: _Receiver, answers: _Sender) -> None:
        self._inner = inner
        self._answers = answers
        self.last_context: contextvars.Context | None = None  # the sender context the SDK's loop restores

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self._inner.receive()
            if isinstance(item, SessionMessage):
                self.last_context = getattr(self._inner, "last_context", None)
                return item
            await self._answers.send(SessionMessage(unusable_line_error(item)))

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_val: BaseException | None, exc_tb: TracebackType | None
    ) -> None:
        await self.aclose()


def unusable_line_error(exc: Exception) -> JSONRPCError:
    """The JSON-RPC error answering a line the SDK could not read as a message (`exc` says why)."""
    if not isinstance(exc, ValidationError):
        return _parse_error("This line could not be read as JSON.")
    errors = exc.errors(include_url=False)
    if any(error["type"] == "json_invalid" for error in errors):
        if any(error.get("input") == TOO_LONG_LINE for error in errors):
            return _parse_error(
                f"A line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB was dropped unread. Send smaller "
                "messages: large data belongs in files, passed by path."
            )
        return _parse_error(f"This line is not JSON ({errors[0]['msg']}).")
    return JSONRPCError(
        jsonrpc="2.0",
        id=_request_id(errors),
        error=ErrorData(
            code=INVALID_REQUEST,
            message="Invalid Request: this line is JSON but no JSON-RPC 2.0 message. Each line must be one "
            'request, notification or response object with `jsonrpc: "2.0"`.',
        ),
    )


def _parse_error(detail: str) -> JSONRPCError:
    message = f"Parse error: {detail} Each MCP message over stdio is one JSON-RPC object on one line."
    return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message=message))


def _request_id(errors: Iterable[Mapping[str, Any]]) -> RequestId | None:
    """The id of the JSON object the failed validation saw, when it has a usable one."""
    for error in errors:
        found: object = error.get("input")
        if isinstance(found, dict):
            value: object = cast(dict[str, object], found).get("id")
            if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
                return value
            return None
    return None


def _pipes_usable() -> bool:
    """Whether both standard streams are pipes or sockets we can drive from the asyncio event loop."""
    if sys.platform == "win32":
        return False
    try:
        asyncio.get_running_loop()  # anyio may run on another event loop
    except RuntimeError:
        return False
    try:
        modes = [os.fstat(fd).st_mode for fd in (0, 1)]
    except OSError:
        return False
    return all(stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) for mode in modes)


class _PipeLines(anyio.AsyncFile[str]):
    """Protocol lines from a pipe, read by the event loop (no worker thread), decoded as UTF-8."""

    def __init__(self, fp: IO[str], reader: asyncio.StreamReader) -> None:
        super().__init__(fp)
        self._reader = reader

    async def readline(self) -> str:
        """The next line with its newline; "" at the end of input."""
        while True:
            try:
                return (await self._reader.readuntil(b"\n")).decode("utf-8", errors="replace")
            except asyncio.IncompleteReadError as exc:  # the last line had no newline, or the pipe closed
                return exc.partial.decode("utf-8", errors="replace")
            except asyncio.LimitOverrunError:
                logger.warning("Dropped a protocol line longer than %d bytes", MAX_LINE_BYTES)
                await self._skip_line()
                return TOO_LONG_LINE  # not JSON: AnsweredLines answers it with a parse error naming the limit

    async def _skip_line(self) -> None:
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return


class _PipeWriter(anyio.AsyncFile[str]):
    """Protocol lines to a pipe through the event loop's transport; `flush` waits while the pipe is full."""

    def __init__(self, fp: IO[str], writer: asyncio.StreamWriter) -> None:
        super().__init__(fp)
        self._writer = writer

    async def write(self, b: str) -> int:
        self._writer.write(b.encode("utf-8"))
        return len(b)

    async def flush(self) -> None:
        await self._writer.drain()


@asynccontextmanager
async def _claimed_wire() -> AsyncGenerator[tuple[_PipeLines, _PipeWriter]]:
    """The wire on private copies of fd 0 and 1, with fd 0 reading the null device and fd 1 going to stderr.

    Both descriptors are restored on exit, as the SDK's own transport does.
    """
    import fcntl

    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    saved_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    saved_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
        os.dup2(2, 1)
    finally:
        os.close(null)
    in_file = os.fdopen(wire_in, "r", encoding="utf-8", errors="replace")
    out_file = os.fdopen(wire_out, "w", encoding="utf-8")
    loop = asyncio.get_running_loop()
    transport: asyncio.BaseTransport | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), in_file)
        out_transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, out_file)
        writer = asyncio.StreamWriter(out_transport, protocol, None, loop)
        yield _PipeLines(in_file, reader), _PipeWriter(out_file, writer)
    finally:
        if writer is not None:
            await _flushed(writer)
            writer.close()
        else:
            out_file.close()  # no transport took it over
        if transport is not None:
            transport.close()
        else:
            in_file.close()
        for saved, fd in ((saved_in, 0), (saved_out, 1)):
            with suppress(OSError):
                os.dup2(saved, fd)
            os.close(saved)


async def _flushed(writer: asyncio.StreamWriter, *, timeout_s: float = 5.0) -> None:
    """Wait (a little) until the last answers have left for the pipe; a client that is gone is not waited for."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(timeout_s), suppress(OSError, RuntimeError):
        writer.transport.set_write_buffer_limits(high=0)  # so drain() waits for every buffered byte
        await writer.drain()
