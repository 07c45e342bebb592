"""The tray's server child: one object owning its launch, health, restarts with backoff, stop and output.

States (one `state_changed` signal; the tray and windows only render them):

    STOPPED ──start()──▶ STARTING ──/healthz answers (our app, our child's pid)──▶ RUNNING ⇄ DEGRADED
       ▲                    │  ▲                                                   │ (failed polls)
       │ stop()             │  └──────────── backoff timer ── BACKING_OFF ◀── crash ┘
       └────────────────────┴──▶ ERROR  (no key, database too new, port taken by another program,
                                         keychain unavailable, or too many quick crashes: gave up)

The child runs `grok-mcp serve --transport http --port N --exit-with-parent [--simulate]`; it is RUNNING
only once its `/healthz` answers with app `grok-mcp` and the child's own pid. A port already served by a
Grok MCP that is not our child is adopted (watched, and on stop asked to exit with SIGTERM to the pid it
reported); a port held by anything else is an error. Nothing is ever killed by process name.

Orphans, on every OS: the child's stdin is a pipe only the tray holds (its lifeline). However the tray ends,
the pipe closes and the child, told by `--exit-with-parent`, drains its calls and exits as on SIGTERM. A
graceful stop closes that pipe too (on Windows the only graceful stop there is: QProcess.terminate() posts
WM_CLOSE, which a console child never sees), then SIGTERM, then kill after a timeout. Second lines: on Linux
the child starts through a tiny launcher that sets PR_SET_PDEATHSIG (SIGTERM) and then execs the server; on
Windows it joins a kill-on-close job object (grok_mcp_desktop.job_object), which ends it even if it hangs.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import shutil
import signal
import sys
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grok_mcp.clients.launch import grok_mcp_command, local_http_url
from grok_mcp.config import Settings
from grok_mcp.errors import ExitCode
from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, QUrl, Signal
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkProxy, QNetworkReply, QNetworkRequest

from grok_mcp_desktop.job_object import KillOnCloseJob

logger = logging.getLogger(__name__)

APP_ID = "grok-mcp"
LOG_FILENAME = "server.log"
LOG_BACKUPS = 5
LOG_MAX_BYTES = 5_000_000
TAIL_LINES = 1000
LAUNCH_CHILD_FLAG = "--grok-mcp-launch-child"
EXIT_WITH_PARENT_FLAG = "--exit-with-parent"


# Runs in a fresh interpreter (`python -I -S -c`): make the kernel send SIGTERM to us when the tray
# dies, make sure the tray did not die already, then become the server (same pid, so /healthz matches).
LAUNCHER_SOURCE = """\
import os, sys
parent = int(sys.argv[1])
if sys.platform.startswith("linux"):
    import ctypes, signal
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, int(signal.SIGTERM), 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
        sys.stderr.write("launcher: prctl(PR_SET_PDEATHSIG) failed\\n")
if os.getppid() != parent:
    sys.exit(70)  # the tray died before we could watch it
os.execv(sys.argv[2], sys.argv[2:])
"""


class ServerState(enum.Enum):
    """Where the server child is in its life; `value` is the word the tray shows."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    DEGRADED = "not responding"
    BACKING_OFF = "restarting"
    ERROR = "error"

    @property
    def is_up(self) -> bool:
        """Whether a server is answering (or was, a moment ago) at the endpoint."""
        return self in (ServerState.RUNNING, ServerState.DEGRADED)


@dataclass(frozen=True)
class SupervisorTimings:
    """Every delay and limit the supervisor uses, in one place (tests shrink them)."""

    startup_poll_ms: int = 100
    startup_timeout_ms: int = 20_000
    health_interval_ms: int = 5_000
    health_request_timeout_ms: int = 2_000
    unhealthy_limit: int = 3
    kill_timeout_ms: int = 5_000
    backoff_base_ms: int = 1_000
    backoff_cap_ms: int = 30_000
    healthy_reset_ms: int = 60_000
    max_quick_failures: int = 5

    def backoff_ms(self, failures: int) -> int:
        """The delay before restart number `failures` (1, 2, 4 … seconds, capped)."""
        return min(self.backoff_base_ms * 2 ** max(failures - 1, 0), self.backoff_cap_ms)


