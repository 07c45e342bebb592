"""Every `grok-mcp` command line: parsing, logging setup (stderr only) and exit codes.

Exit codes: 0 ok · 1 unexpected error · 2 bad usage · 3 no API key · 4 database newer than this
program · 5 port in use · 6 keychain unavailable.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import logging
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

import anyio

from grok_mcp import __version__
from grok_mcp.config import DEFAULT_SIMULATOR_PORT, Settings, load_settings
from grok_mcp.errors import GrokMCPError, InputError, NoApiKeyError, UserFacingError
from grok_mcp.logs import configure_logging, register_secret

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1


def _out(text: str = "") -> None:
    """Write a line for the person at the terminal (never used by `serve`, whose stdout is protocol)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    settings = load_settings()
    changes: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if getattr(args, "debug", False):
        changes["debug"] = True
        changes["log_level"] = "DEBUG"
    return dataclasses.replace(settings, **changes)


# ---------------------------------------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from grok_mcp import secrets, startup

    startup.pause_collector()  # until build_server is done

    settings = _settings(
        args,
        transport=args.transport,
        host=args.host,
        port=args.port,
        simulate=True if args.simulate else None,
    )
    configure_logging(settings.log_level, log_dir=settings.logs_dir, debug=settings.debug)
    if not settings.simulate:
        key = secrets.get_api_key()
        if not key:
            raise NoApiKeyError()
        register_secret(key)
    if settings.transport == "http":
        from grok_mcp.http import is_loopback, run_http

        token = secrets.get_http_token()
        assert token is not None
        register_secret(token)
        if not is_loopback(settings.host):
            logger.warning(
                "Serving on %s, which is reachable from other machines; the bearer token is required.",
                settings.host,
            )
        _err(
            f"Grok MCP {__version__} over HTTP at http://{settings.host}:{settings.port}/mcp"
            + (" (demo mode: answers come from the simulator)" if settings.simulate else "")
            + "\nClients authenticate with the bearer token kept in the OS keychain "
            "(service grok-mcp, account http-token) or given in GROK_MCP_HTTP_TOKEN."
            "\nStop with Ctrl+C."
        )
        _run_profiled(args.profile, partial(run_http, exit_with_parent=args.exit_with_parent), settings, token)
    else:
        from grok_mcp.stdio import run_stdio

        _run_profiled(args.profile, run_stdio, settings)
    return EXIT_OK


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
    from grok_mcp.http import bind_http_socket
    from grok_mcp.simulator import SimulatorConfig, serve

    configure_logging("DEBUG" if args.debug else "INFO")
    bind_http_socket(args.host, args.port).close()  # a taken port is exit 5, not a traceback
    config = SimulatorConfig(latency_ms=args.latency_ms, ttft_ms=args.ttft_ms, chunk_ms=args.chunk_ms)
    _err(
        f"Simulated xAI API at http://{args.host}:{args.port}/v1 — point Grok MCP at it with "
        f"GROK_MCP_BASE_URL=http://{args.host}:{args.port}/v1 and any key like xai-demo-key-0001."
    )
    serve(args.host, args.port, config)
    return EXIT_OK


# ----------------------------------------------------------------------------------------------- keys


def _read_secret(prompt: str) -> str:
    """Read a key from the terminal without echo, or from stdin when piped. Never from argv."""
    value = (getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()).strip()
    if not value:
        raise InputError("No key was given. Paste the key from https://console.x.ai when asked, or pipe it in.")
    return value


def _key_info_lines(info: Any) -> list[str]:
    lines = [
        f"  name:     {info.name}",
        f"  key:      {info.redacted_api_key}",
        f"  team:     {info.team_id}",
        f"  ACLs:     {', '.join(info.acls) or '(none: this key can call nothing)'}",
    ]
    flags = [
        n
        for n, on in (
            ("key blocked", info.api_key_blocked),
            ("key disabled", info.api_key_disabled),
            ("team blocked", info.team_blocked),
        )
        if on
    ]
    lines.append(f"  status:   {'BLOCKED: ' + ', '.join(flags) if flags else 'active'}")
    return lines


def _key_info_dict(info: Any) -> dict[str, Any]:
    """What xAI said about a key, for --json output (the key itself only in xAI's redacted form)."""
    fields = dataclasses.asdict(info)
    fields.pop("call", None)
    return fields


async def _fetch_key_info(settings: Settings, key: str) -> Any:
    from grok_mcp.grok import GrokClient

    async with GrokClient(base_url=settings.base_url, api_key=lambda: key, max_attempts=2, timeout_s=30) as client:
        return await client.api_key_info()


def _validate_key(settings: Settings, key: str) -> Any:
    info = anyio.run(_fetch_key_info, settings, key)
    if info.api_key_blocked or info.api_key_disabled or info.team_blocked:
        raise InputError(
            "xAI knows this key but it is blocked or disabled:\n"
            + "\n".join(_key_info_lines(info))
            + "\nUnblock it at https://console.x.ai or create a new one."
        )
    return info


