"""Work started as a job from the outset (an MCP task): stored before it runs, never detached, cancellable anywhere.

Two JobRunners on one real SQLite file stand for two server processes sharing the data folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import anyio
import anyio.abc
import pytest
from grok_mcp.calls import JobEnding, JobRunner, running_as_job
from grok_mcp.calls import jobs as jobs_module
from grok_mcp.store import JobRecord, Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "grok-mcp.db") as opened:
        yield opened


@pytest.fixture
async def host() -> AsyncIterator[anyio.abc.TaskGroup]:
    async with anyio.create_task_group() as group:
        yield group
        group.cancel_scope.cancel()


def describe(exc: BaseException) -> str:
    return f"failed: {exc}"


async def test_a_started_job_is_stored_before_its_work_runs_and_the_work_knows_it_is_a_job(
    store: Store, host: anyio.abc.TaskGroup
) -> None:
    runner = JobRunner()
    seen: dict[str, object] = {}

    async def work() -> JobEnding:
        seen["rows"] = [row.status for row in store.list_jobs(kind="task", client="c")]
        seen["as_job"] = running_as_job()
        return JobEnding("done", result_json='{"text": "42"}')

    job = await runner.start(host, store, kind="task", tool="chat", client="c", work=work, describe=describe)
    assert await runner.wait(job.id)
    ended = store.get_job(job.id)

    assert seen["rows"] == ["running"] and seen["as_job"] is True
    assert running_as_job() is False  # only the job's own task runs as a job
    assert ended is not None and ended.status == "done" and ended.result_json == '{"text": "42"}'
    assert not runner.runs_here(job.id) and not await runner.wait(job.id)


def _until_cancelled(stopped: anyio.Event) -> Callable[[], Awaitable[JobEnding]]:
    """Work that runs until it is cancelled, and sets `stopped` when it is."""

    async def work() -> JobEnding:
        try:
            await anyio.sleep_forever()
        finally:
            stopped.set()
        raise AssertionError("unreachable")  # pragma: no cover

    return work


async def test_a_cancelled_job_stays_cancelled_and_its_work_stops(store: Store, host: anyio.abc.TaskGroup) -> None:
    runner = JobRunner()
    stopped = anyio.Event()
    work = _until_cancelled(stopped)

    job = await runner.start(host, store, kind="task", tool="chat", client=None, work=work, describe=describe)
    assert await runner.cancel(store, job.id, message="Cancelled by request.")
    with anyio.fail_after(5):
        await stopped.wait()
        await runner.wait(job.id)
    again = await runner.cancel(store, job.id, message="again")
    ended = store.get_job(job.id)

    assert not again
    assert ended is not None and ended.status == "cancelled" and ended.error == "Cancelled by request."


async def test_a_job_cancelled_by_another_process_stops_at_its_owners_next_heartbeat(
    store: Store, host: anyio.abc.TaskGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "HEARTBEAT_S", 0.05)
    owner, other = JobRunner(), JobRunner()
    stopped = anyio.Event()
    work = _until_cancelled(stopped)

    host.start_soon(owner.heartbeat, store)
    job = await owner.start(host, store, kind="task", tool="chat", client=None, work=work, describe=describe)
    marked = await other.cancel(store, job.id, message="Cancelled from elsewhere.")
    with anyio.fail_after(5):
        await stopped.wait()
    ended = store.get_job(job.id)

    assert marked and not other.runs_here(job.id)
    assert ended is not None and ended.status == "cancelled" and ended.error == "Cancelled from elsewhere."


async def test_work_that_raises_ends_its_job_failed_with_the_description(
    store: Store, host: anyio.abc.TaskGroup
) -> None:
    runner = JobRunner()

    async def work() -> JobEnding:
        raise RuntimeError("boom")

    job = await runner.start(host, store, kind="task", tool="chat", client=None, work=work, describe=describe)
    await runner.wait(job.id)
    ended = store.get_job(job.id)

    assert ended is not None and ended.status == "failed" and ended.error == "failed: boom"


def test_tasks_are_listed_newest_first_per_client_a_page_at_a_time(store: Store) -> None:
    for index in range(5):
        store.create_job(
            JobRecord(
                id=f"task:{index}",
                kind="task",
                tool="chat",
                status="running",
                created_at=100.0 + index // 2,  # pairs share a creation time: the id breaks the tie
                heartbeat_at=100.0,
                client="mine",
            )
        )
    store.create_job(
        JobRecord(id="task:theirs", kind="task", tool="chat", status="running", created_at=200, heartbeat_at=200)
    )
    store.create_job(
        JobRecord(
            id="chat:job", kind="chat", tool="chat", status="running", created_at=300, heartbeat_at=300, client="mine"
        )
    )

    first = store.list_jobs(kind="task", client="mine", limit=3)
    second = store.list_jobs(kind="task", client="mine", after=(first[-1].created_at, first[-1].id), limit=3)
    nameless = store.list_jobs(kind="task", client=None)

    assert [job.id for job in first] == ["task:4", "task:3", "task:2"]
    assert [job.id for job in second] == ["task:1", "task:0"]
    assert [job.id for job in nameless] == ["task:theirs"]
