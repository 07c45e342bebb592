"""The one API the CLI and the tray's Clients page call: status, install, remove, undo and snippets per client.

Every call is synchronous and safe to run on a worker thread; results are plain dataclasses.
"""

from __future__ import annotations

import codecs
import copy
import difflib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from grok_mcp.clients import processes, start_check
from grok_mcp.clients.base import (
    ENTRY_NAME,
    SIMULATE_FLAG,
    URL_KEYS,
    ClientSpec,
    HostEnv,
    HttpEndpoint,
    ServerLaunch,
    Status,
    is_earlier_launch,
)
from grok_mcp.clients.errors import ClientSetupError, ConfigShapeError, ConfigSyntaxError, UnsupportedModeError
from grok_mcp.clients.registry import all_clients, get_client
from grok_mcp.clients.safe_edit import (
    LOCK_TIMEOUT_S,
    BackupStore,
    Change,
    InstallRecord,
    apply_change,
    read_bytes,
    real_target,
    sha256,
    undo_last,
)
from grok_mcp.clients.start_check import StartCheck, StartProblem

logger = logging.getLogger(__name__)

HIDDEN_TOKEN = "<hidden: add --reveal-token to show it>"  # noqa: S105 (a placeholder, not a token)
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class ClientReport:
    """One client's state, for `clients list/show` and the tray's Clients page."""

    name: str
    display_name: str
    format: str
    config_path: Path
    other_paths: list[Path]
    is_detected: bool
    status: Status
    detail: str
    entry: dict[str, Any] | None
    supports_http: bool
    restart_hint: str
    is_running: bool | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "format": self.format,
            "config_path": str(self.config_path),
            "other_paths": [str(p) for p in self.other_paths],
            "detected": self.is_detected,
            "status": str(self.status),
            "detail": self.detail,
            "entry": self.entry,
            "supports_http": self.supports_http,
            "restart_hint": self.restart_hint,
            "running": self.is_running,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class ChangeOutcome:
    """What install, remove or undo did to one client's config file."""

    client: str
    config_path: Path
    action: str
    """installed, updated, unchanged, removed, absent, restored, or would-change (dry run)."""
    backup: Path | None = None
    restart_hint: str = ""
    diff: str = ""
    warnings: list[str] = field(default_factory=list[str])
    deleted_file: bool = False
    """Remove took the file away: Grok MCP had created it and nothing else was left in it."""


def _decode(data: bytes, path: Path, label: str) -> tuple[bool, str]:
    has_bom = data.startswith(_BOM)
    body = data[len(_BOM) :] if has_bom else data
    try:
        return has_bom, body.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = body[: exc.start]
        line = prefix.count(b"\n") + 1
        column = len(prefix) - (prefix.rfind(b"\n") + 1) + 1
        raise ConfigSyntaxError(path, line, column, "the bytes there are not UTF-8 text", label) from None


def _encode(has_bom: bool, text: str) -> bytes:
    return (_BOM if has_bom else b"") + text.encode("utf-8")


def redact_entry(entry: dict[str, Any] | None, token: str | None = None) -> dict[str, Any] | None:
    """A copy of an entry with every Authorization header (and the token wherever it appears) hidden."""
    if entry is None:
        return None

    def scrub(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: scrub(v, str(k)) for k, v in cast(dict[str, Any], value).items()}
        if isinstance(value, list):
            return [scrub(v) for v in cast(list[Any], value)]
        if isinstance(value, str):
            if key.lower() == "authorization":
                return "Bearer " + HIDDEN_TOKEN
            if token and token in value:
                return value.replace(token, HIDDEN_TOKEN)
        return value

    return cast(dict[str, Any], scrub(copy.deepcopy(entry)))


