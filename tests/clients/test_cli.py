"""`grok-mcp clients …` as a real child process: output, exit codes, and tokens that stay hidden."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from grok_mcp.clients import HostEnv, get_client
from grok_mcp.clients.launch import server_launch
from ruamel.yaml import YAML

from tests.clients.support import fixture_bytes
from tests.support.processes import run_cli, server_env

TOKEN = "http-token-for-the-cli-tests-0001"


def _env(home: Path, tmp_path: Path) -> dict[str, str]:
    user = tmp_path / "user home"
    user.mkdir(exist_ok=True)
    env = server_env(home, GROK_MCP_HTTP_TOKEN=TOKEN, HOME=str(user))
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("CODEX_HOME", None)
    return env


def clients_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("clients", *args, env=env)


def test_list_json_names_every_client_with_status_and_path(isolated_home: Path, tmp_path: Path) -> None:
    done = clients_cli(_env(isolated_home, tmp_path), "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["name"] for r in rows][:2] == ["claude-desktop", "claude-code"]
    assert len(rows) == 13
    assert {r["status"] for r in rows} == {"not installed"}
    assert rows[0]["config_path"].endswith(".config/Claude/claude_desktop_config.json")


def test_install_show_and_remove_round_trip_from_the_command_line(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    config = Path(env["HOME"]) / ".cursor" / "mcp.json"
    config.parent.mkdir(parents=True)
    original = fixture_bytes("json/other-servers.json")
    config.write_bytes(original)

    done = clients_cli(env, "install", "cursor", "--force")  # the start check has its own tests
    assert done.returncode == 0, done.stderr
    assert f"Installed grok in {config}" in done.stdout
    assert "Settings → MCP" in done.stdout

    shown = json.loads(clients_cli(env, "show", "cursor", "--json").stdout)
    assert shown["status"] == "configured"
    assert shown["entry"]["args"] == ["-m", "grok_mcp", "serve"]

    assert clients_cli(env, "remove", "cursor").returncode == 0
    assert config.read_bytes() == original


def test_an_unknown_name_exits_2_and_lists_the_valid_names(isolated_home: Path, tmp_path: Path) -> None:
    done = clients_cli(_env(isolated_home, tmp_path), "install", "claude")
    assert done.returncode == 2
    assert "claude-desktop" in done.stderr and "goose" in done.stderr


def test_a_broken_config_exits_1_naming_the_file_and_line(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    config = Path(env["HOME"]) / ".config" / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir(parents=True)
    config.write_bytes(fixture_bytes("json/syntax-error.json"))

    done = clients_cli(env, "install", "claude-desktop")

    assert done.returncode == 1
    assert str(config) in done.stderr and "line 5" in done.stderr
    assert "Traceback" not in done.stderr
    assert config.read_bytes() == fixture_bytes("json/syntax-error.json")


def test_http_install_never_prints_the_token_unless_asked(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    dry = clients_cli(env, "install", "vscode", "--http", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "http://127.0.0.1:8765/mcp" in dry.stdout
    assert TOKEN not in dry.stdout + dry.stderr

    done = clients_cli(env, "install", "vscode", "--http", "--force")  # no server listens here
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    config = Path(env["HOME"]) / ".config" / "Code" / "User" / "mcp.json"
    assert f"Bearer {TOKEN}" in config.read_text(encoding="utf-8")

    shown = clients_cli(env, "show", "vscode")
    assert TOKEN not in shown.stdout and "--reveal-token" in shown.stdout
    assert TOKEN in clients_cli(env, "show", "vscode", "--reveal-token").stdout
    snippet = clients_cli(env, "snippet", "cursor", "--http")
    assert TOKEN not in snippet.stdout
    assert TOKEN in clients_cli(env, "snippet", "cursor", "--http", "--reveal-token").stdout


def test_http_for_claude_desktop_exits_2_and_says_to_use_stdio(isolated_home: Path, tmp_path: Path) -> None:
    done = clients_cli(_env(isolated_home, tmp_path), "install", "claude-desktop", "--http")
    assert done.returncode == 2
    assert "without --http" in done.stderr


def test_undo_restores_the_previous_file(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    config = Path(env["HOME"]) / ".codex" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_bytes(fixture_bytes("toml/codex-config.toml"))
    assert clients_cli(env, "install", "codex", "--force").returncode == 0
    done = clients_cli(env, "undo", "codex")
    assert done.returncode == 0, done.stderr
    assert config.read_bytes() == fixture_bytes("toml/codex-config.toml")
    nothing = clients_cli(env, "undo", "codex")
    assert nothing.returncode == 1
    assert "no backup" in nothing.stderr


# Real files as an earlier Grok MCP left them: its entry runs `python -m server serve` (the import package's
# name before it became `grok_mcp`), beside servers and settings of the user's own. Paths are under $HOME.
PY = json.dumps(sys.executable)  # a quoted string in JSON, TOML and YAML alike
OLD_STYLE: dict[str, tuple[str, str]] = {
    "claude-desktop": (
        ".config/Claude/claude_desktop_config.json",
        "{\n"
        '  "mcpServers": {\n'
        '    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},\n'
        f'    "grok": {{"command": {PY}, "args": ["-m", "server", "serve"]}}\n'
        "  },\n"
        '  "globalShortcut": "Ctrl+Space"\n'
        "}\n",
    ),
    "codex": (
        ".codex/config.toml",
        'model = "gpt-5-codex"  # the default model\n\n'
        '[mcp_servers.docs]\ncommand = "docs-server"\nargs = ["--stdio"]\n\n'
        f'[mcp_servers.grok]\ncommand = {PY}\nargs = ["-m", "server", "serve"]\n'
        'env_vars = ["GROK_MCP_HOME", "DBUS_SESSION_BUS_ADDRESS"]\nstartup_timeout_sec = 30\n\n'
        "[tui]\nnotifications = true\n",
    ),
    "goose": (
        ".config/goose/config.yaml",
        "GOOSE_PROVIDER: openai  # my provider\n"
        "extensions:\n"
        "  developer:\n    bundled: true\n    enabled: true\n    name: developer\n    type: builtin\n"
        f"  grok:\n    type: stdio\n    name: grok\n    enabled: true\n    cmd: {PY}\n"
        "    args:\n    - -m\n    - server\n    - serve\n    envs: {}\n    env_keys: []\n    timeout: 300\n",
    ),
    "continue": (
        ".continue/config.yaml",
        "name: My config\nversion: 1.0.0\n"
        "mcpServers:\n"
        "  - name: docs\n    command: docs-server\n"
        f"  - name: grok\n    command: {PY}\n    args: [-m, server, serve]\n",
    ),
}


def _load(path: Path) -> dict[str, Any]:
    """The file as an independent parser reads it (not the code under test)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix == ".toml":
        return tomllib.loads(text)
    return YAML(typ="safe").load(text)


