"""Frozen-build benchmarks: the bundled server's cold start to its `initialize` answer, and the bundle's sizes.

`bench_dist(dist_dir, report)` is the entry point `make bench` can call after `make dist` (report has
bench.__main__.report's signature); `python -m bench.dist [DIST_DIR]` runs it alone. Without a bundle in
DIST_DIR (default build/dist) it prints one line saying so and measures nothing.
"""

from __future__ import annotations

import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIST = ROOT / "build" / "dist"
Report = Callable[..., None]
RUNS = 7
COLD_START_TARGET_S = 0.6
BUNDLE_TARGET_MB = 180.0
DEB_TARGET_MB = 90.0
MB = 1_000_000
KEY = "xai-bench-cold-start-key-0001"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}


def cold_start_s(server: Path, home: Path, *, timeout_s: float = 30.0) -> float:
    """Seconds from spawning `server serve` (stdio) to the first byte-complete line of its initialize answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XAI_", "GROK_MCP_"))}
    env.update(GROK_MCP_HOME=str(home), XAI_API_KEY=KEY, GROK_MCP_BASE_URL="http://127.0.0.1:9/v1")
    request = (json.dumps(INITIALIZE) + "\n").encode()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(server), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(request)
        process.stdin.flush()
        answer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while not answer.endswith(b"\n"):
                remaining = started + timeout_s - time.perf_counter()
                if remaining <= 0 or not selector.select(remaining):
                    raise TimeoutError(f"{server} gave no initialize answer within {timeout_s} s")
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError(f"{server} exited with {process.wait()} before answering initialize")
                answer += chunk
        elapsed = time.perf_counter() - started
        if json.loads(answer.splitlines()[0]).get("id") != 1:
            raise RuntimeError(f"unexpected first message from {server}: {answer[:200]!r}")
        return elapsed
    finally:
        process.stdin.close()  # EOF: the stdio server drains and exits
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def tree_bytes(folder: Path) -> int:
    """Apparent size of every regular file under folder (symlinks count as links, not as their targets)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def measure(dist_dir: Path, *, runs: int = RUNS) -> dict[str, float]:
    """The raw numbers: cold start median (and all runs) in seconds, sizes in MB (10^6 bytes)."""
    bundle = dist_dir / "grok-mcp"
    with tempfile.TemporaryDirectory(prefix="grok-mcp-bench-dist-") as tmp:
        cold_start_s(bundle / "grok-mcp", Path(tmp) / "warm-up")  # the first run pays for the page cache
        times = [cold_start_s(bundle / "grok-mcp", Path(tmp) / f"run-{i}") for i in range(runs)]
    numbers: dict[str, float] = {
        "cold_start_median_s": statistics.median(times),
        "cold_start_min_s": min(times),
        "cold_start_max_s": max(times),
        "bundle_mb": tree_bytes(bundle) / MB,
    }
    debs = sorted(dist_dir.glob("grok-mcp_*_amd64.deb"))
    if debs:
        numbers["deb_mb"] = debs[-1].stat().st_size / MB
    return numbers


def bench_dist(dist_dir: Path, report: Report) -> None:
    """Measure and report against the targets (issue 6): ≤ 0.6 s cold start, ≤ 180 MB bundle, ≤ 90 MB .deb."""
    server = dist_dir / "grok-mcp" / ("grok-mcp.exe" if sys.platform == "win32" else "grok-mcp")
    if not server.is_file():
        print(f"bench.dist: no bundle at {server.parent}; run `make dist` first (skipped)")
        return
    numbers = measure(dist_dir)
    report(
        f"bundled server cold start to initialize (median of {RUNS})",
        numbers["cold_start_median_s"],
        "s",
        COLD_START_TARGET_S,
    )
    report("Linux bundle installed size", numbers["bundle_mb"], "MB", BUNDLE_TARGET_MB)
    if "deb_mb" in numbers:
        report(".deb size", numbers["deb_mb"], "MB", DEB_TARGET_MB)


def _print_report(name: str, value: float, unit: str, target: float, *, lower_is_better: bool = True) -> None:
    met = value <= target if lower_is_better else value >= target
    print(f"{name:58} {value:10.3f} {unit:3}  target ≤ {target:g} {unit}  {'ok' if met else 'MISSED'}")


if __name__ == "__main__":
    bench_dist(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIST, _print_report)
