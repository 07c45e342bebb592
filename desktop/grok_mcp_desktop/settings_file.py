"""settings.toml as the tray edits it: read, validate with the server's own reader, and write keeping comments."""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import tomlkit
from grok_mcp.config import SETTINGS_FILENAME, Settings, load_settings
from tomlkit.items import Table
from tomlkit.toml_document import TOMLDocument

from grok_mcp_desktop.exports import write_text_atomically

DESKTOP_TABLE = "desktop"
"""The table of tray-only settings (servers ignore it): `demo_mode`."""


@dataclass(frozen=True)
class SettingsValues:
    """The settings the Settings page edits; None for a budget or model means "not set"."""

    default_model: str | None
    port: int
    cache_ttl_s: float
    daily_budget_usd: float | None
    monthly_budget_usd: float | None
    log_content: bool
    """`[logging] content`: prompts and answers go into logs/requests.jsonl."""
    demo_mode: bool
    save_conversations: bool = True
    """`[conversations] save`: chat_with_context stores conversations (off: it refuses, and nothing new is kept)."""


def read_values(home: Path) -> SettingsValues:
    """The values in `home`'s settings.toml over the built-in defaults (environment variables ignored).

    Raises ConfigError when the file cannot be read or holds a value the server would refuse.
    """
    settings = load_settings({"GROK_MCP_HOME": str(home)})
    path = home / SETTINGS_FILENAME
    demo_mode = False
    if path.exists():
        with path.open("rb") as stream:
            desktop = tomllib.load(stream).get(DESKTOP_TABLE, {})
        demo_mode = bool(desktop.get("demo_mode", False)) if isinstance(desktop, dict) else False
    return SettingsValues(
        default_model=settings.default_model,
        port=settings.port,
        cache_ttl_s=settings.cache_ttl_s,
        daily_budget_usd=settings.daily_budget_usd,
        monthly_budget_usd=settings.monthly_budget_usd,
        log_content=settings.log_content,
        demo_mode=demo_mode,
        save_conversations=settings.save_conversations,
    )


def validation_errors(values: SettingsValues) -> list[str]:
    """What is wrong with `values`, one sentence each; empty when they can be written."""
    errors: list[str] = []
    if not 1024 <= values.port <= 65535:
        errors.append("The port must be a whole number from 1024 to 65535.")
    if values.cache_ttl_s < 0:
        errors.append("The cache time must be zero (off) or more seconds.")
    for name, budget in (("daily", values.daily_budget_usd), ("monthly", values.monthly_budget_usd)):
        if budget is not None and budget <= 0:
            errors.append(f"The {name} budget must be more than $0, or empty for none.")
    if (
        values.daily_budget_usd is not None
        and values.monthly_budget_usd is not None
        and values.daily_budget_usd > values.monthly_budget_usd
    ):
        errors.append("The daily budget cannot be larger than the monthly budget.")
    if values.default_model is not None and (not values.default_model.strip() or "\n" in values.default_model):
        errors.append("The default model must be a model name, or empty for xAI's default.")
    return errors


def _table(document: TOMLDocument, name: str) -> Table:
    if name not in document:
        document[name] = tomlkit.table()
    return cast(Table, document[name])


def _set(table: Table, key: str, value: Any) -> None:
    if value is None:
        if key in table:
            del table[key]
    else:
        table[key] = value


def render(text: str, values: SettingsValues) -> str:
    """`text` (the current settings.toml, maybe empty) with `values` set, keeping comments and unknown keys."""
    document = tomlkit.parse(text)
    _set(_table(document, "server"), "port", values.port)
    _set(_table(document, "models"), "default", values.default_model)
    ttl = values.cache_ttl_s
    _set(_table(document, "cache"), "ttl_seconds", int(ttl) if float(ttl).is_integer() else ttl)
    budgets = _table(document, "budgets")
    _set(budgets, "daily_usd", values.daily_budget_usd)
    _set(budgets, "monthly_usd", values.monthly_budget_usd)
    _set(_table(document, "logging"), "content", values.log_content)
    _set(_table(document, "conversations"), "save", values.save_conversations)
    _set(_table(document, DESKTOP_TABLE), "demo_mode", values.demo_mode)
    return tomlkit.dumps(document)


def write_values(home: Path, values: SettingsValues) -> Settings:
    """Validate `values`, merge them into settings.toml and write it atomically; returns the settings servers will see.

    Raises ValueError (the validation errors, one per line) or ConfigError before anything is written;
    OSError when the file cannot be written.
    """
    errors = validation_errors(values)
    if errors:
        raise ValueError("\n".join(errors))
    path = home / SETTINGS_FILENAME
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    updated = render(current, values)
    # Check the result with the server's own reader before it replaces the file.
    with tempfile.TemporaryDirectory(prefix="grok-mcp-settings-") as scratch:
        (Path(scratch) / SETTINGS_FILENAME).write_text(updated, encoding="utf-8")
        load_settings({"GROK_MCP_HOME": scratch})
    write_text_atomically(path, updated)
    return load_settings({"GROK_MCP_HOME": str(home)})
