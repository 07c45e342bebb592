"""Every `grok-mcp` command line: the parser, logging setup (stderr only) and the exit code of each failure.

One module per command family: serve (and simulate), keys, clients, conversations, usage, models, doctor and
console (`chat`); common holds what they share. Exit codes: 0 ok · 1 unexpected error · 2 bad usage · 3 no API
key · 4 database newer than this program · 5 port in use · 6 keychain unavailable.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import cast

from grok_mcp import __version__
from grok_mcp.cli.clients import add_clients_parser
from grok_mcp.cli.common import err
from grok_mcp.cli.console import add_console_parser
from grok_mcp.cli.conversations import add_conversations_parser
from grok_mcp.cli.doctor import add_doctor_parser
from grok_mcp.cli.keys import add_keys_parser
from grok_mcp.cli.models import add_models_parser
from grok_mcp.cli.serve import add_serve_parsers
from grok_mcp.cli.usage import add_usage_parser
from grok_mcp.errors import ExitCode, GrokMCPError, UserFacingError
from grok_mcp.logs import configure_logging

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The `grok-mcp` parser with every command; each command's handler is in its `handler` default."""
    parser = argparse.ArgumentParser(
        prog="grok-mcp", description="xAI's Grok for every MCP client: server, simulator, keys and usage."
    )
    parser.add_argument("--version", action="version", version=f"grok-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--debug", action="store_true", help="verbose logs on stderr (never secrets)")
        p.set_defaults(handler=handler)
        return p

    add_serve_parsers(add)
    add_keys_parser(add)
    add_usage_parser(add)
    add_models_parser(add)
    add_console_parser(add)
    add_doctor_parser(add)
    add_clients_parser(add)
    add_conversations_parser(sub, add)
    return parser


def _find_ours(exc: BaseException) -> GrokMCPError | None:
    """Our error inside an exception group (task groups wrap what their tasks raise)."""
    if isinstance(exc, GrokMCPError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        group = cast("BaseExceptionGroup[BaseException]", exc)
        for inner in group.exceptions:
            found = _find_ours(inner)
            if found is not None:
                return found
    return None


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("WARNING")  # the redaction filter guards even what fails before a command sets up logs
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # the outermost boundary: every failure ends in a message and an exit code
        if isinstance(exc, SystemExit):
            raise
        ours = _find_ours(exc)
        if ours is not None:
            if not isinstance(ours, UserFacingError):
                logger.error("grok-mcp %s failed", args.command, exc_info=ours)
            err(f"grok-mcp: {ours}")
            return ours.exit_code
        logger.error("grok-mcp %s failed unexpectedly", args.command, exc_info=exc)
        err(f"grok-mcp: unexpected error ({type(exc).__name__}); details are in the log. Please report it.")
        return ExitCode.ERROR


if __name__ == "__main__":
    sys.exit(main())
