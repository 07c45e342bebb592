"""Work shared by several waiters: a task that outlives any one of them, and single-flight by key on top of it.

A `SharedTask` runs in the server's long-lived task group, not in the tool call that started it, so a
cancelled waiter (the caller that started it, too) never fails the others (Go's singleflight with
asyncio's `shield`, reliability goal R4). It is cancelled only when its last waiter leaves before it
ends, unless it was pinned (a job that must finish with nobody waiting).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio
import anyio.abc

logger = logging.getLogger(__name__)

T = TypeVar("T")

FLIGHT_LINGER_S = 2.0
"""How long a finished flight stays joinable: covers callers whose cache read raced with its write."""


class WorkCancelledError(Exception):
    """Shared work was cancelled (its last waiter left, or the server stopped) before it ended."""


class SharedTask(Generic[T]):
    """One piece of work run once in `host`, whose outcome any number of waiters share."""

    def __init__(self, host: anyio.abc.TaskGroup, work: Callable[[], Awaitable[T]], *, name: str = "shared") -> None:
        self.scope = anyio.CancelScope()
        self._done = anyio.Event()
        self._waiters = 0
        self._pinned = False
        self._result: T | None = None
        self._error: BaseException | None = None
        self._succeeded = False
        host.start_soon(self._run, work, name=name)

    @property
    def is_done(self) -> bool:
        return self._done.is_set()

    @property
    def succeeded(self) -> bool:
        return self._succeeded

    @property
    def waiters(self) -> int:
        """How many callers wait for the work now."""
        return self._waiters

    def pin(self) -> None:
        """Keep running even when no one waits any more (the work became a job)."""
        self._pinned = True

    async def _run(self, work: Callable[[], Awaitable[T]]) -> None:
        try:
            with self.scope:
                try:
                    self._result = await work()
                    self._succeeded = True
                except Exception as exc:  # handed to every waiter; never allowed to reach the host task group
                    self._error = exc
        finally:
            if not self._succeeded and self._error is None:
                self._error = WorkCancelledError("The work was cancelled before it finished.")
            self._done.set()

    async def wait(self) -> T:
        """The work's result, waiting for it; raises what the work raised, or WorkCancelledError."""
        self._waiters += 1
        try:
            await self._done.wait()
        finally:
            self._waiters -= 1
            if not self._done.is_set() and self._waiters == 0 and not self._pinned:
                self.scope.cancel()
        return self.outcome()

    async def wait_or_pin(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the work; True when it ended, False when it was pinned to run on.

        Cancelling the caller while it waits cancels the work, as with `wait`.
        """
        self._waiters += 1
        try:
            with anyio.move_on_after(timeout_s):
                await self._done.wait()
            if not self._done.is_set():
                self._pinned = True
            return self._done.is_set()
        finally:
            self._waiters -= 1
            if not self._done.is_set() and self._waiters == 0 and not self._pinned:
                self.scope.cancel()

    def outcome(self) -> T:
        """The result of finished work. Raises what the work raised, or WorkCancelledError."""
        if self._error is not None:
            raise self._error
        if not self._succeeded:  # pragma: no cover - only called once done
            raise WorkCancelledError("The work has not finished.")
        return self._result  # type: ignore[return-value]  # set whenever _succeeded


class FlightTable:
    """Single-flight: at most one running SharedTask per key; later callers with the same key join it.

    A flight that succeeded stays joinable for FLIGHT_LINGER_S (and never past its own TTL on `clock`).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._flights: dict[str, SharedTask[object]] = {}
        self._expires: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._flights)

    def running(self) -> list[SharedTask[object]]:
        """The flights not finished yet."""
        return [flight for flight in self._flights.values() if not flight.is_done]

    def find(self, key: str) -> SharedTask[object] | None:
        """The flight for `key` to join, if one runs or finished successfully a moment ago."""
        flight = self._flights.get(key)
        if flight is None or flight.scope.cancel_called or (flight.is_done and not flight.succeeded):
            return None
        if flight.is_done and self.clock() >= self._expires.get(key, 0.0):
            return None
        return flight

    def start(
        self, host: anyio.abc.TaskGroup, key: str, work: Callable[[], Awaitable[object]], *, ttl_s: float
    ) -> SharedTask[object]:
        """Start the flight for `key` (the caller checked `find` first, with no await in between)."""

        async def fly() -> object:
            try:
                result = await work()
            except BaseException:
                self._forget(key, flight)  # errors are never shared with later callers
                raise
            self._expires[key] = self.clock() + ttl_s
            host.start_soon(self._linger, key, flight, name="flight-linger")
            return result

        flight: SharedTask[object] = SharedTask(host, fly, name=f"flight {key[:12]}")
        self._flights[key] = flight
        return flight

    async def _linger(self, key: str, flight: SharedTask[object]) -> None:
        await anyio.sleep(FLIGHT_LINGER_S)
        self._forget(key, flight)

    def _forget(self, key: str, flight: SharedTask[object]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
            self._expires.pop(key, None)
