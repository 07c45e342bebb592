"""Start at login writes and removes the right entry on Linux, macOS and Windows (temp dirs, an injected Run key)."""

from __future__ import annotations

import configparser
import plistlib
import shlex
from pathlib import Path

from grok_mcp_desktop.autostart import LAUNCH_AGENT_LABEL, RUN_VALUE, Autostart

COMMAND = ["/opt/Grok MCP/bin/python", "-m", "grok_mcp_desktop"]


class DictRunKey:
    """HKCU\\...\\Run as a dict: the registry writer injected in place of winreg."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, command: str) -> None:
        self.values[name] = command

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def test_linux_writes_an_xdg_autostart_entry_in_xdg_config_home_and_removes_it(tmp_path: Path) -> None:
    config = tmp_path / "config"
    autostart = Autostart(
        platform="linux", home=tmp_path / "home", environ={"XDG_CONFIG_HOME": str(config)}, command=COMMAND
    )
    assert not autostart.is_enabled()

    autostart.enable()
    entry = config / "autostart" / "grok-mcp-desktop.desktop"
    assert autostart.path == entry
    assert autostart.is_enabled()
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(entry, encoding="utf-8")
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "Grok MCP"
    assert shlex.split(section["Exec"]) == COMMAND  # the space in the path survives quoting
    assert section["Terminal"] == "false"

    autostart.disable()
    assert not entry.exists()
    assert not autostart.is_enabled()
    autostart.disable()  # turning it off twice is fine


def test_linux_falls_back_to_dot_config_without_xdg_config_home(tmp_path: Path) -> None:
    autostart = Autostart(platform="linux", home=tmp_path, environ={}, command=COMMAND)
    autostart.set_enabled(True)
    assert (tmp_path / ".config" / "autostart" / "grok-mcp-desktop.desktop").is_file()


def test_macos_writes_a_launch_agent_that_runs_at_load(tmp_path: Path) -> None:
    autostart = Autostart(platform="darwin", home=tmp_path, environ={}, command=COMMAND)
    autostart.enable()
    plist_path = tmp_path / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
    assert autostart.is_enabled()
    with plist_path.open("rb") as fh:
        agent = plistlib.load(fh)
    assert agent["Label"] == LAUNCH_AGENT_LABEL
    assert agent["ProgramArguments"] == COMMAND
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] is False
    autostart.disable()
    assert not plist_path.exists()


def test_windows_sets_and_deletes_the_run_value(tmp_path: Path) -> None:
    registry = DictRunKey()
    autostart = Autostart(
        platform="win32",
        home=tmp_path,
        command=[r"C:\Program Files\Grok MCP\grok-mcp-desktop.exe"],
        run_key=lambda: registry,
    )
    assert not autostart.is_enabled()
    autostart.enable()
    assert registry.values == {RUN_VALUE: r'"C:\Program Files\Grok MCP\grok-mcp-desktop.exe"'}
    assert autostart.is_enabled()
    assert autostart.path is None
    autostart.disable()
    assert registry.values == {}
    assert not autostart.is_enabled()
