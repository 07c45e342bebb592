"""`grok-mcp models`: the models xAI serves now (or the simulator's catalog), with prices."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import anyio

from grok_mcp.cli.common import AddCommand, out, settings_from
from grok_mcp.config import Settings
from grok_mcp.errors import ExitCode, NoApiKeyError
from grok_mcp.logs import configure_logging, register_secret


def add_models_parser(add: AddCommand) -> None:
    """Add `models` through build_parser's `add` helper."""
    models = add("models", cmd_models, "list the models xAI serves now, with prices")
    models.add_argument("--json", action="store_true")
    models.add_argument("--simulate", action="store_true", help="list the built-in simulator's catalog")


async def _model_list(settings: Settings, key: str) -> Any:
    from grok_mcp.grok import GrokClient, ModelCatalog
    from grok_mcp.tools.models import build_model_list

    async with GrokClient(base_url=settings.base_url, api_key=lambda: key, max_attempts=3, timeout_s=30) as client:
        return await build_model_list(ModelCatalog(client), settings, simulated=False)


async def _demo_model_list(settings: Settings) -> Any:
    from grok_mcp.hosting.demo import DEMO_KEY, embedded_simulator

    async with embedded_simulator() as base_url:
        listing = await _model_list(dataclasses.replace(settings, base_url=base_url), DEMO_KEY)
    return listing.model_copy(update={"simulated": True})


def cmd_models(args: argparse.Namespace) -> int:
    from grok_mcp import secrets
    from grok_mcp.tools.models import format_model_table

    settings = settings_from(args)
    configure_logging("DEBUG" if args.debug else "WARNING")
    if args.simulate:
        listing = anyio.run(_demo_model_list, settings)
    else:
        key = secrets.get_api_key()
        if not key:
            raise NoApiKeyError()
        register_secret(key)
        listing = anyio.run(_model_list, settings, key)
    out(listing.model_dump_json(indent=2) if args.json else format_model_table(listing))
    return ExitCode.OK
