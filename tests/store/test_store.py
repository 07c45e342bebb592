"""The Store's lifecycle and upkeep: closing, integrity checks, backups, checkpoints, the response cache."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import grok_mcp.store.db as db_module
import pytest
from grok_mcp.errors import DatabaseUnusableError
from grok_mcp.store import RequestRecord, Store, StoreClosedError

from tests.support.conversations import add_message, create_conversation


def _rec(request_id: str) -> RequestRecord:
    return RequestRecord(tool="chat", model="grok-4", endpoint="/v1/chat/completions", id=request_id)


def test_a_closed_store_refuses_work_and_closing_twice_is_harmless(db_path: Path) -> None:
    store = Store.open(db_path)
    assert not store.is_closed
    store.close()
    store.close()
    assert store.is_closed
    with pytest.raises(StoreClosedError):
        store.record_request(_rec("late"))
    with pytest.raises(StoreClosedError):
        store.list_conversations()


def test_every_connection_is_pragma_configured(store: Store) -> None:
    with store._pool.connection() as db:  # pyright: ignore[reportPrivateUsage]
        assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA busy_timeout").fetchone() == (5000,)


def test_integrity_check_notices_a_search_index_out_of_step_with_its_messages(store: Store) -> None:
    conversation_id = create_conversation(store, title="t", model=None, client=None)
    add_message(store, conversation_id, role="user", content="indexed words")
    assert store.integrity_ok()
    with closing(sqlite3.connect(store.path)) as conn:
        conn.execute("DROP TRIGGER messages_ad")
        conn.execute("DELETE FROM messages")
        conn.commit()
    assert not store.integrity_ok()


def test_integrity_check_notices_a_message_whose_conversation_is_gone(store: Store) -> None:
    conversation_id = create_conversation(store, title="t", model=None, client=None)
    add_message(store, conversation_id, role="user", content="orphan to be")
    with closing(sqlite3.connect(store.path)) as conn:  # foreign keys are off on a bare connection
        conn.execute("DELETE FROM conversations")
        conn.commit()
    assert not store.integrity_ok()


def test_a_backup_taken_during_writes_restores_and_passes_the_integrity_check(store: Store, tmp_path: Path) -> None:
    for i in range(200):
        store.record_request(_rec(f"before-{i}"))
    stop = threading.Event()

    def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            store.record_request(_rec(f"during-{i}"))
            i += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    copy = tmp_path / "copy.db"
    try:
        # SQLite's online backup of the file, as a backup tool takes it while servers write.
        with closing(sqlite3.connect(store.path)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)
    finally:
        stop.set()
        writer.join(timeout=30)

    with Store.open(copy) as restored:
        assert restored.integrity_ok()
        ids = {r.id for r in restored.recent_requests(limit=100_000)}
    assert {f"before-{i}" for i in range(200)} <= ids


def test_an_open_store_leaves_its_wal_file_free_to_checkpoint(store: Store) -> None:
    for i in range(50):
        store.record_request(_rec(f"r{i}"))
    wal = store.path.with_name(store.path.name + "-wal")
    assert wal.stat().st_size > 0
    with closing(sqlite3.connect(store.path)) as conn:
        assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # not blocked
    assert wal.stat().st_size == 0


def test_a_cached_response_is_returned_until_it_expires(store: Store) -> None:
    now = 1_000.0
    assert store.cached_response_at("k", now=now) is None
    store.cache_response_at("k", '{"text": "one"}', now=now, ttl_s=3600)
    assert store.cached_response_at("k", now=now) == '{"text": "one"}'
    store.cache_response_at("k", '{"text": "two"}', now=now, ttl_s=3600)
    assert store.cached_response_at("k", now=now + 3599) == '{"text": "two"}'
    assert store.cached_response_at("k", now=now + 3601) is None
    store.cache_response_at("gone", "{}", now=now, ttl_s=0)
    assert store.cached_response_at("gone", now=now) is None
    assert store.cache_purge_at(now=now) == 1
    assert store.cache_purge_at(now=now) == 0
    assert store.cached_response_at("k", now=now) == '{"text": "two"}'


def test_a_writer_truncates_a_wal_file_that_grew_past_the_limit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "WAL_CHECKPOINT_BYTES", 64 * 1024)
    wal = store.path.with_name(store.path.name + "-wal")
    sizes: list[int] = []
    for i in range(400):
        store.record_request(_rec(f"r{i}"))
        sizes.append(wal.stat().st_size)
    assert max(sizes) < 4 * 1024 * 1024
    assert 0 in sizes, "a checkpoint emptied the WAL file at least once"


@pytest.mark.slow
def test_the_wal_file_stays_under_64_mb_over_10000_writes_with_a_reader_always_busy(store: Store, soak: None) -> None:
    stop = threading.Event()

    def tray_reading() -> None:
        with Store.open(store.path) as tray:
            while not stop.is_set():
                tray.usage_summary(group_by="day")

    reader = threading.Thread(target=tray_reading)
    reader.start()
    wal = store.path.with_name(store.path.name + "-wal")
    biggest = 0
    try:
        for i in range(10_000):
            store.record_request(_rec(f"r{i}"))
            biggest = max(biggest, wal.stat().st_size)
    finally:
        stop.set()
        reader.join(timeout=60)
    print(f"\nbiggest -wal file over 10,000 writes with a busy reader: {biggest / 1e6:.1f} MB")
    assert biggest < 64 * 1024 * 1024


def test_check_writable_passes_on_a_healthy_store_and_leaves_no_trace(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        store.check_writable()
        store.check_writable()
        assert store.integrity_ok()


def test_a_folder_that_cannot_be_created_gets_an_actionable_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(DatabaseUnusableError, match="GROK_MCP_HOME"):
        Store.open(blocker / "sub" / "db.sqlite")


def test_a_write_that_needs_no_waiting_is_done_at_once(store: Store) -> None:
    assert store.record_request_if_free(_rec("now"))
    assert [r.id for r in store.recent_requests(10)] == ["now"]


def test_a_write_that_would_wait_for_another_process_writes_nothing(store: Store, db_path: Path) -> None:
    with closing(sqlite3.connect(db_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        assert not store.record_request_if_free(_rec("blocked"))
        other.execute("ROLLBACK")
    assert store.recent_requests(10) == []
    assert store.record_request_if_free(_rec("later"))


def test_a_write_that_would_wait_for_another_thread_writes_nothing(store: Store) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow(_db: object) -> None:
        inside.set()
        release.wait(10)

    writer = threading.Thread(target=lambda: store._pool.write(slow))  # pyright: ignore[reportPrivateUsage]
    writer.start()
    try:
        assert inside.wait(10)
        assert not store.record_request_if_free(_rec("queued"))
    finally:
        release.set()
        writer.join(10)
    assert store.recent_requests(10) == []


def test_the_write_due_to_check_the_wal_file_is_left_to_a_worker_thread(store: Store) -> None:
    every = db_module._WAL_CHECK_EVERY_WRITES  # pyright: ignore[reportPrivateUsage]
    done = [store.record_request_if_free(_rec(f"r{i}")) for i in range(every)]
    assert False in done, f"one write in {every} checks the -wal file's size from a worker thread"
    assert done.count(True) == len(store.recent_requests(100))
    store.record_request(_rec("checked"))  # does the check and starts the count again
    assert store.record_request_if_free(_rec("again"))


def test_its_connection_never_checkpoints_and_closes_with_the_store(db_path: Path) -> None:
    store = Store.open(db_path)
    assert store.record_request_if_free(_rec("one"))
    nowait = store._pool._nowait  # pyright: ignore[reportPrivateUsage]
    assert nowait is not None
    assert nowait.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    assert nowait.execute("PRAGMA busy_timeout").fetchone() == (0,)
    store.close()
    assert store._pool._nowait is None  # pyright: ignore[reportPrivateUsage]
    assert not store.record_request_if_free(_rec("late"))
