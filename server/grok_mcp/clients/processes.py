"""Is a program running? Process names from /proc on Linux, `ps` on macOS and `tasklist` on Windows."""

from __future__ import annotations

import csv
import io
import logging
import subprocess
from pathlib import Path

from grok_mcp.clients.base import Platform

logger = logging.getLogger(__name__)
_COMMAND_TIMEOUT_S = 5.0


def linux_process_names(proc: Path = Path("/proc")) -> set[str]:
    """Every running process's short name (`comm`) and executable file name, read from `/proc`."""
    names: set[str] = set()
    entries: list[Path] = list(proc.iterdir()) if proc.is_dir() else []
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            names.add((entry / "comm").read_text(encoding="utf-8", errors="replace").strip())
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:  # the process ended while we looked
            continue
        if argv0:
            names.add(Path(argv0.decode("utf-8", errors="replace")).name)
    return names


def _command_names(command: list[str], *, is_csv: bool) -> set[str]:
    try:
        done = subprocess.run(  # noqa: S603 (a fixed command, no shell)
            command, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.debug("Could not list processes with %s: %s", command[0], exc)
        return set()
    if is_csv:
        return {row[0] for row in csv.reader(io.StringIO(done.stdout)) if row}
    return {Path(line.strip()).name for line in done.stdout.splitlines() if line.strip()}


def process_names(platform: Platform, *, proc: Path = Path("/proc")) -> set[str]:
    """The names of the processes running now (empty when they cannot be listed)."""
    if platform == "linux":
        return linux_process_names(proc)
    if platform == "darwin":
        return _command_names(["/bin/ps", "-axo", "comm="], is_csv=False)
    return _command_names(["tasklist", "/FO", "CSV", "/NH"], is_csv=True)


def is_running(names: frozenset[str], platform: Platform, *, proc: Path = Path("/proc")) -> bool:
    """Whether any process with one of these names runs now."""
    return bool(names) and not names.isdisjoint(process_names(platform, proc=proc))
