"""When a failed xAI call is tried again, and after how long: capped exponential backoff with full jitter."""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from grok_mcp.errors import RateLimitedError, UpstreamUnavailableError
from grok_mcp.grok.errors import Failure, error_class

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
