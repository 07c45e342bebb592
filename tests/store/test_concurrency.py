"""Many threads and many processes using one database: no lost writes, no "database is locked" for callers."""

from __future__ import annotations

import json
import logging
import sqlite3
import statistics
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from grok_mcp.store import DatabaseBusyError, RequestRecord, Store
from grok_mcp.store.ledger import percentile

from tests.store.conftest import Child
from tests.support.conversations import add_message, create_conversation

WAIT_S = 30.0


def _rec(request_id: str) -> RequestRecord:
    return RequestRecord(tool="chat", model="grok-4", endpoint="/v1/chat/completions", id=request_id, cost_ticks=1)


def _count(path: Path, sql: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        (value,) = conn.execute(sql).fetchone()
    return int(value)


class _BusyLogged(logging.Handler):
    """Sets an event when the store logs that it is retrying a busy transaction."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.retrying = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "is busy" in record.getMessage():
            self.retrying.set()


@pytest.fixture
def busy_log() -> Iterator[_BusyLogged]:
    handler = _BusyLogged()
    logger = logging.getLogger("grok_mcp.store.db")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_many_threads_writing_and_reading_through_one_store_lose_nothing(store: Store) -> None:
    threads_n, writes_n = 8, 150
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            start.wait(timeout=WAIT_S)
            conversation_id = create_conversation(store, title=f"thread {t}", model=None, client=None)
            for i in range(writes_n):
                store.record_request(_rec(f"t{t}-{i}"))
                if i % 10 == 0:
                    add_message(store, conversation_id, role="user", content=f"thread {t} says {i}")
                    store.usage_summary(group_by="model")
                    store.list_conversations(limit=5)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=WAIT_S)
    assert not errors, errors
    assert store.usage_summary(group_by="model").total.requests == threads_n * writes_n
    listed = store.list_conversations(limit=100)
    assert sorted(c.message_count for c in listed) == [writes_n // 10] * threads_n
    assert store.integrity_ok()


def test_a_write_waits_out_a_lock_held_longer_than_the_busy_timeout(db_path: Path, busy_log: _BusyLogged) -> None:
    Store.open(db_path).close()
    with (
        Store.open(db_path, busy_timeout_s=0.01, retry_deadline_s=WAIT_S) as store,
        closing(sqlite3.connect(db_path, isolation_level=None)) as other_process,
    ):
        other_process.execute("BEGIN IMMEDIATE")
        errors: list[BaseException] = []

        def write() -> None:
            try:
                store.record_request(_rec("patient"))
            except BaseException as exc:  # re-raised below
                errors.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        assert busy_log.retrying.wait(timeout=WAIT_S), "the store never reported a busy retry"
        other_process.execute("COMMIT")
        writer.join(timeout=WAIT_S)
        assert not errors, errors
        assert [r.id for r in store.recent_requests()] == ["patient"]


def test_a_lock_held_past_the_retry_deadline_raises_a_clear_error(db_path: Path) -> None:
    Store.open(db_path).close()
    with (
        Store.open(db_path, busy_timeout_s=0.01, retry_deadline_s=0.05) as store,
        closing(sqlite3.connect(db_path, isolation_level=None)) as other_process,
    ):
        other_process.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusyError, match="stayed locked by another process") as raised:
            store.record_request(_rec("impatient"))
        assert "database is locked" not in str(raised.value)
        other_process.execute("ROLLBACK")
        store.record_request(_rec("later"))
        assert [r.id for r in store.recent_requests()] == ["later"]


def test_four_processes_writing_at_once_never_see_database_is_locked(db_path: Path) -> None:
    processes, writes = 4, 1000
    Store.open(db_path).close()
    children = [Child("contend", str(db_path), str(writes), f"p{n}") for n in range(processes)]
    for child in children:
        child.expect("ready")
    for child in children:
        child.send("go")
    latencies: list[float] = []
    for child in children:
        line = child.next_line()
        assert line is not None, child.stderr
        latencies.extend(json.loads(line))
        assert child.finish() == 0, child.stderr
        assert "locked" not in child.stderr

    assert len(latencies) == processes * writes
    assert _count(db_path, "SELECT count(*) FROM requests") == processes * writes
    assert _count(db_path, "SELECT count(DISTINCT id) FROM requests") == processes * writes
    latencies.sort()
    print(
        f"\n{processes} processes x {writes} commits: p50 {statistics.median(latencies):.2f} ms, "
        f"p99 {percentile(latencies, 0.99):.2f} ms, max {latencies[-1]:.2f} ms"
    )
