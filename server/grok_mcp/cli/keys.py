"""`grok-mcp keys set|show|test|rotate|remove`: the xAI API key in the OS keychain, never on the command line."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import sys
from typing import Any

import anyio

from grok_mcp.cli.common import AddCommand, out, settings_from
from grok_mcp.config import Settings
from grok_mcp.errors import (
    ExitCode,
    InputError,
    KeychainError,
    NoApiKeyError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from grok_mcp.logs import configure_logging, register_secret


def add_keys_parser(add: AddCommand) -> None:
    """Add `keys` and its actions through build_parser's `add` helper."""
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


def _is_blocked(info: Any) -> bool:
    """Whether xAI knows the key but will not serve it (the key or its team blocked, or the key disabled)."""
    return bool(info.api_key_blocked or info.api_key_disabled or info.team_blocked)


def _key_info_dict(info: Any) -> dict[str, Any]:
    """What xAI said about a key, for --json output (the key itself only in xAI's redacted form)."""
    fields = dataclasses.asdict(info)
    fields.pop("call", None)
    return fields


async def _fetch_key_info(settings: Settings, key: str) -> Any:
    from grok_mcp.grok import GrokClient

    async with GrokClient(base_url=settings.base_url, api_key=lambda: key, max_attempts=2, timeout_s=30) as client:
        return await client.api_key_info()


def _validate_key(settings: Settings, key: str, *, as_json: bool) -> Any:
    """What xAI says about `key`. Raises InputError (blocked), XAIError: when xAI cannot be reached, one that
    offers `--no-validate` (with --json, also as `{"stored": null, "unreachable": true, …}` on stdout)."""
    try:
        info = anyio.run(_fetch_key_info, settings, key)
    except (UpstreamUnavailableError, UpstreamTimeoutError) as exc:
        message = (
            f"{exc} The key was not stored. To store it without checking it now, run "
            "`grok-mcp keys set --no-validate`; it is checked with xAI at the next `grok-mcp keys test` or "
            "`grok-mcp doctor`, and when the tray starts."
        )
        if as_json:
            out(json.dumps({"stored": None, "validated": False, "unreachable": True, "message": str(exc)}))
        raise type(exc)(message, status=exc.status, call=exc.call) from None
    if _is_blocked(info):
        raise InputError(
            "xAI knows this key but it is blocked or disabled:\n"
            + "\n".join(_key_info_lines(info))
            + "\nUnblock it at https://console.x.ai or create a new one."
        )
    return info


def cmd_keys(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    configure_logging("DEBUG" if args.debug else "WARNING")
    action: str = args.keys_action
    if action == "show":
        return _show(as_json=args.json)
    if action in ("set", "rotate"):
        return _store(settings, args, is_rotation=action == "rotate")
    if action == "test":
        return _test(settings, as_json=args.json)
    if action == "remove":
        return _remove(only_previous=args.previous)
    raise AssertionError(action)


def _show(*, as_json: bool) -> int:
    """`keys show`: where the key comes from, redacted, and a previous key still in its grace period."""
    from grok_mcp import secrets

    source = secrets.api_key_source()
    key = secrets.get_api_key()
    register_secret(key)
    result: dict[str, object] = {
        "source": source,
        "key": secrets.redact(key) if key else None,
        "backend": secrets.backend_name(),
        # Only a keychain key can have been stored unchecked; XAI_API_KEY is the environment's business.
        "validated": secrets.is_api_key_validated(key) if key and source == "keychain" else None,
    }
    try:
        previous = secrets.previous_api_key()
    except KeychainError:
        if source != "env":
            raise
        previous = None  # XAI_API_KEY in use and no keychain: there is no previous key to show
    if previous:
        result["previous_key"] = secrets.redact(previous[0])
        result["previous_expires_at"] = previous[1]
    if as_json:
        out(json.dumps(result))
    elif key is None:
        out("No xAI API key is configured. Store one with `grok-mcp keys set`.")
    else:
        where = "the XAI_API_KEY environment variable" if source == "env" else "the OS keychain"
        out(f"{result['key']} (from {where}; keychain backend {result['backend']})")
        if result["validated"] is False:
            out("It was stored without checking it with xAI; `grok-mcp keys test` checks it now.")
        if previous:
            out(f"Previous key {result['previous_key']} stays valid in Grok MCP until the grace period ends.")
    return ExitCode.OK


def _store(settings: Settings, args: argparse.Namespace, *, is_rotation: bool) -> int:
    """`keys set` and `keys rotate`: read a key, ask xAI about it (unless --no-validate) and store it.

    Raises NoApiKeyError (rotate with no key yet), InputError (an empty, malformed or blocked key).
    """
    from grok_mcp import secrets

    # The keychain first: nobody should paste a key, and wait for xAI, to learn that it cannot be kept.
    secrets.ensure_keychain()
    if is_rotation and secrets.get_api_key() is None:
        raise NoApiKeyError("There is no key to rotate yet. Use `grok-mcp keys set` first.")
    key = secrets.check_key_format(_read_secret("xAI API key (input hidden): "))
    register_secret(key)
    info = None if args.no_validate else _validate_key(settings, key, as_json=args.json)
    if is_rotation:
        secrets.rotate_api_key(key, grace_seconds=args.grace_minutes * 60, validated=info is not None)
        message = (
            f"Rotated: {secrets.redact(key)} is now active; the old key is kept for {args.grace_minutes:g} minutes."
        )
    else:
        secrets.store_api_key(key, validated=info is not None)
        message = f"Stored {secrets.redact(key)} in the OS keychain ({secrets.backend_name()})."
    if info is None:
        message += " It is not checked with xAI yet: `grok-mcp keys test` checks it."
    shadowed = secrets.api_key_source() == "env"
    if args.json:
        key_info = _key_info_dict(info) if info is not None else None
        stored = {"stored": secrets.redact(key), "validated": info is not None, "env_overrides": shadowed}
        out(json.dumps({**stored, "key_info": key_info}))
        return ExitCode.OK
    out(message)
    if info is not None:
        out("\n".join(_key_info_lines(info)))
    if shadowed:
        out("Note: XAI_API_KEY is set in this environment and takes precedence over the keychain.")
    return ExitCode.OK


def _test(settings: Settings, *, as_json: bool) -> int:
    """`keys test`: what xAI says about the configured key; exit 1 when it is blocked. Raises NoApiKeyError."""
    from grok_mcp import secrets

    key = secrets.get_api_key()
    if not key:
        raise NoApiKeyError()
    register_secret(key)
    info = anyio.run(_fetch_key_info, settings, key)
    blocked = _is_blocked(info)
    if not blocked:
        secrets.mark_api_key_validated(key)
    if as_json:
        out(json.dumps({"ok": not blocked, **_key_info_dict(info)}))
    else:
        out("xAI accepts this key:" if not blocked else "xAI knows this key, but it cannot be used:")
        out("\n".join(_key_info_lines(info)))
    return ExitCode.OK if not blocked else ExitCode.ERROR


def _remove(*, only_previous: bool) -> int:
    """`keys remove`: delete the key from the keychain, or with --previous only end the grace period."""
    from grok_mcp import secrets

    if only_previous:
        secrets.end_grace_period()
        out("The previous key is forgotten; only the active key is used now.")
        return ExitCode.OK
    removed = secrets.delete_api_key()
    out("Removed the xAI API key from the OS keychain." if removed else "There was no key in the OS keychain.")
    return ExitCode.OK
