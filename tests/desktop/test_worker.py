"""The background-work helper: functions run off the GUI thread and their results come back as signals."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from grok_mcp_desktop.worker import Worker
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot


@pytest.fixture
def worker(qtbot: QtBot) -> Iterator[Worker]:
    worker = Worker()
    yield worker
    worker.shutdown()


def test_a_result_arrives_as_a_signal_on_the_gui_thread(qtbot: QtBot, worker: Worker) -> None:
    ran_on: list[QThread] = []
    delivered_on: list[QThread] = []

    def work() -> int:
        ran_on.append(QThread.currentThread())
        return 42

    task = worker.submit("answer", work)
    task.succeeded.connect(lambda _: delivered_on.append(QThread.currentThread()))
    with qtbot.waitSignal(task.succeeded, timeout=5_000) as blocker:
        pass
    assert blocker.args == [42]
    gui_thread = QThread.currentThread()
    assert ran_on and ran_on[0] is not gui_thread
    assert delivered_on == [gui_thread]
    assert task.is_done
    assert not worker.is_busy


def test_an_exception_arrives_as_the_failed_signal(qtbot: QtBot, worker: Worker) -> None:
    def work() -> None:
        raise ValueError("the disk is full")

    failures: list[Exception] = []
    task = worker.submit("broken", work, on_failure=failures.append)
    with qtbot.waitSignal(task.failed, timeout=5_000):
        pass
    assert len(failures) == 1
    assert isinstance(failures[0], ValueError)
    assert str(failures[0]) == "the disk is full"


def test_a_cancelled_task_delivers_nothing(qtbot: QtBot, worker: Worker) -> None:
    release = threading.Event()
    results: list[object] = []
    slow = worker.submit("slow", lambda: release.wait(5) and "late", on_success=results.append)
    slow.cancel()
    release.set()
    with qtbot.waitSignal(worker.idle, timeout=5_000):
        pass
    assert results == []
    assert slow.is_done


def test_the_idle_signal_comes_after_the_last_result(qtbot: QtBot, worker: Worker) -> None:
    results: list[int] = []
    with qtbot.waitSignal(worker.idle, timeout=5_000):
        for number in range(5):
            worker.submit(f"n{number}", lambda number=number: number * 2, on_success=results.append)
    assert sorted(results) == [0, 2, 4, 6, 8]


def test_shutdown_waits_for_running_work_and_refuses_more(qtbot: QtBot) -> None:
    worker = Worker()
    started = threading.Event()
    finished = threading.Event()

    def work() -> None:
        started.set()
        finished.wait(5)

    worker.submit("running", work)
    assert started.wait(5)
    threading.Timer(0.05, finished.set).start()
    assert worker.shutdown(timeout_ms=5_000)
    assert finished.is_set()
    with pytest.raises(RuntimeError, match="shut down"):
        worker.submit("too late", lambda: None)


def test_what_the_work_holds_is_let_go_of_on_the_gui_thread(qtbot: QtBot, worker: Worker) -> None:
    """A Qt object must be destroyed on the thread that owns it: nothing a function captures, returns or
    raises may be freed on a pool thread."""
    freed_on: list[str] = []

    class Held:
        def __del__(self) -> None:
            freed_on.append(threading.current_thread().name)

    def submit_holding(*, fail: bool) -> None:
        captured = Held()

        def work() -> Held:
            if fail:
                raise ValueError(captured)
            assert captured is not None
            return Held()

        worker.submit("holds", work)

    for number in range(10):
        submit_holding(fail=number % 2 == 1)
    qtbot.waitUntil(lambda: len(freed_on) == 15, timeout=5_000)
    assert not worker.is_busy
    assert set(freed_on) == {threading.main_thread().name}
