"""`python desktop/screenshots.py OUTDIR [--dark] [--tray]`: PNGs of each dashboard page and the tray, demo data.

Not part of the app package: `make screenshots` runs it, under Xvfb, for docs/screenshots.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from grok_mcp.clients import ClientManager, HostEnv
from grok_mcp.clients.launch import grok_mcp_command, server_launch
from grok_mcp.config import Settings, load_settings
from grok_mcp.store import ImportedConversation, NewMessage, RequestRecord, Store
from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.context import DesktopContext
from grok_mcp_desktop.icons import IconSet
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.supervisor import ServerState, ServerSupervisor
from grok_mcp_desktop.tray import TrayController
from grok_mcp_desktop.widgets.theme import palette
from grok_mcp_desktop.windows.dashboard import PAGE_NAMES, DashboardWindow
from grok_mcp_desktop.worker import Worker
from PySide6.QtCore import QEventLoop, QRect, QTimer, SignalInstance
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

DEMO_KEY = "xai-demo-screenshot-key-0001"
DEMO_TOKEN = "screenshot-demo-token-" + "0" * 24  # a made-up token for the demo server child
TRAY_FILE = "00-tray.png"
# What the Logs page shows when no demo server child is running to write its own lines.
DEMO_LOG_LINES = (
    "Grok MCP 0.1.0 over HTTP at http://127.0.0.1:8765/mcp (demo mode)",
    "INFO grok_mcp.hosting.http: GET /healthz 200",
    "INFO grok_mcp.tools.chat: chat grok-4 1,204 tokens $0.0361 in 1.9 s",
)
DEFAULT_PORT = 8765
WAIT_MS = 30_000
MODELS = (("grok-4", 30_000), ("grok-4-fast", 2_000), ("grok-3-mini", 800))
TOPICS = (
    "Refactor the billing service",
    "Summarise the Q3 incident report",
    "Draft release notes for 2.4",
    "Explain WAL mode in SQLite",
    "Plan a trip to Lisbon",
    "Review the onboarding flow copy",
)


def seed_demo_data(store: Store, *, now: float | None = None, seed: int = 7) -> None:
    """Thirty days of plausible usage, a few failures and some conversations (all made up, deterministic)."""
    rng = random.Random(seed)  # noqa: S311 - made-up demo figures, not secrets
    now = time.time() if now is None else now
    for day in range(30):
        for _ in range(rng.randint(4, 14)):
            model, price = rng.choice(MODELS)
            prompt, completion = rng.randint(200, 4000), rng.randint(50, 1500)
            failed = rng.random() < 0.04
            store.record_request(
                RequestRecord(
                    id=f"demo-{day}-{rng.randrange(10**9)}",
                    tool=rng.choice(("chat", "chat", "chat_with_context", "web_search")),
                    model=model,
                    endpoint="/v1/chat/completions",
                    ts=now - day * 86_400 - rng.randint(0, 80_000),
                    status=503 if failed else 200,
                    error="UpstreamUnavailableError: xAI answered 503; retried 3 times" if failed else None,
                    prompt_tokens=0 if failed else prompt,
                    completion_tokens=0 if failed else completion,
                    cost_ticks=0 if failed else (prompt + completion) * price,
                    latency_ms=rng.uniform(300, 4000),
                    client=rng.choice(("claude-desktop", "cursor", "claude-code")),
                    simulated=True,  # made up, and shown by a dashboard in demo mode: demo usage
                )
            )
    conversations: list[ImportedConversation] = []
    for index in range(60):
        topic = TOPICS[index % len(TOPICS)]
        at = now - index * 7_200
        conversations.append(
            ImportedConversation(
                title=f"{topic} ({index + 1})",
                model="grok-4",
                client="claude-desktop",
                created_at=at - 600,
                updated_at=at,
                messages=[
                    NewMessage(role="user", content=f"{topic}: what should I look at first?"),
                    NewMessage(
                        role="assistant",
                        content="Start with the parts that change most often, then the error paths.\n\n"
                        "1. Read the tests that fail most.\n2. List the slow queries.\n"
                        "3. Write down what surprised you.",
                        model="grok-4",
                    ),
                ],
            )
        )
    store.import_conversations(conversations)


def seed_demo_clients(home: Path) -> None:
    """Config files of a made-up user: Claude Desktop with other servers, a stale Cursor entry, VS Code and Zed."""
    claude = home / ".config" / "Claude" / "claude_desktop_config.json"
    cursor = home / ".cursor" / "mcp.json"
    vscode = home / ".config" / "Code" / "User" / "mcp.json"
    zed = home / ".config" / "zed" / "settings.json"
    for path in (claude, cursor, vscode, zed):
        path.parent.mkdir(parents=True, exist_ok=True)
    filesystem = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", str(home / "Documents")]}
    claude.write_text(json.dumps({"mcpServers": {"filesystem": filesystem}}, indent=2) + "\n", encoding="utf-8")
    stale = {"command": "/opt/grok-mcp-0.9/grok-mcp", "args": ["serve"]}
    cursor.write_text(json.dumps({"mcpServers": {"grok": stale}}, indent=2) + "\n", encoding="utf-8")
    vscode.write_text('// my MCP servers\n{\n  "servers": {}\n}\n', encoding="utf-8")
    zed.write_text('// Zed settings\n{\n  "theme": "One Dark"\n}\n', encoding="utf-8")


def demo_client_manager(home: Path, backups: Path, http_url: str) -> ClientManager:
    """A ClientManager over the made-up user's home (nothing of the real user's is read or written)."""
    seed_demo_clients(home)
    return ClientManager(
        HostEnv(home, "linux", {"PATH": "", "XDG_CONFIG_HOME": str(home / ".config")}),
        server_launch(),
        backups,
        http_url=http_url,
        running=lambda spec, host: None,  # whatever runs on the machine making screenshots is not shown
    )


def wait_until(predicate: Callable[[], bool], timeout_ms: int = WAIT_MS) -> bool:
    """Run the event loop until `predicate()` holds (checked every 50 ms) or the timeout passes."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not predicate():
        if time.monotonic() > deadline:
            return False
        settle(50)
    return True


