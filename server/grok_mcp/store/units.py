"""The usage ledger's units: cost in integer ticks (1 tick = 1e-10 USD), and the local day and month it sums by."""

from __future__ import annotations

import datetime as dt
import time

TICKS_PER_USD = 10_000_000_000


def ticks_to_usd(ticks: int) -> float:
    """A cost in ticks as dollars, rounded to the tick (no float noise beyond 1e-10)."""
    return round(ticks / TICKS_PER_USD, 10)


def start_of_day(now: float | None = None) -> float:
    """Local midnight today as a Unix time, DST-aware."""
    moment = dt.datetime.fromtimestamp(time.time() if now is None else now)  # naive local time
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def start_of_month(now: float | None = None) -> float:
    """Local midnight on the first of this month as a Unix time, DST-aware."""
    moment = dt.datetime.fromtimestamp(time.time() if now is None else now)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
