"""The `simulator` fixture: the simulated xAI API served by uvicorn on a free loopback port.

One server runs per test session (in a background thread); every test that asks for `simulator`
starts from a reset one: no faults, no request log, no stored responses, default pacing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
import uvicorn
from grok_mcp.hosting.sockets import bind_loopback
from grok_mcp.simulator import SimulatorConfig, create_app
from starlette.types import ASGIApp as ASGIApplication

TEST_KEY = "xai-test-simulator-key-0001"
_STARTUP_TIMEOUT_S = 10.0


@dataclass
class RunningSimulator:
    """A simulator on loopback, with helpers for its `/_sim` control API."""

    host: str
    port: int
    client: httpx2.Client = field(repr=False)

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a client uses as its xAI base URL (like `https://api.x.ai/v1`)."""
        return f"{self.root_url}/v1"

    def add_faults(self, *faults: dict[str, Any]) -> None:
        """Queue faults, e.g. `add_faults({"kind": "status", "status": 503, "count": 2})`."""
        response = self.client.post("/_sim/faults", json={"faults": list(faults)})
        response.raise_for_status()

    def set_config(self, **settings: Any) -> None:
        """Change pacing or the retired-model mode, e.g. `set_config(latency_ms=200)`."""
        self.client.post("/_sim/config", json=settings).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """The `/v1` requests that reached the simulator since the last reset, oldest first."""
        response = self.client.get("/_sim/requests")
        response.raise_for_status()
        return list(response.json()["requests"])

    def request_count(self, path: str | None = None) -> int:
        """How many `/v1` requests (optionally only those to `path`) reached the simulator."""
        return sum(1 for entry in self.requests() if path is None or entry["path"] == path)

    def reset(self) -> None:
        """Forget faults, the log, stored responses, the prompt cache and config overrides."""
        self.client.post("/_sim/reset").raise_for_status()


class AppThread:
    """uvicorn serving an ASGI app (the simulator, a test proxy) from a pre-bound socket in a daemon thread."""

    def __init__(self, app: ASGIApplication, name: str = "xai-simulator") -> None:
        self.socket = bind_loopback()  # TCP_NODELAY-ready, as the servers bind theirs
        self.port: int = self.socket.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="on",
                ws="none",
                timeout_graceful_shutdown=1,
            )
        )
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self.socket])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


def start_simulator(config: SimulatorConfig | None = None) -> tuple[RunningSimulator, AppThread]:
    """Start a simulator and wait (bounded) until it answers on its port."""
    server = AppThread(create_app(config or SimulatorConfig()))
    server.start()
    client = httpx2.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=_STARTUP_TIMEOUT_S)
    # The socket is already listening, so this waits in the backlog until uvicorn accepts: no polling.
    client.get("/_sim/requests").raise_for_status()
    return RunningSimulator("127.0.0.1", server.port, client), server


@pytest.fixture(scope="session")
def simulator_session() -> Iterator[RunningSimulator]:
    """One simulator for the whole test session."""
    running, server = start_simulator()
    try:
        yield running
    finally:
        running.client.close()
        server.stop()


@pytest.fixture
def simulator(simulator_session: RunningSimulator) -> RunningSimulator:
    """The session's simulator, freshly reset for this test."""
    simulator_session.reset()
    return simulator_session
