"""The typed state a server process builds once at start and hands to every tool call."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from server.config import Settings
from server.grok import GrokClient, ModelCatalog
from server.store import Store


class InflightCalls:
    """Counts running tool calls so a shutdown can wait for them, and refuses new ones while draining."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = anyio.Event()
        self._idle.set()
        self.is_draining = False

    @property
    def count(self) -> int:
        return self._count

    def enter(self) -> None:
        self._count += 1
        if self._count == 1:
            self._idle = anyio.Event()

    def leave(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()


@dataclass
class AppContext:
    """What tools receive: settings, the one pooled xAI client, the live catalog and the store."""

    settings: Settings
    grok: GrokClient
    catalog: ModelCatalog
    store: Store
    is_simulated: bool = False
    inflight: InflightCalls = field(default_factory=InflightCalls)
