"""`serve()` runs the simulator as a blocking server that keeps stdout clean."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx2

from tests.support.processes import ROOT, free_port

_SERVE = (
    "from grok_mcp.simulator import SimulatorConfig, serve; serve('127.0.0.1', {port}, SimulatorConfig(latency_ms=1))"
)


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float = 15) -> httpx2.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the simulator exited before it answered"
        try:
            return httpx2.get(url, timeout=1)
        except httpx2.TransportError:
            time.sleep(0.05)  # polling a port with a bound, not waiting for time to pass
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_serve_answers_on_its_port_writes_nothing_to_stdout_and_stops_on_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE.format(port=port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        response = _wait_until_answering(f"http://127.0.0.1:{port}/v1/models", process)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=15)

    assert response.status_code == 401
    assert response.headers["x-simulated"] == "true"
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM)
    assert stdout == b""
