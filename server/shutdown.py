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


async def drain_on_signal(
    context: AppContext, stop: Callable[[], None], force: Callable[[], None] | None = None
) -> None:
    """Wait for a stop signal, drain running tool calls (at most 30 s), then call `stop`.

    A second signal while draining calls `force` (when given) to stop at once.
    """
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for received in signals:
            logger.info(
                "Received %s: finishing %d running call(s)",
                signal.Signals(received).name,
                context.inflight.count,
            )
            context.inflight.is_draining = True
            break
        else:
            return
        async with anyio.create_task_group() as tg:

            async def second_signal() -> None:
                async for _ in signals:
                    logger.warning("Second stop signal: stopping without waiting for running calls")
                    if force is not None:
                        force()
                    tg.cancel_scope.cancel()
                    return

            tg.start_soon(second_signal)
            with anyio.move_on_after(GRACEFUL_SHUTDOWN_S):
                await context.inflight.wait_idle()
            await anyio.sleep(_FLUSH_GRACE_S)
            tg.cancel_scope.cancel()
    stop()
