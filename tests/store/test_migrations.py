"""Opening the database: migrations, WAL, reopening, refusing newer files, processes racing to migrate."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from grok_mcp.errors import DatabaseTooNewError, DatabaseUnusableError
from grok_mcp.store import LATEST_SCHEMA_VERSION, Store
from grok_mcp.store.db import ConnectionPool
from grok_mcp.store.migrations import APPLICATION_ID, MIGRATIONS, migrate, stored_schema_version

from tests.store.conftest import Child
from tests.support.conversations import create_conversation


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_opening_a_new_path_creates_the_folder_and_applies_every_migration(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.schema_version == LATEST_SCHEMA_VERSION
        assert store.path == db_path
    assert len(MIGRATIONS) == LATEST_SCHEMA_VERSION
    names = _query(db_path, "SELECT version, name FROM migrations ORDER BY version")
    assert names == [(i, m.name) for i, m in enumerate(MIGRATIONS, start=1)]
    assert _query(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert _query(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    tables = {row[0] for row in _query(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"requests", "conversations", "messages", "messages_fts", "response_cache", "migrations"} <= tables


def test_reopening_applies_nothing_twice_and_keeps_the_data(db_path: Path) -> None:
    with Store.open(db_path) as store:
        conversation_id = create_conversation(store, title="kept", model=None, client=None)
    with Store.open(db_path) as store:
        assert store.schema_version == LATEST_SCHEMA_VERSION
        assert store.get_conversation(conversation_id) is not None
    assert _query(db_path, "SELECT count(*) FROM migrations") == [(LATEST_SCHEMA_VERSION,)]


def test_reopening_a_migrated_database_needs_no_write_lock(db_path: Path) -> None:
    Store.open(db_path).close()
    with closing(sqlite3.connect(db_path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        with Store.open(db_path, busy_timeout_s=0.01, retry_deadline_s=0.05) as store:
            assert store.list_conversations() == []
        writer.execute("ROLLBACK")


def test_an_older_database_is_upgraded_in_place_with_its_rows_kept(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    pool = ConnectionPool(db_path)
    try:
        assert migrate(pool, target_version=1) == [MIGRATIONS[0].name]
        pool.write(
            lambda db: db.execute("INSERT INTO requests (ts, tool, model, endpoint) VALUES (1.0, 'chat', 'm', '/x')")
        )
    finally:
        pool.close()
    assert stored_schema_version(db_path) == 1

    with Store.open(db_path) as store:
        assert store.schema_version == LATEST_SCHEMA_VERSION
        assert [r.tool for r in store.recent_requests()] == ["chat"]
    applied = _query(db_path, "SELECT name FROM migrations ORDER BY version")
    assert applied == [(m.name,) for m in MIGRATIONS]


def test_rows_from_before_the_simulated_column_count_as_real_calls(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    pool = ConnectionPool(db_path)
    names = [m.name for m in MIGRATIONS]
    try:
        migrate(pool, target_version=names.index("0007_simulated_requests"))
        pool.write(
            lambda db: db.execute(
                "INSERT INTO requests (ts, tool, model, endpoint, cost_ticks) VALUES (1.0, 'chat', 'm', '/v1/x', 25)"
            )
        )
    finally:
        pool.close()

    with Store.open(db_path) as store:
        (old,) = store.recent_requests()
        assert old.simulated is False
        assert store.spend_ticks(since=0.0) == 25
        assert store.usage_summary(simulated=True).total.requests == 0
    columns = {row[1]: row for row in _query(db_path, "PRAGMA table_info(requests)")}
    assert columns["simulated"][3] == 1  # NOT NULL
    with closing(sqlite3.connect(db_path)) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO requests (ts, tool, endpoint, simulated) VALUES (1, 't', '/e', 2)")


def test_a_database_from_a_newer_grok_mcp_is_refused_and_left_byte_identical(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {LATEST_SCHEMA_VERSION + 1}")
        conn.commit()
    before = _snapshot(db_path.parent)

    with pytest.raises(DatabaseTooNewError) as raised:
        Store.open(db_path)

    assert raised.value.exit_code == 4
    message = str(raised.value)
    assert f"schema version {LATEST_SCHEMA_VERSION + 1}" in message
    assert "Upgrade Grok MCP" in message
    assert str(db_path) in message
    assert _snapshot(db_path.parent) == before, "no byte changed and no -wal or -shm file appeared"
    assert _query(db_path, "PRAGMA journal_mode") == [("delete",)]


def test_a_newer_database_still_open_in_wal_mode_is_refused_without_touching_its_files(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as newer_program:
        newer_program.execute("PRAGMA journal_mode = WAL")
        newer_program.execute("PRAGMA wal_autocheckpoint = 0")  # its new version lives only in the -wal file
        newer_program.execute("CREATE TABLE future (x)")
        newer_program.execute(f"PRAGMA user_version = {LATEST_SCHEMA_VERSION + 7}")
        before = _snapshot(db_path.parent)
        assert {"grok-mcp.db-wal", "grok-mcp.db-shm"} <= set(before)

        with pytest.raises(DatabaseTooNewError, match=f"schema version {LATEST_SCHEMA_VERSION + 7}"):
            Store.open(db_path)

        after = _snapshot(db_path.parent)
        # The -shm file is shared memory that every reader marks; the data lives in the other two.
        assert after.keys() == before.keys()
        assert after["grok-mcp.db"] == before["grok-mcp.db"]
        assert after["grok-mcp.db-wal"] == before["grok-mcp.db-wal"]


def test_a_file_that_is_not_sqlite_is_reported_and_not_overwritten(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, it is a shopping list\n" * 10)
    before = db_path.read_bytes()
    with pytest.raises(DatabaseUnusableError, match="Move it away"):
        Store.open(db_path)
    assert db_path.read_bytes() == before


def test_processes_opening_a_new_database_at_once_apply_each_migration_exactly_once(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"race-{attempt}" / "grok-mcp.db"
        path.parent.mkdir()
        children = [Child("open", str(path)) for _ in range(4)]
        for child in children:
            child.expect("ready")
        for child in children:
            child.send("go")
        for child in children:
            line = child.next_line()
            assert line is not None, child.stderr
            assert json.loads(line) == {"schema_version": LATEST_SCHEMA_VERSION}
            assert child.finish() == 0, child.stderr
        rows = _query(path, "SELECT version, name, applied_by_pid FROM migrations ORDER BY version")
        assert [(v, n) for v, n, _ in rows] == [(i, m.name) for i, m in enumerate(MIGRATIONS, start=1)]
        assert {pid for *_, pid in rows} <= {child.process.pid for child in children}
