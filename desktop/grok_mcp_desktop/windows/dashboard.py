"""The dashboard window: a page list (Overview, Usage, Conversations, Keys, Clients, Settings, Logs) beside the page."""

from __future__ import annotations

from grok_mcp import secrets
from grok_mcp.clients import ClientManager, HostEnv
from grok_mcp.clients.launch import server_launch
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.context import DesktopContext
from grok_mcp_desktop.supervisor import ServerState
from grok_mcp_desktop.widgets.page import Page
from grok_mcp_desktop.windows.clients import ClientsPage
from grok_mcp_desktop.windows.conversations import ConversationsPage
from grok_mcp_desktop.windows.keys import KeysPage
from grok_mcp_desktop.windows.logs import LogsPage
from grok_mcp_desktop.windows.overview import OverviewPage
from grok_mcp_desktop.windows.settings import SettingsPage
from grok_mcp_desktop.windows.usage import UsagePage

PAGE_NAMES = ("Overview", "Usage", "Conversations", "Keys", "Clients", "Settings", "Logs")


def client_manager(context: DesktopContext) -> ClientManager:
    """The tray's ClientManager: this user's clients, this installation's server, the tray's HTTP endpoint."""
    return ClientManager(
        HostEnv.current(),
        server_launch(),
        context.settings.home / "client-backups",
        http_url=context.supervisor.endpoint_url,
    )


class DashboardWindow(QMainWindow):
    """Everything the tray can show in one window; Ctrl+1 … Ctrl+7 switch pages, as does the list on the left."""

    page_changed = Signal(str)
    """The page shown changed: its name."""

    def __init__(
        self,
        context: DesktopContext,
        *,
        autostart: Autostart | None = None,
        clients: ClientManager | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self.setWindowTitle("Grok MCP")
        self.setObjectName("dashboard")
        self._build_pages(context, autostart=autostart, clients=clients)
        self._build_navigation()
        self.simulated_banner = self._simulated_banner()
        self._lay_out()
        self.resize(1100, 720)

        supervisor = context.supervisor
        self.nav.currentRowChanged.connect(self._on_nav_row_changed)
        supervisor.state_changed.connect(self._on_state_changed)
        self._on_state_changed(supervisor.state)
        self.setTabOrder(self.nav, self.stack)
        self.nav.setCurrentRow(0)

    def _build_pages(
        self, context: DesktopContext, *, autostart: Autostart | None, clients: ClientManager | None
    ) -> None:
        settings = context.settings
        supervisor = context.supervisor
        environment = context.cli_environment
        self.overview = OverviewPage(supervisor, context.store, settings)
        self.usage = UsagePage(context.store, exports_dir=settings.exports_dir, supervisor=supervisor)
        self.conversations = ConversationsPage(context.store, exports_dir=settings.exports_dir)
        self.keys = KeysPage(context.cli_command, environ=environment)
        self.clients = ClientsPage(
            context.worker,
            clients if clients is not None else client_manager(context),
            http_url=supervisor.endpoint_url,
            http_token=lambda: secrets.get_http_token(environment),
        )
        self.settings = SettingsPage(
            settings.home,
            context.worker,
            context.cli_command,
            environ=environment,
            autostart=autostart if autostart is not None else Autostart(),
            server_is_simulated=lambda: supervisor.is_simulated,
        )
        self.logs = LogsPage(supervisor, settings.logs_dir)
        self.pages: list[Page] = [
            self.overview,
            self.usage,
            self.conversations,
            self.keys,
            self.clients,
            self.settings,
            self.logs,
        ]

    def _build_navigation(self) -> None:
        """The page list on the left and the stack beside it; Ctrl+N shows page N."""
        self.nav = QListWidget(self)
        self.nav.setAccessibleName("Pages")
        self.nav.setIconSize(QSize(16, 16))
        self.nav.setFixedWidth(self.nav.fontMetrics().horizontalAdvance("Conversations") * 2)
        self.stack = QStackedWidget(self)
        for number, page in enumerate(self.pages, start=1):
            item = QListWidgetItem(page.title, self.nav)
            item.setToolTip(f"{page.title} (Ctrl+{number})")
            self.stack.addWidget(page)
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
            shortcut.activated.connect(lambda index=number - 1: self.show_page(index))

    def _simulated_banner(self) -> QLabel:
        banner = QLabel(
            "SIMULATED — demo mode: every answer and cost here comes from the built-in simulator, not xAI.", self
        )
        banner.setObjectName("simulatedBanner")
        banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        banner.setStyleSheet(
            "QLabel#simulatedBanner { background: rgba(201, 138, 0, 70); padding: 6px; font-weight: bold; }"
        )
        return banner

    def _lay_out(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.simulated_banner)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        outer.addLayout(row, 1)
        self.setCentralWidget(central)

    @property
    def current_page(self) -> Page:
        return self.pages[self.stack.currentIndex()]

    def show_page(self, page: int | str) -> Page:
        """Show a page by index or name (e.g. "Keys") and give it the keyboard focus."""
        index = PAGE_NAMES.index(page) if isinstance(page, str) else page
        self.nav.setCurrentRow(index)
        self.pages[index].setFocus(Qt.FocusReason.ShortcutFocusReason)
        return self.pages[index]

    def _on_nav_row_changed(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        page = self.pages[row]
        page.activate()
        self.page_changed.emit(page.title)

    def _on_state_changed(self, state: ServerState) -> None:
        simulated = self._context.supervisor.is_simulated
        self.simulated_banner.setVisible(simulated)
        self.setWindowTitle("Grok MCP — simulated" if simulated else "Grok MCP")

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window only hides it (the tray lives on); child commands of the pages are stopped.
        for page in self.pages:
            page.shutdown()
        super().closeEvent(event)
