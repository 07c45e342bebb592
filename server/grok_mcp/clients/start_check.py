"""Start a client's grok entry the way that client will, and say whether it answers MCP `initialize` (and if not, why).

A stdio entry runs as a real child process: its command, args and env from the entry, with only the small set
of variables an MCP client hands its servers (the MCP SDKs' stdio default: no D-Bus address, no XAI_API_KEY),
in the user's home, within a bound. An HTTP entry is checked against the server it names: `/healthz` must
answer as Grok MCP, and the entry's bearer token must be accepted. Nothing here prints or logs a token.

This room may not use the MCP SDK (import-linter), so the one request it sends, `initialize`, is written here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit, urlunsplit

from grok_mcp.clients.base import URL_KEYS, HostEnv, Platform
from grok_mcp.errors import ExitCode

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
"""How long a server may take to answer `initialize` (Codex waits 30 s for ours, Claude Desktop about 60 s)."""
EXIT_TIMEOUT_S = 5.0
HTTP_TIMEOUT_S = 5.0
_MAX_LINE_BYTES = 1_000_000
_STDERR_TAIL_BYTES = 16_384
_PROTOCOL_VERSION = "2025-11-25"

POSIX_INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
WINDOWS_INHERITED_ENV = (
    "APPDATA",
    "HOMEDRIVE",
    "HOMEPATH",
    "LOCALAPPDATA",
    "PATH",
    "PATHEXT",
    "PROCESSOR_ARCHITECTURE",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "TEMP",
    "USERNAME",
    "USERPROFILE",
)
"""What an MCP client passes a stdio server unless the entry's `env` adds more (the MCP SDKs' default set)."""

INITIALIZE_REQUEST = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": _PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "grok-mcp-start-check", "version": "1"},
    },
}


class StartProblem(StrEnum):
    """What kept an entry from answering `initialize`, in a few words (the Clients page's cell)."""

    NONE = "starts"
    NO_KEY = "no API key"
    KEYCHAIN = "keychain unavailable"
    CANNOT_RUN = "command cannot run"
    NO_ANSWER = "no answer"
    UNREACHABLE = "server unreachable"
    TOKEN_REFUSED = "token refused"  # noqa: S105 (a label, not a token)
    OTHER = "error"


@dataclass(frozen=True)
class StartCheck:
    """Whether an entry starts a Grok MCP that answers `initialize`; if not, why and what to do."""

    problem: StartProblem
    reason: str = ""
    advice: str = ""
    exit_code: ExitCode = ExitCode.ERROR
    """What `clients install` exits with when it refuses: the server's own code for no key (3) or keychain (6)."""
    server_said: str = ""
    """The last line the server wrote to stderr, where our reason is only its exit code (its own words)."""

    @classmethod
    def passed(cls) -> StartCheck:
        return cls(StartProblem.NONE)

    @property
    def starts(self) -> bool:
        return self.problem is StartProblem.NONE

    @property
    def summary(self) -> str:
        """`starts`, or `fails: <reason>. <what to do>` (the Clients page's and the CLI's wording)."""
        if self.starts:
            return "starts"
        return f"fails: {self.reason}. {self.advice}."


@dataclass(frozen=True)
class StdioLaunch:
    """What a client runs for a stdio entry: the command line, the env the entry adds, names it passes through."""

    command: str
    args: tuple[str, ...]
    env: Mapping[str, str]
    passed_through: tuple[str, ...] = ()
    """Variables the client copies from its own environment by name (Codex's `env_vars`)."""


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in cast(dict[Any, Any], value).items()}


def stdio_launch(entry: Mapping[str, Any]) -> StdioLaunch | None:
    """The command, args and env of a stdio entry in any client's shape (`command`/`cmd`, `env`/`envs`), or None."""
    command = entry.get("command", entry.get("cmd"))
    if not isinstance(command, str):
        return None
    raw_args: Any = entry.get("args") or []
    args = tuple(str(a) for a in cast(list[Any], raw_args)) if isinstance(raw_args, list) else ()
    env = _str_map(entry.get("env")) | _str_map(entry.get("envs"))
    names = entry.get("env_vars")
    passed = tuple(str(n) for n in cast(list[Any], names)) if isinstance(names, list) else ()
    return StdioLaunch(command, args, env, passed)


