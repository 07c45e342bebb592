"""The dashboard's handle on the SQLite store: opened lazily on a worker thread, never on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from grok_mcp.store import Store

from grok_mcp_desktop.worker import Task, Worker

T = TypeVar("T")


class StoreAccess:
    """Runs store queries through a Worker; the first query opens (and migrates) the Store, off the GUI thread."""

    def __init__(self, path: Path, worker: Worker) -> None:
        self.path = path
        self.worker = worker
        self._lock = threading.Lock()
        self._store: Store | None = None

    def _open(self) -> Store:
        with self._lock:
            if self._store is None or self._store.is_closed:
                self._store = Store.open(self.path)
            return self._store

    def query(
        self,
        name: str,
        function: Callable[[Store], T],
        *,
        on_success: Callable[[T], object] | None = None,
        on_failure: Callable[[Exception], object] | None = None,
    ) -> Task:
        """Run `function(store)` on the worker; the result arrives through the returned Task's signals."""

        def run() -> Any:
            return function(self._open())

        return self.worker.submit(name, run, on_success=on_success, on_failure=on_failure)

    def close(self) -> None:
        """Close the store if it was opened; call after the worker has shut down."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
