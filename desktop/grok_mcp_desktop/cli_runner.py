"""Runs `grok-mcp` commands as child processes for the dashboard; secrets go to stdin, results return as signals."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from grok_mcp.errors import ExitCode
from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

log = logging.getLogger(__name__)

_ERROR_PREFIX = "grok-mcp: "


@dataclass(frozen=True)
class CliOutcome:
    """How a `grok-mcp` command ended: its exit code, what it printed, and its JSON output when it gave some
    (whether it succeeded or not)."""

    arguments: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    data: Any = None

    @property
    def is_ok(self) -> bool:
        return self.exit_code == 0

    @property
    def is_keychain_unavailable(self) -> bool:
        return self.exit_code == ExitCode.KEYCHAIN_UNAVAILABLE

    @property
    def message(self) -> str:
        """The command's own explanation of a failure (its last `grok-mcp:` line), for the user to read."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        for line in reversed(lines):
            if line.startswith(_ERROR_PREFIX):
                return line.removeprefix(_ERROR_PREFIX)
        if lines:
            return lines[-1]
        return f"grok-mcp {' '.join(self.arguments)} ended with exit code {self.exit_code}."


class CliCall(QObject):
    """One run of `grok-mcp ARGS`, optionally with text on stdin; emits `finished(CliOutcome)` once, on the GUI thread.

    The process is asynchronous (QProcess), so nothing blocks the GUI thread; secrets go only to stdin.
    """

    finished = Signal(object)

    def __init__(
        self,
        command: list[str],
        arguments: list[str],
        *,
        environ: Mapping[str, str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.arguments = tuple(arguments)
        self._process = QProcess(self)
        self._process.setProgram(command[0])
        self._process.setArguments([*command[1:], *arguments])
        if environ is not None:
            environment = QProcessEnvironment()
            for name, value in environ.items():
                environment.insert(name, value)
            self._process.setProcessEnvironment(environment)
        self._process.finished.connect(self._on_process_finished)
        self._process.errorOccurred.connect(self._on_process_error_occurred)
        self._is_done = False

    @property
    def is_running(self) -> bool:
        return not self._is_done

    def start(self, stdin_text: str | None = None) -> None:
        """Start the child and write `stdin_text` (a key, say) to its stdin, then close stdin."""
        self._process.start()
        if stdin_text is not None:
            self._process.write(stdin_text.encode("utf-8") + b"\n")
        self._process.closeWriteChannel()

    def kill(self) -> None:
        """Stop the child at once (the page is going away); `finished` is not emitted afterwards."""
        self._is_done = True
        if self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.kill()
            self._process.waitForFinished(2_000)

    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and not self._is_done:
            self._finish(
                CliOutcome(
                    self.arguments,
                    127,
                    "",
                    f"{_ERROR_PREFIX}could not start {self._process.program()}: {self._process.errorString()}",
                )
            )

    def _on_process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        if self._is_done:
            return
        stdout = bytes(self._process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        stderr = bytes(self._process.readAllStandardError().data()).decode("utf-8", errors="replace")
        code = exit_code if exit_status == QProcess.ExitStatus.NormalExit else -1
        data: Any = None
        # A failing command may print JSON too (`keys set --json` when xAI cannot be reached, `doctor --json`).
        if stdout.strip().startswith(("{", "[")):
            try:
                data = json.loads(stdout)
            except json.JSONDecodeError:
                log.warning("grok-mcp %s printed output that is not JSON", " ".join(self.arguments))
        self._finish(CliOutcome(self.arguments, code, stdout, stderr, data))

    def _finish(self, outcome: CliOutcome) -> None:
        self._is_done = True
        self.finished.emit(outcome)


class CliRunner(QObject):
    """Runs `grok-mcp` commands for one owner (a page, a dialog, the app), one at a time.

    It holds the command and environment, keeps the running CliCall, hands its outcome to the callback given to
    `run`, and kills it on `shutdown`, so no owner writes that lifecycle again.
    """

    def __init__(
        self, command: list[str], *, environ: Mapping[str, str] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._command = list(command)
        self._environ = dict(environ) if environ is not None else None
        self._call: CliCall | None = None
        self._on_finished: Callable[[CliOutcome], None] | None = None

    @property
    def is_busy(self) -> bool:
        return self._call is not None

    def run(
        self, arguments: list[str], on_finished: Callable[[CliOutcome], None], *, stdin_text: str | None = None
    ) -> bool:
        """Start `grok-mcp ARGUMENTS` (`stdin_text`, a key say, goes to stdin only); False while one still runs."""
        if self._call is not None:
            return False
        call = CliCall(self._command, arguments, environ=self._environ, parent=self)
        # Connected to our own method, not a closure over the owner: a finished call, deleted later, must not
        # hold the last reference to the page that owns this runner (and so delete it from inside its own child).
        call.finished.connect(self._on_call_finished)
        self._call, self._on_finished = call, on_finished
        call.start(stdin_text)
        return True

    def _on_call_finished(self, outcome: CliOutcome) -> None:
        call, on_finished = self._call, self._on_finished
        self._call = self._on_finished = None
        if call is not None:
            call.deleteLater()
        if on_finished is not None:
            on_finished(outcome)

    def shutdown(self) -> None:
        """Kill the running command, if any; its callback is not called."""
        if self._call is not None:
            self._call.kill()
        self._call = self._on_finished = None