def wait_for(signal: SignalInstance, timeout_ms: int = WAIT_MS) -> bool:
    """Run the event loop until `signal` fires or the timeout passes; True when it fired."""
    loop = QEventLoop()
    fired: list[bool] = []
    signal.connect(lambda *_: (fired.append(True), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return bool(fired)


def settle(ms: int = 150) -> None:
    """Let pending paints and queued results run."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _port() -> int:
    """8765 as users see it, unless something listens there already; then any free port."""
    for port in (DEFAULT_PORT, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port")


def _demo_settings(home: Path, port: int) -> Settings:
    """Settings for the demo data dir: budgets to show against, demo mode on, the demo data seeded."""
    (home / "settings.toml").write_text(
        "# Written by the screenshot script\n[budgets]\ndaily_usd = 5\nmonthly_usd = 100\n\n"
        "[desktop]\ndemo_mode = true\n",
        encoding="utf-8",
    )
    settings = load_settings({"GROK_MCP_HOME": str(home), "GROK_MCP_PORT": str(port)})
    with Store.open(settings.db_path) as store:
        seed_demo_data(store)
    return settings


def _demo_environment(home: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "GROK_MCP_HOME": str(home),
        "GROK_MCP_PORT": str(port),
        "XAI_API_KEY": DEMO_KEY,
        "GROK_MCP_HTTP_TOKEN": DEMO_TOKEN,
    }


def render(out_dir: Path, *, home: Path, dark: bool = False, tray: bool = False) -> list[Path]:
    """Render every page of a dashboard over demo data in `home` to `out_dir`; returns the PNG paths.

    With `tray` (on a real X display with `trayer` installed) the demo server child is started first and
    the tray icon with its menu open is captured too, as TRAY_FILE.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    port = _port() if tray else DEFAULT_PORT
    settings = _demo_settings(home, port)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setPalette(palette(dark=dark))
    worker = Worker()
    store_access = StoreAccess(settings.db_path, worker)
    environment = _demo_environment(home, port)
    supervisor = ServerSupervisor(settings, simulate=True, environ=environment)
    if tray:
        supervisor.start()
        if not wait_until(lambda: supervisor.state is ServerState.RUNNING):
            sys.stderr.write(f"The demo server did not become healthy ({supervisor.last_error}); going on.\n")
    clients = demo_client_manager(home / "user-home", home / "client-backups", supervisor.endpoint_url)
    context = DesktopContext(
        settings=settings,
        supervisor=supervisor,
        cli_command=grok_mcp_command(),
        worker=worker,
        store=store_access,
        cli_environment=environment,
    )
    window = DashboardWindow(context, autostart=Autostart(home=home / "autostart-home", environ={}), clients=clients)
    window.resize(1200, 780)
    window.move(0, 0)
    window.show()
    written: list[Path] = []
    try:
        for number, name in enumerate(PAGE_NAMES, start=1):
            show_page_ready(window, name, supervisor)
            settle()
            path = out_dir / f"{number:02d}-{name.lower()}{'-dark' if dark else ''}.png"
            if not window.grab().save(str(path)):
                raise OSError(f"Could not write {path}")
            written.append(path)
        if tray:
            shot = render_tray(out_dir / TRAY_FILE, supervisor)
            if shot is not None:
                written.insert(0, shot)
    finally:
        window.close()
        worker.shutdown()
        store_access.close()
        supervisor.shutdown()
    return written


def show_page_ready(window: DashboardWindow, name: str, supervisor: ServerSupervisor) -> None:
    """Show the page `name` and wait until it has loaded what it shows."""
    window.show_page(name)
    if name == "Overview":
        wait_for(window.overview.overview_loaded)
    elif name == "Usage":
        wait_for(window.usage.usage_loaded)
    elif name == "Conversations":
        if window.conversations.model.rowCount() == 0:
            wait_for(window.conversations.model.page_loaded)
        window.conversations.list_view.selectRow(0)
        wait_for(window.conversations.transcript_shown)
    elif name == "Keys":
        wait_for(window.keys.action_finished)
    elif name == "Clients":
        page = window.clients
        if not page.reports:
            wait_for(page.clients_loaded)
        page.connect_client("claude-desktop", simulate=True)  # the demo dataset: a demo entry that starts
        wait_for(page.action_finished)
    elif name == "Settings":
        if window.settings.is_loading_models:
            wait_for(window.settings.models_finished)
    elif supervisor.state is not ServerState.RUNNING:  # Logs: a running demo server child wrote its own
        for line in DEMO_LOG_LINES:
            supervisor.log_appended.emit(line)


def _start_trayer(trayer: str) -> subprocess.Popen[bytes]:
    """A `trayer` panel at the top right of the screen to host the icon (ended by the caller, by its pid)."""
    return subprocess.Popen(  # noqa: S603 - trayer from PATH with fixed arguments
        [trayer, "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120",
         "--height", "30", "--transparent", "false", "--tint", "0x2b2b30", "--SetDockType", "true"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _open_menu(tray: TrayController) -> None:
    """Right-click the icon as a user would (xdotool); without it, or if that did not work, pop the menu up."""
    icon = tray.icon.geometry()
    clicker = shutil.which("xdotool")
    if clicker is not None:
        center = icon.center()
        subprocess.run(  # noqa: S603 - a fixed command
            [clicker, "mousemove", str(center.x()), str(center.y()), "click", "3"], check=False, timeout=10
        )
    if not wait_until(tray.menu.isVisible, 5_000):
        tray.menu.popup(icon.bottomLeft())
        wait_until(tray.menu.isVisible, 5_000)
    settle(400)


def _capture_tray(path: Path, tray: TrayController) -> Path | None:
    if not wait_until(QSystemTrayIcon.isSystemTrayAvailable, 10_000):
        sys.stderr.write("Tray screenshot skipped: trayer did not start a system tray.\n")
        return None
    tray.set_details(model="grok-4", spend_today_usd=1.84)
    tray.show()
    if not wait_until(lambda: tray.icon.geometry().width() > 0, 10_000):
        sys.stderr.write("Tray screenshot skipped: the icon never got a place in the tray.\n")
        return None
    settle(300)
    _open_menu(tray)
    screen = QGuiApplication.primaryScreen()
    icon = tray.icon.geometry()
    area = icon.united(tray.menu.geometry()).adjusted(-16, 0, 16, 16).intersected(screen.geometry())
    area = QRect(area.x(), 0, area.width(), area.bottom() + 1)  # from the top: the panel with the icon
    image = screen.grabWindow(0, area.x(), area.y(), area.width(), area.height())
    tray.menu.hide()
    if not image.save(str(path)):
        raise OSError(f"Could not write {path}")
    return path


def render_tray(path: Path, supervisor: ServerSupervisor) -> Path | None:
    """The tray icon with its menu open, in a `trayer` panel on this X display; None (and why) when impossible.

    `trayer` hosts the icon (it is started here and ended by its pid), `xdotool` right-clicks it as a user
    would (the menu is popped up directly without xdotool), and the screen around icon and menu is saved.
    """
    trayer = shutil.which("trayer")
    if QGuiApplication.platformName() != "xcb" or trayer is None:
        sys.stderr.write("Tray screenshot skipped: it needs an X display (QT_QPA_PLATFORM=xcb) and trayer.\n")
        return None
    host = _start_trayer(trayer)
    tray = TrayController(supervisor, IconSet())
    try:
        return _capture_tray(path, tray)
    finally:
        tray.hide()
        tray.deleteLater()
        host.terminate()
        try:
            host.wait(timeout=5)
        except subprocess.TimeoutExpired:
            host.kill()
            host.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python desktop/screenshots.py", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="where the PNG files go (docs/screenshots for the README)")
    parser.add_argument("--dark", action="store_true", help="use the dark palette")
    parser.add_argument(
        "--tray",
        action="store_true",
        help="also start the demo server and capture the tray menu (needs QT_QPA_PLATFORM=xcb on Xvfb and trayer)",
    )
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory(prefix="grok-mcp-screenshots-") as scratch:
        home = Path(scratch)
        os.environ["GROK_MCP_HOME"] = str(home)  # this process only: the demo data never touches the user's
        paths = render(args.out_dir, home=home, dark=args.dark, tray=args.tray)
    for path in paths:
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
