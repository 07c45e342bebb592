"""Start at login on each OS: an XDG autostart entry (Linux), a LaunchAgent (macOS), the HKCU Run key (Windows)."""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

APP_ID = "grok-mcp-desktop"
LAUNCH_AGENT_LABEL = "ai.grok-mcp.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Grok MCP"


class RunKey(Protocol):
    """The few operations on HKCU\\...\\Run that autostart needs (winreg on Windows, a dict in tests)."""

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, command: str) -> None: ...
    def delete(self, name: str) -> None: ...


class WinregRunKey:
    """HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run through winreg (Windows only)."""

    def get(self, name: str) -> str | None:
        import winreg  # pyright: ignore[reportMissingImports]

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:  # type: ignore[attr-defined]
                value, _ = winreg.QueryValueEx(key, name)  # type: ignore[attr-defined]
                return str(value)
        except FileNotFoundError:
            return None

    def set(self, name: str, command: str) -> None:
        import winreg  # pyright: ignore[reportMissingImports]

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:  # type: ignore[attr-defined]
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, command)  # type: ignore[attr-defined]

    def delete(self, name: str) -> None:
        import winreg  # pyright: ignore[reportMissingImports]

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:  # type: ignore[attr-defined]
                winreg.DeleteValue(key, name)  # type: ignore[attr-defined]
        except FileNotFoundError:
            pass


def launch_command() -> list[str]:
    """How to start the tray at login: the frozen executable, or this Python running `-m grok_mcp_desktop`."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "grok_mcp_desktop"]


@dataclass
class Autostart:
    """Turns start-at-login on and off for one platform; every location is injectable for tests."""

    platform: str = sys.platform
    home: Path | None = None
    environ: Mapping[str, str] | None = None
    command: list[str] | None = None
    run_key: Callable[[], RunKey] = WinregRunKey

    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def _home(self) -> Path:
        return self.home if self.home is not None else Path.home()

    def _command(self) -> list[str]:
        return self.command if self.command is not None else launch_command()

    @property
    def path(self) -> Path | None:
        """The file that makes the tray start at login (None on Windows, where it is a registry value)."""
        if self.platform.startswith("linux") or self.platform.startswith("freebsd"):
            config = self._env().get("XDG_CONFIG_HOME") or str(self._home() / ".config")
            return Path(config) / "autostart" / f"{APP_ID}.desktop"
        if self.platform == "darwin":
            return self._home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        return None

    def is_enabled(self) -> bool:
        if self.platform == "win32":
            return self.run_key().get(RUN_VALUE) is not None
        path = self.path
        return path is not None and path.is_file()

    def enable(self) -> None:
        """Start the tray at login from now on. Raises OSError if the entry cannot be written."""
        command = self._command()
        if self.platform == "win32":
            self.run_key().set(RUN_VALUE, _windows_command_line(command))
            return
        path = self.path
        if path is None:
            raise OSError(f"Start at login is not supported on {self.platform}.")
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.platform == "darwin":
            payload = plistlib.dumps(
                {
                    "Label": LAUNCH_AGENT_LABEL,
                    "ProgramArguments": command,
                    "RunAtLoad": True,
                    "KeepAlive": False,
                    "ProcessType": "Interactive",
                }
            )
            _atomic_write(path, payload)
        else:
            _atomic_write(path, _desktop_entry(command).encode("utf-8"))

    def disable(self) -> None:
        """Stop starting the tray at login (nothing to do if it was off)."""
        if self.platform == "win32":
            self.run_key().delete(RUN_VALUE)
            return
        path = self.path
        if path is not None:
            path.unlink(missing_ok=True)

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            self.enable()
        else:
            self.disable()


def _desktop_entry(command: list[str]) -> str:
    # Desktop Entry Exec quoting: shlex quoting is a subset that the spec's parser accepts.
    exec_line = " ".join(shlex.quote(part) for part in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Grok MCP\n"
        "Comment=Grok in every MCP client: keys, usage and conversations from the tray\n"
        f"Exec={exec_line}\n"
        "Icon=grok-mcp\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def _windows_command_line(command: list[str]) -> str:
    import subprocess

    return subprocess.list2cmdline(command)


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
