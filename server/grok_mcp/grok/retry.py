"""When a failed call is tried again, and after how long: capped exponential backoff with full jitter,
`Retry-After`, a process-wide retry budget, and the one attempt loop every request runs in."""

from __future__ import annotations

import email.utils
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from grok_mcp.errors import RateLimitedError, UpstreamCall, UpstreamUnavailableError
from grok_mcp.grok.errors import Failure, error_class

logger = logging.getLogger(__name__)

T = TypeVar("T")

_RETRIED_TRANSPORT = frozenset({"connect", "connect_timeout", "dropped"})


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them (seconds).

    Retried: 429 rate limits and capacity (not credits), 408, 500, 502, 503 (not "Grammar is too
    complex"), 504, connection failures, connect timeouts, and connections dropped before any reply.
    Never retried: other 4xx, read timeouts (xAI may be working, and billing), and anything after a
    stream yielded content. A `Retry-After` of at most `max_retry_after_s` is honoured; a longer one
    ends the retries at once, so the caller can tell the user how long to wait.
    """

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 60.0

    def backoff_ceiling(self, attempt: int) -> float:
        """The upper bound of the jittered wait after failed attempt number `attempt` (1-based)."""
        return min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempt - 1))

    def is_retryable(self, failure: Failure, *, idempotent: bool = False) -> bool:
        """Whether trying the same request again can help (ignoring the attempt count)."""
        if failure.mid_stream:
            return False
        if failure.transport is not None:
            return failure.transport in _RETRIED_TRANSPORT or (idempotent and failure.transport == "broken")
        return error_class(failure) in (RateLimitedError, UpstreamUnavailableError)

    def delay(self, failure: Failure, attempt: int, random: Callable[[], float]) -> float | None:
        """Seconds to wait before the next attempt after failed attempt `attempt`, or None to stop.

        Full jitter: a uniform draw from [0, min(max_delay, base × 2^(attempt-1))]; a `Retry-After`
        is a floor on that wait.
        """
        if attempt >= self.max_attempts:
            return None
        jittered = random() * self.backoff_ceiling(attempt)
        if failure.retry_after is None:
            return jittered
        if failure.retry_after > self.max_retry_after_s:
            return None
        return max(failure.retry_after, jittered)


class RetryBudget:
    """A process-wide allowance of retries: every call earns `ratio` of one retry, every retry spends one.

    The balance starts at, and never exceeds, `reserve`, so a healthy process rides out a short burst
    of failures while a long outage settles at no more than `ratio` retries per call.
    """

    _UNIT = 1000  # kept in thousandths of a retry so ten tenths make exactly one

    def __init__(self, *, ratio: float = 0.1, reserve: float = 10.0) -> None:
        self._deposit = round(ratio * self._UNIT)
        self._reserve = round(reserve * self._UNIT)
        self._balance = self._reserve

    @property
    def balance(self) -> float:
        """Retries currently allowed (fractional)."""
        return self._balance / self._UNIT

    def record_call(self) -> None:
        """Count one new call (not an attempt) toward the allowance."""
        self._balance = min(self._reserve, self._balance + self._deposit)

    def try_spend(self) -> bool:
        """Take one retry from the allowance; False when none is left."""
        if self._balance < self._UNIT:
            return False
        self._balance -= self._UNIT
        return True


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a `Retry-After` header asks for (seconds or an HTTP date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - now()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class Retrying:
    """How calls are tried again: the policy, the shared retry budget (None: unlimited), and the clock."""

    policy: RetryPolicy
    sleep: Callable[[float], Awaitable[None]]
    random: Callable[[], float]
    budget: RetryBudget | None = None

    def attempts(
        self,
        method: str,
        endpoint: str,
        *,
        idempotent: bool,
        give_up: Callable[[Failure, UpstreamCall], Exception],
    ) -> Attempts:
        """The attempt loop of one new call; `give_up` makes the error raised once the call is over."""
        return Attempts(self, method, endpoint, idempotent=idempotent, give_up=give_up)


class Attempts:
    """The attempts of one logical call and their bookkeeping (count, latency, time to first token).

    Before each attempt, `await next()`: after a failed attempt (reported with `failed`) it waits
    (full jitter, `Retry-After`, the retry budget) or raises the call's final error. `run` is that
    loop for an attempt that is one awaitable; a stream, which yields while it tries, calls `next`.
    """

    def __init__(
        self,
        retrying: Retrying,
        method: str,
        endpoint: str,
        *,
        idempotent: bool,
        give_up: Callable[[Failure, UpstreamCall], Exception],
    ) -> None:
        self.method = method
        self.endpoint = endpoint
        self.count = 0
        self.ttft_ms: float | None = None
        self._started = time.perf_counter()
        self._retrying = retrying
        self._idempotent = idempotent
        self._give_up = give_up
        self._failure: Failure | None = None
        if retrying.budget is not None:
            retrying.budget.record_call()

    async def run(self, attempt: Callable[[], Awaitable[T | Failure]]) -> T:
        """Call `attempt` until it returns something other than a Failure; raises the final error."""
        while True:
            await self.next()
            outcome = await attempt()
            if not isinstance(outcome, Failure):
                return outcome
            self.failed(outcome)

    async def next(self) -> None:
        """Start the next attempt: after a failed one, wait, or raise the call's final error."""
        if self.count:
            failure = self._failure
            if failure is None:
                raise RuntimeError(f"attempt {self.count} of {self.endpoint} neither succeeded nor failed")
            self._failure = None
            await self._retrying.sleep(self._next_delay(failure))
        self.count += 1

    def failed(self, failure: Failure) -> None:
        """Report that the current attempt failed this way."""
        self._failure = failure

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._started) * 1000.0

    def call(self, status: int | None, request_id: str | None, *, cost_ticks: int | None = None) -> UpstreamCall:
        """What the call cost and took so far, for the result or the error."""
        return UpstreamCall(
            endpoint=self.endpoint,
            status=status,
            request_id=request_id,
            latency_ms=round(self.elapsed_ms(), 1),
            ttft_ms=None if self.ttft_ms is None else round(self.ttft_ms, 1),
            attempts=self.count,
            cost_ticks=cost_ticks or 0,
        )

    def succeeded(self, call: UpstreamCall) -> UpstreamCall:
        """Log the call that ended well and hand it back."""
        logger.debug(
            "%s %s → %s in %.0f ms%s (request id %s, attempt %d)",
            self.method,
            call.endpoint,
            call.status,
            call.latency_ms,
            "" if call.ttft_ms is None else f", first token at {call.ttft_ms:.0f} ms",
            call.request_id,
            call.attempts,
        )
        return call

    def _next_delay(self, failure: Failure) -> float:
        """Seconds to wait before trying again; raises the final error when the call is over."""
        policy, budget = self._retrying.policy, self._retrying.budget
        delay = (
            policy.delay(failure, self.count, self._retrying.random)
            if policy.is_retryable(failure, idempotent=self._idempotent)
            else None
        )
        what = failure.status if failure.transport is None else failure.transport
        if delay is not None and budget is not None and not budget.try_spend():
            logger.info("%s %s → %s; the retry budget is spent, not retrying", self.method, self.endpoint, what)
            delay = None
        if delay is None:
            call = self.call(failure.status, failure.request_id, cost_ticks=failure.cost_ticks)
            logger.debug(
                "%s %s → %s after %d attempt(s) in %.0f ms (request id %s)",
                self.method,
                self.endpoint,
                what,
                self.count,
                call.latency_ms,
                call.request_id,
            )
            raise self._give_up(failure, call) from None
        logger.info(
            "%s %s → %s (attempt %d of %d); retrying in %.2f s",
            self.method,
            self.endpoint,
            what,
            self.count,
            policy.max_attempts,
            delay,
        )
        return delay
