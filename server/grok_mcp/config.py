"""Where Grok MCP keeps its files and how it is configured: the data dir, settings.toml and the environment.

Precedence, lowest first: built-in defaults, `settings.toml` in the data dir, environment variables,
command-line flags (applied by the caller with `dataclasses.replace`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import platformdirs

from grok_mcp.errors import ConfigError

APP_NAME = "grok-mcp"
DEFAULT_BASE_URL = "https://api.x.ai/v1"
DEFAULT_PORT = 8765
DEFAULT_SIMULATOR_PORT = 8766
DB_FILENAME = "grok-mcp.db"
SETTINGS_FILENAME = "settings.toml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MB = 1_048_576

# How much of an upstream reply is read, and for how long (settings.toml `[limits]`; grok_mcp.grok.limits).
# DESIGN §3 caps a JSON reply at 64 MB: the largest real ones are image generations with base64 data
# (xai-api.md §8: up to 10 images of up to 2k each, a few MB apiece); chat completions, model lists and
# batch result pages are far smaller. A stream's cap counts the data of all its events together.
MAX_REPLY_BYTES = 64 * MB
MAX_STREAM_BYTES = 64 * MB
# xai-api.md §15.4: allow at least 900 s per request and 1800 s for long evaluations (the SDK uses 1620 s).
REPLY_DEADLINE_S = 1800.0
STREAM_DEADLINE_S = 1800.0
# A generated image xAI hands back as a URL is a few MB; its whole download gets two minutes.
MAX_IMAGE_DOWNLOAD_BYTES = 50 * MB
IMAGE_DOWNLOAD_DEADLINE_S = 120.0


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The data directory: `GROK_MCP_HOME`, else the platform's user data dir for grok-mcp."""
    env = os.environ if environ is None else environ
    override = env.get("GROK_MCP_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything a server process needs to know before it starts."""

    home: Path
    base_url: str = DEFAULT_BASE_URL
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    log_level: str = "INFO"
    default_model: str | None = None
    image_model: str | None = None
    simulate: bool = False
    debug: bool = False
    catalog_ttl_s: float = 600.0
    request_timeout_s: float = 900.0
    connect_timeout_s: float = 10.0
    max_attempts: int = 4
    max_image_bytes: int = 10 * 1024 * 1024
    # Folders whose images `analyze_image` may read from disk; empty means the user's home folder. The data
    # directory is never read from (its database, logs and exports), except its own images/.
    local_image_folders: tuple[Path, ...] = ()
    max_reply_bytes: int = MAX_REPLY_BYTES
    max_stream_bytes: int = MAX_STREAM_BYTES
    reply_deadline_s: float = REPLY_DEADLINE_S
    stream_deadline_s: float = STREAM_DEADLINE_S
    max_image_download_bytes: int = MAX_IMAGE_DOWNLOAD_BYTES
    image_download_deadline_s: float = IMAGE_DOWNLOAD_DEADLINE_S
    cache_ttl_s: float = 0.0
    job_threshold_s: float = 45.0  # a chat-like call still running after this becomes a job (job_result)
    daily_budget_usd: float | None = None
    monthly_budget_usd: float | None = None
    log_content: bool = False
    """`[logging] content`: write prompts and answers into logs/requests.jsonl (off: only traces and figures)."""
    save_conversations: bool = True
    """`[conversations] save`: chat_with_context stores (and so remembers) conversations; off, it refuses."""
    transport: str = "stdio"
    client_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict[str, Any])

    @property
    def db_path(self) -> Path:
        return self.home / DB_FILENAME

    @property
    def settings_path(self) -> Path:
        return self.home / SETTINGS_FILENAME

    @property
    def images_dir(self) -> Path:
        return self.home / "images"

    @property
    def image_folders(self) -> tuple[Path, ...]:
        """The folders local images may come from: `local_image_folders`, or the user's home folder."""
        return self.local_image_folders or (Path.home(),)

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix or delete the file and start again.") from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc


def _number(value: object, name: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{name} in {source} must be a number, not {value!r}.")
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} in {source} must be a number, not {value!r}.") from None


def _port(value: object, source: str) -> int:
    number = _number(value, "port", source)
    if not number.is_integer() or not 1 <= number <= 65535:
        raise ConfigError(f"port in {source} must be a whole number from 1 to 65535, not {value!r}.")
    return int(number)


