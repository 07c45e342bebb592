"""`grok-mcp doctor`: checks of everything Grok MCP depends on, each with a hint when it fails."""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

import anyio

from grok_mcp import __version__, secrets
from grok_mcp.cli.common import AddCommand, out
from grok_mcp.config import Settings, load_settings
from grok_mcp.errors import ExitCode, GrokMCPError, InvalidKeyError, XAIError
from grok_mcp.logs import configure_logging

Status = Literal["ok", "warn", "fail", "skip"]
_MARKS = {"ok": "✔", "warn": "!", "fail": "✘", "skip": "-"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str | None = None


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list[Check])

    @property
    def is_healthy(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "healthy": self.is_healthy,
            "version": __version__,
            "checks": [asdict(c) for c in self.checks],
        }

    def as_text(self) -> str:
        lines = [f"Grok MCP {__version__} — doctor"]
        for c in self.checks:
            lines.append(f" {_MARKS[c.status]} {c.name}: {c.detail}")
            if c.hint and c.status != "ok":
                lines.append(f"     → {c.hint}")
        lines.append("All good." if self.is_healthy else "Some checks failed; see the hints above.")
        return "\n".join(lines)


def _check_data_dir(settings: Settings) -> Check:
    home = settings.home
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".doctor-", delete=True):
            pass
    except OSError as exc:
        return Check(
            "data dir",
            "fail",
            f"{home} is not writable ({exc.strerror})",
            "Fix its permissions or set GROK_MCP_HOME.",
        )
    return Check("data dir", "ok", str(home))


def _check_keychain() -> tuple[Check, str | None]:
    backend = secrets.backend_name()
    try:
        key = secrets.get_api_key()
        source = secrets.api_key_source()
    except GrokMCPError as exc:
        return Check("keychain", "fail", f"{backend}: {exc}"), None
    if key is None:
        return (
            Check(
                "api key",
                "warn",
                f"none configured (keychain backend {backend})",
                "Run `grok-mcp keys set`, or use demo mode with `--simulate`.",
            ),
            None,
        )
    where = "XAI_API_KEY" if source == "env" else f"keychain ({backend})"
    return Check("api key", "ok", f"{secrets.redact(key)} from {where}"), key


def _check_database(settings: Settings) -> Check:
    from grok_mcp.store import LATEST_SCHEMA_VERSION, Store

    path = settings.db_path
    if not path.exists():
        return Check("database", "ok", f"{path} will be created on first use (schema v{LATEST_SCHEMA_VERSION})")
    try:
        store = Store.open(path)
    except GrokMCPError as exc:
        return Check("database", "fail", str(exc))
    try:
        version = store.schema_version
        intact = store.integrity_ok()
    finally:
        store.close()
    if not intact:
        return Check(
            "database",
            "fail",
            f"{path} failed SQLite's integrity check",
            "Restore it from a backup, or move it away to start afresh.",
        )
    return Check("database", "ok", f"{path} (schema v{version} of v{LATEST_SCHEMA_VERSION})")


def _check_port(settings: Settings) -> Check:
    host, port = settings.host, settings.port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            pass
        else:
            return Check("http port", "ok", f"{host}:{port} is free")
    body: dict[str, Any] = {}
    try:
        import urllib.request  # only `doctor` pays for it, not every command that builds the parser

        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=2) as response:
            parsed = json.loads(response.read().decode("utf-8"))
        if isinstance(parsed, dict):
            body = cast(dict[str, Any], parsed)
    except (OSError, ValueError):  # URLError is an OSError
        pass
    if body.get("app") == "grok-mcp":
        return Check(
            "http port", "ok", f"{host}:{port} is served by Grok MCP {body.get('version')} (pid {body.get('pid')})"
        )
    return Check(
        "http port",
        "warn",
        f"{host}:{port} is taken by another program",
        "Choose another port with --port or GROK_MCP_PORT.",
    )


async def _api_key_info(settings: Settings, key: str) -> str:
    from grok_mcp.grok import GrokClient

    async with GrokClient(
        base_url=settings.base_url, api_key=lambda: key, max_attempts=1, timeout_s=10, connect_timeout_s=5
    ) as client:
        info = await client.api_key_info()
    return f"{settings.base_url} accepts key {info.name!r} ({len(info.acls)} ACLs)"


def _check_api(settings: Settings, key: str | None) -> Check:
    if key is None:
        return Check("xAI API", "skip", f"{settings.base_url}: no key to test with")
    try:
        detail = anyio.run(_api_key_info, settings, key)
    except InvalidKeyError as exc:
        return Check("xAI API", "fail", str(exc))
    except XAIError as exc:
        return Check(
            "xAI API",
            "fail",
            f"{settings.base_url}: {exc}",
            "Check the network, a proxy, or GROK_MCP_BASE_URL.",
        )
    if secrets.mark_api_key_validated(key):
        detail += "; the key stored without a check is checked now"
    return Check("xAI API", "ok", detail)


def run_doctor(settings: Settings | None = None) -> DoctorReport:
    """Run every check; never raises for a failed check (each becomes a `fail` line)."""
    report = DoctorReport()
    report.checks.append(
        Check("runtime", "ok", f"Python {platform.python_version()} on {sys.platform}, pid {os.getpid()}")
    )
    try:
        settings = settings or load_settings()
    except GrokMCPError as exc:
        report.checks.append(Check("settings", "fail", str(exc)))
        return report
    report.checks.append(
        Check(
            "settings",
            "ok",
            f"{settings.settings_path}{'' if settings.settings_path.exists() else ' (defaults)'}",
        )
    )
    report.checks.append(_check_data_dir(settings))
    keychain, key = _check_keychain()
    report.checks.append(keychain)
    report.checks.append(_check_database(settings))
    report.checks.append(_check_port(settings))
    report.checks.append(_check_api(settings, key))
    report.checks.append(Check("logs", "ok", str(settings.logs_dir)))
    return report


def add_doctor_parser(add: AddCommand) -> None:
    """Add `doctor` through build_parser's `add` helper."""
    doctor = add("doctor", cmd_doctor, "check keychain, data dir, database, port and xAI reachability")
    doctor.add_argument("--json", action="store_true")


def cmd_doctor(args: argparse.Namespace) -> int:
    configure_logging("DEBUG" if args.debug else "ERROR")
    report = run_doctor(load_settings())
    if args.json:
        out(json.dumps(report.as_dict(), indent=2))
    else:
        out(report.as_text())
    return ExitCode.OK if report.is_healthy else ExitCode.ERROR
