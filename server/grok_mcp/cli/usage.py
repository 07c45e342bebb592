"""`grok-mcp usage`: usage and cost from the ledger, by day, model, tool or client."""

from __future__ import annotations

import argparse

from grok_mcp.cli.common import AddCommand, out, settings_from
from grok_mcp.errors import ExitCode


def add_usage_parser(add: AddCommand) -> None:
    """Add `usage` through build_parser's `add` helper."""
    usage = add("usage", cmd_usage, "show usage and cost from the ledger")
    usage.add_argument("--period", choices=["today", "yesterday", "7d", "30d", "month", "all"], default="30d")
    usage.add_argument("--group-by", choices=["day", "model", "tool", "client"], default="day")
    usage.add_argument("--json", action="store_true")


def cmd_usage(args: argparse.Namespace) -> int:
    from grok_mcp.store import Store
    from grok_mcp.tools.usage import UsageReport, UsageRow, format_usage_table, iso_time, period_bounds

    settings = settings_from(args)
    store = Store.open(settings.db_path)
    try:
        since, until = period_bounds(args.period)
        summary = store.usage_summary(since=since, until=until, group_by=args.group_by)
    finally:
        store.close()
    report = UsageReport(
        period=args.period,
        since=iso_time(since),
        until=iso_time(until),
        group_by=args.group_by,
        groups=[UsageRow.of(g) for g in summary.groups],
        total=UsageRow.of(summary.total),
    )
    out(report.model_dump_json(indent=2) if args.json else format_usage_table(report))
    return ExitCode.OK
