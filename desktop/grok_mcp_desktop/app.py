"""The tray app's composition root: builds every shared object once, wires them together, and runs Qt."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from secrets import token_urlsafe
from typing import TYPE_CHECKING

from grok_mcp import secrets
from grok_mcp.clients.launch import grok_mcp_command
from grok_mcp.config import Settings, load_settings
from grok_mcp.errors import ConfigError, KeychainError
from grok_mcp.logs import redaction_filter, register_secret
from grok_mcp.store import RequestRecord, Store
from grok_mcp.store.units import start_of_day, start_of_month, ticks_to_usd
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.cli_runner import CliOutcome, CliRunner
from grok_mcp_desktop.context import DesktopContext
from grok_mcp_desktop.icons import IconSet
from grok_mcp_desktop.single_instance import SingleInstance, instance_name
from grok_mcp_desktop.stop_signals import StopSignals
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.supervisor import (
    LAUNCH_CHILD_FLAG,
    ServerState,
    ServerSupervisor,
    SupervisorTimings,
    run_launcher,
)
from grok_mcp_desktop.tray import TrayController
from grok_mcp_desktop.worker import Worker

if TYPE_CHECKING:
    from grok_mcp_desktop.windows.dashboard import DashboardWindow

logger = logging.getLogger(__name__)

DESKTOP_LOG_FILENAME = "desktop.log"
USAGE_REFRESH_MS = 60_000
_KEY_REJECTED_ERRORS = ("InvalidKeyError", "PermissionDeniedError")


@dataclass(frozen=True)
class UsageSnapshot:
    """What the tray shows and watches from the store: real spend today and this month (what budgets count),
    demo-mode spend today (simulated, shown apart), the newest ledger rows."""

    today_usd: float
    month_usd: float
    newest: list[RequestRecord]
    demo_today_usd: float = 0.0


def read_usage(store: Store, *, now: float | None = None) -> UsageSnapshot:
    """Spend since local midnight and since the 1st of the month, plus the newest rows (runs on the worker)."""
    today = start_of_day(now)
    return UsageSnapshot(
        today_usd=ticks_to_usd(store.spend_ticks(since=today)),
        month_usd=ticks_to_usd(store.spend_ticks(since=start_of_month(now))),
        newest=store.recent_requests(5),
        demo_today_usd=ticks_to_usd(store.spend_ticks(since=today, simulated=True)),
    )


def has_api_key(environ: Mapping[str, str] | None = None) -> bool | None:
    """Whether a key is configured (env or keychain); None when the keychain cannot be read."""
    try:
        return secrets.get_api_key(environ) is not None
    except KeychainError as exc:
        logger.warning("Cannot read the keychain at start: %s", exc)
        return None


def has_unchecked_key(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the key in use is the keychain's, stored without asking xAI (`keys set --no-validate`)."""
    try:
        key = secrets.get_api_key(environ)
        return (
            key is not None and secrets.api_key_source(environ) == "keychain" and not secrets.is_api_key_validated(key)
        )
    except KeychainError:
        return False


