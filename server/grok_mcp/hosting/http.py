"""HTTP hosting: streamable MCP at /mcp behind a bearer token, Host/Origin checks, and health endpoints.

Every route is checked against DNS rebinding (a foreign Host gets 421, a foreign Origin 403) before
anything else runs; /mcp and /metrics also need `Authorization: Bearer <token>` (401 otherwise). /healthz
and /readyz need no token and reveal no secret.
"""

from __future__ import annotations

import errno
import hmac
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any

import anyio
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from grok_mcp import __version__
from grok_mcp.app import build_server, open_app_context
from grok_mcp.config import Settings
from grok_mcp.context import AppContext
from grok_mcp.errors import ConfigError, GrokMCPError, PortInUseError
from grok_mcp.hosting.parent import wait_for_stdin_eof
from grok_mcp.hosting.sessions_per_address import SESSION_IDLE_TIMEOUT_S, SessionsPerAddress
from grok_mcp.hosting.shutdown import GRACEFUL_SHUTDOWN_S, drain_on_signal
from grok_mcp.hosting.sockets import bind_loopback
from grok_mcp.hosting.uvicorn_serve import h11_with_header_deadline, serve_without_signals
from grok_mcp.secrets import get_api_key

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def allowed_hosts(host: str, port: int) -> list[str]:
    names: list[str] = list(LOOPBACK_NAMES)
    if not is_loopback(host):
        names.append(f"[{host}]" if ":" in host else host)
    return [f"{name}:{port}" for name in names] + names


def allowed_origins(host: str, port: int) -> list[str]:
    return [f"{scheme}://{h}" for scheme in ("http", "https") for h in allowed_hosts(host, port)]


class LocalGuard:
    """ASGI middleware: Host and Origin checks on every route, and the bearer token on /mcp and /metrics."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: list[str], origins: list[str]) -> None:
        self.app = app
        self._token = token.encode()
        self._hosts = {h.lower() for h in hosts}
        self._origins = {o.lower() for o in origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").lower()
        if host not in self._hosts:
            await _plain(send, 421, "Misdirected request: this Grok MCP server only answers to localhost.")
            return
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self._origins:
            await _plain(send, 403, "Forbidden: requests from web pages of other origins are refused.")
            return
        path: str = scope.get("path", "")
        if path in ("/mcp", "/metrics") or path.startswith("/mcp/"):
            supplied = headers.get("authorization", "")
            scheme, _, credential = supplied.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(credential.strip().encode(), self._token):
                await _plain(
                    send,
                    401,
                    "Unauthorized: send `Authorization: Bearer <token>`. The tray's Connect page and "
                    "`grok-mcp clients snippet` show the token for this server.",
                    extra=[(b"www-authenticate", b'Bearer realm="grok-mcp"')],
                )
                return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def readiness(context: AppContext) -> tuple[bool, dict[str, str]]:
    """Whether this server can serve calls: the store takes writes and an API key is configured."""
    checks: dict[str, str] = {}
    try:
        context.store.check_writable()
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"error: {type(exc).__name__}"
    if context.is_simulated:
        checks["api_key"] = "demo mode"
    else:
        try:
            checks["api_key"] = "ok" if get_api_key() else "missing: run `grok-mcp keys set`"
        except GrokMCPError as exc:
            checks["api_key"] = f"error: {type(exc).__name__}"
    return all(v in ("ok", "demo mode") for v in checks.values()), checks


def build_http_app(settings: Settings, context: AppContext, token: str) -> ASGIApp:
    """The whole ASGI app for HTTP mode around one shared AppContext."""
    from grok_mcp.hosting.metrics import CONTENT_TYPE, Metrics

    server = build_server(settings, context=context)
    metrics = context.metrics = Metrics(version=__version__, inflight=lambda: context.inflight.count)

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(_: Request) -> Response:  # pyright: ignore[reportUnusedFunction]
        return JSONResponse({"status": "ok", "app": "grok-mcp", "version": __version__, "pid": os.getpid()})

    @server.custom_route("/readyz", methods=["GET"])
    async def readyz(_: Request) -> Response:  # pyright: ignore[reportUnusedFunction]
        ready, checks = await anyio.to_thread.run_sync(readiness, context)
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @server.custom_route("/metrics", methods=["GET"])
    async def prometheus(_: Request) -> Response:  # pyright: ignore[reportUnusedFunction]
        return Response(metrics.scrape(), media_type=CONTENT_TYPE)

    hosts = allowed_hosts(settings.host, settings.port)
    origins = allowed_origins(settings.host, settings.port)
    starlette_app = server.streamable_http_app(
        host=settings.host,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
        ),
        session_idle_timeout=SESSION_IDLE_TIMEOUT_S,
    )
    # The token first: a request without it opens nothing, and so counts against no address.
    bounded = SessionsPerAddress(starlette_app, idle_timeout_s=SESSION_IDLE_TIMEOUT_S)
    return LocalGuard(bounded, token=token, hosts=hosts, origins=origins)


def bind_http_socket(host: str, port: int) -> socket.socket:
    """Bind the HTTP port before anything starts, so a taken port is a clear error (exit 5)."""
    try:
        return bind_loopback(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"Port {port} on {host} is already in use. If it is another Grok MCP, "
                f"http://{host}:{port}/healthz answers; otherwise choose another port with --port or GROK_MCP_PORT."
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"{host} is not an address of this computer.") from None
        raise


async def run_http(settings: Settings, token: str, *, exit_with_parent: bool = False) -> None:
    """Serve MCP over HTTP until SIGTERM/SIGINT, then finish in-flight calls (up to 30 s) and return.

    With `exit_with_parent`, stdin reaching end of file is a stop request too (grok_mcp.hosting.parent): the tray holds
    our stdin, so however it ends, we drain and exit, on every OS.
    """
    sock = bind_http_socket(settings.host, settings.port)
    try:
        async with open_app_context(settings) as context:
            app = build_http_app(settings, context, token)
            config = uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
                server_header=False,
                http=h11_with_header_deadline(),  # slow or silent clients cannot hold a connection
            )
            uv = uvicorn.Server(config)
            logger.info("MCP over HTTP at http://%s:%d/mcp", settings.host, settings.port)

            def stop() -> None:
                uv.should_exit = True

            parent_gone = wait_for_stdin_eof if exit_with_parent else None
            async with anyio.create_task_group() as tg:
                if sys.platform != "win32" or parent_gone is not None:
                    # We own the signals, not uvicorn: its handler makes sse-starlette end every open stream
                    # at once, cutting off calls in flight. We drain them first, then stop uvicorn.
                    tg.start_soon(partial(drain_on_signal, context, stop, parent_gone=parent_gone))
                await serve_without_signals(uv, [sock])
                tg.cancel_scope.cancel()
    finally:
        sock.close()
