"""The parts of a result too large for one reply: stored with their job at once, read one at a time, purged with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from grok_mcp.store import JobRecord, Store
from grok_mcp.store.migrations import MIGRATIONS


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "grok-mcp.db") as opened:
        yield opened


def finished(job_id: str, *, at: float = 100.0) -> JobRecord:
    return JobRecord(
        id=job_id, kind="result", tool="batch_chat", status="done", created_at=at, heartbeat_at=at, finished_at=at
    )


def test_the_job_parts_table_is_a_named_migration_of_its_own() -> None:
    assert "0006_job_parts" in [migration.name for migration in MIGRATIONS]


def test_each_part_is_read_alone_by_its_number_from_one(store: Store) -> None:
    store.create_job_with_parts(finished("result:a"), ['["one"]', '["two"]', '["three"]'])

    assert store.get_job_part("result:a", 1) == '["one"]'
    assert store.get_job_part("result:a", 3) == '["three"]'
    assert store.get_job_part("result:a", 4) is None
    assert store.get_job_part("result:b", 1) is None


def test_a_job_whose_id_is_taken_stores_none_of_its_parts(store: Store) -> None:
    store.create_job_with_parts(finished("result:a"), ['["first"]'])

    with pytest.raises(sqlite3.IntegrityError):
        store.create_job_with_parts(finished("result:a"), ['["other"]', '["more"]'])

    assert store.get_job_part("result:a", 1) == '["first"]'
    assert store.get_job_part("result:a", 2) is None


def test_purging_old_jobs_drops_their_parts_and_keeps_newer_ones(store: Store) -> None:
    store.create_job_with_parts(finished("result:old", at=10.0), ['["old"]'])
    store.create_job_with_parts(finished("result:new", at=500.0), ['["new"]'])

    assert store.purge_jobs(finished_before=100.0) == 1

    assert store.get_job_part("result:old", 1) is None
    assert store.get_job_part("result:new", 1) == '["new"]'
