"""Hostile client config files: each file's problem is that client's error line, reads are capped, links are not
followed to create files, and no `<file>.lock` is left in the client's folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import tracemalloc
from pathlib import Path

import pytest
from grok_mcp.clients import ClientManager, HostEnv, get_client
from grok_mcp.clients.errors import ClientSetupError
from grok_mcp.clients.safe_edit import MAX_CONFIG_BYTES

from tests.clients.support import fixture_bytes, manager_for
from tests.clients.test_cli import _env
from tests.support.processes import ROOT, SERVER_COMMAND, run_cli

HUGE_NUMBER = "9" * 5000  # past Python's int-string conversion limit (4300 digits): int() raises ValueError
HOSTILE_NUMBERS = {  # client: (its config file's text, the line of the number)
    "cursor": (f'{{"mcpServers": {{"other": {{"command": "o", "timeout": {HUGE_NUMBER}}}}}}}\n', 1),
    "zed": (f'{{\n  // a comment\n  "context_servers": {{"other": {{"n": {HUGE_NUMBER}}}}}\n}}\n', 3),
    "codex": (f"[mcp_servers.other]\ncommand = 'o'\ntimeout = {HUGE_NUMBER}\n", 3),
    "goose": (f"extensions:\n  other:\n    cmd: o\n    timeout: {HUGE_NUMBER}\n", 4),
    "continue": (f"mcpServers:\n  - name: other\n    timeout: {HUGE_NUMBER}\n", 3),
}
DEEP_YAML = "extensions: " + "[" * 50_000 + "]" * 50_000 + "\n"
BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    + ["extensions: *a9", ""]
)  # nine aliases of nine: 9**10 values once expanded


def _config_path(env: dict[str, str], client: str) -> Path:
    """Where the child `grok-mcp` run with `env` finds `client`'s config file (its folder made)."""
    path = get_client(client).config_path(HostEnv(Path(env["HOME"]), "linux", {}))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _listed(env: dict[str, str]) -> dict[str, dict[str, object]]:
    done = run_cli("clients", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return {row["name"]: row for row in json.loads(done.stdout)}


def _with_a_healthy_cursor(env: dict[str, str]) -> None:
    _config_path(env, "cursor").write_bytes(fixture_bytes("json/other-servers.json"))


@pytest.mark.parametrize("client", sorted(HOSTILE_NUMBERS))
def test_a_5000_digit_number_is_that_clients_error_line_and_the_others_still_list(
    client: str, isolated_home: Path, tmp_path: Path
) -> None:
    env = _env(isolated_home, tmp_path)
    text, line = HOSTILE_NUMBERS[client]
    _config_path(env, client).write_text(text, encoding="utf-8")
    healthy = "claude-code" if client == "cursor" else "cursor"
    _config_path(env, healthy).write_bytes(fixture_bytes("json/other-servers.json"))

    rows = _listed(env)

    assert len(rows) == 13
    problem = str(rows[client]["problem"])
    assert f"(line {line}, column" in problem
    assert "number" in problem
    assert rows[healthy]["problem"] is None
    assert rows[healthy]["status"] == "not configured"
    shown = run_cli("clients", "show", client, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "problem:" in shown.stdout


def test_a_symlink_loop_is_that_clients_error_line_and_the_others_still_list(
    isolated_home: Path, tmp_path: Path
) -> None:
    env = _env(isolated_home, tmp_path)
    loop = _config_path(env, "windsurf")
    loop.symlink_to(loop.with_name("other.json"))
    loop.with_name("other.json").symlink_to(loop)
    _with_a_healthy_cursor(env)

    rows = _listed(env)

    assert "symbolic link" in str(rows["windsurf"]["problem"])
    assert "loop" in str(rows["windsurf"]["problem"])
    assert rows["cursor"]["problem"] is None
    refused = run_cli("clients", "install", "windsurf", env=env)
    assert refused.returncode == 1
    assert "loop" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_deeply_nested_yaml_file_is_that_clients_error_line(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    _config_path(env, "goose").write_text(DEEP_YAML, encoding="utf-8")
    _with_a_healthy_cursor(env)

    rows = _listed(env)

    assert "nested" in str(rows["goose"]["problem"])
    assert rows["cursor"]["problem"] is None


def test_a_billion_laughs_yaml_file_is_that_clients_error_line_and_install_refuses_it(
    isolated_home: Path, tmp_path: Path
) -> None:
    env = _env(isolated_home, tmp_path)
    config = _config_path(env, "goose")
    config.write_text(BILLION_LAUGHS, encoding="utf-8")
    _with_a_healthy_cursor(env)

    rows = _listed(env)  # run_cli's timeout fails this test if the aliases are expanded

    assert "aliases" in str(rows["goose"]["problem"])
    assert rows["cursor"]["problem"] is None
    refused = run_cli("clients", "install", "goose", env=env)
    assert refused.returncode == 1
    assert "aliases" in refused.stderr
    assert config.read_text(encoding="utf-8") == BILLION_LAUGHS


def test_a_fifo_as_a_config_file_is_refused_without_waiting_for_a_writer(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    os.mkfifo(_config_path(env, "cline"))
    _with_a_healthy_cursor(env)

    rows = _listed(env)  # run_cli's timeout fails this test if the read blocks

    assert "not a regular file" in str(rows["cline"]["problem"])
    assert rows["cursor"]["problem"] is None


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.truncate(size)


def test_a_512_mb_config_is_refused_before_it_is_read(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    path = get_client("cursor").config_path(manager.host)
    path.parent.mkdir(parents=True)
    _sparse(path, 512 * 1024 * 1024)

    tracemalloc.start()
    try:
        report = manager.report("cursor")
        with pytest.raises(ClientSetupError, match="MiB"):
            manager.install("cursor")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert f"{MAX_CONFIG_BYTES // (1024 * 1024)} MiB" in str(report.problem)
    assert peak < 8 * 1024 * 1024
    assert path.stat().st_size == 512 * 1024 * 1024


def _run_measured(args: list[str], env: dict[str, str], output: Path) -> tuple[int, int]:
    """Run `grok-mcp args` with stdout to `output`: its exit code and its own peak RSS in KiB (wait4's rusage)."""
    with output.open("w", encoding="utf-8") as sink:
        child = subprocess.Popen([*SERVER_COMMAND, *args], env=env, cwd=ROOT, stdout=sink, stderr=subprocess.DEVNULL)
    watchdog = threading.Timer(60, lambda: os.kill(child.pid, signal.SIGKILL))  # "did not hang", not a timing
    watchdog.start()
    try:
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        watchdog.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, usage.ru_maxrss


def test_clients_list_with_a_512_mb_config_stays_small(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    _sparse(_config_path(env, "claude-desktop"), 512 * 1024 * 1024)
    _with_a_healthy_cursor(env)
    output = tmp_path / "list.json"

    code, peak_kib = _run_measured(["clients", "list", "--json"], env, output)

    assert code == 0
    rows = {row["name"]: row for row in json.loads(output.read_text(encoding="utf-8"))}
    assert "larger than" in str(rows["claude-desktop"]["problem"])
    assert rows["cursor"]["problem"] is None
    assert peak_kib < 250 * 1024  # a Python process with its imports, not 512 MB of config


def test_install_refuses_a_dangling_symlink_and_creates_nothing_at_its_target(
    isolated_home: Path, tmp_path: Path
) -> None:
    env = _env(isolated_home, tmp_path)
    link = _config_path(env, "cursor")
    planted = tmp_path / "elsewhere" / "autostart.sh"
    planted.parent.mkdir()
    link.symlink_to(planted)

    refused = run_cli("clients", "install", "cursor", env=env)

    assert refused.returncode == 1
    assert "does not exist" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not planted.exists()
    assert link.is_symlink()
    assert "does not exist" in str(_listed(env)["cursor"]["problem"])


def test_install_remove_and_undo_leave_no_lock_file_in_the_clients_folder(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    path = get_client("cursor").config_path(manager.host)
    path.parent.mkdir(parents=True)
    path.write_bytes(fixture_bytes("json/other-servers.json"))

    manager.install("cursor")
    assert sorted(p.name for p in path.parent.iterdir()) == ["mcp.json"]
    manager.remove("cursor")
    manager.undo("cursor")
    assert sorted(p.name for p in path.parent.iterdir()) == ["mcp.json"]


def test_a_planted_lock_symlink_does_not_make_install_create_its_target(tmp_path: Path) -> None:
    manager: ClientManager = manager_for(tmp_path)
    path = get_client("cursor").config_path(manager.host)
    path.parent.mkdir(parents=True)
    path.write_bytes(fixture_bytes("json/other-servers.json"))
    planted = tmp_path / "planted"
    path.with_name("mcp.json.lock").symlink_to(planted)

    with pytest.raises(ClientSetupError, match="lock"):
        manager.install("cursor")

    assert not planted.exists()
    assert path.read_bytes() == fixture_bytes("json/other-servers.json")
