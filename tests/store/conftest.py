"""Fixtures for the store tests: a fresh store under tmp_path, and child processes that use the real Store."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from grok_mcp.store import Store

CHILD_SCRIPT = Path(__file__).with_name("child.py")
LINE_TIMEOUT_S = 60.0


class Child:
    """A `child.py` process whose stdout lines arrive on a queue, so the test can wait with a bound."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD_SCRIPT), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        self._stderr.extend(self.process.stderr)

    def next_line(self, timeout: float = LINE_TIMEOUT_S) -> str | None:
        """The next stdout line, or None at end of output; fails the test if none comes within `timeout`."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"child {self.process.args} printed nothing for {timeout} s; stderr: {self.stderr}")

    def expect(self, expected: str) -> None:
        line = self.next_line()
        assert line == expected, f"expected {expected!r}, got {line!r}; stderr: {self.stderr}"

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def remaining_lines(self) -> list[str]:
        """Every line still to come, up to end of output (the process must be exiting)."""
        lines: list[str] = []
        while (line := self.next_line()) is not None:
            lines.append(line)
        return lines

    def finish(self, timeout: float = LINE_TIMEOUT_S) -> int:
        """Wait for the process to exit and for its output to be read; returns its exit code."""
        code = self.process.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=timeout)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code

    def kill(self) -> None:
        self.process.kill()

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)


@pytest.fixture
def soak(request: pytest.FixtureRequest) -> None:
    """Skips a soak test (several minutes of load) unless `-m slow` asked for it by name."""
    if "slow" not in str(request.config.getoption("markexpr", "")):
        pytest.skip("a soak test of several minutes: select it with -m slow")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "grok-mcp.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened
