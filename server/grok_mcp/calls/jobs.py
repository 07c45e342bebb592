"""Long calls become jobs: work still running after the threshold goes on in the background, its result stored.

The tool call that started the work gets a job id (`chat:<uuid>`) at once; the work keeps running in
the server's long-lived task group and writes its result (or its error) to the store's `jobs` table,
where any server process can read it for `job_result`, even after a restart. While it runs, its owner
bumps a heartbeat; a job whose heartbeat went stale belonged to a process that died, and says so.

Work can also be a job from its start (`JobRunner.start`: an MCP task), with its row stored before it runs.
Such work runs with `running_as_job()` true, so it never detaches into a second job. A job is cancelled by
marking its row (`JobRunner.cancel`); the process running it stops the work at once when it is this one,
else at its next heartbeat, when it sees the row no longer running.

Why not xAI's deferred completions for this: a request must be sent as deferred from the start, before
anyone knows it will be long; it cannot stream; and every call would pay a polling delay. The work here
keeps its open connection instead, so an answer arrives as soon as xAI sends it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import anyio
import anyio.abc

from grok_mcp.calls.flights import SharedTask, WorkCancelledError
from grok_mcp.store import JobRecord, JobStatus, Store

logger = logging.getLogger(__name__)

T = TypeVar("T")

HEARTBEAT_S = 10.0
"""How often a process marks its running jobs as alive."""

STALE_AFTER_S = 60.0
"""A running job whose heartbeat is older than this belonged to a process that stopped."""

STOPPED_MESSAGE = "The server stopped before this call finished. Ask again."

_running_as_job: ContextVar[bool] = ContextVar("running_as_job", default=False)


def running_as_job() -> bool:
    """Whether the calling code runs as a job from its start (an MCP task): it must not detach into another."""
    return _running_as_job.get()


@dataclass(frozen=True)
class Detached:
    """The work outlived the threshold and runs on as job `job_id`."""

    job_id: str


@dataclass(frozen=True)
class JobEnding:
    """How work started as a job ended, as its row records it: `result_json` for job_result, `error` to say why."""

    status: JobStatus
    result_json: str | None = None
    error: str | None = None


@dataclass
class _Handle(Generic[T]):
    """What the work needs to write its own ending once it has become a job."""

    job_id: str | None = None
    created: anyio.Event = field(default_factory=anyio.Event)
    create_failed: bool = False


def new_job_id(kind: str) -> str:
    return f"{kind}:{uuid.uuid4().hex}"


def is_stale(job: JobRecord, *, now: float) -> bool:
    """Whether a running job's owner stopped sending heartbeats (it died, or its machine slept)."""
    return job.status == "running" and now - job.heartbeat_at > STALE_AFTER_S