def _split_grok(name: str, document: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The grok entry, and the document without it (every other server and setting)."""
    spec = get_client(name)
    rest = copy.deepcopy(document)
    servers = rest[spec.container]
    if spec.is_keyed_list:
        grok = next(item for item in servers if item["name"] == "grok")
        servers.remove(grok)
    else:
        grok = servers.pop("grok")
    return grok, rest


@pytest.mark.parametrize("name", list(OLD_STYLE))
def test_an_entry_an_earlier_version_wrote_is_stale_and_install_rewrites_only_it(
    isolated_home: Path, tmp_path: Path, name: str
) -> None:
    env = _env(isolated_home, tmp_path)
    where, text = OLD_STYLE[name]
    config = Path(env["HOME"]) / where
    config.parent.mkdir(parents=True)
    config.write_text(text, encoding="utf-8")
    old_grok, others = _split_grok(name, _load(config))
    assert old_grok["args"] == ["-m", "server", "serve"]

    listed = clients_cli(env, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    row = next(r for r in json.loads(listed.stdout) if r["name"] == name)
    assert row["status"] == "stale: earlier version"
    assert "written by an earlier Grok MCP" in row["detail"]
    assert f"run `grok-mcp clients install {name}`" in row["detail"]
    table = clients_cli(env, "list").stdout
    assert f"{name}: written by an earlier Grok MCP" in table
    shown = clients_cli(env, "show", name).stdout
    assert "stale: earlier version, written by an earlier Grok MCP" in shown

    done = clients_cli(env, "install", name, "--force")
    assert done.returncode == 0, done.stderr
    assert f"Updated grok in {config}" in done.stdout
    new_grok, others_after = _split_grok(name, _load(config))
    assert new_grok == get_client(name).stdio_entry(server_launch(), HostEnv.current())
    assert new_grok["args"] == ["-m", "grok_mcp", "serve"]
    assert others_after == others
    assert json.loads(clients_cli(env, "show", name, "--json").stdout)["status"] == "configured"