class ClientManager:
    """Configures MCP clients on one host to start (or reach) this Grok MCP."""

    def __init__(
        self,
        host: HostEnv,
        launch: ServerLaunch,
        backups_root: Path,
        *,
        http_url: str | None = None,
        lock_timeout_s: float = LOCK_TIMEOUT_S,
        running: Callable[[ClientSpec, HostEnv], bool | None] | None = None,
    ) -> None:
        self.host = host
        self.launch = launch
        self.backups_root = backups_root
        self.http_url = http_url
        self.lock_timeout_s = lock_timeout_s
        self._running = running or _is_running

    # ------------------------------------------------------------------------------------------- reading

    def clients(self) -> list[ClientSpec]:
        return all_clients()

    def spec(self, name: str) -> ClientSpec:
        """Raises UnknownClientError."""
        return get_client(name)

    def _target(self, spec: ClientSpec) -> Path:
        return real_target(spec.config_path(self.host))

    def _backups(self, spec: ClientSpec, target: Path) -> BackupStore:
        return BackupStore(self.backups_root, spec.name, target)

    def read_entry(self, spec: ClientSpec) -> dict[str, Any] | None:
        """Our entry as the file holds it now. Raises ConfigSyntaxError, ConfigShapeError, ConfigWriteError."""
        target = self._target(spec)
        data = read_bytes(target)
        if data is None:
            return None
        _, text = _decode(data, target, spec.format.label)
        return self._entry_in(spec, spec.format.load(text, target), target)

    def _entry_in(self, spec: ClientSpec, document: dict[str, Any], path: Path) -> dict[str, Any] | None:
        servers = document.get(spec.container)
        if servers is None:
            return None
        if spec.is_keyed_list:
            if not isinstance(servers, list):
                raise ConfigShapeError(f"`{spec.container}` in {path} is not a list.")
            for item in cast(list[Any], servers):
                if isinstance(item, dict) and cast(dict[str, Any], item).get("name") == ENTRY_NAME:
                    return cast(dict[str, Any], item)
            return None
        if not isinstance(servers, dict):
            raise ConfigShapeError(f"`{spec.container}` in {path} is not a map of servers.")
        entry = cast(dict[str, Any], servers).get(ENTRY_NAME)
        return cast(dict[str, Any], entry) if isinstance(entry, dict) else None

    def _judge(self, spec: ClientSpec, entry: dict[str, Any]) -> tuple[Status, str]:
        command = entry.get("command", entry.get("cmd"))
        url = next((entry[k] for k in URL_KEYS if isinstance(entry.get(k), str)), None)
        if isinstance(command, str):
            raw_args: Any = entry.get("args") or []
            if not isinstance(raw_args, list):
                return Status.STALE, f"its args are a {type(raw_args).__name__}, not a list"
            args = [str(a) for a in cast(list[Any], raw_args)]
            if is_earlier_launch(args):
                return Status.OUTDATED, (
                    f"written by an earlier Grok MCP (it starts {command} {' '.join(args)}, which no longer starts "
                    f"anything); run `grok-mcp clients install {spec.name}` (or press Update on the tray's Clients "
                    "page) to update it"
                )
            if not os.path.exists(command):
                return Status.STALE, f"it starts {command}, which no longer exists"
            demo = self.launch.simulated()
            if command != self.launch.command or args not in (list(self.launch.args), list(demo.args)):
                return Status.STALE, f"it starts {command} {' '.join(args)}; this Grok MCP is {self.launch.command}"
            mode = " (demo mode: answers come from the simulator)" if SIMULATE_FLAG in args else ""
            return Status.CONFIGURED, f"starts {command} {' '.join(args)}{mode}"
        if url is not None:
            if self.http_url is not None and url != self.http_url:
                return Status.STALE, f"it connects to {url}, but the tray serves {self.http_url}"
            return Status.CONFIGURED, f"connects to {url}"
        return Status.STALE, "the grok entry has neither a command nor a URL"

    def report(self, name: str) -> ClientReport:
        """The client's state; a config file that cannot be read is reported as its problem, never raised.

        Raises UnknownClientError.
        """
        spec = self.spec(name)
        target = spec.config_path(self.host)
        others = [p for p in spec.config_paths(self.host)[1:] if p.exists()]
        is_detected = spec.is_detected(self.host)
        entry: dict[str, Any] | None = None
        problem: str | None = None
        judged: tuple[Status, str] | None = None
        try:
            target = self._target(spec)
            entry = self.read_entry(spec)
            judged = self._judge(spec, entry) if entry is not None else None
        except ClientSetupError as exc:
            problem = str(exc)
        except Exception as exc:  # one client's file must not stop the others from being listed
            logger.exception("Could not read %s's config file %s", spec.display_name, target)
            problem = f"{target} could not be read ({type(exc).__name__}); the log has the details."
        if judged is not None:
            status, detail = judged
        elif problem is not None:
            status, detail = Status.NOT_CONFIGURED, "the config file cannot be read"
        elif is_detected:
            status, detail = Status.NOT_CONFIGURED, "no grok entry yet"
        else:
            status, detail = Status.NOT_INSTALLED, "not found on this computer"
        return ClientReport(
            name=spec.name,
            display_name=spec.display_name,
            format=spec.format.label,
            config_path=target,
            other_paths=others,
            is_detected=is_detected or entry is not None,
            status=status,
            detail=detail,
            entry=redact_entry(entry),
            supports_http=spec.supports_http,
            restart_hint=spec.restart_hint(self.host),
            is_running=self._running(spec, self.host),
            problem=problem,
        )

    def reports(self) -> list[ClientReport]:
        return [self.report(spec.name) for spec in self.clients()]

    def entry_for(self, name: str, http: HttpEndpoint | None = None, *, simulate: bool = False) -> dict[str, Any]:
        """The entry `install` writes; `simulate`: a stdio entry in demo mode (`serve --simulate`).

        Raises UnknownClientError, UnsupportedModeError.
        """
        spec = self.spec(name)
        if http is None:
            return spec.stdio_entry(self.launch.simulated() if simulate else self.launch, self.host)
        if simulate:
            raise UnsupportedModeError(
                "Demo mode is a stdio entry of its own; over HTTP the tray's server decides (it runs in demo mode "
                "while no key is stored). Install with --simulate but without --http."
            )
        if spec.http_entry is None:
            raise UnsupportedModeError(
                f"{spec.display_name} cannot connect over HTTP from its config file; install it without --http "
                "(it then starts its own Grok MCP over stdio)."
            )
        return spec.http_entry(http)

    def snippet(self, name: str, http: HttpEndpoint | None = None, *, reveal_token: bool = False) -> str:
        """A ready fragment in the client's own format, with the token hidden unless `reveal_token`."""
        spec = self.spec(name)
        entry = self.entry_for(name, http)
        if http is not None and not reveal_token:
            entry = cast(dict[str, Any], redact_entry(entry, http.token))
        text, _ = spec.format.set_entry("", Path("snippet"), spec.container, ENTRY_NAME, entry)
        return text

    # ------------------------------------------------------------------------------------------- checking

    def check(self, name: str, http: HttpEndpoint | None = None, *, simulate: bool = False) -> StartCheck:
        """Start the entry `install` would write as the client will, and say whether it answers `initialize`.

        A stdio entry runs as a real child with the client's minimal environment; an HTTP entry is checked
        against the server it names. Raises UnknownClientError, UnsupportedModeError.
        """
        entry = self.entry_for(name, http, simulate=simulate)
        if http is not None:
            return start_check.check_http(http.url, http.token)
        launch = start_check.stdio_launch(entry)
        assert launch is not None  # every stdio_entry has a command
        return start_check.check_stdio(self.host, launch, name=name)

    def check_installed(self, report: ClientReport) -> StartCheck | None:
        """The start check of the entry the client's file holds now, when it is ours (None: nothing to check).

        Only a configured entry runs: its command is this Grok MCP's, never another program a file names.
        Raises ClientSetupError when the file can no longer be read.
        """
        if report.status is not Status.CONFIGURED:
            return None
        entry = self.read_entry(self.spec(report.name))
        return self._check_entry(entry, report.name) if entry is not None else None

    def _check_entry(self, entry: dict[str, Any], name: str) -> StartCheck:
        launch = start_check.stdio_launch(entry)
        if launch is not None:
            return start_check.check_stdio(self.host, launch, name=name)
        target = start_check.http_target(entry)
        if target is None:
            return StartCheck(StartProblem.TOKEN_REFUSED, "the entry has no bearer token", "Install it again")
        return start_check.check_http(*target)

    def checks(self, reports: list[ClientReport]) -> dict[str, StartCheck | None]:
        """`check_installed` for every report (None: no entry of ours to check); one run per distinct entry.

        Most clients hold the same command line, so the server starts once or twice, not once per client. A file
        that can no longer be read counts as nothing to check (the report already names its problem).
        """
        results: dict[str, StartCheck | None] = {}
        seen: dict[str, StartCheck] = {}
        for report in reports:
            try:
                entry = self.read_entry(self.spec(report.name)) if report.status is Status.CONFIGURED else None
            except ClientSetupError:
                entry = None
            if entry is None:
                results[report.name] = None
                continue
            key = json.dumps([start_check.stdio_launch(entry), start_check.http_target(entry)], default=repr)
            if key not in seen:
                seen[key] = self._check_entry(entry, "")  # shared by clients: its advice names no client
            results[report.name] = seen[key]
        return results

    # ------------------------------------------------------------------------------------------- writing

    def install(
        self, name: str, *, http: HttpEndpoint | None = None, simulate: bool = False, dry_run: bool = False
    ) -> ChangeOutcome:
        """Add or update our entry (`simulate`: in demo mode). Raises ClientSetupError (the file is then unchanged).

        It writes what it is asked to; callers run `check` first (the CLI and the Clients page do).
        """
        spec = self.spec(name)
        entry = self.entry_for(name, http, simulate=simulate)
        target = self._target(spec)
        backups = self._backups(spec, target)
        created_container = False
        previous: dict[str, bytes | None] = {}  # what the file held under the lock, for verify

        def transform(before: bytes | None) -> bytes | None:
            nonlocal created_container
            previous["before"] = before
            has_bom, text = _decode(before, target, spec.format.label) if before is not None else (False, "")
            spec.format.load(text, target)  # refuse a broken file before anything else
            new_text, created_container = spec.format.set_entry(text, target, spec.container, ENTRY_NAME, entry)
            return _encode(has_bom, new_text)

        warnings = self._warnings(spec)
        if dry_run:
            before = read_bytes(target)
            after = transform(before)
            action = "unchanged" if after == before else "would-change"
            diff = _diff(before, after, target, http.token if http else None)
            return ChangeOutcome(spec.name, target, action, diff=diff, warnings=warnings)

        change = apply_change(
            target,
            transform,
            verify=lambda after: self._verify(spec, target, previous.get("before"), after, entry),
            backups=backups,
            new_mode=0o600 if http is not None else 0o644,
            lock_timeout_s=self.lock_timeout_s,
        )
        if not change.is_changed:
            return ChangeOutcome(spec.name, target, "unchanged", restart_hint="", warnings=warnings)
        had_entry = self._entry_in_bytes(spec, target, change.before) is not None
        backups.write_record(_install_record(backups, change, had_entry=had_entry, created_container=created_container))
        return ChangeOutcome(
            spec.name,
            target,
            "updated" if had_entry else "installed",
            backup=change.backup,
            restart_hint=spec.restart_hint(self.host),
            warnings=warnings,
        )

    def remove(self, name: str) -> ChangeOutcome:
        """Remove our entry, and only it. Raises ClientSetupError (the file is then unchanged)."""
        spec = self.spec(name)
        target = self._target(spec)
        if not target.exists():
            return ChangeOutcome(spec.name, target, "absent")
        backups = self._backups(spec, target)
        record = backups.read_record()

        def transform(before: bytes | None) -> bytes | None:
            if before is None:
                return None
            if record is not None and record.before_backup and sha256(before) == record.after_sha256:
                original = backups.folder / record.before_backup
                if original.exists():  # untouched since our install: give back the exact bytes from before
                    return None if original.suffix == ".absent" else original.read_bytes()
            has_bom, text = _decode(before, target, spec.format.label)
            spec.format.load(text, target)
            drop = record.created_container if record is not None else False
            new_text = spec.format.remove_entry(text, target, spec.container, ENTRY_NAME, drop_empty_container=drop)
            if (
                record is not None
                and record.created_file
                and new_text != text
                and not spec.format.load(new_text, target)
            ):
                return None
            return _encode(has_bom, new_text)

        def verify(after: bytes | None) -> None:
            if after is not None:
                self._verify(spec, target, None, after, None)

        change = apply_change(target, transform, verify=verify, backups=backups, lock_timeout_s=self.lock_timeout_s)
        if not change.is_changed:
            return ChangeOutcome(spec.name, target, "absent")
        backups.write_record(None)
        return ChangeOutcome(
            spec.name,
            target,
            "removed",
            backup=change.backup,
            restart_hint=spec.restart_hint(self.host),
            deleted_file=change.after is None,
        )

    def undo(self, name: str) -> ChangeOutcome:
        """Put back the newest backup of the client's file. Raises NothingToUndoError, ClientSetupError."""
        spec = self.spec(name)
        target = self._target(spec)
        used = undo_last(target, self._backups(spec, target), lock_timeout_s=self.lock_timeout_s)
        return ChangeOutcome(spec.name, target, "restored", backup=used, restart_hint=spec.restart_hint(self.host))

    # ------------------------------------------------------------------------------------------- helpers

    def _entry_in_bytes(self, spec: ClientSpec, target: Path, data: bytes | None) -> dict[str, Any] | None:
        if data is None or not data.strip():
            return None
        _, text = _decode(data, target, spec.format.label)
        return self._entry_in(spec, spec.format.load(text, target), target)

    def _verify(
        self,
        spec: ClientSpec,
        target: Path,
        before: bytes | None,
        after: bytes | None,
        entry: dict[str, Any] | None,
    ) -> None:
        """The written file parses, holds exactly `entry` (None: no entry) and, apart from it, what it held before."""
        if after is None:
            return
        _, text = _decode(after, target, spec.format.label)
        document = spec.format.load(text, target)
        found = self._entry_in(spec, document, target)
        if found != entry:
            raise ConfigShapeError(f"{target} did not hold the expected grok entry after writing; it was restored.")
        if before is not None:
            _, old_text = _decode(before, target, spec.format.label)
            if _without_entry(spec, spec.format.load(old_text, target)) != _without_entry(spec, document):
                raise ConfigShapeError(
                    f"Writing {target} would have changed more than the grok entry; it was restored."
                )

    def _warnings(self, spec: ClientSpec) -> list[str]:
        if spec.name == "claude-desktop" and self._running(spec, self.host):
            return [
                "Claude Desktop is running. It reads this file only when it starts, and it may rewrite the file "
                "while it runs: quit it fully now, start it again, then check with `grok-mcp clients show "
                "claude-desktop`."
            ]
        return []


