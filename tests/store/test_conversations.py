"""Conversations: creating, appending, listing, reading, deleting and searching them."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest
from grok_mcp.store import SNIPPET_END, SNIPPET_START, ConversationNotFoundError, Store
from grok_mcp.store.conversations import fts_query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.conversations import add_message, create_conversation


def _fts_matches(store: Store, word: str) -> int:
    """How many entries the search index itself holds for `word` (not filtered through the messages table)."""
    with closing(sqlite3.connect(store.path)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?", (word,)).fetchone()
    return int(count)


def test_a_new_conversation_has_a_hex_id_and_no_messages(store: Store) -> None:
    conversation_id = create_conversation(store, title="Trip to Lisbon", model="grok-4", client="claude-desktop")
    assert re.fullmatch(r"[0-9a-f]{32}", conversation_id)
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    assert (conversation.title, conversation.model, conversation.client) == (
        "Trip to Lisbon",
        "grok-4",
        "claude-desktop",
    )
    assert conversation.messages == []
    assert conversation.created_at == conversation.updated_at


def test_messages_read_back_in_order_with_every_field(store: Store) -> None:
    conversation_id = create_conversation(store, title="t", model=None, client=None)
    first = add_message(store, conversation_id, role="user", content="What is 2+2?")
    second = add_message(
        store,
        conversation_id,
        role="assistant",
        content="4",
        parts_json='[{"type": "text", "text": "4"}]',
        model="grok-4",
        request_id="req-9",
    )
    assert second > first
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    assert [(m.id, m.role, m.content) for m in conversation.messages] == [
        (first, "user", "What is 2+2?"),
        (second, "assistant", "4"),
    ]
    reply = conversation.messages[1]
    assert (reply.parts_json, reply.model, reply.request_id) == (
        '[{"type": "text", "text": "4"}]',
        "grok-4",
        "req-9",
    )
    assert reply.conversation_id == conversation_id
    assert conversation.updated_at == reply.created_at >= conversation.created_at


def test_adding_a_message_moves_its_conversation_to_the_top_of_the_list(store: Store) -> None:
    older = create_conversation(store, title="older", model=None, client=None)
    newer = create_conversation(store, title="newer", model=None, client=None)
    assert [c.id for c in store.list_conversations()] == [newer, older]

    add_message(store, older, role="user", content="hello again")
    add_message(store, older, role="assistant", content="hi")

    listed = store.list_conversations()
    assert [(c.id, c.message_count) for c in listed] == [(older, 2), (newer, 0)]


def test_listing_pages_with_limit_and_offset(store: Store) -> None:
    ids = [create_conversation(store, title=f"c{i}", model=None, client=None) for i in range(5)]
    newest_first = list(reversed(ids))
    assert [c.id for c in store.list_conversations(limit=2)] == newest_first[:2]
    assert [c.id for c in store.list_conversations(limit=2, offset=2)] == newest_first[2:4]
    assert [c.id for c in store.list_conversations(limit=10, offset=4)] == newest_first[4:]
    assert store.list_conversations(limit=0) == []


def test_a_missing_conversation_reads_as_none_and_refuses_messages(store: Store) -> None:
    assert store.get_conversation("nope") is None
    with pytest.raises(ConversationNotFoundError, match="nope"):
        add_message(store, "nope", role="user", content="lost")
    assert store.search_messages("lost") == []


def test_deleting_a_conversation_removes_its_messages_and_search_entries(store: Store) -> None:
    doomed = create_conversation(store, title="doomed", model=None, client=None)
    kept = create_conversation(store, title="kept", model=None, client=None)
    add_message(store, doomed, role="user", content="the zebra crossing")
    add_message(store, kept, role="user", content="a zebra in the zoo")
    assert _fts_matches(store, "zebra") == 2

    assert store.delete_conversation(doomed) is True

    assert store.get_conversation(doomed) is None
    assert _fts_matches(store, "zebra") == 1
    assert [hit.conversation_id for hit in store.search_messages("zebra")] == [kept]
    assert store.delete_conversation(doomed) is False
    assert store.integrity_ok()


def test_search_ranks_the_closest_match_first_and_marks_it_in_the_snippet(store: Store) -> None:
    conversation_id = create_conversation(store, title="Pets", model=None, client=None)
    add_message(store, conversation_id, role="user", content="My cat likes boxes, " + "and sleeping a lot. " * 20)
    best = add_message(store, conversation_id, role="assistant", content="Cat, cat, cat: a cat is a cat.")
    add_message(store, conversation_id, role="user", content="Dogs bark.")

    hits = store.search_messages("cat")

    assert hits[0].message_id == best
    assert len(hits) == 2
    assert hits[0].score > hits[1].score
    assert hits[0].conversation_title == "Pets"
    assert hits[0].role == "assistant"
    assert f"{SNIPPET_START}Cat{SNIPPET_END}" in hits[0].snippet
    assert f"{SNIPPET_START}cat{SNIPPET_END}" in hits[1].snippet


def test_search_needs_every_word_matches_the_last_as_a_prefix_and_ignores_accents(store: Store) -> None:
    conversation_id = create_conversation(store, title="t", model=None, client=None)
    add_message(store, conversation_id, role="user", content="Meet me at the Café Nicola in Lisbon")
    add_message(store, conversation_id, role="user", content="The cafe in Porto")

    assert len(store.search_messages("cafe lisbon")) == 1
    assert len(store.search_messages("CAFÉ")) == 2
    assert len(store.search_messages("caf")) == 2
    assert len(store.search_messages("nicola lis")) == 1
    assert store.search_messages("café madrid") == []


def test_search_respects_the_limit(store: Store) -> None:
    conversation_id = create_conversation(store, title="t", model=None, client=None)
    for i in range(5):
        add_message(store, conversation_id, role="user", content=f"echo number {i}")
    assert len(store.search_messages("echo", limit=3)) == 3
    assert store.search_messages("echo", limit=0) == []


HOSTILE_QUERIES = [
    "",
    "   ",
    '"',
    '""',
    '"unbalanced',
    "AND OR",
    "NOT",
    "*",
    "***",
    "NEAR(",
    "NEAR(a b, 2)",
    "content:zebra",
    "^zebra",
    "-zebra",
    "(zebra",
    "zebra)",
    "{content}: x",
    "a + b",
    "'; DROP TABLE messages; --",
    "\x00",
    "zeb\x00ra",
    "🦓 zebra",
    "日本語のテキスト",
    "Ünïcödé",
    "x" * 5000,
    " ".join(["word"] * 500),
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_search_text_never_raises(store: Store, query: str) -> None:
    conversation_id = create_conversation(store, title="t", model=None, client=None)
    add_message(store, conversation_id, role="user", content="a zebra said: NEAR( AND OR * content:zebra 🦓")
    hits = store.search_messages(query)
    assert isinstance(hits, list)
    assert store.integrity_ok()


def test_operators_in_search_text_are_searched_as_words(store: Store) -> None:
    conversation_id = create_conversation(store, title="t", model=None, client=None)
    add_message(store, conversation_id, role="user", content="cats and dogs")
    add_message(store, conversation_id, role="user", content="cats or birds")
    assert len(store.search_messages("cats OR birds")) == 1, "OR is a word here, not an operator"
    assert len(store.search_messages("cats NOT dogs")) == 0, "NOT is a word here, not an operator"


def test_search_text_without_words_makes_no_query() -> None:
    assert fts_query("") is None
    assert fts_query(" \t\n\x00 ") is None
    assert fts_query('say "hi"') == '"say" """hi"""*'


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text())
def test_any_text_is_a_valid_search(store: Store, query: str) -> None:
    store.search_messages(query)