def can_read_http_token(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the server child can get its HTTP token (GROK_MCP_HTTP_TOKEN, or the keychain answers)."""
    try:
        secrets.get_http_token(environ, create=False)
    except KeychainError as exc:
        logger.warning("The keychain cannot keep the server's HTTP token: %s", exc)
        return False
    except ConfigError:
        return True  # a weak GROK_MCP_HTTP_TOKEN: the server child refuses it and says why
    return True


class DesktopApp(QObject):
    """One running tray: supervisor, worker, store handle, tray icon, and the windows opened from it."""

    def __init__(
        self,
        settings: Settings,
        *,
        environ: Mapping[str, str] | None = None,
        command: list[str] | None = None,
        timings: SupervisorTimings | None = None,
        autostart: Autostart | None = None,
        show_welcome: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        key_present = self._read_key_presence(environ)
        self._show_welcome_at_start = show_welcome and self.is_first_run
        self.autostart = autostart or Autostart()
        self.worker = Worker(parent=self)
        self.store = StoreAccess(settings.db_path, self.worker)
        cli = list(command) if command is not None else grok_mcp_command()
        self.supervisor = ServerSupervisor(
            settings,
            # No key (or no keychain to read one from), or demo mode chosen in Settings: the simulator, marked
            # simulated everywhere.
            simulate=key_present is not True or self._demo_mode_chosen(settings),
            command=cli,
            environ=self._environ,
            timings=timings,
            parent=self,
        )
        self.context = DesktopContext(
            settings=settings,
            supervisor=self.supervisor,
            cli_command=cli,
            worker=self.worker,
            store=self.store,
            cli_environment=self._environ,
        )
        self.icons = IconSet()
        self.tray = TrayController(self.supervisor, self.icons, autostart_enabled=self._autostart_is_enabled())
        self._dashboard: DashboardWindow | None = None
        self._welcome: QWidget | None = None
        self._model: str | None = settings.default_model
        self._model_probe = CliRunner(cli, environ=self._environ, parent=self)
        # A key saved unchecked (xAI was unreachable) is checked once the server runs on it: `keys test` notes it.
        self._key_check = CliRunner(cli, environ=self._environ, parent=self)
        self._key_needs_check = key_present is True and has_unchecked_key(self._environ)
        self._usage: UsageSnapshot | None = None
        self._notified_budget: set[str] = set()
        self._notified_key_request: str | None = None
        self._previous_state = self.supervisor.state
        self._usage_timer = QTimer(self)
        self._usage_timer.setInterval(USAGE_REFRESH_MS)
        self._usage_timer.timeout.connect(self.refresh_usage)
        self._connect_signals()

    def _read_key_presence(self, environ: Mapping[str, str] | None) -> bool | None:
        """Whether a key is configured (None: no keychain); sets the first-run and no-keychain flags and the
        environment the children run with."""
        self._environ = dict(environ) if environ is not None else None
        key_present = has_api_key(self._environ)
        self.is_first_run = key_present is False
        # No usable keychain: the server child cannot read its HTTP token from it (nor a key, unless XAI_API_KEY
        # gives one: then it still runs on that key). Either way it gets a token made for this session, handed
        # over in its environment (never argv or a file); with no key it runs in demo mode.
        self.keychain_unavailable = key_present is None or not can_read_http_token(self._environ)
        if self.keychain_unavailable:
            child_environ = dict(self._environ if self._environ is not None else os.environ)
            child_environ.setdefault("GROK_MCP_HTTP_TOKEN", token_urlsafe(32))
            register_secret(child_environ["GROK_MCP_HTTP_TOKEN"])
            self._environ = child_environ
        return key_present

    def _connect_signals(self) -> None:
        self.tray.dashboard_requested.connect(self.show_dashboard)
        self.tray.clients_requested.connect(self.show_clients)
        self.tray.add_key_requested.connect(self.show_welcome)
        self.tray.demo_mode_requested.connect(self.use_demo_mode)
        self.tray.autostart_toggled.connect(self._on_tray_autostart_toggled)
        self.tray.quit_requested.connect(self.quit)
        self.supervisor.state_changed.connect(self._on_supervisor_state_changed)

    # --- life ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Show the tray icon, start the server child, and greet a first run."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setWindowIcon(self.icons.app_icon())
        self.tray.show()
        self.supervisor.start()
        self._usage_timer.start()
        self.refresh_usage()
        if self._show_welcome_at_start:
            self.show_welcome()

    def quit(self) -> None:
        """Stop the child (close its stdin and SIGTERM, then kill), finish background work, leave the event loop."""
        self.shutdown()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> None:
        self._usage_timer.stop()
        self.supervisor.shutdown()
        self._model_probe.shutdown()
        self._key_check.shutdown()
        self.worker.shutdown()
        self.store.close()
        self.tray.hide()
        for window in (self._dashboard, self._welcome):
            if window is not None:
                window.close()
                window.deleteLater()  # closed is not gone: a top-level window stays alive until deleted
        self._dashboard = self._welcome = None

    # --- windows -------------------------------------------------------------------------------------

    def show_dashboard(self) -> None:
        if self._dashboard is None:
            try:
                from grok_mcp_desktop.windows.dashboard import DashboardWindow
            except ImportError:
                logger.exception("The dashboard window is not available in this build")
                self.tray.notify("Grok MCP", "The dashboard is not available in this build.", is_error=True)
                return
            self._dashboard = DashboardWindow(self.context)
            from grok_mcp_desktop.windows.dashboard import PAGE_NAMES

            settings_page = self._dashboard.pages[PAGE_NAMES.index("Settings")]
            settings_page.saved.connect(self._apply_saved_settings)  # pyright: ignore[reportAttributeAccessIssue]
        window = self._dashboard
        window.show()
        window.raise_()
        window.activateWindow()

    @staticmethod
    def _demo_mode_chosen(settings: Settings) -> bool:
        from grok_mcp_desktop.settings_file import read_values

        try:
            return read_values(settings.home).demo_mode
        except Exception:  # an unreadable settings.toml is reported by the server and the Settings page
            logger.warning("Could not read [desktop] demo_mode from settings.toml", exc_info=True)
            return False

    def _apply_saved_settings(self, values: object) -> None:
        """Settings were saved: restart the server child with them (port, budgets, cache, demo mode)."""
        try:
            settings = load_settings()
        except ConfigError as exc:
            self.tray.notify("Grok MCP", str(exc), is_error=True)
            return
        demo = bool(getattr(values, "demo_mode", False))
        self.supervisor.set_settings(settings)
        self.supervisor.set_simulated(demo or has_api_key(self._environ) is not True)
        if self.supervisor.state is not ServerState.STOPPED:
            self.supervisor.restart()

    def show_clients(self) -> None:
        """The tray's "Connect clients…": the dashboard, on its Clients page."""
        self.show_dashboard()
        if self._dashboard is not None:
            self._dashboard.show_page("Clients")

    def show_welcome(self) -> None:
        from grok_mcp_desktop.windows.welcome import WelcomeDialog

        if self._welcome is None:
            dialog = WelcomeDialog(
                self.context.cli_command,
                environment=self._environ,
                is_demo=self.supervisor.is_simulated,
            )
            dialog.setWindowIcon(self.icons.app_icon())
            dialog.key_stored.connect(self._on_welcome_key_stored)
            dialog.finished.connect(self._on_welcome_finished)
            self._welcome = dialog
        self._welcome.show()
        self._welcome.raise_()
        self._welcome.activateWindow()

    def show_main_window(self) -> None:
        """What a second launch asks for: the dashboard (or the welcome, while it is open)."""
        if self._welcome is not None and self._welcome.isVisible():
            self._welcome.raise_()
            self._welcome.activateWindow()
            return
        self.show_dashboard()

    def use_demo_mode(self) -> None:
        self.supervisor.set_simulated(True)
        self._model = None
        self.supervisor.restart()

    def _on_welcome_key_stored(self, redacted: str) -> None:
        logger.info("Stored the xAI key %s; leaving demo mode", redacted)
        self.supervisor.set_simulated(False)
        self._model = self.context.settings.default_model
        self.supervisor.restart()

    def _on_welcome_finished(self, _result: int) -> None:
        if self._welcome is not None:
            self._welcome.deleteLater()
        self._welcome = None

    # --- state, usage, notifications -----------------------------------------------------------------

    def _on_supervisor_state_changed(self, state: ServerState) -> None:
        previous, self._previous_state = self._previous_state, state
        supervisor = self.supervisor
        if state is ServerState.ERROR and not supervisor.user_stopped:
            title = "Grok MCP needs an xAI key" if supervisor.needs_key else "The Grok MCP server stopped"
            self.tray.notify(title, supervisor.last_error or "See the log.", is_error=True)
        elif state is ServerState.BACKING_OFF and previous.is_up:
            self.tray.notify("The Grok MCP server crashed", supervisor.last_error or "Restarting it.", is_error=True)
        elif state is ServerState.RUNNING and not previous.is_up:
            self._probe_model()
            self._check_unchecked_key()
            self.refresh_usage()

    def refresh_usage(self) -> None:
        """Read spend and the newest ledger rows on the worker; the tray and notifications follow."""
        if not self.context.settings.db_path.exists():
            return  # no server has written anything yet; never create the database from the GUI
        self.store.query("tray usage", read_usage, on_success=self._on_usage_read, on_failure=self._on_usage_failed)

    def _on_usage_read(self, usage: UsageSnapshot) -> None:
        self._usage = usage
        self.tray.set_details(model=self._model, spend_today_usd=self._spend_shown(usage))
        self._check_budgets(usage)
        self._check_key_rejected(usage)

    def _spend_shown(self, usage: UsageSnapshot) -> float:
        """The tray shows today's spend of the server's mode: demo spend (marked simulated) in demo mode."""
        return usage.demo_today_usd if self.supervisor.is_simulated else usage.today_usd

    def _on_usage_failed(self, error: Exception) -> None:
        logger.warning("Could not read usage for the tray: %s", error)

    def _check_budgets(self, usage: UsageSnapshot) -> None:
        settings = self.context.settings
        today = datetime.now().strftime("%Y-%m-%d")
        checks = [
            (f"day {today}", settings.daily_budget_usd, usage.today_usd, "today"),
            (f"month {today[:7]}", settings.monthly_budget_usd, usage.month_usd, "this month"),
        ]
        for key, budget, spent, when in checks:
            if budget is None or spent < budget or key in self._notified_budget:
                continue
            self._notified_budget.add(key)
            self.tray.notify(
                "Grok MCP budget reached",
                f"${spent:,.2f} spent {when}, over your budget of ${budget:,.2f}. Change budgets in Settings.",
                is_error=True,
            )

    def _check_key_rejected(self, usage: UsageSnapshot) -> None:
        newest = usage.newest[0] if usage.newest else None
        if newest is None or not newest.error or not newest.error.startswith(_KEY_REJECTED_ERRORS):
            return
        marker = f"{newest.seq}:{newest.id}:{newest.ts}"
        if marker == self._notified_key_request:
            return
        self._notified_key_request = marker
        self.tray.notify(
            "xAI rejected the API key",
            "The last call failed because xAI refused the key. Add a working key in the dashboard (Keys).",
            is_error=True,
        )

    def _check_unchecked_key(self) -> None:
        """Ask xAI about a key stored unchecked (`grok-mcp keys test`, which notes it as checked once accepted)."""
        if not self._key_needs_check or self.supervisor.is_simulated or self._key_check.is_busy:
            return

        def tested(outcome: CliOutcome) -> None:
            if outcome.is_ok:
                self._key_needs_check = False
                logger.info("xAI accepted the key that was stored unchecked.")
            else:
                logger.info("The key stored unchecked is still not checked: %s", outcome.message)

        self._key_check.run(["keys", "test", "--json"], tested)

    def _probe_model(self) -> None:
        """Ask `grok-mcp models --json` once which model is the default (for the status line)."""
        if self._model is not None or self._model_probe.is_busy:
            return
        arguments = ["models", "--json", *(["--simulate"] if self.supervisor.is_simulated else [])]
        self._model_probe.run(arguments, self._on_model_probe_finished)

    def _on_model_probe_finished(self, outcome: CliOutcome) -> None:
        if not outcome.is_ok:
            return
        try:
            models = outcome.data.get("models", [])
            default = next(m["id"] for m in models if m.get("kind") == "chat" and m.get("is_default"))
        except (AttributeError, KeyError, TypeError, StopIteration):
            return
        self._model = str(default)
        spend = self._spend_shown(self._usage) if self._usage else None
        self.tray.set_details(model=self._model, spend_today_usd=spend)

    def _autostart_is_enabled(self) -> bool:
        try:
            return self.autostart.is_enabled()
        except OSError:
            return False

    def _on_tray_autostart_toggled(self, enabled: bool) -> None:
        try:
            self.autostart.set_enabled(enabled)
        except OSError as exc:
            self.tray.notify("Grok MCP", f"Could not change start at login: {exc}", is_error=True)
            self.tray.set_autostart_enabled(self._autostart_is_enabled())


def configure_logging(settings: Settings) -> None:
    """The tray's own log: stderr and logs/desktop.log (rotating), every handler behind the server's redaction
    filter (grok_mcp.logs), so a key or token the tray handles never reaches a line."""
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    try:
        settings.logs_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                settings.logs_dir / DESKTOP_LOG_FILENAME,
                maxBytes=2_000_000,
                backupCount=5,
                encoding="utf-8",
                delay=True,
            )
        )
    except OSError:
        pass
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redaction_filter())
        root.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tray (entry point of `grok-mcp-desktop` and `python -m grok_mcp_desktop`); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        from grok_mcp import __version__

        if sys.stdout is not None:  # a windowed Windows executable has no stdout
            sys.stdout.write(f"grok-mcp-desktop {__version__}\n")
        return 0
    if args[:1] == [LAUNCH_CHILD_FLAG]:
        run_launcher(args[1:])  # the frozen bundle's launcher for the server child; never returns
    app = QApplication([sys.argv[0], *args])
    app.setApplicationName("Grok MCP")
    app.setOrganizationName("grok-mcp")
    app.setQuitOnLastWindowClosed(False)
    try:
        settings = load_settings()
    except ConfigError as exc:
        QMessageBox.critical(None, "Grok MCP cannot start", str(exc))
        return 2
    instance = SingleInstance(instance_name(settings.home))
    if not instance.claim():
        return 0  # the running tray was asked to show its window
    configure_logging(settings)
    desktop = DesktopApp(settings, environ=dict(os.environ))
    instance.show_requested.connect(desktop.show_main_window)
    # Logging off (Windows, macOS, X11 session managers) ends Qt's loop through aboutToQuit: drain the child there.
    app.aboutToQuit.connect(desktop.shutdown)
    # `kill`, Ctrl+C in a terminal, or the session hanging up: the same clean Quit as the tray menu's.
    stop_signals = StopSignals(app)
    stop_signals.received.connect(desktop.quit)
    stop_signals.install()
    desktop.start()
    try:
        return app.exec()
    finally:
        stop_signals.uninstall()
        instance.release()
