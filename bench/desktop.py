"""Tray benchmarks: launch of `python -m grok_mcp_desktop` to a healthy server child, and the idle tray's RSS and CPU.

`bench_desktop(home, report)` is the entry point `make bench` calls (report has bench.__main__.report's
signature); `python -m bench.desktop` runs it alone. Skipped, with a line saying so, without PySide6.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.processes import free_port, stop_process, wait_for_health

ROOT = Path(__file__).resolve().parents[1]
Report = Callable[..., None]
IDLE_WINDOW_S = 5.0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_desktop(home: Path, report: Report) -> None:
    """Launch the tray (demo mode, offscreen) and report launch → healthy child, idle RSS and idle CPU."""
    if importlib.util.find_spec("PySide6") is None:
        print("desktop benchmarks skipped: PySide6 is not installed (pip install 'grok-mcp[desktop]')")
        return
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XAI_", "GROK_MCP_"))}
    # A key in the environment skips the keychain (none on a bench machine); demo mode needs none of it.
    env.update(
        GROK_MCP_HOME=str(home),
        GROK_MCP_PORT=str(port),
        GROK_MCP_HTTP_TOKEN="bench-token-" + "0" * 24,
        XAI_API_KEY="xai-bench-desktop-key-0001",
        GROK_MCP_BASE_URL="http://127.0.0.1:9/v1",  # never called: nothing asks the server for a model
        QT_QPA_PLATFORM="offscreen",
    )
    started = time.perf_counter()
    tray = subprocess.Popen(
        [sys.executable, "-m", "grok_mcp_desktop"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}", tray, timeout=30, who="the tray", poll_s=0.01)
        child = int(health["pid"])
        report("tray launch → healthy server child", time.perf_counter() - started, "s", 2.0)
        # Let the start-up work (model probe, first usage read) settle, then watch an idle minute's slice.
        time.sleep(2.0)
        cpu_before = _cpu_s(tray.pid)
        time.sleep(IDLE_WINDOW_S)
        cpu_idle = _cpu_s(tray.pid) - cpu_before
        report("idle tray RSS", _rss_mb(tray.pid), "MB", 150)
        report(f"idle tray CPU over {IDLE_WINDOW_S:g} s (no busy polling)", cpu_idle, "s", 0.25)
        print(f"  server child pid {child}: RSS {_rss_mb(child):.1f} MB (not counted in the tray's)")
    finally:
        stop_process(tray, timeout_s=40)


def _print_report(name: str, value: float, unit: str, target: float, *, lower_is_better: bool = True) -> None:
    met = value <= target if lower_is_better else value >= target
    print(f"{name:58} {value:10.3f} {unit:3}  target ≤ {target:g} {unit}  {'ok' if met else 'MISSED'}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        bench_desktop(Path(tmp) / "desktop", _print_report)
