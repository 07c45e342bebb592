"""The store queries the tray's dashboard relies on: counts, keyset pages, bulk imports, errors and turn costs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from grok_mcp.store import ImportedConversation, RequestRecord, Store

from tests.support.conversations import add_message, create_conversation, imported_conversations


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "grok-mcp.db") as opened:
        yield opened


def test_import_writes_conversations_with_searchable_messages(store: Store) -> None:
    assert store.import_conversations(imported_conversations(30)) == 30
    assert store.count_conversations() == 30
    newest = store.list_conversations(limit=1)[0]
    assert newest.title == "conversation 29"
    assert newest.message_count == 2
    hits = store.search_messages("apples", limit=100)
    assert len(hits) == 30
    assert store.integrity_ok()


def test_import_with_a_taken_id_writes_nothing(store: Store) -> None:
    items = imported_conversations(3)
    store.import_conversations(items[:1])
    with pytest.raises(sqlite3.IntegrityError):
        store.import_conversations(items)
    assert store.count_conversations() == 1


def test_pages_walk_every_conversation_once_newest_first(store: Store) -> None:
    store.import_conversations(imported_conversations(45))
    seen: list[str] = []
    page = store.conversation_page(limit=10)
    pages = 1
    seen += [c.title for c in page.conversations]
    while page.next_cursor is not None:
        page = store.conversation_page(after=page.next_cursor, limit=10)
        pages += 1
        seen += [c.title for c in page.conversations]
    assert seen == [f"conversation {i}" for i in range(44, -1, -1)]
    assert pages == 5


def test_pages_keep_ties_in_order_without_repeats(store: Store) -> None:
    same_time = [
        ImportedConversation(title=f"t{i}", model=None, client=None, created_at=5.0, updated_at=5.0, messages=[])
        for i in range(7)
    ]
    store.import_conversations(same_time)
    first = store.conversation_page(limit=4)
    rest = store.conversation_page(after=first.next_cursor, limit=4)
    titles = [c.title for c in first.conversations + rest.conversations]
    assert sorted(titles) == sorted(f"t{i}" for i in range(7))
    assert len(set(titles)) == 7
    assert rest.next_cursor is None


def test_an_empty_store_has_one_empty_last_page(store: Store) -> None:
    page = store.conversation_page(limit=10)
    assert page.conversations == []
    assert page.next_cursor is None
    assert store.count_conversations() == 0


def test_recent_search_ranks_matches_among_the_newest(store: Store) -> None:
    store.import_conversations(imported_conversations(50))
    conversation_id = create_conversation(store, title="fruit salad", model=None, client=None)
    add_message(store, conversation_id, role="user", content="apples apples apples and more apples")
    hits = store.search_recent_messages("appl", limit=5, window=20)
    assert len(hits) == 5
    assert hits[0].conversation_title == "fruit salad"
    assert "«apples»" in hits[0].snippet
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # Only the newest 20 matching messages are ranked: conversation 0 is far older than that.
    assert all(
        h.conversation_title != "conversation 0" for h in store.search_recent_messages("apples", limit=50, window=20)
    )


def test_recent_search_takes_any_text_safely(store: Store) -> None:
    store.import_conversations(imported_conversations(3))
    assert store.search_recent_messages('"NEAR( * OR', limit=5) == []
    assert store.search_recent_messages("   ", limit=5) == []
    assert store.search_recent_messages("nothing-like-this", limit=5) == []


def test_recent_errors_lists_only_failures_newest_first(store: Store) -> None:
    store.record_request(RequestRecord(tool="chat", model="grok-4", endpoint="/v1/chat", ts=10.0, status=200))
    store.record_request(
        RequestRecord(
            tool="chat", model="grok-4", endpoint="/v1/chat", ts=20.0, status=429, error="RateLimitedError: slow"
        )
    )
    store.record_request(
        RequestRecord(
            tool="chat", model=None, endpoint="/v1/chat", ts=30.0, status=0, error="UpstreamTimeoutError: late"
        )
    )
    errors = store.recent_errors(limit=10)
    assert [e.error for e in errors] == ["UpstreamTimeoutError: late", "RateLimitedError: slow"]
    assert store.recent_errors(limit=1)[0].ts == 30.0


def test_requests_by_id_finds_the_cost_of_each_turn(store: Store) -> None:
    for i in range(3):
        store.record_request(
            RequestRecord(id=f"req-{i}", tool="chat", model="grok-4", endpoint="/v1/chat", cost_ticks=1000 * (i + 1))
        )
    found = store.requests_by_id(["req-2", "req-0", "missing", "req-0"])
    assert set(found) == {"req-0", "req-2"}
    assert found["req-2"].cost_ticks == 3000
    assert store.requests_by_id([]) == {}


def test_requests_by_id_handles_more_ids_than_one_statement_takes(store: Store) -> None:
    store.record_request(RequestRecord(id="req-1234", tool="chat", model="grok-4", endpoint="/v1/chat", cost_ticks=7))
    found = store.requests_by_id([f"req-{i}" for i in range(2000)])
    assert list(found) == ["req-1234"]
