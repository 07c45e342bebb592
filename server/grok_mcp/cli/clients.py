"""`grok-mcp clients list|install|remove|show|snippet|undo|bundle`: MCP client setup from the command line.

Exit codes: 0 done · 1 a config file could not be changed safely (it names the file and the line; nothing
was changed), or the entry would not start · 2 bad usage, an unknown client NAME (the message lists the valid
ones) or `--http` for a client that cannot take it · 3 / 6 install refused: the entry, started as its client
starts it, finds no API key / cannot use the keychain (the message says what to do; `--force` writes it anyway).
Tokens are never printed unless `--reveal-token` is given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grok_mcp.cli.common import AddCommand, err, out
from grok_mcp.config import load_settings
from grok_mcp.errors import ExitCode
from grok_mcp.logs import configure_logging, register_secret

if TYPE_CHECKING:
    from grok_mcp.clients import ClientManager, HttpEndpoint

# The NAMEs of DESIGN.md §3, kept here so that building the command line does not import every client's
# config-file machinery (tomlkit, ruamel.yaml): `grok-mcp serve` starts faster. A test checks it against
# grok_mcp.clients' registry.
CLIENT_NAMES = (
    "claude-desktop",
    "claude-code",
    "cursor",
    "vscode",
    "vscode-insiders",
    "windsurf",
    "zed",
    "cline",
    "continue",
    "lm-studio",
    "gemini-cli",
    "codex",
    "goose",
)


def add_clients_parser(add: AddCommand) -> argparse.ArgumentParser:
    """Add `clients` and its actions through build_parser's `add` helper."""
    clients = add("clients", cmd_clients, "connect MCP clients (Claude Desktop, Cursor, VS Code …) to Grok MCP")
    actions = clients.add_subparsers(dest="clients_action", required=True, metavar="ACTION")
    names = list(CLIENT_NAMES)

    def named(action: str, help_: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(action, help=help_, description=help_)
        parser.add_argument("name", choices=names, metavar="NAME", help="one of: " + ", ".join(names))
        return parser

    listing = actions.add_parser("list", help="every client with its status and config file")
    listing.add_argument("--json", action="store_true")
    install = named("install", "add (or update) the grok entry in the client's config, keeping everything else")
    install.add_argument("--http", action="store_true", help="connect to the tray's local HTTP server instead of stdio")
    install.add_argument("--dry-run", action="store_true", help="show the change without writing it")
    install.add_argument(
        "--simulate",
        action="store_true",
        help="demo mode on purpose: the entry runs `serve --simulate`, answers come from the built-in simulator",
    )
    install.add_argument(
        "--force",
        action="store_true",
        help="write the entry even when it does not start now (the start check is reported, not enforced)",
    )
    named("remove", "remove the grok entry, and only it")
    show = named("show", "the client's status, config file and grok entry")
    show.add_argument("--json", action="store_true")
    show.add_argument("--reveal-token", action="store_true", help="print the HTTP bearer token instead of hiding it")
    snippet = named("snippet", "print a config fragment to paste by hand")
    snippet.add_argument("--http", action="store_true", help="an HTTP entry (URL and bearer token)")
    snippet.add_argument("--reveal-token", action="store_true", help="put the real token in the fragment")
    named("undo", "put back the client's config file from before Grok MCP's last change")
    bundle = actions.add_parser("bundle", help="build a Claude Desktop extension (.mcpb) for Grok MCP")
    bundle.add_argument("--output", type=Path, required=True, help="the .mcpb file to write")
    bundle.add_argument(
        "--server-dir", type=Path, default=None, help="a frozen build folder holding grok-mcp(.exe) to put inside"
    )
    return clients


def _manager() -> ClientManager:
    from grok_mcp.clients import ClientManager, HostEnv
    from grok_mcp.clients.launch import local_http_url, server_launch

    settings = load_settings()
    return ClientManager(
        HostEnv.current(),
        server_launch(),
        settings.home / "client-backups",
        http_url=local_http_url(settings.port),
    )


def _endpoint() -> HttpEndpoint:
    from grok_mcp import secrets
    from grok_mcp.clients import HttpEndpoint
    from grok_mcp.clients.launch import local_http_url

    settings = load_settings()
    # Without a keychain, the token of the server running on that port (`serve` wrote it to a 0600 file).
    token = secrets.get_http_token(run_token_file=secrets.run_token_path(settings.home, settings.port))
    assert token is not None
    register_secret(token)
    return HttpEndpoint(local_http_url(settings.port), token)


def cmd_clients(args: argparse.Namespace) -> int:
    configure_logging("DEBUG" if getattr(args, "debug", False) else "WARNING")
    action: str = args.clients_action
    if action == "bundle":
        return _bundle(args.output, args.server_dir)
    manager = _manager()
    if action == "list":
        return _list(manager, as_json=args.json)
    name: str = args.name
    if action == "show":
        return _show(manager, name, as_json=args.json, reveal=args.reveal_token)
    if action == "snippet":
        return _snippet(manager, name, http=args.http, reveal=args.reveal_token)
    if action == "install":
        return _install(manager, name, http=args.http, simulate=args.simulate, dry_run=args.dry_run, force=args.force)
    if action == "remove":
        return _remove(manager, name)
    if action == "undo":
        outcome = manager.undo(name)
        out(f"Restored {outcome.config_path} from {outcome.backup}. Next: {outcome.restart_hint}")
        return ExitCode.OK
    raise AssertionError(action)


def _bundle(output: Path, server_dir: Path | None) -> int:
    from grok_mcp.clients.launch import server_launch
    from grok_mcp.clients.mcpb import build_bundle

    result = build_bundle(output, server_launch(), server_dir=server_dir)
    out(f"Wrote {result.path} ({result.kind}).")
    out("Double-click it (or drag it onto Claude Desktop → Settings → Extensions) to install Grok MCP.")
    return ExitCode.OK


def _list(manager: ClientManager, *, as_json: bool) -> int:
    """Every client's status and config file; under the table, what to do about entries of an earlier version."""
    from grok_mcp.clients import Status

    reports = manager.reports()
    if as_json:
        out(json.dumps([r.as_dict() for r in reports], indent=2))
        return ExitCode.OK
    width = max(len(r.name) for r in reports)
    status_width = max(len(r.status) for r in reports)
    for r in reports:
        out(f"{r.name:<{width}}  {r.status!s:<{status_width}}  {r.config_path}")
    for r in reports:
        if r.status is Status.OUTDATED:
            out(f"{r.name}: {r.detail}.")
    return ExitCode.OK


def _snippet(manager: ClientManager, name: str, *, http: bool, reveal: bool) -> int:
    out(manager.snippet(name, _endpoint() if http else None, reveal_token=reveal).rstrip("\n"))
    spec = manager.spec(name)
    err(f"Paste this into {spec.config_path(manager.host)} ({spec.format.label}), merging with what is there.")
    return ExitCode.OK


def _install(manager: ClientManager, name: str, *, http: bool, simulate: bool, dry_run: bool, force: bool) -> int:
    """Check the file, start the entry as the client will (not on a dry run), write it; refuse if it cannot start."""
    endpoint = _endpoint() if http else None
    preview = manager.install(name, http=endpoint, simulate=simulate, dry_run=True)  # a broken file stops us first
    if dry_run:
        for warning in preview.warnings:
            err("Warning: " + warning)
        out(preview.diff.rstrip("\n") if preview.diff else f"{preview.config_path} already holds this entry.")
        return ExitCode.OK
    display = manager.spec(name).display_name
    check = manager.check(name, endpoint, simulate=simulate)
    if not check.starts:
        said = f"\n(The server said: {check.server_said})" if check.server_said else ""
        if not force:
            err(
                f"Not installed: started as {display} starts it, the entry fails: {check.reason}.{said}\n"
                f"What to do: {check.advice}.\n"
                f"{preview.config_path} is unchanged. To write the entry anyway, add --force."
            )
            return check.exit_code
        err(f"Warning: the entry does not start now ({check.reason}); writing it anyway (--force).{said}")
    outcome = manager.install(name, http=endpoint, simulate=simulate)
    for warning in outcome.warnings:
        err("Warning: " + warning)
    if check.starts:
        out(f"Checked: started as {display} starts it, the entry answers MCP initialize.")
    if outcome.action == "unchanged":
        out(f"{outcome.config_path} already has this grok entry; nothing to change.")
        return ExitCode.OK
    mode = " in demo mode" if simulate else ""
    out(f"{outcome.action.capitalize()} grok{mode} in {outcome.config_path}.")
    if simulate:
        out(
            "Demo mode: every answer comes from the built-in simulator, not from Grok, and is marked simulated. "
            f"Once a key is stored (`grok-mcp keys set`), run `grok-mcp clients install {name}` to switch."
        )
    if outcome.backup is not None and outcome.backup.suffix == ".absent":
        out(f"There was no such file before (`grok-mcp clients undo {name}` deletes it again).")
    elif outcome.backup is not None:
        out(f"The previous file is kept at {outcome.backup} (`grok-mcp clients undo {name}` puts it back).")
    out("Next: " + outcome.restart_hint)
    return ExitCode.OK


def _remove(manager: ClientManager, name: str) -> int:
    """Remove the entry and say exactly what changed, where the old file is kept and how to put it back."""
    outcome = manager.remove(name)
    if outcome.action == "absent":
        out(f"{outcome.config_path} has no grok entry; nothing to remove, nothing changed.")
        return ExitCode.OK
    if outcome.deleted_file:
        out(f"Deleted {outcome.config_path}: Grok MCP had created it, and nothing but the grok entry was in it.")
    else:
        out(f"Removed the grok entry from {outcome.config_path}; every other server and setting in it is as it was.")
    if outcome.backup is not None:
        out(f"The file as it was is kept at {outcome.backup} (`grok-mcp clients undo {name}` puts it back).")
    out("Next: " + outcome.restart_hint)
    return ExitCode.OK


def _show(manager: ClientManager, name: str, *, as_json: bool, reveal: bool) -> int:
    report = manager.report(name)
    data: dict[str, Any] = report.as_dict()
    if reveal and report.entry is not None:
        data["entry"] = manager.read_entry(manager.spec(name))
    if as_json:
        out(json.dumps(data, indent=2))
        return ExitCode.OK
    out(f"{report.display_name} ({report.name}): {report.status}, {report.detail}")
    out(f"  config file: {report.config_path} ({report.format})")
    for other in report.other_paths:
        out(f"  also found:  {other}")
    if report.problem:
        out(f"  problem:     {report.problem}")
    if report.is_running is not None:
        out(f"  running:     {'yes' if report.is_running else 'no'}")
    if data["entry"] is not None:
        out("  entry:       " + json.dumps(data["entry"], ensure_ascii=False))
    out(f"  to reload:   {report.restart_hint}")
    return ExitCode.OK
