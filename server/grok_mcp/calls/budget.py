"""Spending limits: a paid call that would start past the daily or monthly budget is refused before it reaches xAI.

Spend is read from the usage ledger (every process's real calls: demo-mode calls the simulator answered
cost nothing and never count), since local midnight and since the first of the month. The check happens
when a call starts, so calls already running when the limit is reached still finish and are billed: the
overshoot is at most (calls running at once) × (the dearest single call), a soft cap like Vercel's
(reliability goal O5). Refusals make no upstream request and no ledger row; they are logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from grok_mcp.config import Settings
from grok_mcp.errors import UserFacingError
from grok_mcp.store import Store
from grok_mcp.store.units import TICKS_PER_USD, start_of_day, start_of_month, ticks_to_usd

logger = logging.getLogger(__name__)


class BudgetExceededError(UserFacingError):
    """A paid call was refused because the daily or monthly spending limit is used up."""


@dataclass(frozen=True)
class BudgetPeriod:
    """One limit to check: its name, the limit in USD and where its period starts (a Unix time)."""

    name: str
    limit_usd: float
    since: float
    since_text: str
    resets: str


def budget_periods(settings: Settings, now: float) -> list[BudgetPeriod]:
    """The limits the settings set, with their periods as of `now`."""
    day, month = start_of_day(now), start_of_month(now)
    periods: list[BudgetPeriod] = []
    if settings.daily_budget_usd is not None:
        periods.append(BudgetPeriod("daily", settings.daily_budget_usd, day, "today", "at local midnight"))
    if settings.monthly_budget_usd is not None:
        periods.append(
            BudgetPeriod("monthly", settings.monthly_budget_usd, month, "this month", "on the first of the month")
        )
    return periods


def check_budget(settings: Settings, store: Store, *, now: float, tool: str) -> None:
    """Refuse a paid call when any budget is used up (spend at or past its limit).

    Raises BudgetExceededError naming the limit, the spend so far and how to raise the limit; the
    store's DatabaseBusyError when the ledger cannot be read.
    """
    periods = budget_periods(settings, now)
    if not periods:
        return
    spent = store.spend_since(*(period.since for period in periods))
    for period, ticks in zip(periods, spent, strict=True):
        limit_ticks = round(max(period.limit_usd, 0.0) * TICKS_PER_USD)
        if ticks < limit_ticks:
            continue
        spent_usd = ticks_to_usd(ticks)
        logger.warning(
            "Refused %s: the %s budget of $%.2f is used up ($%.4f spent %s)",
            tool,
            period.name,
            period.limit_usd,
            spent_usd,
            period.since_text,
        )
        raise BudgetExceededError(
            f"Refused before calling xAI: the {period.name} budget of ${period.limit_usd:.2f} is used up "
            f"(${spent_usd:.4f} spent {period.since_text}). It resets {period.resets}. To raise it, change "
            f"[budgets] {period.name}_usd in {settings.settings_path} or use the tray's Settings page, then "
            "restart the server."
        )
