"""Running the simulator as a blocking uvicorn server (`grok-mcp simulate`)."""

from __future__ import annotations

import logging
import signal
import sys

import anyio
import uvicorn

from grok_mcp.hosting.uvicorn_serve import serve_without_signals
from grok_mcp.simulator.app import create_app
from grok_mcp.simulator.config import SimulatorConfig

logger = logging.getLogger(__name__)


def serve(host: str, port: int, config: SimulatorConfig) -> None:
    """Serve the simulated xAI API on host:port until interrupted.

    Logging stays with the caller's handlers (stderr); uvicorn's own logging config is not applied,
    so nothing is written to stdout. Raises OSError when the port cannot be bound.
    """
    logger.info("simulated xAI API on http://%s:%d/v1", host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    anyio.run(_serve_until_signal, server)


async def _serve_until_signal(server: uvicorn.Server) -> None:
    """Run uvicorn with our own signal handling, so SIGTERM/SIGINT end the process cleanly with exit code 0
    (uvicorn's own handler re-raises the signal after shutting down)."""

    async def stop_on_signal() -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                server.should_exit = True
                return

    async with anyio.create_task_group() as tg:
        if sys.platform != "win32":
            tg.start_soon(stop_on_signal)
        await serve_without_signals(server)
        tg.cancel_scope.cancel()
