"""Two processes writing one config file at once: the lock serializes them, so no change is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.clients.test_cli import _env
from tests.support.processes import ROOT

WRITER = """
import sys
from pathlib import Path
from grok_mcp.clients.jsonc import JsonFormat
from grok_mcp.clients.safe_edit import BackupStore, apply_change

target, prefix = Path(sys.argv[1]), sys.argv[2]
fmt = JsonFormat(is_jsonc=False)
backups = BackupStore(target.parent / "backups", "test", target)
for i in range(25):
    def add(before, i=i):
        text, _ = fmt.set_entry(before.decode(), target, "mcpServers", f"{prefix}{i}", {"command": "x"})
        return text.encode()
    apply_change(target, add, verify=lambda after: None, backups=backups)
"""


def test_two_writers_at_once_keep_every_change(tmp_path: Path) -> None:
    target = tmp_path / "shared.json"
    target.write_text("{}\n", encoding="utf-8")
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(target), prefix], cwd=ROOT, stderr=subprocess.PIPE)
        for prefix in ("a", "b")
    ]
    for writer in writers:
        _, stderr = writer.communicate(timeout=60)
        assert writer.returncode == 0, stderr.decode()

    servers = json.loads(target.read_text(encoding="utf-8"))["mcpServers"]
    assert sorted(servers) == sorted([f"a{i}" for i in range(25)] + [f"b{i}" for i in range(25)])


def test_two_installers_at_once_leave_one_valid_entry(isolated_home: Path, tmp_path: Path) -> None:
    env = _env(isolated_home, tmp_path)
    config = Path(env["HOME"]) / ".cursor" / "mcp.json"
    config.parent.mkdir(parents=True)
    config.write_text('{"mcpServers": {"other": {"command": "o"}}}', encoding="utf-8")
    installers = [
        subprocess.Popen(
            [sys.executable, "-m", "grok_mcp", "clients", "install", "cursor", *extra],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for extra in (("--force",), ("--http", "--force"))  # the start check has its own tests
    ]
    for installer in installers:
        _, stderr = installer.communicate(timeout=60)
        assert installer.returncode == 0, stderr.decode()

    servers = json.loads(config.read_text(encoding="utf-8"))["mcpServers"]
    assert sorted(servers) == ["grok", "other"]