def _without_entry(spec: ClientSpec, document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    servers = document.get(spec.container)
    if isinstance(servers, dict):
        cast(dict[str, Any], servers).pop(ENTRY_NAME, None)
        if not servers:
            document.pop(spec.container)
    elif isinstance(servers, list):
        kept: list[Any] = []
        for item in cast(list[Any], servers):
            if not (isinstance(item, dict) and cast(dict[str, Any], item).get("name") == ENTRY_NAME):
                kept.append(item)
        if kept:
            document[spec.container] = kept
        else:
            document.pop(spec.container)
    return document


def _install_record(backups: BackupStore, change: Change, *, had_entry: bool, created_container: bool) -> InstallRecord:
    """What remove needs to undo this install: an update keeps the first install's record (and its backup)."""
    old_record = backups.read_record()
    if old_record is not None and had_entry:
        record = InstallRecord(
            old_record.created_file, old_record.created_container, old_record.before_backup, sha256(change.after)
        )
        if record.before_backup and not (backups.folder / record.before_backup).exists():
            record.before_backup = None
        return record
    return InstallRecord(
        created_file=change.before is None or not change.before.strip(),
        created_container=created_container,
        before_backup=change.backup.name if change.backup and not had_entry else None,
        after_sha256=sha256(change.after),
    )


def _diff(before: bytes | None, after: bytes | None, path: Path, token: str | None) -> str:
    def lines(data: bytes | None) -> list[str]:
        text = data.decode("utf-8", errors="replace") if data is not None else ""
        if token:
            text = text.replace(token, HIDDEN_TOKEN)
        return text.splitlines(keepends=True)

    return "".join(difflib.unified_diff(lines(before), lines(after), f"{path} (now)", f"{path} (after install)"))


def _is_running(spec: ClientSpec, host: HostEnv) -> bool | None:
    names = spec.process_names(host.platform)
    if not names:
        return None
    return processes.is_running(names, host.platform)
