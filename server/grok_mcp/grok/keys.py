"""The API key for each request, with any keychain read done in a worker thread, never on the event loop.

A key source is a plain `() -> str`. One that re-reads the OS keychain now and then (grok_mcp.secrets'
ApiKeyProvider) also says when its next call would read, so async callers can do that read in a worker
thread first. A keychain answers in milliseconds, but a locked, busy or hung one can take seconds; on the
event loop that would stall every call the server is serving, not only the one that needs the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import anyio


@runtime_checkable
class RefreshingKey(Protocol):
    """A key source that re-reads a slow store (the OS keychain) when its copy is due for a refresh."""

    def __call__(self) -> str: ...

    def refresh_due(self) -> bool:
        """Whether the next call would read the store (cheap, never blocks)."""
        ...

    def refresh(self) -> None:
        """Read the store now (blocks; raises nothing: a failure is kept for the next call to raise)."""
        ...


async def key_ready(source: Callable[[], str]) -> None:
    """Make the next `source()` answer from memory: a refresh it has due happens now, in a worker thread."""
    if isinstance(source, RefreshingKey) and source.refresh_due():
        await anyio.to_thread.run_sync(source.refresh)
