"""The one way long work leaves the GUI thread: a function runs on a thread pool and its result returns as a signal."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class _Job:
    """What a pool thread needs for one task (plain Python, no Qt object), and the outcome it leaves behind."""

    function: Callable[[], object]
    cancelled: threading.Event
    outcome: tuple[bool, object] | None = None


class _Runnable(QRunnable):
    """Holds only a key and the worker's entry point: a pool thread that lets go of it frees nothing Qt owns."""

    def __init__(self, run: Callable[[int], None], key: int) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._run = run
        self._key = key

    def run(self) -> None:
        self._run(self._key)


class Worker(QObject):
    """Runs functions off the GUI thread on its own QThreadPool; results come back through `Task` signals.

    The function must not touch widgets: it gets plain data in and returns plain data (Anki's rule).
    Call `shutdown()` before the owner goes away so no result arrives at a deleted object.

    Every reference the work holds (the function and what it captures, the result, an exception with its
    traceback) is let go of on the GUI thread, never on a pool thread: a Qt object must be destroyed on the thread
    that owns it. The pool thread takes its job from a table, runs it, puts the
    outcome back and drops its own references before it announces the key.
    """

    _finished = Signal(int)
    """Internal hand-off from a pool thread to the GUI thread: the key of a job whose outcome is in the table."""

    idle = Signal()
    """Emitted on the GUI thread when the last running task's result has been delivered."""

    def __init__(self, *, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._tasks: dict[int, Task] = {}
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.Lock()
        self._keys = itertools.count()
        self._is_shut_down = False
        self._finished.connect(self._on_finished)

    @property
    def is_busy(self) -> bool:
        """Whether some submitted task has not been delivered yet."""
        return bool(self._tasks)

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
        key = next(self._keys)
        self._tasks[key] = task
        with self._lock:
            self._jobs[key] = _Job(function, task._cancelled)
        self._pool.start(_Runnable(self._run_job, key))
        return task

    def _run_job(self, key: int) -> None:
        """On a pool thread: run the job's function unless it was cancelled, and leave its outcome in the table."""
        with self._lock:
            job = self._jobs.get(key)
        if job is None:
            return  # shut down meanwhile
        outcome: tuple[bool, object] = (True, None)
        if not job.cancelled.is_set():
            try:
                outcome = (True, job.function())
            except Exception as exc:  # the boundary of a background task: the error becomes the failed signal
                log.debug("background task %d failed", key, exc_info=exc)
                outcome = (False, exc)
        job.outcome = outcome
        del job, outcome  # the table holds the only references now; the GUI thread drops them
        self._finished.emit(key)

    @Slot(int)
    def _on_finished(self, key: int) -> None:
        with self._lock:
            job = self._jobs.pop(key, None)
        task = self._tasks.pop(key, None)
        try:
            if task is not None and job is not None and job.outcome is not None:
                task._deliver(*job.outcome)
        finally:
            if not self._tasks:
                self.idle.emit()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every pending result and wait (bounded) for running functions; True when all ended."""
        self._is_shut_down = True
        for task in list(self._tasks.values()):
            task.cancel()
        self._pool.clear()
        finished = self._pool.waitForDone(timeout_ms)
        self._tasks.clear()
        with self._lock:
            self._jobs.clear()
        return finished