def client_environment(host: HostEnv, launch: StdioLaunch) -> dict[str, str]:
    """The environment a client gives this entry's server: its default set from `host`, then what the entry adds."""
    inherited = WINDOWS_INHERITED_ENV if host.platform == "win32" else POSIX_INHERITED_ENV
    env = {name: host.environ[name] for name in (*inherited, *launch.passed_through) if name in host.environ}
    env = {name: value for name, value in env.items() if not value.startswith("()")}  # shell functions: never
    if host.platform == "win32":
        env.setdefault("USERPROFILE", str(host.home))
    else:
        env.setdefault("HOME", str(host.home))
    env.update(launch.env)
    return env


def check_stdio(
    host: HostEnv, launch: StdioLaunch, *, timeout_s: float = START_TIMEOUT_S, name: str = ""
) -> StartCheck:
    """Run `launch` as a client would and wait (bounded) for its answer to `initialize`; the server is stopped after.

    `name` is the client's NAME, for the advice (`grok-mcp clients install NAME --simulate`).
    """
    env = client_environment(host, launch)
    cwd = host.home if host.home.is_dir() else Path(os.sep)
    try:
        process = subprocess.Popen(  # noqa: S603 (the entry's own command line, as its client runs it; no shell)
            [launch.command, *launch.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
    except OSError as exc:
        return StartCheck(
            StartProblem.CANNOT_RUN,
            f"its command {launch.command} cannot be started ({exc.strerror or type(exc).__name__})",
            "Install the entry again from the Grok MCP installation you use now",
        )
    answer, returncode, stderr_tail = _talk(process, timeout_s)
    if answer is not None and "result" in answer:
        return StartCheck.passed()
    if answer is not None:
        error = _str_map(answer.get("error")).get("message", "no message")
        return StartCheck(StartProblem.OTHER, f"it answered initialize with an error ({error})", _doctor_advice())
    if returncode is None:
        return StartCheck(
            StartProblem.NO_ANSWER, f"it did not answer initialize within {timeout_s:g} s", _doctor_advice()
        )
    return explain_exit(returncode, stderr_tail, host.platform, name)


def _talk(process: subprocess.Popen[bytes], timeout_s: float) -> tuple[dict[str, Any] | None, int | None, str]:
    """Send initialize, wait for its answer or the end of stdout, then stop the process.

    Returns the answer (None: none came), the exit code (None: it had to be killed) and the tail of stderr.
    """
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    answered = threading.Event()
    found: list[dict[str, Any]] = []
    tail = bytearray()
    readers = [
        threading.Thread(target=_read_answer, args=(process.stdout, found, answered), daemon=True),
        threading.Thread(target=_read_tail, args=(process.stderr, tail), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        process.stdin.write(json.dumps(INITIALIZE_REQUEST).encode("utf-8") + b"\n")
        process.stdin.flush()
    except OSError:
        pass  # it exited already; its exit code says why
    returncode: int | None = None
    if not answered.wait(timeout_s):
        process.kill()  # no answer within the bound: it counts as not starting, whatever it does next
        process.wait()
    else:
        with contextlib.suppress(OSError):
            process.stdin.close()  # a stdio server ends when its client closes stdin
        try:
            returncode = process.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for reader in readers:
        reader.join(EXIT_TIMEOUT_S)
    with contextlib.suppress(OSError):
        process.stdin.close()
    process.stdout.close()
    process.stderr.close()
    return (found[0] if found else None), returncode, bytes(tail).decode("utf-8", errors="replace")


def _read_answer(stream: IO[bytes], found: list[dict[str, Any]], answered: threading.Event) -> None:
    """Read lines (each bounded) until the answer to request 1 arrives or the stream ends; then drain."""
    try:
        while line := stream.readline(_MAX_LINE_BYTES):
            if found:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            reply = cast(dict[str, Any], message)
            if reply.get("id") == 1 and ("result" in reply or "error" in reply):  # not our request echoed back
                found.append(reply)
                answered.set()
    finally:
        answered.set()


def _read_tail(stream: IO[bytes], tail: bytearray) -> None:
    """Keep the last `_STDERR_TAIL_BYTES` of what the server writes to stderr (its reason for exiting is last)."""
    while chunk := os.read(stream.fileno(), 65_536):
        tail.extend(chunk)
        del tail[:-_STDERR_TAIL_BYTES]


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = lines[-1] if lines else ""
    return said.removeprefix("grok-mcp: ")


def _doctor_advice() -> str:
    return "Run `grok-mcp doctor` to see what is wrong, then install again"


def _keychain_advice(platform: Platform, demo: str) -> str:
    if platform == "linux":
        reach = (
            "Unlock the keychain (log in to the desktop session, or unlock the Login keyring in Passwords and Keys) "
            "and run install from that desktop session, so the entry names its D-Bus session bus"
        )
    else:
        reach = "Unlock the keychain (log in, or unlock it in Keychain Access / Credential Manager)"
    return f"{reach}; or {demo}"


def explain_exit(returncode: int, stderr: str, platform: Platform, name: str = "") -> StartCheck:
    """Why a server that exited with `returncode` before answering initialize did, and what to do about it."""
    said = _last_line(stderr)
    demo = f"connect in demo mode on purpose: `grok-mcp clients install {name or 'NAME'} --simulate`"
    if returncode == ExitCode.NO_API_KEY:
        return StartCheck(
            StartProblem.NO_KEY,
            "it finds no xAI API key (the client passes it no XAI_API_KEY, and the keychain holds none)",
            f"Add a key first: `grok-mcp keys set` (or the tray's Keys page); or {demo}",
            ExitCode.NO_API_KEY,
        )
    if returncode == ExitCode.KEYCHAIN_UNAVAILABLE:
        return StartCheck(
            StartProblem.KEYCHAIN,
            "it cannot use the OS keychain (it is locked, or out of reach of the few variables the client passes)",
            _keychain_advice(platform, demo),
            ExitCode.KEYCHAIN_UNAVAILABLE,
        )
    if returncode == ExitCode.DATABASE_TOO_NEW:
        return StartCheck(
            StartProblem.OTHER,
            "its database is newer than this Grok MCP",
            "Update Grok MCP, then install again",
            server_said=said,
        )
    return StartCheck(
        StartProblem.OTHER,
        f"it exited with code {returncode} before answering initialize",
        _doctor_advice(),
        server_said=said,
    )


def http_target(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """The URL and bearer token an HTTP entry connects with (its `Authorization` header, in any client's shape)."""
    url = next((entry[k] for k in URL_KEYS if isinstance(entry.get(k), str)), None)
    for value in entry.values():
        headers = _str_map(value)
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if url is not None and authorization is not None and authorization.startswith("Bearer "):
            return url, authorization.removeprefix("Bearer ")
    return None


def check_http(url: str, token: str, *, timeout_s: float = HTTP_TIMEOUT_S) -> StartCheck:
    """Whether the Grok MCP at `url` answers `/healthz` and accepts `token` (on `/metrics`, behind the same check)."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    start = "Start the tray (its server serves this address) or `grok-mcp serve --transport http`, then try again"
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=timeout_s) as response:  # noqa: S310 (http(s) only)
            health = json.loads(response.read(65_536) or b"null")
    except urllib.error.HTTPError as exc:
        return StartCheck(
            StartProblem.UNREACHABLE, f"{base}/healthz answers HTTP {exc.code}, not Grok MCP's health", start
        )
    except (OSError, ValueError) as exc:
        return StartCheck(StartProblem.UNREACHABLE, f"nothing answers at {base} ({_reason(exc)})", start)
    if not (isinstance(health, dict) and cast(dict[str, Any], health).get("app") == "grok-mcp"):
        return StartCheck(
            StartProblem.UNREACHABLE,
            f"what answers at {base} is not Grok MCP",
            "Choose Grok MCP's port, then install again",
        )
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            response.read(1)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return StartCheck(
                StartProblem.TOKEN_REFUSED,
                f"the server at {base} refuses the entry's token (HTTP {exc.code})",
                "Install the entry again from the tray that runs this server (its token changed)",
            )
        return StartCheck(StartProblem.OTHER, f"the server at {base} answers HTTP {exc.code}", _doctor_advice())
    except OSError as exc:
        return StartCheck(StartProblem.UNREACHABLE, f"the server at {base} stopped answering ({_reason(exc)})", start)
    return StartCheck.passed()


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason) if reason is not None else type(exc).__name__
