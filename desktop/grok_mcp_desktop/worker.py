"""The one way long work leaves the GUI thread: a function runs on a thread pool and its result returns as a signal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class Task(QObject):
    """One piece of background work; its signals are delivered on the GUI thread, at most one of them, once.

    `succeeded(result)` when the function returned, `failed(exception)` when it raised. A cancelled task
    emits neither (its function may still run to the end; cancelling only drops the result).
    """

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._cancelled = threading.Event()
        self._is_done = False

    @property
    def is_cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def is_done(self) -> bool:
        """Whether the task's result was delivered, or it was cancelled."""
        return self._is_done or self.is_cancelled

    def cancel(self) -> None:
        """Drop the result: neither signal will be emitted. Safe to call at any time, from any thread."""
        self._cancelled.set()

    def _deliver(self, ok: bool, value: object) -> None:
        if self.is_cancelled or self._is_done:
            return
        self._is_done = True
        if ok:
            self.succeeded.emit(value)
        else:
            self.failed.emit(value)


class _Runnable(QRunnable):
    def __init__(self, worker: Worker, task: Task, function: Callable[[], object]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._worker = worker
        self._task = task
        self._function = function

    def run(self) -> None:
        if self._task.is_cancelled:
            self._worker.task_finished.emit(self._task, False, None)
            return
        try:
            value: object = self._function()
            ok = True
        except Exception as exc:  # the boundary of a background task: the error becomes the failed signal
            log.debug("background task %s failed", self._task.name, exc_info=exc)
            value, ok = exc, False
        # Emitted from the pool thread; the worker lives on the GUI thread, so Qt queues the delivery there.
        self._worker.task_finished.emit(self._task, ok, value)


class Worker(QObject):
    """Runs functions off the GUI thread on its own QThreadPool; results come back through `Task` signals.

    The function must not touch widgets: it gets plain data in and returns plain data (Anki's rule).
    Call `shutdown()` before the owner goes away so no result arrives at a deleted object.
    """

    task_finished = Signal(object, bool, object)
    """Internal hand-off from a pool thread to the GUI thread: (task, ok, result or exception)."""

    idle = Signal()
    """Emitted on the GUI thread when the last running task's result has been delivered."""

    def __init__(self, *, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._pending: set[Task] = set()
        self._is_shut_down = False
        self.task_finished.connect(self._on_task_finished)

    @property
    def is_busy(self) -> bool:
        """Whether some submitted task has not been delivered yet."""
        return bool(self._pending)

    def submit(
        self,
        name: str,
        function: Callable[[], Any],
        *,
        on_success: Callable[[Any], object] | None = None,
        on_failure: Callable[[Exception], object] | None = None,
    ) -> Task:
        """Run `function()` on the pool; returns its Task, whose signals arrive on the GUI thread.

        `on_success` / `on_failure` are connected to the task's signals for convenience. Raises RuntimeError
        after `shutdown()`.
        """
        if self._is_shut_down:
            raise RuntimeError("The worker was shut down; no more background work can start.")
        task = Task(name)
        if on_success is not None:
            task.succeeded.connect(on_success)
        if on_failure is not None:
            task.failed.connect(on_failure)
        self._pending.add(task)
        self._pool.start(_Runnable(self, task, function))
        return task

    @Slot(object, bool, object)
    def _on_task_finished(self, task: Task, ok: bool, value: object) -> None:
        self._pending.discard(task)
        try:
            task._deliver(ok, value)
        finally:
            if not self._pending:
                self.idle.emit()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every pending result and wait (bounded) for running functions; True when all ended."""
        self._is_shut_down = True
        for task in list(self._pending):
            task.cancel()
        self._pool.clear()
        finished = self._pool.waitForDone(timeout_ms)
        self._pending.clear()
        return finished
