"""`clients install` starts the entry as its client will (a real child, the client's minimal environment) first.

The CLI runs as a real child process with no D-Bus address and no XAI_API_KEY (what Claude Desktop passes a
server), or pointed at a real gnome-keyring (tests/support/keychain.py); the entry's server is this
installation's `python -m grok_mcp serve`, started from the entry exactly as written.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from grok_mcp import secrets
from grok_mcp.clients import ClientManager, HostEnv, HttpEndpoint
from grok_mcp.clients.launch import server_launch
from grok_mcp.clients.start_check import (
    POSIX_INHERITED_ENV,
    WINDOWS_INHERITED_ENV,
    StdioLaunch,
    check_stdio,
    client_environment,
    stdio_launch,
)
from grok_mcp.errors import ExitCode
from mcp.client import stdio as sdk_stdio

from tests.support.keychain import KeychainSession
from tests.support.processes import http_server, run_cli

KEY = "xai-start-check-key-0001"


def _minimal_env(user_home: Path, **extra: str) -> dict[str, str]:
    """What a GUI client hands a server on Linux: the MCP SDK's default set, no D-Bus address, no key."""
    env = {
        "HOME": str(user_home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "USER": "tester",
        "LOGNAME": "tester",
        "SHELL": "/bin/sh",
        "TERM": "dumb",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # the CLI under test runs this checkout
    }
    return env | extra


def _user_home(tmp_path: Path) -> Path:
    home = tmp_path / "user home"
    home.mkdir(exist_ok=True)
    return home


def _config(home: Path) -> Path:
    return home / ".config" / "Claude" / "claude_desktop_config.json"


def _install(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("clients", "install", "claude-desktop", *args, env=env, timeout=120)


def test_install_refuses_an_entry_that_cannot_reach_the_keychain_and_says_what_to_do(tmp_path: Path) -> None:
    home = _user_home(tmp_path)
    done = _install(_minimal_env(home))

    assert done.returncode == ExitCode.KEYCHAIN_UNAVAILABLE, done.stderr
    assert "Not installed: started as Claude Desktop starts it, the entry fails" in done.stderr
    assert "cannot use the OS keychain" in done.stderr
    assert "Unlock the keychain" in done.stderr
    assert "`grok-mcp clients install claude-desktop --simulate`" in done.stderr
    assert "--force" in done.stderr
    assert "Traceback" not in done.stderr
    assert not _config(home).exists()


def test_install_refuses_when_the_keychain_it_reaches_holds_no_key(
    tmp_path: Path, clean_keychain: KeychainSession
) -> None:
    home = _user_home(tmp_path)
    done = _install(_minimal_env(home, **clean_keychain.env))

    assert done.returncode == ExitCode.NO_API_KEY, done.stderr
    assert "finds no xAI API key" in done.stderr
    assert "Add a key first: `grok-mcp keys set`" in done.stderr
    assert not _config(home).exists()


def test_install_refuses_a_locked_keychain_with_unlock_advice(
    tmp_path: Path, locked_collection_env: dict[str, str]
) -> None:
    home = _user_home(tmp_path)
    bus = {"DBUS_SESSION_BUS_ADDRESS": locked_collection_env["DBUS_SESSION_BUS_ADDRESS"]}
    done = _install(_minimal_env(home, **bus))

    assert done.returncode == ExitCode.KEYCHAIN_UNAVAILABLE, done.stderr
    assert "Unlock the keychain" in done.stderr
    assert not _config(home).exists()


def test_install_writes_an_entry_that_reaches_the_key_in_the_keychain(
    tmp_path: Path, clean_keychain: KeychainSession
) -> None:
    secrets.store_api_key(KEY)
    home = _user_home(tmp_path)
    done = _install(_minimal_env(home, **clean_keychain.env))

    assert done.returncode == 0, done.stderr
    assert "Checked: started as Claude Desktop starts it, the entry answers MCP initialize." in done.stdout
    entry = json.loads(_config(home).read_text(encoding="utf-8"))["mcpServers"]["grok"]
    assert entry["env"] == clean_keychain.env  # the session bus, which the client would not pass
    assert KEY not in _config(home).read_text(encoding="utf-8")
    assert KEY not in done.stdout + done.stderr


def test_a_demo_entry_is_written_on_purpose_and_starts_without_key_or_keychain(tmp_path: Path) -> None:
    home = _user_home(tmp_path)
    env = _minimal_env(home)
    done = _install(env, "--simulate")

    assert done.returncode == 0, done.stderr
    assert "Installed grok in demo mode" in done.stdout
    assert "not from Grok" in done.stdout
    entry = json.loads(_config(home).read_text(encoding="utf-8"))["mcpServers"]["grok"]
    assert entry["args"] == [*server_launch().args, "--simulate"]
    shown = json.loads(run_cli("clients", "show", "claude-desktop", "--json", env=env).stdout)
    assert shown["status"] == "configured"
    assert "demo mode" in shown["detail"]


def test_force_writes_an_entry_that_does_not_start_and_says_so(tmp_path: Path) -> None:
    home = _user_home(tmp_path)
    done = _install(_minimal_env(home), "--force")

    assert done.returncode == 0, done.stderr
    assert "does not start now" in done.stderr and "--force" in done.stderr
    assert "Checked:" not in done.stdout
    assert json.loads(_config(home).read_text(encoding="utf-8"))["mcpServers"]["grok"]["command"]


def test_remove_says_what_it_removed_and_how_to_put_it_back(tmp_path: Path) -> None:
    home = _user_home(tmp_path)
    env = _minimal_env(home)
    config = _config(home)
    config.parent.mkdir(parents=True)
    config.write_text('{"mcpServers": {"other": {"command": "other-server"}}}\n', encoding="utf-8")
    assert _install(env, "--simulate").returncode == 0

    done = run_cli("clients", "remove", "claude-desktop", env=env)
    assert done.returncode == 0, done.stderr
    assert f"Removed the grok entry from {config}; every other server and setting in it is as it was." in done.stdout
    assert "`grok-mcp clients undo claude-desktop` puts it back" in done.stdout
    assert json.loads(config.read_text(encoding="utf-8")) == {"mcpServers": {"other": {"command": "other-server"}}}
    again = run_cli("clients", "remove", "claude-desktop", env=env)
    assert "has no grok entry; nothing to remove, nothing changed." in again.stdout


def test_remove_of_a_file_grok_mcp_created_says_it_deleted_it(tmp_path: Path) -> None:
    home = _user_home(tmp_path)
    env = _minimal_env(home)
    assert _install(env, "--simulate").returncode == 0

    done = run_cli("clients", "remove", "claude-desktop", env=env)
    assert done.returncode == 0, done.stderr
    assert f"Deleted {_config(home)}: Grok MCP had created it" in done.stdout
    assert not _config(home).exists()


def test_the_minimal_environment_is_the_mcp_sdks_default_set() -> None:
    expected = WINDOWS_INHERITED_ENV if os.name == "nt" else POSIX_INHERITED_ENV
    assert list(expected) == list(sdk_stdio.DEFAULT_INHERITED_ENV_VARS)


def test_the_client_environment_drops_everything_but_the_default_set_and_the_entry_env(tmp_path: Path) -> None:
    host = HostEnv(
        tmp_path,
        "linux",
        {"PATH": "/usr/bin", "XAI_API_KEY": KEY, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x", "SHELL": "() { :; }"},
    )
    launch = StdioLaunch("/bin/true", (), {"GROK_MCP_HOME": "/data"})
    assert client_environment(host, launch) == {"PATH": "/usr/bin", "HOME": str(tmp_path), "GROK_MCP_HOME": "/data"}
    codex = stdio_launch({"command": "/bin/true", "env_vars": ["DBUS_SESSION_BUS_ADDRESS"]})
    assert codex is not None
    assert client_environment(host, codex)["DBUS_SESSION_BUS_ADDRESS"] == "unix:path=/x"


def test_a_command_that_does_not_exist_is_reported_with_what_to_do(tmp_path: Path) -> None:
    host = HostEnv(tmp_path, "linux", {"PATH": "/usr/bin:/bin"})
    check = check_stdio(host, StdioLaunch(str(tmp_path / "gone" / "grok-mcp"), ("serve",), {}))
    assert not check.starts
    assert "cannot be started" in check.reason and "Install the entry again" in check.advice


def test_a_program_that_never_answers_initialize_is_stopped_within_the_bound(tmp_path: Path) -> None:
    host = HostEnv(tmp_path, "linux", {"PATH": "/usr/bin:/bin"})
    check = check_stdio(host, StdioLaunch("cat", (), {}), timeout_s=1)  # echoes our request: no answer
    assert not check.starts
    assert check.reason == "it did not answer initialize within 1 s"


@pytest.mark.parametrize("token_is_right", [True, False])
def test_an_http_entry_is_checked_against_healthz_and_its_token(
    isolated_home: Path, tmp_path: Path, token_is_right: bool
) -> None:
    manager = ClientManager(
        HostEnv(tmp_path, "linux", {"PATH": "/usr/bin"}), server_launch(), tmp_path / "b", running=lambda s, h: None
    )
    with http_server(isolated_home, base_url=None, key=None, extra_args=("--simulate",)) as server:
        token = server.token if token_is_right else "wrong-token-" + "1" * 24
        check = manager.check("cursor", HttpEndpoint(f"{server.root}/mcp", token))
    if token_is_right:
        assert check.starts, check.summary
    else:
        assert not check.starts
        assert "refuses the entry's token (HTTP 401)" in check.reason


def test_an_http_entry_with_nothing_at_its_address_says_to_start_the_tray(tmp_path: Path) -> None:
    manager = ClientManager(
        HostEnv(tmp_path, "linux", {"PATH": "/usr/bin"}), server_launch(), tmp_path / "b", running=lambda s, h: None
    )
    check = manager.check("cursor", HttpEndpoint("http://127.0.0.1:9/mcp", "t" * 32))
    assert not check.starts
    assert "nothing answers at http://127.0.0.1:9" in check.reason and "Start the tray" in check.advice
