"""The Clients page edits real config files under a temp HOME safely, keeps tokens hidden and reports broken files."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from grok_mcp import secrets
from grok_mcp.clients import ClientManager, HostEnv, ServerLaunch
from grok_mcp.clients.base import ClientSpec
from grok_mcp.clients.jsonc import JsonFormat
from grok_mcp.clients.launch import server_launch
from grok_mcp.config import Settings
from grok_mcp_desktop.app import DesktopApp
from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.windows.clients import HTTP, ClientAction, ClientsPage, ConfigDialog
from grok_mcp_desktop.worker import Worker
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.desktop.conftest import FAST
from tests.desktop.pages import signal_args
from tests.support.keychain import KeychainSession
from tests.support.processes import SERVER_COMMAND

URL = "http://127.0.0.1:8765/mcp"
TOKEN = "clients-page-test-token-" + "7" * 24
KEY = "xai-clients-page-key-0001"
WAIT_MS = 15_000

CLAUDE_CONFIG = (
    "{\n"
    '  "mcpServers": {\n'
    '    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}\n'
    "  },\n"
    '  "globalShortcut": "Ctrl+Space"\n'
    "}\n"
)
VSCODE_CONFIG = (
    "// VS Code MCP servers: my notes stay here\n"
    "{\n"
    '  "servers": {\n'
    "    // the GitHub server, keep it\n"
    '    "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"},\n'
    "  },\n"
    "}\n"
)
BROKEN_CLAUDE_CONFIG = '{\n  "mcpServers": {\n    "filesystem": {"command": "npx",, }\n  }\n}\n'


class Setup:
    """A Clients page over a temp HOME; `running` says whether Claude Desktop counts as running.

    The host's environment names the test keychain's session bus (which holds a key), so the entries Connect
    writes pass the start check; `environ` replaces it.
    """

    def __init__(self, home: Path, backups: Path, qtbot: QtBot, environ: dict[str, str]) -> None:
        self.home = home
        self.host = HostEnv(home, "linux", {"PATH": "", **environ})
        self.launch = server_launch()
        self.is_claude_running = False
        self.manager = ClientManager(self.host, self.launch, backups, http_url=URL, running=self._running)
        self.worker = Worker()
        self.page = ClientsPage(self.worker, self.manager, http_url=URL, http_token=lambda: TOKEN)
        self.qtbot = qtbot
        qtbot.addWidget(self.page)

    def _running(self, spec: ClientSpec, host: HostEnv) -> bool | None:
        return self.is_claude_running if spec.name == "claude-desktop" else None

    @property
    def claude_path(self) -> Path:
        return self.home / ".config" / "Claude" / "claude_desktop_config.json"

    @property
    def vscode_path(self) -> Path:
        return self.home / ".config" / "Code" / "User" / "mcp.json"

    @property
    def cursor_path(self) -> Path:
        return self.home / ".cursor" / "mcp.json"

    def write(self, path: Path, text: str) -> bytes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return path.read_bytes()

    def load(self) -> list[Any]:
        with self.qtbot.waitSignal(self.page.clients_loaded, timeout=WAIT_MS) as blocker:
            self.page.show()
            self.page.activate()
        return signal_args(blocker)[0]

    def act(self, click: Callable[[], object]) -> ClientAction:
        with self.qtbot.waitSignal(self.page.action_finished, timeout=WAIT_MS) as blocker:
            click()
        action = signal_args(blocker)[0]
        assert isinstance(action, ClientAction)
        return action

    def status(self, client: str) -> str:
        item = self.page.table.item(self.page.rows[client].row, 1)
        assert item is not None
        return item.text()

    def starts(self, client: str) -> tuple[str, str]:
        """The Starts cell of `client` once every check has ended: its text and tooltip."""
        self.qtbot.waitUntil(lambda: not self.page.is_checking, timeout=WAIT_MS)
        item = self.page.table.item(self.page.rows[client].row, 4)
        assert item is not None
        return item.text(), item.toolTip()

    def close(self) -> None:
        self.page.shutdown()
        self.worker.shutdown()


@pytest.fixture
def setup(qtbot: QtBot, tmp_path: Path, clean_keychain: KeychainSession) -> Iterator[Setup]:
    secrets.store_api_key(KEY)
    home = tmp_path / "user home ü"
    home.mkdir()
    made = Setup(home, tmp_path / "backups", qtbot, clean_keychain.env)
    yield made
    made.close()


@pytest.fixture
def bare_setup(qtbot: QtBot, tmp_path: Path) -> Iterator[Setup]:
    """A Clients page whose clients start servers as Claude Desktop does here: no D-Bus address, no key."""
    home = tmp_path / "user home"
    home.mkdir()
    made = Setup(home, tmp_path / "backups", qtbot, {})
    yield made
    made.close()


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_client_is_listed_with_its_status_and_config_path(setup: Setup) -> None:
    setup.write(setup.claude_path, CLAUDE_CONFIG)
    reports = setup.load()
    names = [report.name for report in reports]
    assert names == list(setup.page.rows)
    assert setup.page.table.rowCount() == len(names) == 13
    assert setup.status("claude-desktop") == "not configured"
    assert setup.status("goose") == "not installed"
    path_item = setup.page.table.item(setup.page.rows["claude-desktop"].row, 3)
    assert path_item is not None
    assert path_item.text() == "~/.config/Claude/claude_desktop_config.json"
    assert str(setup.claude_path) in path_item.toolTip()
    assert setup.page.rows["claude-desktop"].mode is None  # Claude Desktop takes stdio entries only
    assert setup.page.rows["cursor"].mode is not None
    assert not setup.page.rows["claude-desktop"].disconnect.isEnabled()
    assert not setup.page.banner.isVisible()


def test_connect_writes_our_entry_keeps_the_other_servers_and_says_how_to_restart(setup: Setup) -> None:
    setup.write(setup.claude_path, CLAUDE_CONFIG)
    setup.load()
    action = setup.act(setup.page.rows["claude-desktop"].connect.click)

    assert action.is_ok and action.outcome is not None and action.outcome.action == "installed"
    config = read_json(setup.claude_path)
    assert config["mcpServers"]["grok"] == setup.manager.entry_for("claude-desktop")
    assert config["mcpServers"]["grok"]["args"] == list(setup.launch.args)
    assert config["mcpServers"]["filesystem"]["command"] == "npx"
    assert config["globalShortcut"] == "Ctrl+Space"
    assert setup.status("claude-desktop") == "configured"
    assert setup.page.rows["claude-desktop"].disconnect.isEnabled()
    assert setup.page.rows["claude-desktop"].connect.text() == "Update"
    note = setup.page.restart_note
    assert note.isVisible()
    assert "Quit Claude Desktop completely" in note.text()
    assert "choose Quit from the Claude icon in the system tray" in note.text()
    assert "Warning" not in note.text()


def test_connecting_while_claude_desktop_runs_warns_that_it_must_be_quit(setup: Setup) -> None:
    setup.is_claude_running = True
    setup.write(setup.claude_path, CLAUDE_CONFIG)
    setup.load()
    assert setup.status("claude-desktop") == "not configured · running"
    setup.act(setup.page.rows["claude-desktop"].connect.click)
    text = setup.page.restart_note.text()
    assert "<b>Warning:</b> Claude Desktop is running" in text
    assert "Quit Claude Desktop completely" in text


def test_disconnect_gives_back_the_file_byte_for_byte(setup: Setup) -> None:
    before = setup.write(setup.claude_path, CLAUDE_CONFIG)
    setup.load()
    setup.act(setup.page.rows["claude-desktop"].connect.click)
    assert setup.claude_path.read_bytes() != before

    action = setup.act(setup.page.rows["claude-desktop"].disconnect.click)

    assert action.outcome is not None and action.outcome.action == "removed"
    assert setup.claude_path.read_bytes() == before
    assert setup.status("claude-desktop") == "not configured"
    assert not setup.page.rows["claude-desktop"].disconnect.isEnabled()


def test_http_mode_writes_the_trays_url_and_token_and_keeps_jsonc_comments(setup: Setup) -> None:
    setup.write(setup.vscode_path, VSCODE_CONFIG)
    setup.vscode_path.chmod(0o640)
    setup.load()
    setup.page.set_mode("vscode", HTTP)
    refused = setup.act(setup.page.rows["vscode"].connect.click)  # no server of ours answers at URL
    assert refused.refused is not None and not refused.refused.starts
    assert setup.vscode_path.read_text(encoding="utf-8") == VSCODE_CONFIG
    assert setup.page.refusal.isVisible() and not setup.page.demo_button.isVisible()  # demo is stdio only
    setup.act(setup.page.connect_anyway_button.click)

    text = setup.vscode_path.read_text(encoding="utf-8")
    assert "// VS Code MCP servers: my notes stay here" in text
    assert "// the GitHub server, keep it" in text
    document = JsonFormat(is_jsonc=True).load(text, setup.vscode_path)
    assert document["servers"]["github"] == {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}
    assert document["servers"]["grok"] == {"type": "http", "url": URL, "headers": {"Authorization": f"Bearer {TOKEN}"}}
    assert stat.S_IMODE(setup.vscode_path.stat().st_mode) == 0o640  # the user's permissions stay
    assert setup.status("vscode") == "configured"
    assert setup.page.mode_of("vscode") == HTTP
    assert TOKEN not in setup.page.restart_note.text()


def test_show_config_hides_the_token_until_reveal_token_is_pressed(qtbot: QtBot, setup: Setup) -> None:
    setup.load()
    setup.page.set_mode("cursor", HTTP)
    with qtbot.waitSignal(setup.page.config_shown, timeout=WAIT_MS) as blocker:
        setup.page.rows["cursor"].show_config.click()
    dialog = signal_args(blocker)[0]
    assert isinstance(dialog, ConfigDialog)
    assert dialog.text.isReadOnly()
    assert URL in dialog.text.toPlainText()
    assert TOKEN not in dialog.text.toPlainText()
    assert "Bearer <hidden: press Reveal token to show it>" in dialog.text.toPlainText()
    dialog.copy_button.click()
    assert TOKEN not in QGuiApplication.clipboard().text()
    assert URL in QGuiApplication.clipboard().text()

    assert dialog.reveal_button.isVisible()
    dialog.reveal_button.click()
    qtbot.waitUntil(lambda: TOKEN in dialog.text.toPlainText(), timeout=WAIT_MS)
    assert dialog.is_revealed
    dialog.copy_button.click()
    assert f"Bearer {TOKEN}" in QGuiApplication.clipboard().text()

    dialog.reveal_button.click()
    assert TOKEN not in dialog.text.toPlainText()
    assert not dialog.is_revealed
    assert not setup.cursor_path.exists()  # showing never writes


def test_show_config_for_a_stdio_client_has_no_token_to_reveal(qtbot: QtBot, setup: Setup) -> None:
    setup.load()
    with qtbot.waitSignal(setup.page.config_shown, timeout=WAIT_MS) as blocker:
        setup.page.rows["claude-desktop"].show_config.click()
    dialog = signal_args(blocker)[0]
    assert isinstance(dialog, ConfigDialog)
    assert json.loads(dialog.text.toPlainText())["mcpServers"]["grok"]["command"] == setup.launch.command
    assert not dialog.reveal_button.isVisible()


def test_a_broken_config_file_is_named_with_its_line_and_left_untouched(setup: Setup) -> None:
    before = setup.write(setup.claude_path, BROKEN_CLAUDE_CONFIG)
    setup.load()
    banner = setup.page.banner
    assert banner.isVisible()
    assert str(setup.claude_path) in banner.text()
    assert "line 3" in banner.text()
    assert setup.status("claude-desktop") == "not configured (config file unreadable)"

    action = setup.act(setup.page.rows["claude-desktop"].connect.click)

    assert not action.is_ok
    assert action.error is not None and str(setup.claude_path) in action.error and "line 3" in action.error
    assert "changed nothing" in banner.text()
    assert banner.property("kind") == "error"
    assert setup.claude_path.read_bytes() == before
    assert not setup.page.undo_button.isEnabled()
    assert setup.page.rows["claude-desktop"].connect.isEnabled()  # the page is usable again


def test_undo_puts_back_the_file_from_before_the_last_change(setup: Setup) -> None:
    before = setup.write(setup.cursor_path, '{"mcpServers": {"other": {"command": "other-server"}}}\n')
    setup.load()
    assert not setup.page.undo_button.isEnabled()
    setup.act(setup.page.rows["cursor"].connect.click)
    assert setup.status("cursor") == "configured"
    assert setup.page.undo_button.isEnabled()
    assert "Cursor" in setup.page.undo_button.text()

    action = setup.act(setup.page.undo_button.click)

    assert action.outcome is not None and action.outcome.action == "restored"
    assert setup.cursor_path.read_bytes() == before
    assert setup.status("cursor") == "not configured"
    assert not setup.page.undo_button.isEnabled()


def test_a_grok_entry_pointing_at_a_missing_program_shows_as_stale(setup: Setup) -> None:
    setup.write(setup.cursor_path, '{"mcpServers": {"grok": {"command": "/nowhere/grok-mcp", "args": ["serve"]}}}\n')
    setup.load()
    assert setup.status("cursor") == "stale"
    assert setup.page.rows["cursor"].disconnect.isEnabled()
    setup.act(setup.page.rows["cursor"].connect.click)
    assert setup.status("cursor") == "configured"
    assert read_json(setup.cursor_path)["mcpServers"]["grok"]["command"] == setup.launch.command


def test_an_entry_an_earlier_version_wrote_shows_as_stale_and_update_rewrites_it(setup: Setup) -> None:
    old = {"command": setup.launch.command, "args": ["-m", "server", "serve"]}  # the import package's old name
    config = json.loads(CLAUDE_CONFIG)
    config["mcpServers"]["grok"] = old
    setup.write(setup.claude_path, json.dumps(config, indent=2) + "\n")
    setup.load()
    row = setup.page.rows["claude-desktop"]
    assert setup.status("claude-desktop") == "stale: earlier version"
    status = setup.page.table.item(row.row, 1)
    assert status is not None and "written by an earlier Grok MCP" in status.toolTip()
    assert "grok-mcp clients install claude-desktop" in status.toolTip()
    assert row.connect.text() == "Update" and row.connect.isEnabled()
    assert row.disconnect.isEnabled()

    action = setup.act(row.connect.click)

    assert action.outcome is not None and action.outcome.action == "updated"
    written = read_json(setup.claude_path)
    assert written["mcpServers"]["grok"] == setup.manager.entry_for("claude-desktop")
    assert written["mcpServers"]["grok"]["args"] == ["-m", "grok_mcp", "serve"]
    assert written["mcpServers"]["filesystem"] == json.loads(CLAUDE_CONFIG)["mcpServers"]["filesystem"]
    assert written["globalShortcut"] == "Ctrl+Space"
    assert setup.status("claude-desktop") == "configured"


def test_connect_clients_in_the_tray_opens_the_dashboard_on_the_clients_page(
    qtbot: QtBot, qapp: QApplication, desktop_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "user"
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    autostart = Autostart(platform="linux", home=tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    desktop = DesktopApp(
        desktop_settings,
        environ={"XAI_API_KEY": "xai-clients-page-test-key", "GROK_MCP_HTTP_TOKEN": TOKEN},
        command=list(SERVER_COMMAND),
        timings=FAST,
        autostart=autostart,
        show_welcome=False,
    )
    try:
        action = desktop.tray.action("connect_clients")
        assert action is not None and action.text() == "Connect clients…"
        action.trigger()
        window = desktop._dashboard  # pyright: ignore[reportPrivateUsage]
        assert window is not None and window.objectName() == "dashboard"
        qtbot.waitUntil(window.isVisible, timeout=WAIT_MS)
        page = getattr(window, "current_page", None)
        assert isinstance(page, ClientsPage)
        qtbot.waitUntil(lambda: bool(page.reports), timeout=WAIT_MS)
        assert page.reports["claude-desktop"].config_path == home / ".config" / "Claude" / "claude_desktop_config.json"
    finally:
        desktop.shutdown()


def test_the_stdio_entry_names_this_installations_server(setup: Setup) -> None:
    # What Connect writes must start this Grok MCP: the venv's Python with `-m grok_mcp serve` from source.
    assert setup.launch == ServerLaunch(setup.launch.command, ("-m", "grok_mcp", "serve"))
    assert Path(setup.launch.command).exists()


def test_the_starts_column_says_which_configured_entries_start_and_why_the_others_fail(bare_setup: Setup) -> None:
    setup = bare_setup
    setup.manager.install("claude-desktop")  # written without the check: it cannot reach a keychain here
    setup.manager.install("cursor", simulate=True)
    setup.load()

    text, tip = setup.starts("claude-desktop")
    assert text == "fails: keychain unavailable"
    assert "cannot use the OS keychain" in tip and "Unlock the keychain" in tip
    assert "grok-mcp " not in tip  # the tray's words, not CLI commands
    assert setup.starts("cursor")[0] == "starts (demo mode)"
    assert setup.starts("goose")[0] == ""  # no entry: nothing to start
    assert setup.page.checks["goose"] is None


def test_connect_refuses_an_entry_that_cannot_start_and_demo_mode_connects_on_purpose(bare_setup: Setup) -> None:
    setup = bare_setup
    before = setup.write(setup.claude_path, CLAUDE_CONFIG)
    setup.load()

    refused = setup.act(setup.page.rows["claude-desktop"].connect.click)

    assert refused.refused is not None and not refused.is_ok
    assert setup.claude_path.read_bytes() == before
    assert setup.page.refusal.isVisible()
    note = setup.page.refusal_text.text()
    assert "Not connected: started as Claude Desktop starts it, the entry fails: it cannot use the OS keychain" in note
    assert "Nothing was written" in note and "connect in demo mode on purpose" in note
    assert "grok-mcp " not in note
    assert setup.page.demo_button.isVisible() and setup.page.connect_anyway_button.isVisible()
    assert setup.status("claude-desktop") == "not configured"

    connected = setup.act(setup.page.demo_button.click)

    assert connected.is_ok and connected.outcome is not None and connected.outcome.action == "installed"
    assert read_json(setup.claude_path)["mcpServers"]["grok"]["args"] == [*setup.launch.args, "--simulate"]
    assert not setup.page.refusal.isVisible()
    assert "in demo mode" in setup.page.restart_note.text()
    assert setup.status("claude-desktop") == "configured"
    assert setup.starts("claude-desktop")[0] == "starts (demo mode)"


def test_connect_anyway_writes_an_entry_that_does_not_start(bare_setup: Setup) -> None:
    setup = bare_setup
    setup.load()
    assert setup.act(setup.page.rows["claude-desktop"].connect.click).refused is not None

    action = setup.act(setup.page.connect_anyway_button.click)

    assert action.is_ok and action.outcome is not None and action.outcome.action == "installed"
    assert read_json(setup.claude_path)["mcpServers"]["grok"]["args"] == list(setup.launch.args)
    assert setup.starts("claude-desktop")[0] == "fails: keychain unavailable"


def test_connect_with_a_key_in_the_keychain_writes_an_entry_that_starts(setup: Setup) -> None:
    setup.load()
    action = setup.act(setup.page.rows["claude-desktop"].connect.click)

    assert action.is_ok and action.refused is None
    entry = read_json(setup.claude_path)["mcpServers"]["grok"]
    assert entry["env"]["DBUS_SESSION_BUS_ADDRESS"]  # the keychain's bus, which clients do not pass on
    assert KEY not in setup.claude_path.read_text(encoding="utf-8")
    assert setup.starts("claude-desktop")[0] == "starts"