def cmd_keys(args: argparse.Namespace) -> int:
    from grok_mcp import secrets

    settings = _settings(args)
    configure_logging("DEBUG" if args.debug else "WARNING")
    action: str = args.keys_action
    if action == "show":
        source = secrets.api_key_source()
        key = secrets.get_api_key()
        register_secret(key)
        result: dict[str, object] = {
            "source": source,
            "key": secrets.redact(key) if key else None,
            "backend": secrets.backend_name(),
        }
        previous = secrets.previous_api_key()
        if previous:
            result["previous_key"] = secrets.redact(previous[0])
            result["previous_expires_at"] = previous[1]
        if args.json:
            _out(json.dumps(result))
        elif key is None:
            _out("No xAI API key is configured. Store one with `grok-mcp keys set`.")
        else:
            where = "the XAI_API_KEY environment variable" if source == "env" else "the OS keychain"
            _out(f"{result['key']} (from {where}; keychain backend {result['backend']})")
            if previous:
                _out(f"Previous key {result['previous_key']} stays valid in Grok MCP until the grace period ends.")
        return EXIT_OK
    if action in ("set", "rotate"):
        if action == "rotate" and secrets.get_api_key() is None:
            raise NoApiKeyError("There is no key to rotate yet. Use `grok-mcp keys set` first.")
        key = secrets.check_key_format(_read_secret("xAI API key (input hidden): "))
        register_secret(key)
        info = None if args.no_validate else _validate_key(settings, key)
        if action == "rotate":
            secrets.rotate_api_key(key, grace_seconds=args.grace_minutes * 60)
            message = (
                f"Rotated: {secrets.redact(key)} is now active; the old key is kept for {args.grace_minutes:g} minutes."
            )
        else:
            secrets.store_api_key(key)
            message = f"Stored {secrets.redact(key)} in the OS keychain ({secrets.backend_name()})."
        shadowed = secrets.api_key_source() == "env"
        if args.json:
            _out(
                json.dumps(
                    {
                        "stored": secrets.redact(key),
                        "validated": info is not None,
                        "env_overrides": shadowed,
                        "key_info": _key_info_dict(info) if info is not None else None,
                    }
                )
            )
            return EXIT_OK
        _out(message)
        if info is not None:
            _out("\n".join(_key_info_lines(info)))
        if shadowed:
            _out("Note: XAI_API_KEY is set in this environment and takes precedence over the keychain.")
        return EXIT_OK
    if action == "test":
        key = secrets.get_api_key()
        if not key:
            raise NoApiKeyError()
        register_secret(key)
        info = anyio.run(_fetch_key_info, settings, key)
        blocked = info.api_key_blocked or info.api_key_disabled or info.team_blocked
        if args.json:
            _out(json.dumps({"ok": not blocked, **_key_info_dict(info)}))
        else:
            _out("xAI accepts this key:" if not blocked else "xAI knows this key, but it cannot be used:")
            _out("\n".join(_key_info_lines(info)))
        return EXIT_OK if not blocked else EXIT_ERROR
    if action == "remove":
        if args.previous:
            secrets.end_grace_period()
            _out("The previous key is forgotten; only the active key is used now.")
            return EXIT_OK
        removed = secrets.delete_api_key()
        _out("Removed the xAI API key from the OS keychain." if removed else "There was no key in the OS keychain.")
        return EXIT_OK
    raise AssertionError(action)


# ---------------------------------------------------------------------------------------------- usage


def cmd_usage(args: argparse.Namespace) -> int:
    from grok_mcp.store import Store
    from grok_mcp.tools.usage import UsageReport, UsageRow, format_usage_table, iso_time, period_bounds

    settings = _settings(args)
    store = Store.open(settings.db_path)
    try:
        since, until = period_bounds(args.period)
        summary = store.usage_summary(since=since, until=until, group_by=args.group_by)
    finally:
        store.close()
    report = UsageReport(
        period=args.period,
        since=iso_time(since),
        until=iso_time(until),
        group_by=args.group_by,
        groups=[UsageRow.of(g) for g in summary.groups],
        total=UsageRow.of(summary.total),
    )
    _out(report.model_dump_json(indent=2) if args.json else format_usage_table(report))
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- models


async def _model_list(settings: Settings, key: str) -> Any:
    from grok_mcp.grok import GrokClient, ModelCatalog
    from grok_mcp.tools.models import build_model_list

    async with GrokClient(base_url=settings.base_url, api_key=lambda: key, max_attempts=3, timeout_s=30) as client:
        return await build_model_list(ModelCatalog(client), settings, simulated=False)


async def _demo_model_list(settings: Settings) -> Any:
    from grok_mcp.demo import DEMO_KEY, embedded_simulator

    async with embedded_simulator() as base_url:
        listing = await _model_list(dataclasses.replace(settings, base_url=base_url), DEMO_KEY)
    return listing.model_copy(update={"simulated": True})


