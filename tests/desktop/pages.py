"""Helpers for the dashboard page tests: a worker and store access over a real SQLite file, and seed data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grok_mcp.store import RequestRecord, Store
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.worker import Worker
from pytestqt.wait_signal import SignalBlocker

from tests.support.conversations import imported_conversations


@contextmanager
def store_access(path: Path) -> Iterator[StoreAccess]:
    """A StoreAccess with its own Worker, shut down and closed afterwards."""
    worker = Worker()
    access = StoreAccess(path, worker)
    try:
        yield access
    finally:
        worker.shutdown()
        access.close()


def seed_conversations(store: Store, n: int, *, with_messages: bool = True, start: float = 1_700_000_000.0) -> None:
    """Import `imported_conversations(n, ...)`: conversation `i` with a question and an answer (request id `r{i}`)."""
    store.import_conversations(imported_conversations(n, with_messages=with_messages, start=start))


def price_answer(store: Store, i: int, cost_ticks: int) -> None:
    """Record the request behind seeded conversation `i`'s answer, so its turn shows what it cost."""
    store.record_request(
        RequestRecord(id=f"r{i}", tool="chat", model="grok-4", endpoint="/v1/chat", cost_ticks=cost_ticks)
    )


def signal_args(blocker: SignalBlocker) -> list[Any]:
    """The arguments a waited-for signal carried (pytest-qt types them as optional)."""
    assert blocker.args is not None, "the signal was not emitted"
    return blocker.args
