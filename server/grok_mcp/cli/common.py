"""What every `grok-mcp` command shares: output to the terminal and settings with the command's overrides."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from grok_mcp.config import Settings, load_settings

AddCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
"""`build_parser`'s helper: adds a top-level command (with --debug) and returns its parser."""


def out(text: str = "") -> None:
    """Write a line for the person at the terminal (never used by `serve`, whose stdout is protocol)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def err(text: str) -> None:
    """Write a line to stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The settings a command runs with: settings.toml and the environment, then the command line's overrides."""
    settings = load_settings()
    changes: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if getattr(args, "debug", False):
        changes["debug"] = True
        changes["log_level"] = "DEBUG"
    return dataclasses.replace(settings, **changes)
