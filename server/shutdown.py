"""Graceful stop for both transports: on SIGTERM or SIGINT, refuse new calls, let running ones finish, then stop."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

import anyio

from server.context import AppContext

logger = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_S = 30
# After the last call returns, its answer still passes through the SDK's writer (stdout or an SSE stream).
_FLUSH_GRACE_S = 0.2


async def drain_on_signal(context: AppContext, stop: Callable[[], None]) -> None:
    """Wait for a stop signal, let running tool calls finish (at most 30 s), then call `stop`.

    New calls are refused from the first signal on. Calls still running after 30 s, or when a second
    signal arrives, are cancelled: each ends with an error saying the server shut down.
    """
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for received in signals:
            logger.info(
                "Received %s: finishing %d running call(s)", signal.Signals(received).name, context.inflight.count
            )
            context.inflight.is_draining = True
            break
        else:
            return
        async with anyio.create_task_group() as tg:

            async def second_signal() -> None:
                async for _ in signals:
                    logger.warning("Second stop signal: cancelling %d running call(s)", context.inflight.count)
                    tg.cancel_scope.cancel()
                    return

            tg.start_soon(second_signal)
            with anyio.move_on_after(GRACEFUL_SHUTDOWN_S):
                await context.inflight.wait_idle()
            tg.cancel_scope.cancel()
        context.inflight.cancel_all()
        with anyio.move_on_after(5):
            await context.inflight.wait_idle()
        await anyio.sleep(_FLUSH_GRACE_S)
    stop()
