"""Stop signals for the tray: SIGTERM, SIGINT and SIGHUP become a Qt signal, so they run the tray's own Quit.

While Qt's event loop runs, Python signal handlers wait for the interpreter to get control, which may be never.
So the C-level handler writes the signal number to a socket (signal.set_wakeup_fd), a QSocketNotifier wakes the
event loop, and `received` is emitted there, on the GUI thread, where quitting is safe.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from types import FrameType
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Signal

logger = logging.getLogger(__name__)

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def stop_signal_numbers() -> list[signal.Signals]:
    """The signals that mean "quit now" where they exist: kill's default, Ctrl+C, and the terminal or session ending."""
    names = ("SIGTERM", "SIGINT", "SIGHUP")
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


def _noted(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: the work happens in StopSignals, woken through the wakeup fd."""


class StopSignals(QObject):
    """Routes stop signals into the event loop while installed; `uninstall()` puts the previous handlers back."""

    received = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._notifier: QSocketNotifier | None = None
        self._previous_handlers: dict[signal.Signals, _Handler] = {}
        self._previous_wakeup_fd = -1

    def install(self) -> None:
        """Take over the stop signals (main thread only). Raises ValueError off the main thread."""
        if self._reader is not None:
            return
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._previous_wakeup_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._reader, self._writer = reader, writer
        for signum in stop_signal_numbers():
            self._previous_handlers[signum] = signal.signal(signum, _noted)
        self._notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)

    def uninstall(self) -> None:
        """Put back the handlers and wakeup fd found at install(), and close the socket pair."""
        if self._reader is None:
            return
        for signum, handler in self._previous_handlers.items():
            # None: the handler was not set from Python; the default is the closest we can put back.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._previous_handlers.clear()
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        for sock in (self._reader, self._writer):
            if sock is not None:
                sock.close()
        self._reader = self._writer = None

    def _on_notifier_activated(self, *_: object) -> None:
        reader = self._reader
        if reader is None:
            return
        numbers = b""
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while chunk := reader.recv(64):
                numbers += chunk
        wanted = {int(signum): signum for signum in stop_signal_numbers()}
        stops = [wanted[number] for number in numbers if number in wanted]
        if stops:  # one emit per wake-up: a burst of signals is one request to quit
            logger.info("Received %s: quitting", stops[0].name)
            self.received.emit(int(stops[0]))
