"""The `usage_summary` tool: what Grok cost, in tokens and dollars, from the usage ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from grok_mcp.context import AppContext
from grok_mcp.store import Store, UsageGroup
from grok_mcp.store.units import start_of_day, start_of_month, ticks_to_usd
from grok_mcp.tools.annotations import READS_STORE
from grok_mcp.tools.boundary import tool_call
from grok_mcp.tools.results import tool_result

Period = Literal["today", "yesterday", "7d", "30d", "month", "all"]
GroupBy = Literal["day", "model", "tool", "client"]


class UsageRow(BaseModel):
    key: str
    requests: int
    errors: int
    cached_requests: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    images: int
    cost_usd: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None

    @classmethod
    def of(cls, group: UsageGroup) -> UsageRow:
        """The ledger's group as a row: the same fields, its cost in dollars rather than ticks."""
        fields = asdict(group)
        cost_ticks = fields.pop("cost_ticks")
        return cls(**fields, cost_usd=ticks_to_usd(cost_ticks))


class UsageReport(BaseModel):
    period: str
    since: str | None = Field(description="Start of the period (local time, ISO 8601); null for all time.")
    until: str | None
    group_by: str
    simulated: bool = Field(
        description="True: only demo-mode calls the simulator answered (nothing billed); false: only real xAI "
        "calls. The two are never summed."
    )
    other_requests: int = Field(
        description="Calls of the other kind (real when showing demo usage, and the reverse) in the period, not "
        "counted here."
    )
    groups: list[UsageRow]
    total: UsageRow


def usage_report(store: Store, period: Period, group_by: GroupBy, *, simulated: bool) -> UsageReport:
    """The ledger's real (or, with `simulated`, demo-mode) usage over a named period; runs off the event loop.

    Raises the store's DatabaseBusyError when the ledger cannot be read.
    """
    since, until = period_bounds(period)
    summary = store.usage_summary(since=since, until=until, group_by=group_by, simulated=simulated)
    other = store.usage_summary(since=since, until=until, group_by="tool", simulated=not simulated)
    return UsageReport(
        period=period,
        since=iso_time(since),
        until=iso_time(until),
        group_by=group_by,
        simulated=simulated,
        other_requests=other.total.requests,
        groups=[UsageRow.of(g) for g in summary.groups],
        total=UsageRow.of(summary.total),
    )


def period_bounds(period: Period, now: float | None = None) -> tuple[float | None, float | None]:
    """Unix-time bounds of a named period in local time (until is None for "up to now")."""
    today = start_of_day(now)
    match period:
        case "today":
            return today, None
        case "yesterday":
            return _days_before(today, 1), today
        case "7d":
            return _days_before(today, 6), None
        case "30d":
            return _days_before(today, 29), None
        case "month":
            return start_of_month(now), None
        case "all":
            return None, None


def _days_before(midnight: float, days: int) -> float:
    """Local midnight `days` calendar days before the local midnight given (a DST day is not 24 h long)."""
    return start_of_day(midnight - days * 86_400 + 12 * 3_600)


def iso_time(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


SHOWING_REAL = "Showing: real usage (calls answered by xAI)."
SHOWING_DEMO = "Showing: demo usage (calls the built-in simulator answered; nothing was billed)."


def _calls(n: int, kind: str) -> str:
    return f"{n:,} {kind} call" + ("" if n == 1 else "s")


def format_usage_table(report: UsageReport, *, switch_hint: str = "") -> str:
    """The report as a Markdown table, for people: which usage it shows first, and what it leaves out last.

    `switch_hint` says how to see the other kind (a flag or an argument), after the count of those calls.
    """
    lines = [
        SHOWING_DEMO if report.simulated else SHOWING_REAL,
        "",
        f"Usage for {report.period}, by {report.group_by}:",
        "",
        f"| {report.group_by} | requests | errors | prompt | cached | output | reasoning | images | cost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in [*report.groups, report.total]:
        key = "**total**" if row is report.total else row.key
        lines.append(
            f"| {key} | {row.requests:,} | {row.errors:,} | {row.prompt_tokens:,} | {row.cached_tokens:,} | "
            f"{row.completion_tokens:,} | {row.reasoning_tokens:,} | {row.images:,} | ${row.cost_usd:,.4f} |"
        )
    if not report.groups:
        lines.append("\nNo calls were recorded in this period.")
    if report.other_requests:
        other = _calls(report.other_requests, "real" if report.simulated else "demo (simulated)")
        lines.append(f"\n{other} in this period {'is' if report.other_requests == 1 else 'are'} not counted here.")
        if switch_hint:
            lines[-1] += f" {switch_hint}"
    return "\n".join(lines)


async def usage_summary(
    ctx: Context,
    period: Annotated[
        Period, Field(description="today, yesterday, 7d, 30d, month (this calendar month) or all.")
    ] = "today",
    group_by: Annotated[GroupBy, Field(description="Group rows by day, model, tool or client.")] = "model",
    simulated: Annotated[
        bool | None,
        Field(
            description="true: demo-mode calls the simulator answered; false: real xAI calls; omitted: the kind "
            "this server makes. Real and simulated usage are never summed."
        ),
    ] = None,
) -> Annotated[CallToolResult, UsageReport]:
    """Summarise Grok usage from the local ledger: requests, tokens and cost in USD, grouped as asked.
    Covers every Grok MCP process on this computer; real and demo-mode (simulated) calls are reported apart."""
    async with tool_call(ctx, "usage_summary") as call:
        demo = call.app.answers_are_simulated if simulated is None else simulated
        report = await anyio.to_thread.run_sync(lambda: usage_report(call.app.store, period, group_by, simulated=demo))
        hint = f"Call usage_summary with simulated={'false' if demo else 'true'} to see them."
        return tool_result(format_usage_table(report, switch_hint=hint), report)


def register(server: MCPServer[AppContext]) -> None:
    """Add the usage tool to the server."""
    server.add_tool(usage_summary, title="Grok usage and cost", annotations=READS_STORE)
