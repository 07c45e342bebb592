"""`grok-mcp serve` (the MCP server over stdio or HTTP) and `grok-mcp simulate` (the simulated xAI API)."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from grok_mcp import __version__
from grok_mcp.cli.common import AddCommand, err, settings_from
from grok_mcp.config import DEFAULT_SIMULATOR_PORT, Settings, load_settings
from grok_mcp.errors import ExitCode, KeychainError, NoApiKeyError
from grok_mcp.logs import configure_logging, register_secret

logger = logging.getLogger(__name__)


def add_serve_parsers(add: AddCommand) -> None:
    """Add `serve` and `simulate` through build_parser's `add` helper."""
    serve = add("serve", cmd_serve, "run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default=None, help="HTTP address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="HTTP port (default 8765 or GROK_MCP_PORT)")
    serve.add_argument("--simulate", action="store_true", help="demo mode: answer from the built-in simulator")
    serve.add_argument("--profile", metavar="PATH", help="profile the server with cProfile; stats go to PATH on exit")
    serve.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="for a parent process that holds this server's stdin open (the tray does): in HTTP mode, stop "
        "gracefully, as on SIGTERM, when stdin reaches end of file, that is when the parent closes it or dies. "
        "stdio mode always ends with its stdin",
    )

    simulate = add("simulate", cmd_simulate, "run the simulated xAI API")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=DEFAULT_SIMULATOR_PORT)
    simulate.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    simulate.add_argument("--ttft-ms", type=float, default=0.0, help="delay before a stream's first chunk")
    simulate.add_argument("--chunk-ms", type=float, default=0.0, help="delay between stream chunks")


def cmd_serve(args: argparse.Namespace) -> int:
    from grok_mcp import secrets
    from grok_mcp.hosting import startup

    startup.pause_collector()  # until build_server is done

    settings = settings_from(
        args,
        transport=args.transport,
        host=args.host,
        port=args.port,
        simulate=True if args.simulate else None,
    )
    configure_logging(settings.log_level, log_dir=settings.logs_dir, debug=settings.debug, content=settings.log_content)
    if not settings.simulate:
        key = secrets.get_api_key()
        if not key:
            raise NoApiKeyError()
        register_secret(key)
    if settings.transport == "http":
        from grok_mcp.hosting.http import is_loopback, run_http

        token, run_token_file = _http_token(settings)
        register_secret(token)
        if not is_loopback(settings.host):
            logger.warning(
                "Serving on %s, which is reachable from other machines; the bearer token is required.",
                settings.host,
            )
        err(connect_help(settings, run_token_file=run_token_file))
        try:
            _run_profiled(args.profile, partial(run_http, exit_with_parent=args.exit_with_parent), settings, token)
        finally:
            if run_token_file is not None:
                secrets.remove_run_token(run_token_file, token)
    else:
        from grok_mcp.hosting.stdio import run_stdio

        _run_profiled(args.profile, run_stdio, settings)
    return ExitCode.OK


def _http_token(settings: Settings) -> tuple[str, Path | None]:
    """The bearer token for this server, and the per-run token file when no keychain could keep the token.

    Raises ConfigError for a weak GROK_MCP_HTTP_TOKEN, PortInUseError, OSError when the per-run file cannot be
    written.
    """
    from grok_mcp import secrets

    try:
        token = secrets.get_http_token()
    except KeychainError as exc:
        # Without a keychain the server still starts (demo mode on a headless box, XAI_API_KEY in a container):
        # with a token made for this run, in a file only this user can read.
        logger.info("The HTTP token cannot be kept in the OS keychain, so this run makes its own: %s", exc)
        from grok_mcp.hosting.http import bind_http_socket

        # A port already served is exit 5 before the file of the server holding it is replaced.
        bind_http_socket(settings.host, settings.port).close()
        path = secrets.run_token_path(settings.home, settings.port)
        return secrets.create_run_token(path), path
    assert token is not None
    return token, None


def connect_help(settings: Settings, *, run_token_file: Path | None) -> str:
    """How to connect to this HTTP server: its URL, where its bearer token is, and the command that sets up a
    client. Never the token itself."""
    from grok_mcp.secrets import HTTP_TOKEN_ENV

    lines = [
        f"Grok MCP {__version__} over HTTP at http://{settings.host}:{settings.port}/mcp"
        + (" (demo mode: answers come from the simulator)" if settings.simulate else "")
    ]
    # `clients` commands find the server at the port of the settings; say so when this one runs elsewhere.
    port_prefix = "" if load_settings().port == settings.port else f"GROK_MCP_PORT={settings.port} "
    if run_token_file is not None:
        lines.append(
            f"No OS keychain can keep the bearer token, so this run made one: it is in {run_token_file} "
            "(readable only by you; removed when the server stops, and a new one is made at each start)."
        )
    elif os.environ.get(HTTP_TOKEN_ENV, "").strip():
        lines.append(f"Clients authenticate with the bearer token in {HTTP_TOKEN_ENV}.")
    else:
        lines.append(
            "Clients authenticate with the bearer token kept in the OS keychain (service grok-mcp, account "
            f"http-token); `{port_prefix}grok-mcp clients snippet claude-code --http --reveal-token` prints it."
        )
    lines.append(
        f"Connect Claude Code: {port_prefix}grok-mcp clients install claude-code --http "
        "(every client: grok-mcp clients list)."
    )
    if settings.simulate:
        lines.append(
            "For real answers store an xAI key with `grok-mcp keys set` (with no keychain, set XAI_API_KEY "
            "instead) and start the server again."
        )
    lines.append("Stop with Ctrl+C.")
    return "\n".join(lines)


def _run_profiled(profile: str | None, main: Callable[..., Any], *args: Any) -> None:
    """Run the server; with --profile, under cProfile, writing the stats when it stops (even on error)."""
    if profile is None:
        anyio.run(main, *args)
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        anyio.run(main, *args)
    finally:
        profiler.disable()
        profiler.dump_stats(profile)
        logger.info("Profile written to %s (read it with: python -m pstats %s)", profile, profile)


def cmd_simulate(args: argparse.Namespace) -> int:
    from grok_mcp.hosting.http import bind_http_socket
    from grok_mcp.simulator import SimulatorConfig, serve

    configure_logging("DEBUG" if args.debug else "INFO")
    bind_http_socket(args.host, args.port).close()  # a taken port is exit 5, not a traceback
    config = SimulatorConfig(latency_ms=args.latency_ms, ttft_ms=args.ttft_ms, chunk_ms=args.chunk_ms)
    err(
        f"Simulated xAI API at http://{args.host}:{args.port}/v1 — point Grok MCP at it with "
        f"GROK_MCP_BASE_URL=http://{args.host}:{args.port}/v1 and any key like xai-demo-key-0001."
    )
    serve(args.host, args.port, config)
    return ExitCode.OK