def _table(toml: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = toml.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in {source} must be a table.")
    return cast(dict[str, Any], value)


def _optional_text(value: object, _name: str, _source: str) -> str | None:
    return str(value) or None


def _text(value: object, _name: str, _source: str) -> str:
    return str(value)


def _flag(value: object, _name: str, _source: str) -> bool:
    return bool(value)


def _port_value(value: object, _name: str, source: str) -> int:
    return _port(value, source)


def _positive(value: object, name: str, source: str) -> float:
    number = _number(value, name, source)
    if not number > 0 or number == float("inf"):
        raise ConfigError(f"{name} in {source} must be a number above 0, not {value!r}.")
    return number


def _megabytes(value: object, name: str, source: str) -> int:
    return max(1, round(_positive(value, name, source) * MB))


def _folders(value: object, name: str, source: str) -> tuple[Path, ...]:
    items = cast(list[object], value) if isinstance(value, list) else None
    if not items or not all(isinstance(item, str) and item.strip() for item in items):
        raise ConfigError(f'{name} in {source} must be a list of folder paths, such as ["~/Pictures"].')
    folders = tuple(Path(cast(str, item).strip()).expanduser() for item in items)
    relative = [str(folder) for folder in folders if not folder.is_absolute()]
    if relative:
        raise ConfigError(f"{name} in {source} must hold absolute paths (or ~/…), not {', '.join(relative)}.")
    return folders


# settings.toml: (table, key) -> (Settings field, reader(value, "table.key", source)).
_TOML_SETTINGS: dict[tuple[str, str], tuple[str, Callable[[object, str, str], Any]]] = {
    ("server", "port"): ("port", _port_value),
    ("server", "base_url"): ("base_url", _text),
    ("server", "job_threshold_seconds"): ("job_threshold_s", _number),
    ("models", "default"): ("default_model", _optional_text),
    ("models", "image"): ("image_model", _optional_text),
    ("cache", "ttl_seconds"): ("cache_ttl_s", _number),
    ("budgets", "daily_usd"): ("daily_budget_usd", _number),
    ("budgets", "monthly_usd"): ("monthly_budget_usd", _number),
    ("logging", "content"): ("log_content", _flag),
    ("conversations", "save"): ("save_conversations", _flag),
    ("images", "local_folders"): ("local_image_folders", _folders),
    ("limits", "reply_mb"): ("max_reply_bytes", _megabytes),
    ("limits", "stream_mb"): ("max_stream_bytes", _megabytes),
    ("limits", "reply_seconds"): ("reply_deadline_s", _positive),
    ("limits", "stream_seconds"): ("stream_deadline_s", _positive),
    ("limits", "image_download_mb"): ("max_image_download_bytes", _megabytes),
    ("limits", "image_download_seconds"): ("image_download_deadline_s", _positive),
}


def _from_toml(toml: dict[str, Any], source: str) -> dict[str, Any]:
    """The Settings fields settings.toml sets; raises ConfigError naming the file and key of a bad value."""
    values: dict[str, Any] = {}
    tables = {name: _table(toml, name, source) for name in dict.fromkeys(table for table, _ in _TOML_SETTINGS)}
    for (table, key), (field_name, read) in _TOML_SETTINGS.items():
        if key in tables[table]:
            values[field_name] = read(tables[table][key], f"{table}.{key}", source)
    return values


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """The Settings fields the environment overrides; raises ConfigError naming the variable."""
    values: dict[str, Any] = {}
    if env.get("GROK_MCP_BASE_URL"):
        values["base_url"] = env["GROK_MCP_BASE_URL"]
    if env.get("GROK_MCP_PORT"):
        values["port"] = _port(env["GROK_MCP_PORT"], "GROK_MCP_PORT")
    level = env.get("GROK_MCP_LOG_LEVEL", "").upper()
    if level:
        if level not in LOG_LEVELS:
            raise ConfigError(f"GROK_MCP_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}.")
        values["log_level"] = level
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, settings.toml and the environment.

    Raises ConfigError when a value cannot be used; the message names the file or variable.
    """
    env = os.environ if environ is None else environ
    home = data_dir(env)
    path = home / SETTINGS_FILENAME
    values = {**_from_toml(_read_toml(path), str(path)), **_from_environment(env)}
    values["base_url"] = str(values.get("base_url", Settings(home=home).base_url)).rstrip("/")
    return Settings(home=home, **values)
