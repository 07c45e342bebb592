"""The tray icon and its menu, rebuilt from the supervisor's state each time it changes or opens."""

from __future__ import annotations

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from grok_mcp_desktop.icons import IconSet
from grok_mcp_desktop.supervisor import ServerState, ServerSupervisor

ERROR_PREVIEW_CHARS = 90


def status_line(supervisor: ServerSupervisor) -> str:
    """The first line of the menu (and the tooltip): what the server is doing, where, and whether simulated."""
    state = supervisor.state
    where = f" on port {supervisor.port}" if state.is_up or state is ServerState.STARTING else ""
    adopted = " (started elsewhere)" if supervisor.is_adopted else ""
    simulated = " · simulated (demo mode)" if supervisor.is_simulated else ""
    return f"Grok MCP: {state.value}{where}{adopted}{simulated}"


def connection_details(supervisor: ServerSupervisor) -> str:
    """What "Copy connection details" puts on the clipboard: the endpoint and how to authenticate, no token."""
    return (
        f"Grok MCP endpoint: {supervisor.endpoint_url}\n"
        "Transport: streamable HTTP\n"
        "Authorization: Bearer <token> (the token is in the OS keychain: service grok-mcp, account http-token)"
    )


class TrayController(QObject):
    """Owns the QSystemTrayIcon and its QMenu; renders supervisor state and forwards what the user picks.

    Signals (past-tense events the composition root acts on): `dashboard_requested`, `clients_requested`,
    `add_key_requested`, `demo_mode_requested`, `autostart_toggled(bool)`, `quit_requested`;
    `notification_shown(title, message)` after each desktop notification.
    """

    dashboard_requested = Signal()
    clients_requested = Signal()
    add_key_requested = Signal()
    demo_mode_requested = Signal()
    autostart_toggled = Signal(bool)
    quit_requested = Signal()
    notification_shown = Signal(str, str)

    def __init__(
        self,
        supervisor: ServerSupervisor,
        icons: IconSet,
        *,
        autostart_enabled: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._supervisor = supervisor
        self._icons = icons
        self._model: str | None = None
        self._spend_today_usd: float | None = None
        self._autostart_enabled = autostart_enabled
        self._menu = QMenu()
        self._icon = QSystemTrayIcon(icons.for_state(supervisor.state), self)
        self._icon.setContextMenu(self._menu)
        self._icon.activated.connect(self._on_icon_activated)
        self._menu.aboutToShow.connect(self.rebuild_menu)
        supervisor.state_changed.connect(self._on_supervisor_state_changed)
        self.rebuild_menu()

    @property
    def menu(self) -> QMenu:
        return self._menu

    @property
    def icon(self) -> QSystemTrayIcon:
        return self._icon

    def show(self) -> None:
        self._icon.show()

    def hide(self) -> None:
        self._icon.hide()

    def set_details(self, *, model: str | None, spend_today_usd: float | None) -> None:
        """The model and today's spend for the status line (read by the app off the GUI thread)."""
        self._model = model
        self._spend_today_usd = spend_today_usd
        self.rebuild_menu()

    def set_autostart_enabled(self, enabled: bool) -> None:
        self._autostart_enabled = enabled
        self.rebuild_menu()

    def notify(self, title: str, message: str, *, is_error: bool = False) -> None:
        """A desktop notification (a no-op where the platform has none)."""
        icon = QSystemTrayIcon.MessageIcon.Critical if is_error else QSystemTrayIcon.MessageIcon.Information
        self._icon.showMessage(title, message, icon, 10_000)
        self.notification_shown.emit(title, message)

    def action(self, name: str) -> QAction | None:
        """The menu's action with objectName `name`, or None when the current state does not offer it."""
        for action in self._menu.actions():
            if action.objectName() == name:
                return action
        return None

    def action_names(self) -> list[str]:
        return [action.objectName() for action in self._menu.actions() if action.objectName()]

    # --- building ------------------------------------------------------------------------------------

    def rebuild_menu(self) -> None:
        supervisor = self._supervisor
        state = supervisor.state
        menu = self._menu
        menu.clear()
        line = status_line(supervisor)
        self._icon.setIcon(self._icons.for_state(state))
        self._icon.setToolTip(line)

        self._info(line, "status")
        details = self._details_line()
        if details:
            self._info(details, "details")
        if supervisor.last_error and state in (ServerState.ERROR, ServerState.BACKING_OFF):
            text = supervisor.last_error
            if len(text) > ERROR_PREVIEW_CHARS:
                text = text[: ERROR_PREVIEW_CHARS - 1] + "…"
            self._info(text, "error")
        menu.addSeparator()

        is_active = state in (ServerState.STARTING, ServerState.RUNNING, ServerState.DEGRADED)
        if not is_active and state is not ServerState.BACKING_OFF:
            self._add("Start server", "start", supervisor.start)
        if is_active or state is ServerState.BACKING_OFF:
            self._add("Stop server", "stop", supervisor.stop)
        if state is not ServerState.STOPPED:
            self._add("Restart server", "restart", supervisor.restart)
        if supervisor.is_simulated or supervisor.needs_key:
            self._add("Add your xAI API key…", "add_key", self.add_key_requested.emit)
        if supervisor.needs_key:
            self._add("Try demo mode (simulated answers)", "demo_mode", self.demo_mode_requested.emit)
        menu.addSeparator()

        self._add("Open dashboard…", "dashboard", self.dashboard_requested.emit)
        self._add("Connect clients…", "connect_clients", self.clients_requested.emit)
        copy = self._add("Copy connection details", "copy_connection", self.copy_connection_details)
        copy.setEnabled(state.is_up)
        self._add("Open logs folder", "open_logs", self.open_logs_folder)
        autostart = self._add("Start at login", "autostart", None)
        autostart.setCheckable(True)
        autostart.setChecked(self._autostart_enabled)
        autostart.toggled.connect(self._on_autostart_action_toggled)
        menu.addSeparator()
        self._add("Quit Grok MCP", "quit", self.quit_requested.emit)

    def _details_line(self) -> str:
        parts: list[str] = []
        if self._model:
            parts.append(f"Model {self._model}")
        if self._spend_today_usd is not None:
            parts.append(
                f"${self._spend_today_usd:,.2f} today" + (" (simulated)" if self._supervisor.is_simulated else "")
            )
        return " · ".join(parts)

    def _info(self, text: str, name: str) -> None:
        action = self._menu.addAction(text)
        action.setObjectName(name)
        action.setEnabled(False)

    def _add(self, text: str, name: str, slot: object) -> QAction:
        action = self._menu.addAction(text)
        action.setObjectName(name)
        if slot is not None:
            action.triggered.connect(slot)
        return action

    # --- actions -------------------------------------------------------------------------------------

    def copy_connection_details(self) -> None:
        QGuiApplication.clipboard().setText(connection_details(self._supervisor))

    def open_logs_folder(self) -> None:
        folder = self._supervisor.log_path.parent
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _on_autostart_action_toggled(self, checked: bool) -> None:
        self._autostart_enabled = checked
        self.autostart_toggled.emit(checked)

    def _on_supervisor_state_changed(self, _state: ServerState) -> None:
        self.rebuild_menu()

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.dashboard_requested.emit()
