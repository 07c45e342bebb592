"""Graceful stop for both transports: on a stop request, refuse new calls, let running ones finish, then stop.

A stop request is SIGTERM or SIGINT (POSIX), or, when the caller passes `parent_gone` (HTTP mode with
`--exit-with-parent`), that coroutine returning because the parent closed our stdin. Only a second *signal*
cancels running calls: a tray that dies on Linux both closes the pipe and sends PR_SET_PDEATHSIG's SIGTERM,
and that is one request, not two.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import contextmanager

import anyio

from grok_mcp.context import AppContext
from grok_mcp.hosting.parent import PARENT_GONE

logger = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_S = 30
# After the last call returns, its answer still passes through the SDK's writer (stdout or an SSE stream).
_FLUSH_GRACE_S = 0.2


async def drain_on_signal(
    context: AppContext,
    stop: Callable[[], None],
    *,
    parent_gone: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Wait for a stop request, let running tool calls finish (at most 30 s), then call `stop`.

    The request is SIGTERM or SIGINT (not on Windows, where there are none to receive), or `parent_gone`
    returning. New calls are refused from the first request on. Calls still running after 30 s, or when a
    second signal arrives, are cancelled: each ends with an error saying the server shut down.
    """
    with _stop_signals() as signals:
        signals_seen = await _first_stop_request(context, signals, parent_gone)
        if signals_seen is None:
            return
        context.inflight.is_draining = True
        await _finish_running_calls(context, signals, signals_seen)
    stop()


async def _first_stop_request(
    context: AppContext, signals: AsyncIterator[int], parent_gone: Callable[[], Awaitable[None]] | None
) -> int | None:
    """Wait for a stop signal or the parent to go; the signals seen so far (0 or 1), or None if no request came."""
    signals_seen = 0
    requested = False
    async with anyio.create_task_group() as first:

        async def on_signal() -> None:
            nonlocal signals_seen, requested
            async for received in signals:
                signals_seen += 1
                requested = True
                _log_first_request(f"Received {signal.Signals(received).name}", context)
                first.cancel_scope.cancel()
                return

        async def on_parent_gone(wait: Callable[[], Awaitable[None]]) -> None:
            nonlocal requested
            await wait()
            requested = True
            _log_first_request(PARENT_GONE, context)
            first.cancel_scope.cancel()

        first.start_soon(on_signal)
        if parent_gone is not None:
            first.start_soon(on_parent_gone, parent_gone)
    return signals_seen if requested else None


async def _finish_running_calls(context: AppContext, signals: AsyncIterator[int], signals_seen: int) -> None:
    """Let running calls finish (at most 30 s, or until a second signal), then cancel the rest."""
    async with anyio.create_task_group() as tg:

        async def second_signal() -> None:
            nonlocal signals_seen
            async for received in signals:
                signals_seen += 1
                if signals_seen >= 2:
                    logger.warning("Second stop signal: cancelling %d running call(s)", context.inflight.count)
                    tg.cancel_scope.cancel()
                    return
                logger.info(
                    "Received %s while finishing running calls; a second signal cancels them",
                    signal.Signals(received).name,
                )

        tg.start_soon(second_signal)
        with anyio.move_on_after(GRACEFUL_SHUTDOWN_S):
            await context.inflight.wait_idle()
        tg.cancel_scope.cancel()
    context.inflight.cancel_all()
    with anyio.move_on_after(5):
        await context.inflight.wait_idle()
    await anyio.sleep(_FLUSH_GRACE_S)


def _log_first_request(reason: str, context: AppContext) -> None:
    logger.info("%s: finishing %d running call(s)", reason, context.inflight.count)


@contextmanager
def _stop_signals() -> Generator[AsyncIterator[int]]:
    """SIGTERM and SIGINT as they arrive; on Windows (no signal handlers in the event loop) none ever do."""
    if sys.platform == "win32":
        yield _no_signals()
        return
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        yield signals


async def _no_signals() -> AsyncIterator[int]:
    await anyio.sleep_forever()
    yield 0  # never reached: makes this an async generator
