"""The call pipeline's per-process state: the long-lived task group, the flights in the air and the jobs running.

Every paid upstream call passes through it (grok_mcp.calls.route, used by grok_mcp.tools.scope.CallScope):
the budget guard, then the response cache and single-flight for cacheable calls, while chat-like tool calls
that run past the job threshold continue as jobs. The server's lifespan hosts it (`hosting`); without a host, work runs
inline in the calling task (no shared flights surviving a cancelled leader, no jobs).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc

from grok_mcp.calls.cache import key_scope
from grok_mcp.calls.flights import FlightTable
from grok_mcp.calls.jobs import JobRunner
from grok_mcp.grok.keys import key_ready
from grok_mcp.store import Store

logger = logging.getLogger(__name__)

JOBS_KEPT_S = 7 * 24 * 3600.0
"""Finished jobs are kept a week for job_result, then dropped at the next server start."""


class CallPipeline:
    """Per-process state of the call pipeline, built once with the AppContext and hosted by the lifespan.

    `clock` (Unix time) decides cache expiry, budget periods and job times; tests inject their own.
    """

    def __init__(
        self,
        *,
        api_key: Callable[[], str] | None = None,
        demo: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api_key = api_key
        self.demo = demo
        self.flights = FlightTable(clock=clock)
        self.jobs = JobRunner(clock=clock)
        self._clock = clock
        self._host: anyio.abc.TaskGroup | None = None

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.jobs.clock = clock
        self.flights.clock = clock

    def now(self) -> float:
        return self._clock()

    @property
    def host(self) -> anyio.abc.TaskGroup | None:
        """The long-lived task group shared work runs in, while the server runs."""
        return self._host

    async def key_ready(self) -> None:
        """Do a keychain read that `key_scope` has due now, in a worker thread (see grok_mcp.grok.keys)."""
        if self._api_key is not None and not self.demo:
            await key_ready(self._api_key)

    def key_scope(self) -> str:
        """The response cache's namespace for the key in use now (a hash, never the key).

        Raises NoApiKeyError or KeychainError when no key can be read (the call would fail anyway).
        """
        if self.demo:
            return key_scope(None, demo=True)
        if self._api_key is None:
            return f"process:{id(self)}"  # no key known: never share entries beyond this object
        return key_scope(self._api_key(), demo=False)

    @asynccontextmanager
    async def hosting(self, store: Store) -> AsyncGenerator[None]:
        """Run the pipeline's task group (and the jobs' heartbeat) until the block ends, then cancel it.

        Jobs still running at the end are written as cancelled.
        """
        async with anyio.create_task_group() as host:
            self._host = host
            host.start_soon(self.jobs.heartbeat, store, name="jobs heartbeat")
            host.start_soon(self._tidy, store, name="pipeline tidy-up")
            try:
                yield
            finally:
                self._host = None
                host.cancel_scope.cancel()

    async def _tidy(self, store: Store) -> None:
        """Drop expired cache entries and jobs that ended over JOBS_KEPT_S ago, once per server start."""
        try:
            now = self.now()
            await anyio.to_thread.run_sync(lambda: store.cache_purge_at(now=now))
            await anyio.to_thread.run_sync(lambda: store.purge_jobs(finished_before=now - JOBS_KEPT_S))
        except Exception:
            logger.warning("Could not tidy the response cache and old jobs", exc_info=True)
