"""Helpers for the dashboard page tests: a worker and store access over a real SQLite file, and seed data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grok_mcp.store import ImportedConversation, NewMessage, Store
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.worker import Worker
from pytestqt.wait_signal import SignalBlocker


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
    """`n` conversations, one a second from `start`; with messages, each has a question and a priced answer."""
    store.import_conversations(
        [
            ImportedConversation(
                title=f"conversation {i}",
                model="grok-4",
                client="claude-desktop",
                created_at=start + i,
                updated_at=start + i,
                messages=[
                    NewMessage(role="user", content=f"question {i} about apples"),
                    NewMessage(role="assistant", content=f"answer {i} about pears", model="grok-4", request_id=f"r{i}"),
                ]
                if with_messages
                else [],
            )
            for i in range(n)
        ]
    )


def signal_args(blocker: SignalBlocker) -> list[Any]:
    """The arguments a waited-for signal carried (pytest-qt types them as optional)."""
    assert blocker.args is not None, "the signal was not emitted"
    return blocker.args
