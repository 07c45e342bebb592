"""`grok-mcp usage`: usage and cost from the ledger, by day, model, tool or client."""

from __future__ import annotations

import argparse

from grok_mcp.cli.common import AddCommand, out, settings_from
from grok_mcp.errors import ExitCode


def add_usage_parser(add: AddCommand) -> None:
    """Add `usage` through build_parser's `add` helper."""
    usage = add("usage", cmd_usage, "show usage and cost from the ledger (real calls; --simulated: demo mode)")
    usage.add_argument("--period", choices=["today", "yesterday", "7d", "30d", "month", "all"], default="30d")
    usage.add_argument("--group-by", choices=["day", "model", "tool", "client"], default="day")
    usage.add_argument(
        "--simulated",
        action="store_true",
        help="show demo-mode usage (calls the built-in simulator answered) instead of real usage",
    )
    usage.add_argument("--json", action="store_true")


def cmd_usage(args: argparse.Namespace) -> int:
    from grok_mcp.store import Store
    from grok_mcp.tools.usage import format_usage_table, usage_report

    settings = settings_from(args)
    store = Store.open(settings.db_path)
    try:
        report = usage_report(store, args.period, args.group_by, simulated=args.simulated)
    finally:
        store.close()
    hint = "`grok-mcp usage` shows them." if args.simulated else "`grok-mcp usage --simulated` shows them."
    out(report.model_dump_json(indent=2) if args.json else format_usage_table(report, switch_hint=hint))
    return ExitCode.OK