def cmd_models(args: argparse.Namespace) -> int:
    from grok_mcp import secrets
    from grok_mcp.tools.models import format_model_table

    settings = _settings(args)
    configure_logging("DEBUG" if args.debug else "WARNING")
    if args.simulate:
        listing = anyio.run(_demo_model_list, settings)
    else:
        key = secrets.get_api_key()
        if not key:
            raise NoApiKeyError()
        register_secret(key)
        listing = anyio.run(_model_list, settings, key)
    _out(listing.model_dump_json(indent=2) if args.json else format_model_table(listing))
    return EXIT_OK


# --------------------------------------------------------------------------------------- doctor, chat


def cmd_doctor(args: argparse.Namespace) -> int:
    from grok_mcp.doctor import run_doctor

    configure_logging("DEBUG" if args.debug else "ERROR")
    report = run_doctor(load_settings())
    if args.json:
        _out(json.dumps(report.as_dict(), indent=2))
    else:
        _out(report.as_text())
    return EXIT_OK if report.is_healthy else EXIT_ERROR


def cmd_chat(args: argparse.Namespace) -> int:
    from grok_mcp.console import run_console

    settings = _settings(args, simulate=True if args.simulate else None, transport="console")
    configure_logging("DEBUG" if args.debug else "WARNING", log_dir=settings.logs_dir)
    if not settings.simulate:
        from grok_mcp import secrets

        key = secrets.get_api_key()
        if not key:
            raise NoApiKeyError()
        register_secret(key)
    return run_console(settings, model=args.model)


# ---------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grok-mcp", description="xAI's Grok for every MCP client: server, simulator, keys and usage."
    )
    parser.add_argument("--version", action="version", version=f"grok-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--debug", action="store_true", help="verbose logs on stderr (never secrets)")
        p.set_defaults(handler=handler)
        return p

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

    keys = add("keys", cmd_keys, "manage xAI API keys in the OS keychain")
    keys_sub = keys.add_subparsers(dest="keys_action", required=True, metavar="ACTION")
    k_set = keys_sub.add_parser("set", help="store a key (read from the terminal or stdin, never the command line)")
    k_set.add_argument("--no-validate", action="store_true", help="store without asking xAI first")
    k_set.add_argument("--json", action="store_true", help="print the result as JSON")
    k_show = keys_sub.add_parser("show", help="show the configured key, redacted")
    k_show.add_argument("--json", action="store_true")
    k_test = keys_sub.add_parser("test", help="ask xAI about the configured key")
    k_test.add_argument("--json", action="store_true")
    k_rotate = keys_sub.add_parser("rotate", help="replace the key, keeping the old one for a grace period")
    k_rotate.add_argument("--grace-minutes", type=float, default=60.0)
    k_rotate.add_argument("--no-validate", action="store_true")
    k_rotate.add_argument("--json", action="store_true", help="print the result as JSON")
    k_remove = keys_sub.add_parser("remove", help="remove the key from the keychain")
    k_remove.add_argument("--previous", action="store_true", help="only end the rotation grace period")

    usage = add("usage", cmd_usage, "show usage and cost from the ledger")
    usage.add_argument("--period", choices=["today", "yesterday", "7d", "30d", "month", "all"], default="30d")
    usage.add_argument("--group-by", choices=["day", "model", "tool", "client"], default="day")
    usage.add_argument("--json", action="store_true")

    models = add("models", cmd_models, "list the models xAI serves now, with prices")
    models.add_argument("--json", action="store_true")
    models.add_argument("--simulate", action="store_true", help="list the built-in simulator's catalog")

    chat = add("chat", cmd_chat, "interactive console for trying every tool")
    chat.add_argument("--simulate", action="store_true", help="use the built-in simulator")
    chat.add_argument("--model", default=None)

    doctor = add("doctor", cmd_doctor, "check keychain, data dir, database, port and xAI reachability")
    doctor.add_argument("--json", action="store_true")

    from grok_mcp.cli_clients import add_clients_parser
    from grok_mcp.cli_conversations import add_conversations_parser

    add_clients_parser(add)
    add_conversations_parser(sub, add)
    return parser


def _find_ours(exc: BaseException) -> GrokMCPError | None:
    """Our error inside an exception group (task groups wrap what their tasks raise)."""
    if isinstance(exc, GrokMCPError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        group = cast("BaseExceptionGroup[BaseException]", exc)
        for inner in group.exceptions:
            found = _find_ours(inner)
            if found is not None:
                return found
    return None


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("WARNING")  # the redaction filter guards even what fails before a command sets up logs
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # the outermost boundary: every failure ends in a message and an exit code
        if isinstance(exc, SystemExit):
            raise
        ours = _find_ours(exc)
        if ours is not None:
            if not isinstance(ours, UserFacingError):
                logger.error("grok-mcp %s failed", args.command, exc_info=ours)
            _err(f"grok-mcp: {ours}")
            return ours.exit_code
        logger.error("grok-mcp %s failed unexpectedly", args.command, exc_info=exc)
        _err(f"grok-mcp: unexpected error ({type(exc).__name__}); details are in the log. Please report it.")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
