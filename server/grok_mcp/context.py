"""The typed state a server process builds once at start and hands to every tool call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from grok_mcp.calls import CallPipeline
from grok_mcp.calls.request_log import RequestLog
from grok_mcp.config import Settings
from grok_mcp.grok import GrokClient, ModelCatalog
from grok_mcp.store import Store

if TYPE_CHECKING:  # imported only where metrics are served (HTTP mode): prometheus_client is not free to import
    from grok_mcp.hosting.metrics import Metrics


class InflightCalls:
    """The running tool calls: a shutdown waits for them, refuses new ones while draining, and can cancel them."""

    def __init__(self) -> None:
        self._scopes: set[anyio.CancelScope] = set()
        self._idle = anyio.Event()
        self._idle.set()
        self.is_draining = False

    @property
    def count(self) -> int:
        return len(self._scopes)

    def enter(self, scope: anyio.CancelScope) -> None:
        if not self._scopes:
            self._idle = anyio.Event()
        self._scopes.add(scope)

    def leave(self, scope: anyio.CancelScope) -> None:
        self._scopes.discard(scope)
        if not self._scopes:
            self._idle.set()

    def cancel_all(self) -> None:
        """Stop every running call now (each ends with an error saying the server is shutting down)."""
        for scope in list(self._scopes):
            scope.cancel()

    async def wait_idle(self) -> None:
        await self._idle.wait()


@dataclass
class AppContext:
    """What tools receive: settings, the one pooled xAI client, the live catalog, the store and the call pipeline."""

    settings: Settings
    grok: GrokClient
    catalog: ModelCatalog
    store: Store
    is_simulated: bool = False
    inflight: InflightCalls = field(default_factory=InflightCalls)
    pipeline: CallPipeline = field(default_factory=CallPipeline)
    request_log: RequestLog | None = None
    metrics: Metrics | None = None
    """Prometheus counters, in HTTP mode (GET /metrics); None elsewhere."""

    @property
    def answers_are_simulated(self) -> bool:
        """Whether answers come from the simulator: demo mode, or a base URL that turned out to be the simulator."""
        return self.is_simulated or self.grok.simulated
