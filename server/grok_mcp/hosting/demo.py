"""Demo mode: the simulated xAI API running inside the server process on a private loopback port."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import anyio
import uvicorn

from grok_mcp.hosting.sockets import bind_loopback
from grok_mcp.hosting.uvicorn_serve import serve_without_signals
from grok_mcp.simulator import SimulatorConfig, create_app

logger = logging.getLogger(__name__)

DEMO_KEY = "xai-demo-mode-simulated-key"


@asynccontextmanager
async def embedded_simulator(config: SimulatorConfig | None = None) -> AsyncGenerator[str]:
    """Run the simulator in this event loop on a free loopback port; yields its `/v1` base URL."""
    sock = bind_loopback()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config or SimulatorConfig()),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve_without_signals, server, [sock])  # the host process owns the signals
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
                await anyio.sleep(0.005)
        logger.info("Demo mode: the simulated xAI API listens on 127.0.0.1:%d", port)
        try:
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            server.should_exit = True
    sock.close()
