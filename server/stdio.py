"""stdio hosting: MCP on stdin/stdout for clients that start the server themselves (Claude Desktop, Codex …).

stdout carries nothing but protocol. SIGTERM or SIGINT stops new calls, lets running ones finish
(up to 30 s) and then exits.
"""

from __future__ import annotations

import logging
import sys

import anyio

from server.app import build_server, open_app_context
from server.config import Settings
from server.shutdown import drain_on_signal

logger = logging.getLogger(__name__)


async def run_stdio(settings: Settings) -> None:
    """Serve MCP over stdio until the client closes stdin or a stop signal arrives."""
    async with open_app_context(settings) as context:
        server = build_server(settings, context=context)
        async with anyio.create_task_group() as tg:
            if sys.platform != "win32":
                tg.start_soon(drain_on_signal, context, tg.cancel_scope.cancel)
            await server.run_stdio_async()
            tg.cancel_scope.cancel()
