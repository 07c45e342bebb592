"""What every client module describes (paths, format, entry shape, restart hint) and the host it looks at.

Everything here is a pure function of a `HostEnv` (home dir, platform name, environment), so each OS
layout can be tested with temporary directories on any machine.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol

from grok_mcp.clients.jsonc import JsonFormat

Platform = Literal["linux", "darwin", "win32"]
ENTRY_NAME = "grok"


def current_platform() -> Platform:
    """This machine's platform name as `sys.platform` spells the three we support."""
    if sys.platform == "win32":
        return "win32"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


@dataclass(frozen=True)
class HostEnv:
    """The machine a client lives on: its user's home, its platform and its environment variables."""

    home: Path
    platform: Platform
    environ: Mapping[str, str] = field(default_factory=dict[str, str])

    @classmethod
    def current(cls) -> HostEnv:
        return cls(Path.home(), current_platform(), dict(os.environ))

    def _dir(self, variable: str, default: Path) -> Path:
        value = self.environ.get(variable)
        return Path(value) if value else default

    @property
    def config_home(self) -> Path:
        """`$XDG_CONFIG_HOME`, else `~/.config` (Linux, and the macOS tools that follow XDG)."""
        return self._dir("XDG_CONFIG_HOME", self.home / ".config")

    @property
    def appdata(self) -> Path:
        """Windows `%APPDATA%` (Roaming)."""
        return self._dir("APPDATA", self.home / "AppData" / "Roaming")

    @property
    def local_appdata(self) -> Path:
        """Windows `%LOCALAPPDATA%`."""
        return self._dir("LOCALAPPDATA", self.home / "AppData" / "Local")

    @property
    def app_support(self) -> Path:
        """macOS `~/Library/Application Support`."""
        return self.home / "Library" / "Application Support"

    def which(self, name: str) -> str | None:
        """Where `name` is on this host's PATH, or None."""
        return shutil.which(name, path=self.environ.get("PATH", ""))


class Status(StrEnum):
    """Where a client stands with Grok MCP."""

    NOT_INSTALLED = "not installed"
    NOT_CONFIGURED = "not configured"
    CONFIGURED = "configured"
    STALE = "configured but stale"
    OUTDATED = "stale: earlier version"
    """The entry an earlier Grok MCP wrote (`python -m server serve`): it starts nothing now; install rewrites it."""

    @property
    def has_entry(self) -> bool:
        """Whether the client's file holds a grok entry (current or not), which remove can take out."""
        return self in (Status.CONFIGURED, Status.STALE, Status.OUTDATED)


SIMULATE_FLAG = "--simulate"


@dataclass(frozen=True)
class ServerLaunch:
    """How a client starts a stdio Grok MCP server: an absolute command and its arguments, nothing secret."""

    command: str
    args: tuple[str, ...]

    def simulated(self) -> ServerLaunch:
        """The same server in demo mode (`serve --simulate`): answers come from the built-in simulator."""
        return self if SIMULATE_FLAG in self.args else ServerLaunch(self.command, (*self.args, SIMULATE_FLAG))


EARLIER_MODULE_ARGS = ("-m", "server")
"""How entries from before the import package was renamed `grok_mcp` start the server: they start nothing now."""


def is_earlier_launch(args: list[str]) -> bool:
    """Whether a stdio entry's arguments run the import package's old name, `python -m server serve`."""
    return tuple(args[: len(EARLIER_MODULE_ARGS)]) == EARLIER_MODULE_ARGS


@dataclass(frozen=True)
class HttpEndpoint:
    """The tray's local HTTP server and the bearer token clients must send to it."""

    url: str
    token: str

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"


class ConfigFormat(Protocol):
    """Parse and edit one file format, changing only our entry's text."""

    @property
    def label(self) -> str: ...

    @property
    def is_keyed_list(self) -> bool:
        """The container is a list of `{name: …}` items (Continue) rather than a map keyed by name."""
        ...

    def load(self, text: str, path: Path) -> dict[str, Any]: ...

    def set_entry(
        self, text: str, path: Path, container: str, name: str, entry: dict[str, Any]
    ) -> tuple[str, bool]: ...

    def remove_entry(self, text: str, path: Path, container: str, name: str, *, drop_empty_container: bool) -> str: ...


URL_KEYS = ("url", "serverUrl", "httpUrl", "uri")
"""The keys an HTTP entry names its server's URL with (Windsurf `serverUrl`, Gemini `httpUrl`, Goose `uri`)."""
SESSION_BUS_ENV = "DBUS_SESSION_BUS_ADDRESS"


