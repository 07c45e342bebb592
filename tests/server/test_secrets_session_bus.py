"""A server started by an MCP client with a minimal environment still finds the user's keychain."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grok_mcp import secrets

from tests.support.processes import run_cli

TEST_KEY = "xai-session-bus-test-key-0001"


@pytest.fixture
def bus_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "run" / "bus"
    path.parent.mkdir()
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        yield path


def test_an_address_in_the_environment_wins(bus_socket: Path) -> None:
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/elsewhere", "XDG_RUNTIME_DIR": str(bus_socket.parent)}
    assert secrets.session_bus_address(env, uid=1000) is None


def test_the_runtime_dir_bus_is_used_when_the_client_passed_no_address(bus_socket: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(bus_socket.parent)}
    assert secrets.session_bus_address(env, uid=1000) == f"unix:path={bus_socket}"


def test_the_systemd_user_bus_is_found_without_any_variable(tmp_path: Path) -> None:
    user_dir = tmp_path / "1000"
    user_dir.mkdir()
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(user_dir / "bus"))
        found = secrets.session_bus_address({}, uid=1000, runtime_root=tmp_path)
    assert found == f"unix:path={user_dir / 'bus'}"


def test_a_file_that_is_not_a_socket_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "bus").write_text("not a socket", encoding="utf-8")
    assert secrets.session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)}, uid=1, runtime_root=tmp_path) is None


def test_a_server_started_with_an_mcp_clients_minimal_environment_reads_the_keychain(
    keychain: Any, clean_keychain: Any, tmp_path: Path, isolated_home: Path
) -> None:
    secrets.store_api_key(TEST_KEY)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    address = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    assert address.startswith("unix:path=")
    (runtime / "bus").symlink_to(address.removeprefix("unix:path=").split(",")[0])
    # What the MCP SDKs (and so Claude Desktop) pass to a stdio server, plus the runtime dir and our data dir.
    minimal = {k: os.environ[k] for k in ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER") if k in os.environ}
    minimal |= {"XDG_RUNTIME_DIR": str(runtime), "GROK_MCP_HOME": str(isolated_home)}
    done = run_cli("keys", "show", "--json", env=minimal)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["source"] == "keychain"
    assert shown["key"] == secrets.redact(TEST_KEY)
    assert "SecretService" in shown["backend"]
