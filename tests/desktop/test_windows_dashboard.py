"""The dashboard window: every page reachable by list and shortcut, demo mode marked, light and dark palettes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from grok_mcp.clients.launch import grok_mcp_command
from grok_mcp.config import Settings
from grok_mcp.store import Store
from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.context import DesktopContext
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.supervisor import ServerSupervisor
from grok_mcp_desktop.widgets.theme import palette
from grok_mcp_desktop.windows.dashboard import PAGE_NAMES, DashboardWindow
from grok_mcp_desktop.worker import Worker
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.desktop.pages import seed_conversations, signal_args


@pytest.fixture
def make_window(
    qtbot: QtBot, desktop_settings: Settings, make_supervisor: Callable[..., ServerSupervisor], tmp_path: Path
) -> Iterator[Callable[..., DashboardWindow]]:
    made: list[tuple[DashboardWindow, Worker, StoreAccess]] = []

    def make(*, simulate: bool = False) -> DashboardWindow:
        worker = Worker()
        store = StoreAccess(desktop_settings.db_path, worker)
        context = DesktopContext(
            settings=desktop_settings,
            supervisor=make_supervisor(simulate=simulate),
            cli_command=grok_mcp_command(),
            worker=worker,
            store=store,
        )
        window = DashboardWindow(context, autostart=Autostart(platform="linux", home=tmp_path, environ={}))
        qtbot.addWidget(window)
        made.append((window, worker, store))
        return window

    yield make
    for window, worker, store in made:
        window.close()
        worker.shutdown()
        store.close()


def test_every_page_is_listed_and_reachable_by_shortcut(
    qtbot: QtBot, make_window: Callable[..., DashboardWindow]
) -> None:
    window = make_window()
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == list(PAGE_NAMES)
    assert window.current_page is window.overview
    for number, name in reversed(list(enumerate(PAGE_NAMES, start=1))):
        with qtbot.waitSignal(window.page_changed, timeout=2_000) as changed:
            qtbot.keyClick(window.nav, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        assert signal_args(changed) == [name]
        assert window.current_page.title == name
    window.keys.shutdown()


def test_the_conversations_page_loads_when_opened(
    qtbot: QtBot, desktop_settings: Settings, make_window: Callable[..., DashboardWindow]
) -> None:
    with Store.open(desktop_settings.db_path) as store:
        seed_conversations(store, 3)
    window = make_window()
    window.show()
    with qtbot.waitSignal(window.conversations.model.page_loaded, timeout=10_000):
        window.show_page("Conversations")
    assert window.conversations.model.rowCount() == 3


def test_demo_mode_is_marked_as_simulated(qtbot: QtBot, make_window: Callable[..., DashboardWindow]) -> None:
    window = make_window(simulate=True)
    window.show()
    assert window.simulated_banner.isVisible()
    assert "SIMULATED" in window.simulated_banner.text()
    assert window.windowTitle() == "Grok MCP — simulated"
    assert window.overview.simulated_label.isVisible()
    plain = make_window()
    plain.show()
    assert not plain.simulated_banner.isVisible()
    assert plain.windowTitle() == "Grok MCP"


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_pages_render_with_light_and_dark_palettes(
    qtbot: QtBot, make_window: Callable[..., DashboardWindow], dark: bool
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    original = app.palette()
    app.setPalette(palette(dark=dark))
    try:
        window = make_window()
        window.show()
        for name in PAGE_NAMES:
            if name == "Keys":
                continue  # its child process is covered by the Keys tests
            page = window.show_page(name)
            image = page.grab().toImage()
            background = image.pixelColor(2, 2)
            assert (background.lightness() < 100) is dark, name
            text = page.palette().color(QPalette.ColorRole.WindowText)
            assert abs(text.lightness() - background.lightness()) > 100, name
    finally:
        app.setPalette(original)