def launcher_prefix() -> list[str]:
    """The command that wraps the child so it dies with the tray (see LAUNCHER_SOURCE); empty where unsupported."""
    if sys.platform == "win32":
        return []
    if getattr(sys, "frozen", False):
        # The frozen tray executable runs the same launcher when given this flag (grok_mcp_desktop.app.main).
        return [sys.executable, LAUNCH_CHILD_FLAG]
    return [sys.executable, "-I", "-S", "-c", LAUNCHER_SOURCE]


def run_launcher(argv: list[str]) -> None:
    """The launcher for a frozen tray executable: argv is [parent_pid, program, *args]. Never returns."""
    sys.argv = ["launcher", *argv]
    exec(compile(LAUNCHER_SOURCE, "<launcher>", "exec"), {"__name__": "__launcher__"})  # noqa: S102


def exit_message(code: int, *, port: int, log_path: Path) -> str:
    """What a user should read when the server exited with `code` (DESIGN.md's exit codes)."""
    if code == ExitCode.NO_API_KEY:
        return "No xAI API key is configured. Add a key, or try demo mode on the built-in simulator."
    if code == ExitCode.DATABASE_TOO_NEW:
        return (
            "The Grok MCP database was written by a newer version of Grok MCP, so this version leaves it alone. "
            "Update Grok MCP."
        )
    if code == ExitCode.PORT_IN_USE:
        return f"Port {port} is in use by another program. Choose another port in Settings, or stop that program."
    if code == ExitCode.KEYCHAIN_UNAVAILABLE:
        return (
            "The OS keychain cannot be used (it is locked or missing). Unlock it (on Linux: gnome-keyring or "
            "KWallet), then start the server again."
        )
    if code == ExitCode.BAD_USAGE:
        return f"The server refused its settings (exit {code}). Check settings.toml; details are in {log_path}."
    return f"The server stopped unexpectedly (exit {code}). Details are in {log_path}."


class _ChildLog:
    """The child's output as a file in logs/ (rotated at each launch and by size, five kept) plus a tail."""

    def __init__(self, path: Path, *, tail_lines: int = TAIL_LINES) -> None:
        self.path = path
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self._file: IO[str] | None = None
        self._partial = ""

    def open(self) -> None:
        self.close()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._rotate()
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            logger.warning("Not keeping the server's output in %s: %s", self.path, exc.strerror)
            self._file = None

    def _rotate(self) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        for index in range(LOG_BACKUPS - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))

    def feed(self, text: str) -> list[str]:
        """Take raw output; return the complete lines it finished."""
        text = self._partial + text.replace("\r\n", "\n")
        *lines, self._partial = text.split("\n")
        self._write(lines)
        return lines

    def note(self, line: str) -> None:
        """A line of our own (launch, exit) interleaved with the child's output."""
        self._write([line])

    def _write(self, lines: list[str]) -> None:
        self.tail.extend(lines)
        if self._file is None or not lines:
            return
        try:
            self._file.write("\n".join(lines) + "\n")
            self._file.flush()
            if self._file.tell() > LOG_MAX_BYTES:
                self._file.close()
                self._rotate()
                self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            logger.warning("Stopped writing the server's output to %s: %s", self.path, exc.strerror)
            self._file = None

    def close(self) -> list[str]:
        """Flush a last unfinished line and close the file; returns that line, if any."""
        rest = [self._partial] if self._partial else []
        self._partial = ""
        self._write(rest)
        if self._file is not None:
            self._file.close()
            self._file = None
        return rest