class JobRunner:
    """The jobs this process runs: starts them, keeps their heartbeat and writes how each ended."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._work: dict[str, SharedTask[Any]] = {}  # job id -> the work, while it runs in this process

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._work)

    def runs_here(self, job_id: str) -> bool:
        """Whether job `job_id`'s work runs in this process now."""
        return job_id in self._work

    async def heartbeat(self, store: Store) -> None:
        """Mark this process's running jobs as alive every HEARTBEAT_S seconds, forever.

        Work whose row no longer says running (another process cancelled it) is stopped here.
        """
        while True:
            await anyio.sleep(HEARTBEAT_S)
            if self._work:
                job_ids = sorted(self._work)
                try:
                    alive = await anyio.to_thread.run_sync(partial(store.heartbeat_jobs, job_ids, now=self.clock()))
                    if alive < len(job_ids):
                        await self._stop_ended_elsewhere(store, job_ids)
                except Exception:
                    logger.exception("Could not write the jobs' heartbeat")

    async def _stop_ended_elsewhere(self, store: Store, job_ids: list[str]) -> None:
        for job_id in job_ids:
            job = await anyio.to_thread.run_sync(store.get_job, job_id)
            task = self._work.get(job_id)
            if task is not None and (job is None or job.status != "running"):
                logger.info("job %s was ended by another process: stopping its work here", job_id)
                task.scope.cancel()

    async def start(
        self,
        host: anyio.abc.TaskGroup,
        store: Store,
        *,
        kind: str,
        tool: str,
        client: str | None,
        work: Callable[[], Awaitable[JobEnding]],
        describe: Callable[[BaseException], str],
        on_start: Callable[[SharedTask[JobEnding]], None] | None = None,
        on_end: Callable[[SharedTask[JobEnding]], None] | None = None,
    ) -> JobRecord:
        """Store a new running job, then run `work` in `host` as that job; returns the stored row.

        The row is durable before the work starts, so its id can be handed out at once and read by any
        process. The work runs with `running_as_job()` true and writes its JobEnding to the row; an error
        it raises is written with `describe`. Raises the store's errors when the row cannot be written
        (the work is not started then).
        """
        job = self._new_row(new_job_id(kind), kind=kind, tool=tool, client=client)
        with anyio.CancelScope(shield=True):  # a row without its work would read as running until it went stale
            await anyio.to_thread.run_sync(store.create_job, job)
        handle: _Handle[JobEnding] = _Handle(job_id=job.id)
        handle.created.set()

        async def tracked() -> JobEnding:
            _running_as_job.set(True)  # this task's own context: the work and what it starts
            try:
                ending = await work()
            except BaseException as exc:
                with anyio.CancelScope(shield=True):
                    await self._finish(store, handle, _ending_of(exc, describe))
                raise
            with anyio.CancelScope(shield=True):
                await self._finish(store, handle, ending)
            return ending

        task: SharedTask[JobEnding] = SharedTask(host, tracked, name=f"{tool} job")
        task.pin()
        self._work[job.id] = task
        if on_start is not None:
            on_start(task)
        if on_end is not None:
            host.start_soon(_call_when_done, task, on_end, name="job end")
        logger.info("%s runs as job %s", tool, job.id)
        return job

    async def cancel(self, store: Store, job_id: str, *, message: str) -> bool:
        """Mark running job `job_id` cancelled with `message`, and stop its work if it runs in this process.

        Every process reads the job as cancelled from then on (a later ending never overwrites it); work
        running in another live process stops at that process's next heartbeat. False when the job is not
        running (unknown, or already ended). Raises the store's errors.
        """
        now = self.clock()
        marked = await anyio.to_thread.run_sync(
            lambda: store.finish_job(job_id, status="cancelled", now=now, error=message)
        )
        task = self._work.get(job_id)
        if marked and task is not None:
            task.scope.cancel()
            logger.info("job %s cancelled", job_id)
        return marked

    async def wait(self, job_id: str) -> bool:
        """Wait until job `job_id`, running in this process, has ended and its row is written.

        False at once when its work does not run here (it ended, or another process runs it).
        """
        task = self._work.get(job_id)
        if task is None:
            return False
        try:
            await task.wait()
        except Exception:  # how the job ended is in its row
            logger.debug("job %s ended with an error", job_id, exc_info=True)
        return True

    async def run_or_detach(
        self,
        host: anyio.abc.TaskGroup,
        store: Store,
        *,
        kind: str,
        tool: str,
        client: str | None,
        threshold_s: float,
        work: Callable[[], Awaitable[T]],
        encode: Callable[[T], str],
        describe: Callable[[BaseException], str],
        on_detach: Callable[[SharedTask[T]], None] | None = None,
        on_end: Callable[[SharedTask[T]], None] | None = None,
    ) -> T | Detached:
        """Run `work` in `host`; its result when it ends within `threshold_s`, else a job id while it runs on.

        Cancelling the caller before the threshold cancels the work. Once detached, the work's result is
        written with `encode` (its error with `describe`) to the job's row. Raises what the work raised
        when it ends in time; the store's errors when the job cannot be recorded.
        """
        handle: _Handle[T] = _Handle()

        async def tracked() -> T:
            try:
                result = await work()
            except BaseException as exc:
                if handle.job_id is not None:
                    with anyio.CancelScope(shield=True):
                        await self._finish(store, handle, _ending_of(exc, describe))
                raise
            if handle.job_id is not None:
                with anyio.CancelScope(shield=True):
                    await self._finish(store, handle, JobEnding("done", result_json=_encoded(encode, result)))
            return result

        task: SharedTask[T] = SharedTask(host, tracked, name=f"{tool} call")
        if await task.wait_or_pin(threshold_s):
            return task.outcome()
        job_id = new_job_id(kind)
        handle.job_id = job_id  # before any await: work ending from here on writes the job's row
        job = self._new_row(job_id, kind=kind, tool=tool, client=client)
        self._work[job_id] = task
        if on_detach is not None:
            on_detach(task)
        if on_end is not None:
            host.start_soon(_call_when_done, task, on_end, name="job end")
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(store.create_job, job)
        except BaseException:
            handle.create_failed = True
            self._work.pop(job_id, None)
            task.scope.cancel()
            raise
        finally:
            handle.created.set()
        logger.info("%s still running after %.0f s: continues as job %s", tool, threshold_s, job_id)
        return Detached(job_id)

    def _new_row(self, job_id: str, *, kind: str, tool: str, client: str | None) -> JobRecord:
        """The row of a job starting now in this process."""
        now = self.clock()
        return JobRecord(
            id=job_id,
            kind=kind,
            tool=tool,
            status="running",
            created_at=now,
            heartbeat_at=now,
            owner_pid=os.getpid(),
            client=client,
        )

    async def _finish(self, store: Store, handle: _Handle[T], ending: JobEnding) -> None:
        await handle.created.wait()
        job_id = handle.job_id
        if job_id is None or handle.create_failed:
            return
        try:
            written = await anyio.to_thread.run_sync(
                lambda: store.finish_job(
                    job_id,
                    status=ending.status,
                    now=self.clock(),
                    result_json=ending.result_json,
                    error=ending.error,
                )
            )
            if written:
                logger.info("job %s ended: %s", job_id, ending.status)
            else:  # cancelled meanwhile: the row keeps that ending
                logger.info("job %s had already ended (cancelled) before its work did", job_id)
        except Exception:
            logger.exception("Could not store how job %s ended", job_id)
        finally:
            self._work.pop(job_id, None)


def _ending_of(error: BaseException, describe: Callable[[BaseException], str]) -> JobEnding:
    """How a job whose work raised `error` ended: cancelled (the server stopping, or a cancel) or failed."""
    if isinstance(error, (WorkCancelledError, anyio.get_cancelled_exc_class())):
        return JobEnding("cancelled", error=STOPPED_MESSAGE)
    return JobEnding("failed", error=describe(error))


def _encoded(encode: Callable[[T], str], result: T) -> str | None:
    try:
        return encode(result)
    except Exception:  # pragma: no cover - a bug in an encoder; the job then ends without a result
        logger.exception("Could not encode a job's result")
        return None


async def _call_when_done(task: SharedTask[T], callback: Callable[[SharedTask[T]], None]) -> None:
    try:
        await task.wait()
    except Exception:  # the outcome is the job's business (written by the work itself); this only signals the end
        logger.debug("a job ended with an error", exc_info=True)
    finally:
        callback(task)
