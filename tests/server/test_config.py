"""Settings: defaults, settings.toml, the environment, and clear errors for unusable values."""

from __future__ import annotations

from pathlib import Path

import pytest
from grok_mcp.config import DEFAULT_BASE_URL, data_dir, load_settings
from grok_mcp.errors import ConfigError


def test_defaults_apply_without_a_settings_file(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.home == isolated_home
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.port == 8765
    assert settings.db_path == isolated_home / "grok-mcp.db"


def test_settings_file_then_environment_take_precedence(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_home / "settings.toml").write_text(
        '[server]\nport = 9000\nbase_url = "https://us.api.x.ai/v1/"\n[models]\ndefault = "grok-4.7"\n'
        "[budgets]\ndaily_usd = 2.5\n[cache]\nttl_seconds = 60\n[logging]\ncontent = true\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert (settings.port, settings.base_url, settings.default_model) == (
        9000,
        "https://us.api.x.ai/v1",
        "grok-4.7",
    )
    assert (settings.daily_budget_usd, settings.cache_ttl_s, settings.log_content) == (2.5, 60.0, True)
    monkeypatch.setenv("GROK_MCP_PORT", "9100")
    monkeypatch.setenv("GROK_MCP_BASE_URL", "http://127.0.0.1:8766/v1")
    monkeypatch.setenv("GROK_MCP_LOG_LEVEL", "debug")
    settings = load_settings()
    assert (settings.port, settings.base_url, settings.log_level) == (
        9100,
        "http://127.0.0.1:8766/v1",
        "DEBUG",
    )


def test_conversations_are_saved_unless_settings_turn_saving_off(isolated_home: Path) -> None:
    assert load_settings().save_conversations is True
    (isolated_home / "settings.toml").write_text("[conversations]\nsave = false\n", encoding="utf-8")
    settings = load_settings()
    assert settings.save_conversations is False
    assert settings.log_content is False  # saving conversations and logging prompts are separate settings


@pytest.mark.parametrize(
    ("content", "env", "expected"),
    [
        ("[server\nport=1", {}, "is not valid TOML"),
        ("[server]\nport = 70000\n", {}, "from 1 to 65535"),
        ("[server]\nport = true\n", {}, "must be a number"),
        ('[budgets]\ndaily_usd = "lots"\n', {}, "must be a number"),
        ("server = 3\n", {}, "must be a table"),
        ("", {"GROK_MCP_PORT": "http"}, "GROK_MCP_PORT"),
        ("", {"GROK_MCP_LOG_LEVEL": "LOUD"}, "GROK_MCP_LOG_LEVEL"),
    ],
)
def test_unusable_settings_name_the_file_or_variable(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, content: str, env: dict[str, str], expected: str
) -> None:
    (isolated_home / "settings.toml").write_text(content, encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings()


def test_data_dir_defaults_to_the_platform_user_data_dir() -> None:
    assert data_dir({}).name == "grok-mcp"
    assert data_dir({"GROK_MCP_HOME": "~/x"}) == Path("~/x").expanduser()