class ServerSupervisor(QObject):
    """Owns the tray's server child: start, health, restart with backoff, graceful stop, captured output.

    Public surface: `state`, `port`, `endpoint_url`, `last_error`, `last_exit_code`, `is_simulated`,
    `is_adopted`, `user_stopped`, `log_path`; `start()`, `stop()`, `restart()`, `shutdown()`, `log_tail()`.
    """

    state_changed = Signal(ServerState)
    log_appended = Signal(str)

    def __init__(
        self,
        settings: Settings,
        *,
        simulate: bool = False,
        command: list[str] | None = None,
        environ: Mapping[str, str] | None = None,
        timings: SupervisorTimings | None = None,
        parent_death_signal: bool = True,
        parent: QObject | None = None,
    ) -> None:
        """`parent_death_signal=False` skips the Linux PR_SET_PDEATHSIG launcher (tests prove the lifeline alone)."""
        super().__init__(parent)
        self._settings = settings
        self._parent_death_signal = parent_death_signal
        self._job = KillOnCloseJob()
        self._simulate = simulate
        self._command = list(command) if command is not None else grok_mcp_command()
        self._environ = dict(environ) if environ is not None else None
        self._timings = timings or SupervisorTimings()
        self._state = ServerState.STOPPED
        self._last_error: str | None = None
        self._last_exit_code: int | None = None
        self._user_stopped = False
        self._process: QProcess | None = None
        self._child_pid: int | None = None
        self._adopted_pid: int | None = None
        self._stopping = False
        self._restart_pending = False
        self._failure_reason: str | None = None
        self._quick_failures = 0
        self._failed_polls = 0
        self._log = _ChildLog(settings.logs_dir / LOG_FILENAME)

        self._network = QNetworkAccessManager(self)
        # A system proxy must never see (or break) a loopback health check.
        self._network.setProxy(QNetworkProxy(QNetworkProxy.ProxyType.NoProxy))
        self._health_reply: QNetworkReply | None = None
        # Replies report to a method of ours (held weakly by Qt), their handlers are held weakly too: nothing a
        # reply holds may keep this supervisor alive. A closure on the reply would, and once the reply's deferred
        # delete dropped it, the last reference to a supervisor nobody else holds would go from inside the
        # reply's destructor: the supervisor would delete its children, that reply among them, a second time
        # (a segfault in Qt's event loop).
        self._reply_handlers: dict[QNetworkReply, weakref.WeakMethod[Callable[[QNetworkReply], None]]] = {}
        self._network.finished.connect(self._on_network_finished)

        self._poll_timer = self._timer(self._on_poll_timer_timeout)
        self._startup_timer = self._timer(self._on_startup_timer_timeout, single_shot=True)
        self._backoff_timer = self._timer(self._on_backoff_timer_timeout, single_shot=True)
        self._kill_timer = self._timer(self._on_kill_timer_timeout, single_shot=True)
        self._healthy_timer = self._timer(self._on_healthy_timer_timeout, single_shot=True)

    def _timer(self, slot: Callable[[], None], *, single_shot: bool = False) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(single_shot)
        timer.timeout.connect(slot)
        return timer

    # --- properties ----------------------------------------------------------------------------------

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def port(self) -> int:
        return self._settings.port

    @property
    def endpoint_url(self) -> str:
        return local_http_url(self.port)

    @property
    def command(self) -> list[str]:
        """The `grok-mcp` command the child runs, before its `serve …` arguments."""
        return list(self._command)

    @property
    def last_error(self) -> str | None:
        """Why the server is not running, in words for the user; None when nothing went wrong."""
        return self._last_error

    @property
    def last_exit_code(self) -> int | None:
        return self._last_exit_code

    @property
    def needs_key(self) -> bool:
        """Whether the server last refused to start for want of an API key (exit 3)."""
        return self._state is ServerState.ERROR and self._last_exit_code == ExitCode.NO_API_KEY

    @property
    def is_simulated(self) -> bool:
        return self._simulate

    @property
    def is_adopted(self) -> bool:
        """Whether the server at our port was started by someone else and we only watch it."""
        return self._adopted_pid is not None

    @property
    def server_pid(self) -> int | None:
        return self._adopted_pid if self._adopted_pid is not None else self._child_pid

    @property
    def user_stopped(self) -> bool:
        return self._user_stopped

    @property
    def is_stopping(self) -> bool:
        return self._stopping

    @property
    def log_path(self) -> Path:
        return self._log.path

    @property
    def settings(self) -> Settings:
        return self._settings

    def log_tail(self) -> list[str]:
        """The last lines the child wrote (and our notes about launches and exits), oldest first."""
        return list(self._log.tail)

    def set_simulated(self, simulate: bool) -> None:
        """Use demo mode (the simulator) or the real xAI API from the next start; call restart() to apply now."""
        self._simulate = simulate

    def set_settings(self, settings: Settings) -> None:
        """New settings (port, data dir) for the next start; call restart() to apply now."""
        self._settings = settings
        self._log.path = settings.logs_dir / LOG_FILENAME

    # --- commands ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the server (or adopt ours already on the port). Does nothing while it runs or starts."""
        if self._state in (ServerState.STARTING, ServerState.RUNNING, ServerState.DEGRADED) or self._stopping:
            if self._stopping:
                self._restart_pending = True
            return
        self._user_stopped = False
        self._quick_failures = 0
        self._begin_start()

    def stop(self) -> None:
        """The user's stop: close the child's stdin and SIGTERM it, kill it after the timeout; no restart follows."""
        self._user_stopped = True
        self._restart_pending = False
        self._backoff_timer.stop()
        self._startup_timer.stop()
        if self._process is not None:
            self._terminate_child()
            return
        if self._adopted_pid is not None:
            self._signal_adopted()
        self._stop_polling()
        self._last_error = None
        self._set_state(ServerState.STOPPED)

    def restart(self) -> None:
        """Stop the server if it runs, then start it again (new settings and mode take effect)."""
        self._user_stopped = False
        self._quick_failures = 0
        self._backoff_timer.stop()
        if self._process is not None:
            self._restart_pending = True
            self._terminate_child()
            return
        if self._adopted_pid is not None:
            self._signal_adopted()
            self._stop_polling()
        self._state = ServerState.STOPPED  # no signal: STARTING follows at once
        self._begin_start()

    def shutdown(self, timeout_ms: int | None = None) -> None:
        """Stop the child and wait for it (for quitting the app): close its stdin and SIGTERM, wait, kill. Blocks."""
        self._user_stopped = True
        self._restart_pending = False
        for timer in (self._backoff_timer, self._startup_timer, self._poll_timer, self._healthy_timer):
            timer.stop()
        process = self._process
        if process is None:
            self._set_state(ServerState.STOPPED)
            return
        wait_ms = self._timings.kill_timeout_ms if timeout_ms is None else timeout_ms
        self._stopping = True
        _ask_to_stop(process)
        if not process.waitForFinished(wait_ms):
            logger.warning("The server did not stop within %d ms; killing it.", wait_ms)
            process.kill()
            process.waitForFinished(2_000)

    # --- launching -----------------------------------------------------------------------------------

    def _begin_start(self) -> None:
        self._last_error = None
        self._failure_reason = None
        self._adopted_pid = None
        self._set_state(ServerState.STARTING)
        # Is something already serving our port? Our own grok-mcp is adopted, anything else is an error.
        self._probe(self._on_preflight_reply)

    def _on_preflight_reply(self, reply: QNetworkReply) -> None:
        if self._state is not ServerState.STARTING or self._process is not None:
            return
        error = reply.error()
        if error == QNetworkReply.NetworkError.ConnectionRefusedError:
            self._launch()
            return
        pid = _healthz_pid(reply)
        if pid is not None:
            self._adopt(pid)
            return
        self._give_up(exit_message(ExitCode.PORT_IN_USE, port=self.port, log_path=self.log_path))

    def _arguments(self) -> list[str]:
        args = ["serve", "--transport", "http", "--port", str(self.port), EXIT_WITH_PARENT_FLAG]
        if self._simulate:
            args.append("--simulate")
        return args

    def _environment(self) -> QProcessEnvironment:
        base = dict(os.environ) if self._environ is None else dict(self._environ)
        base["GROK_MCP_HOME"] = str(self._settings.home)
        base["PYTHONUNBUFFERED"] = "1"
        env = QProcessEnvironment()
        for name, value in base.items():
            env.insert(name, value)
        return env

    def _launch(self) -> None:
        prefix = launcher_prefix() if self._parent_death_signal else []
        program, *args = self._command
        resolved = _resolve(program)
        if resolved is None:
            self._give_up(f"Could not start the server: {program} is missing or not executable. Reinstall Grok MCP.")
            return
        if prefix:
            full = [*prefix, str(os.getpid()), resolved, *args, *self._arguments()]
        else:
            full = [resolved, *args, *self._arguments()]
        process = QProcess(self)
        process.setProgram(full[0])
        process.setArguments(full[1:])
        process.setProcessEnvironment(self._environment())
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        # The child's stdin is its lifeline: a pipe we keep open (and never write to) while we live.
        process.setInputChannelMode(QProcess.InputChannelMode.ManagedInputChannel)
        process.readyReadStandardOutput.connect(self._on_process_output_ready)
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        self._process = process
        self._failed_polls = 0
        self._log.open()
        mode = " in demo mode" if self._simulate else ""
        self._note(f"[grok-mcp-desktop] starting the server on port {self.port}{mode}")
        logger.info("Starting the server child on port %d%s", self.port, mode)
        process.start()
        if self._process is not process:
            return  # failed to start; already reported
        self._child_pid = int(process.processId()) or None
        if self._child_pid is not None:
            self._job.add(self._child_pid)
        self._startup_timer.start(self._timings.startup_timeout_ms)
        self._poll_timer.start(self._timings.startup_poll_ms)

    def _adopt(self, pid: int) -> None:
        logger.info(
            "Port %d already serves Grok MCP (pid %d): watching it instead of starting another.", self.port, pid
        )
        self._note(f"[grok-mcp-desktop] port {self.port} already serves Grok MCP (pid {pid}); using that server")
        self._adopted_pid = pid
        self._failed_polls = 0
        self._became_healthy()

    def _signal_adopted(self) -> None:
        pid = self._adopted_pid
        self._adopted_pid = None
        if pid is None or sys.platform == "win32":
            return
        # The pid came from that server's own /healthz moments ago, on this machine: ask it to drain and exit.
        try:
            os.kill(pid, signal.SIGTERM)
            self._note(f"[grok-mcp-desktop] asked the adopted server (pid {pid}) to stop")
        except OSError as exc:
            logger.info("The adopted server (pid %d) could not be signalled: %s", pid, exc.strerror)

    # --- health --------------------------------------------------------------------------------------

    def _probe(self, handler: Callable[[QNetworkReply], None]) -> None:
        request = QNetworkRequest(QUrl(f"http://127.0.0.1:{self.port}/healthz"))
        request.setTransferTimeout(self._timings.health_request_timeout_ms)
        reply = self._network.get(request)
        self._reply_handlers[reply] = weakref.WeakMethod(handler)
        self._health_reply = reply

    def _on_network_finished(self, reply: QNetworkReply) -> None:
        reply.deleteLater()
        if self._health_reply is reply:
            self._health_reply = None
        handler = self._reply_handlers.pop(reply, None)
        method = handler() if handler is not None else None
        if method is not None:
            method(reply)

    def _on_poll_timer_timeout(self) -> None:
        if self._health_reply is not None:
            return  # the previous check is still out; never pile requests up
        self._probe(self._on_health_reply)

    def _on_health_reply(self, reply: QNetworkReply) -> None:
        expected = self.server_pid
        healthy = expected is not None and _healthz_pid(reply) == expected
        if self._state is ServerState.STARTING:
            if healthy:
                self._became_healthy()
            return
        if self._state not in (ServerState.RUNNING, ServerState.DEGRADED):
            return
        if healthy:
            self._failed_polls = 0
            self._set_state(ServerState.RUNNING)
            return
        self._failed_polls += 1
        self._set_state(ServerState.DEGRADED)
        if self._failed_polls < self._timings.unhealthy_limit:
            return
        if self._adopted_pid is not None:
            # The server we watched is gone or broken; we cannot restart what is not ours, so start our own.
            self._note("[grok-mcp-desktop] the adopted server stopped answering; starting our own")
            self._adopted_pid = None
            self._stop_polling()
            self._begin_start()
            return
        self._failure_reason = (
            f"The server stopped answering its health check ({self._failed_polls} checks in a row) and was restarted."
        )
        self._note("[grok-mcp-desktop] the server stopped answering /healthz; restarting it")
        self._terminate_child()

    def _became_healthy(self) -> None:
        self._startup_timer.stop()
        self._poll_timer.start(self._timings.health_interval_ms)
        self._healthy_timer.start(self._timings.healthy_reset_ms)
        self._last_error = None
        self._set_state(ServerState.RUNNING)

    def _on_startup_timer_timeout(self) -> None:
        if self._state is not ServerState.STARTING or self._process is None:
            return
        seconds = self._timings.startup_timeout_ms / 1000
        self._failure_reason = f"The server did not answer its health check within {seconds:g} s."
        self._note(f"[grok-mcp-desktop] no healthy answer within {seconds:g} s; stopping the server")
        self._terminate_child()

    def _on_healthy_timer_timeout(self) -> None:
        if self._state.is_up:
            self._quick_failures = 0  # a healthy minute: the next crash starts the backoff over

    def _stop_polling(self) -> None:
        self._poll_timer.stop()
        self._healthy_timer.stop()
        if self._health_reply is not None:
            self._health_reply.abort()

    # --- stopping and exits --------------------------------------------------------------------------

    def _terminate_child(self) -> None:
        process = self._process
        if process is None:
            return
        self._stopping = True
        self._stop_polling()
        self._startup_timer.stop()
        _ask_to_stop(process)
        self._kill_timer.start(self._timings.kill_timeout_ms)

    def _on_kill_timer_timeout(self) -> None:
        if self._process is not None:
            seconds = self._timings.kill_timeout_ms / 1000
            self._note(f"[grok-mcp-desktop] the server did not stop within {seconds:g} s; killing it")
            logger.warning("The server child ignored its stop request for %g s; killing it.", seconds)
            self._process.kill()

    def _on_process_output_ready(self) -> None:
        process = self._process
        if process is None:
            return
        text = bytes(process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        for line in self._log.feed(text):
            self.log_appended.emit(line)

    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        if error != QProcess.ProcessError.FailedToStart or self._process is None:
            return
        # No finished signal follows a failed start.
        program = self._process.program()
        self._discard_process()
        self._stopping = False
        self._give_up(f"Could not start the server ({program}): the program is missing or not executable.")

    def _on_process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        process = self._process
        if process is None:
            return
        if process.bytesAvailable():
            self._on_process_output_ready()
        for line in self._log.close():
            self.log_appended.emit(line)
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        how = "was killed by a signal" if crashed else f"exited with code {exit_code}"
        self._note(f"[grok-mcp-desktop] the server {how}")
        logger.info("The server child %s", how)
        self._discard_process()
        self._last_exit_code = None if crashed else exit_code
        was_stopping, self._stopping = self._stopping, False

        if self._restart_pending:
            self._restart_pending = False
            self._begin_start()
            return
        if self._user_stopped:
            self._last_error = None
            self._set_state(ServerState.STOPPED)
            return
        if was_stopping and self._failure_reason is not None:
            self._crashed(self._failure_reason)
            return
        if was_stopping:  # a stop we started for a reason already handled
            self._set_state(ServerState.STOPPED)
            return
        if not crashed and exit_code in (
            ExitCode.NO_API_KEY,
            ExitCode.DATABASE_TOO_NEW,
            ExitCode.KEYCHAIN_UNAVAILABLE,
            ExitCode.BAD_USAGE,
        ):
            # Restarting cannot fix these; the user has to act.
            self._give_up(exit_message(exit_code, port=self.port, log_path=self.log_path))
            return
        if not crashed and exit_code == ExitCode.PORT_IN_USE:
            self._probe(self._on_port_taken_reply)
            return
        self._crashed(exit_message(exit_code, port=self.port, log_path=self.log_path) if not crashed else None)

    def _on_port_taken_reply(self, reply: QNetworkReply) -> None:
        if self._process is not None or self._user_stopped:
            return
        pid = _healthz_pid(reply)
        if pid is not None:
            self._state = ServerState.STARTING
            self._adopt(pid)
            return
        self._give_up(exit_message(ExitCode.PORT_IN_USE, port=self.port, log_path=self.log_path))

    def _discard_process(self) -> None:
        self._kill_timer.stop()
        self._startup_timer.stop()
        self._stop_polling()
        if self._process is not None:
            self._process.deleteLater()
        self._process = None
        self._child_pid = None

    def _crashed(self, reason: str | None) -> None:
        self._quick_failures += 1
        reason = reason or f"The server crashed. Details are in {self.log_path}."
        limit = self._timings.max_quick_failures
        if self._quick_failures >= limit:
            self._give_up(
                f"{reason} It failed {self._quick_failures} times in a row soon after starting, so Grok MCP "
                "stopped restarting it. Open the log, fix the cause, then start it again."
            )
            return
        delay = self._timings.backoff_ms(self._quick_failures)
        self._last_error = f"{reason} Restarting in {delay / 1000:g} s (attempt {self._quick_failures + 1})."
        logger.warning("Server child failed (%d in a row); restarting in %d ms", self._quick_failures, delay)
        self._backoff_timer.start(delay)
        self._set_state(ServerState.BACKING_OFF)

    def _on_backoff_timer_timeout(self) -> None:
        if self._state is ServerState.BACKING_OFF and not self._user_stopped:
            self._begin_start()

    def _give_up(self, message: str) -> None:
        self._stop_polling()
        self._startup_timer.stop()
        self._last_error = message
        logger.warning("Server child: %s", message)
        self._set_state(ServerState.ERROR)

    # --- helpers -------------------------------------------------------------------------------------

    def _note(self, line: str) -> None:
        self._log.note(line)
        self.log_appended.emit(line)

    def _set_state(self, state: ServerState) -> None:
        if state is self._state:
            return
        self._state = state
        logger.info("Server state: %s", state.name)
        self.state_changed.emit(state)


def _ask_to_stop(process: QProcess) -> None:
    """A graceful stop request: close the child's stdin (its lifeline, every OS) and send SIGTERM (POSIX).

    Both at once are one request to the server: only a second signal makes it cancel running calls. SIGTERM
    still stops a child that does not watch its stdin; on Windows terminate() only posts WM_CLOSE, which a
    console child ignores, so there the closed pipe is what counts.
    """
    process.closeWriteChannel()
    process.terminate()


def _resolve(program: str) -> str | None:
    """An absolute path to the executable `program` (execv does not search PATH), or None if there is none."""
    if os.path.isabs(program):
        return program if os.access(program, os.X_OK) else None
    return shutil.which(program)


def _healthz_pid(reply: QNetworkReply) -> int | None:
    """The pid a Grok MCP /healthz answer reports, or None if the answer is not from a healthy Grok MCP."""
    if reply.error() != QNetworkReply.NetworkError.NoError:
        return None
    try:
        body = json.loads(bytes(reply.readAll().data()))
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("app") != APP_ID or body.get("status") != "ok":
        return None
    pid = body.get("pid")
    return pid if isinstance(pid, int) and not isinstance(pid, bool) else None
