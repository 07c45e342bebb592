"""How the dashboard writes money, token counts, times and durations."""

from __future__ import annotations

from datetime import datetime

from grok_mcp.store.units import ticks_to_usd


def usd(ticks: int) -> str:
    """A cost in ticks (1e-10 USD) as dollars: cents for normal sums, more digits for tiny ones."""
    dollars = ticks_to_usd(ticks)
    if dollars == 0:
        return "$0.00"
    if abs(dollars) < 0.01:
        return f"${dollars:.4f}"
    return f"${dollars:,.2f}"


def count(value: int) -> str:
    """A whole number with thousands separators."""
    return f"{value:,}"


def compact(value: float) -> str:
    """A number in a few characters (1.2k, 3.4M), for chart axes."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.1f}{suffix}".replace(".0", "")
    return f"{value:g}"


def when(ts: float) -> str:
    """A Unix time as local date and minute."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def milliseconds(value: float | None) -> str:
    """A duration in ms, or a dash when unknown."""
    return "–" if value is None else f"{value:,.0f} ms"
