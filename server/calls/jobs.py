"""Long calls become jobs: work still running after the threshold goes on in the background, its result stored.

The tool call that started the work gets a job id (`chat:<uuid>`) at once; the work keeps running in
the server's long-lived task group and writes its result (or its error) to the store's `jobs` table,
where any server process can read it for `job_result`, even after a restart. While it runs, its owner
bumps a heartbeat; a job whose heartbeat went stale belonged to a process that died, and says so.

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
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio
import anyio.abc

from server.calls.flights import SharedTask, WorkCancelledError
from server.store import JobRecord, JobStatus, Store

logger = logging.getLogger(__name__)

T = TypeVar("T")

HEARTBEAT_S = 10.0
"""How often a process marks its running jobs as alive."""

STALE_AFTER_S = 60.0
"""A running job whose heartbeat is older than this belonged to a process that stopped."""


@dataclass(frozen=True)
class Detached:
    """The work outlived the threshold and runs on as job `job_id`."""

    job_id: str


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
        self._running: set[str] = set()

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._running)

    async def heartbeat(self, store: Store) -> None:
        """Mark this process's running jobs as alive every HEARTBEAT_S seconds, forever."""
        while True:
            await anyio.sleep(HEARTBEAT_S)
            if self._running:
                try:
                    await anyio.to_thread.run_sync(
                        lambda: store.heartbeat_jobs(sorted(self._running), now=self.clock())
                    )
                except Exception:
                    logger.exception("Could not write the jobs' heartbeat")

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
                        await self._finish(store, handle, error=exc, describe=describe)
                raise
            if handle.job_id is not None:
                with anyio.CancelScope(shield=True):
                    await self._finish(store, handle, result_json=_encoded(encode, result))
            return result

        task: SharedTask[T] = SharedTask(host, tracked, name=f"{tool} call")
        if await task.wait_or_pin(threshold_s):
            return task.outcome()
        job_id = new_job_id(kind)
        handle.job_id = job_id  # before any await: work ending from here on writes the job's row
        now = self.clock()
        job = JobRecord(
            id=job_id,
            kind=kind,
            tool=tool,
            status="running",
            created_at=now,
            heartbeat_at=now,
            owner_pid=os.getpid(),
            client=client,
        )
        self._running.add(job_id)
        if on_detach is not None:
            on_detach(task)
        if on_end is not None:
            host.start_soon(_call_when_done, task, on_end, name="job end")
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(store.create_job, job)
        except BaseException:
            handle.create_failed = True
            self._running.discard(job_id)
            task.scope.cancel()
            raise
        finally:
            handle.created.set()
        logger.info("%s still running after %.0f s: continues as job %s", tool, threshold_s, job_id)
        return Detached(job_id)

    async def _finish(
        self,
        store: Store,
        handle: _Handle[T],
        *,
        result_json: str | None = None,
        error: BaseException | None = None,
        describe: Callable[[BaseException], str] | None = None,
    ) -> None:
        await handle.created.wait()
        job_id = handle.job_id
        if job_id is None or handle.create_failed:
            return
        status: JobStatus = "done"
        message: str | None = None
        if error is not None:
            cancelled = isinstance(error, (WorkCancelledError, anyio.get_cancelled_exc_class()))
            status = "cancelled" if cancelled else "failed"
            message = (
                "The server stopped before this call finished. Ask again."
                if cancelled
                else (describe(error) if describe else str(error))
            )
        try:
            await anyio.to_thread.run_sync(
                lambda: store.finish_job(
                    job_id, status=status, now=self.clock(), result_json=result_json, error=message
                )
            )
            logger.info("job %s ended: %s", job_id, status)
        except Exception:
            logger.exception("Could not store how job %s ended", job_id)
        finally:
            self._running.discard(job_id)


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
