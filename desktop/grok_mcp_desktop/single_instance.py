"""One tray per user and data dir: a QLocalServer the first instance holds; later launches ask it to show itself."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

logger = logging.getLogger(__name__)

SHOW_MESSAGE = b"show\n"
_CONNECT_TIMEOUT_MS = 1_000


def instance_name(home: Path) -> str:
    """The local socket name for this user and data dir (two data dirs may each have a tray)."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"
    digest = hashlib.sha256(f"{user}\0{home.resolve()}".encode()).hexdigest()[:16]
    return f"grok-mcp-desktop-{digest}"


class SingleInstance(QObject):
    """Claims the instance name, or forwards "show" to whoever holds it.

    `show_requested` is emitted (in the first instance) each time a later launch asks it to show its window.
    """

    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None

    @property
    def is_primary(self) -> bool:
        return self._server is not None

    def claim(self) -> bool:
        """Become the first instance; False if another live instance holds the name."""
        if self._notify_running():
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A tray that crashed leaves its socket file behind; nobody answered on it, so it is stale.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                logger.warning("Cannot claim the single-instance name %s: %s", self.name, server.errorString())
                return True  # run anyway: a second tray is better than none
        server.newConnection.connect(self._on_server_new_connection)
        self._server = server
        return True

    def _notify_running(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(_CONNECT_TIMEOUT_MS):
            return False
        socket.write(SHOW_MESSAGE)
        socket.waitForBytesWritten(_CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def _on_server_new_connection(self) -> None:
        server = self._server
        if server is None:
            return
        while server.hasPendingConnections():
            socket = server.nextPendingConnection()
            # The sender writes one line right after connecting, so a short bounded wait is enough; it keeps
            # this free of per-socket slots that could fire while the socket is being destroyed.
            if not socket.canReadLine():
                socket.waitForReadyRead(_CONNECT_TIMEOUT_MS)
            message = bytes(socket.readLine().data()) if socket.canReadLine() else b""
            socket.abort()
            socket.deleteLater()
            if message == SHOW_MESSAGE:
                self.show_requested.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
