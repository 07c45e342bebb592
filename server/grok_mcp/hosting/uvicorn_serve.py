"""The one helper for running uvicorn inside our own event loop, with the signals left to the host process.

uvicorn's public `Server.serve()` installs its own SIGTERM/SIGINT handlers and re-raises the signal once it
has stopped; ours drain in-flight calls first (grok_mcp.hosting.shutdown) and exit with code 0. uvicorn has no
public way to serve without that capture, so this module holds the only use of its private `Server._serve`;
tests/hosting/test_uvicorn_serve.py fails, naming the uvicorn version, the day it disappears or changes.
"""

from __future__ import annotations

import socket

import uvicorn


async def serve_without_signals(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
    """Serve until `server.should_exit` is set, on `sockets` if given (else the host and port of its config).

    Installs no signal handler: the caller decides what a signal means and sets `should_exit`.
    """
    await server._serve(sockets)  # pyright: ignore[reportPrivateUsage]
