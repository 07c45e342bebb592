"""The store's parts of the call pipeline: spend per period, the cache on a given clock, and the jobs table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from grok_mcp.store import JobRecord, RequestRecord, Store
from grok_mcp.store.migrations import MIGRATIONS


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "grok-mcp.db") as opened:
        yield opened


def job(job_id: str = "chat:1", *, at: float = 100.0) -> JobRecord:
    return JobRecord(
        id=job_id, kind="chat", tool="chat", status="running", created_at=at, heartbeat_at=at, owner_pid=42
    )


def test_the_jobs_table_is_a_named_migration_of_its_own() -> None:
    assert "0005_jobs" in [migration.name for migration in MIGRATIONS]


def test_spend_since_sums_each_period_in_one_read(store: Store) -> None:
    for ts, ticks in ((10.0, 5), (20.0, 7), (30.0, 11)):
        store.record_request(
            RequestRecord(tool="chat", model="m", endpoint="/v1/chat/completions", ts=ts, cost_ticks=ticks)
        )

    assert store.spend_since(0.0, 15.0, 25.0, 31.0) == [23, 18, 11, 0]


def test_a_cache_entry_is_served_until_its_ttl_passes_on_the_given_clock(store: Store) -> None:
    store.cache_response_at("k", '{"a": 1}', now=1000.0, ttl_s=60)

    assert store.cached_response_at("k", now=1059.9) == '{"a": 1}'
    assert store.cached_response_at("k", now=1060.0) is None
    assert store.cached_response_at("other", now=1000.0) is None
    assert store.cache_purge_at(now=1060.0) == 1


def test_a_job_is_stored_finished_once_and_read_back(store: Store) -> None:
    store.create_job(job())

    assert store.get_job("chat:1") == job()
    assert store.finish_job("chat:1", status="done", now=150.0, result_json='{"text": "hi"}')
    assert not store.finish_job("chat:1", status="failed", now=160.0, error="late")  # an ending is never rewritten
    finished = store.get_job("chat:1")
    assert finished is not None
    assert (finished.status, finished.finished_at, finished.result_json, finished.error) == (
        "done",
        150.0,
        '{"text": "hi"}',
        None,
    )
    assert store.get_job("chat:unknown") is None


def test_a_job_id_cannot_be_taken_twice(store: Store) -> None:
    store.create_job(job())

    with pytest.raises(sqlite3.IntegrityError):
        store.create_job(job())


def test_heartbeats_touch_only_running_jobs(store: Store) -> None:
    store.create_job(job("chat:a"))
    store.create_job(job("chat:b"))
    store.finish_job("chat:b", status="cancelled", now=120.0, error="stopped")

    assert store.heartbeat_jobs(["chat:a", "chat:b", "chat:c"], now=130.0) == 1
    running = store.get_job("chat:a")
    assert running is not None and running.heartbeat_at == 130.0


def test_purging_drops_only_jobs_that_ended_before_the_cutoff(store: Store) -> None:
    store.create_job(job("chat:old"))
    store.create_job(job("chat:new"))
    store.create_job(job("chat:running"))
    store.finish_job("chat:old", status="done", now=200.0, result_json="{}")
    store.finish_job("chat:new", status="done", now=400.0, result_json="{}")

    assert store.purge_jobs(finished_before=300.0) == 1
    assert [store.get_job(i) is not None for i in ("chat:old", "chat:new", "chat:running")] == [False, True, True]