def keychain_env(host: HostEnv) -> dict[str, str]:
    """What a stdio server needs to reach the keychain that clients do not pass it: on Linux, the D-Bus session bus.

    MCP clients hand their servers only HOME, PATH and a few more, so without this the Secret Service is out of
    reach and the server exits before `initialize`. The address names a socket, never a secret.
    """
    address = host.environ.get(SESSION_BUS_ENV)
    return {SESSION_BUS_ENV: address} if host.platform == "linux" and address else {}


def plain_stdio(launch: ServerLaunch, host: HostEnv) -> dict[str, Any]:
    """`{"command": …, "args": […]}` (and, on Linux, `"env"` with the session bus): the shape most clients read."""
    env = keychain_env(host)
    return {"command": launch.command, "args": list(launch.args), **({"env": env} if env else {})}


def typed_stdio(launch: ServerLaunch, host: HostEnv) -> dict[str, Any]:
    """`{"type": "stdio", "command": …, "args": […]}` (Claude Code, VS Code)."""
    return {"type": "stdio", **plain_stdio(launch, host)}


def bearer_http(
    url_key: str = "url", *, kind: str | None = None, headers_key: str = "headers"
) -> Callable[[HttpEndpoint], dict[str, Any]]:
    """An HTTP entry `{url_key: …, headers_key: {"Authorization": …}}`, led by `"type": kind` if the client wants it."""

    def entry(endpoint: HttpEndpoint) -> dict[str, Any]:
        typed = {"type": kind} if kind else {}
        return {**typed, url_key: endpoint.url, headers_key: {"Authorization": endpoint.authorization}}

    return entry


url_http = bearer_http()
"""`{"url": …, "headers": {"Authorization": …}}` (Cursor, Zed, LM Studio)."""
typed_http = bearer_http(kind="http")
"""`{"type": "http", "url": …, "headers": …}` (Claude Code, VS Code)."""


def in_home(*relative: str) -> Callable[[HostEnv], list[Path]]:
    """Paths below the user's home (`".cursor/mcp.json"`), for a client that keeps them there on every platform."""
    return lambda host: [host.home / path for path in relative]


def fixed_hint(text: str) -> Callable[[HostEnv], str]:
    """A restart hint that reads the same on every platform."""
    return lambda host: text


STRICT_JSON = JsonFormat(is_jsonc=False)
"""Plain JSON, no comments: Claude Desktop's file and most others."""


@dataclass(frozen=True)
class ClientSpec:
    """One MCP client: where its config lives, how our entry looks in it, and how to make it reload.

    The defaults are the shape Claude Desktop's file set and most clients copied: strict JSON, servers under
    `mcpServers`, and `{"command": …, "args": […]}` entries; a client counts as installed when the folder
    of its config file exists.
    """

    name: str
    display_name: str
    config_paths: Callable[[HostEnv], list[Path]]
    """Candidate config files, the one to write first (Claude Desktop on MSIX has two)."""
    restart_hint: Callable[[HostEnv], str]
    format: ConfigFormat = STRICT_JSON
    container: str = "mcpServers"
    stdio_entry: Callable[[ServerLaunch, HostEnv], dict[str, Any]] = plain_stdio
    detect_paths: Callable[[HostEnv], list[Path]] | None = None
    """Paths whose existence shows the client is installed; None: the folders its config files are in."""
    executables: tuple[str, ...] = ()
    http_entry: Callable[[HttpEndpoint], dict[str, Any]] | None = None
    process_names: Callable[[Platform], frozenset[str]] = lambda platform: frozenset()

    @property
    def supports_http(self) -> bool:
        return self.http_entry is not None

    @property
    def is_keyed_list(self) -> bool:
        """The container is a list of `{name: …}` items (Continue), as the file's format reads it."""
        return self.format.is_keyed_list

    def config_path(self, host: HostEnv) -> Path:
        """The file `install` writes."""
        return self.config_paths(host)[0]

    def is_detected(self, host: HostEnv) -> bool:
        """Whether the client seems installed: its config or data dir exists, or its command is on PATH."""
        config_paths = self.config_paths(host)
        detect_paths = [path.parent for path in config_paths] if self.detect_paths is None else self.detect_paths(host)
        if any(path.exists() for path in [*config_paths, *detect_paths]):
            return True
        return any(host.which(name) for name in self.executables)


def vscode_user_dir(host: HostEnv, product: str) -> Path:
    """VS Code's (or a fork's) per-user settings folder, `…/<product>/User`."""
    if host.platform == "darwin":
        return host.app_support / product / "User"
    if host.platform == "win32":
        return host.appdata / product / "User"
    return host.config_home / product / "User"
