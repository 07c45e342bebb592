"""Turns of a remembered conversation: saved atomically, with token counts, and a replaceable system prompt."""

from __future__ import annotations

import pytest
from grok_mcp.store import ConversationNotFoundError, Store
from grok_mcp.store.conversations import NewMessage, new_conversation_id


def test_a_turn_creates_its_conversation_with_every_message_and_token_count(store: Store) -> None:
    conversation_id = new_conversation_id()
    store.save_turn(
        conversation_id,
        create_with_title="Lisbon trip",
        model="grok-4",
        client="claude-ai",
        system=NewMessage("system", "Be brief.", tokens=7),
        messages=[
            NewMessage("user", "Where should I eat?", tokens=9),
            NewMessage("assistant", "Try Alfama.", model="grok-4", request_id="req-1", tokens=6),
        ],
    )
    context = store.conversation_context(conversation_id)
    assert context is not None and context.model == "grok-4"
    assert [(m.role, m.content, m.tokens) for m in context.messages] == [
        ("system", "Be brief.", 7),
        ("user", "Where should I eat?", 9),
        ("assistant", "Try Alfama.", 6),
    ]
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    assert (conversation.title, conversation.client) == ("Lisbon trip", "claude-ai")
    assert conversation.messages[2].request_id == "req-1"
    assert conversation.messages[2].model == "grok-4"


def test_a_later_turn_replaces_the_system_prompt_in_place_and_records_the_model_now_used(store: Store) -> None:
    conversation_id = new_conversation_id()
    store.save_turn(
        conversation_id,
        create_with_title="t",
        model="grok-4",
        system=NewMessage("system", "Answer in French."),
        messages=[NewMessage("user", "hello"), NewMessage("assistant", "bonjour")],
    )
    store.save_turn(
        conversation_id,
        model="grok-3-mini",
        system=NewMessage("system", "Answer in Portuguese.", tokens=5),
        messages=[NewMessage("user", "again"), NewMessage("assistant", "olá")],
    )
    context = store.conversation_context(conversation_id)
    assert context is not None and context.model == "grok-3-mini"
    assert [m.content for m in context.messages] == ["Answer in Portuguese.", "hello", "bonjour", "again", "olá"]
    assert context.messages[0].tokens == 5
    assert store.search_messages("French", limit=5) == []
    assert [h.role for h in store.search_messages("Portuguese", limit=5)] == ["system"]


def test_a_system_prompt_given_late_is_added_once(store: Store) -> None:
    conversation_id = new_conversation_id()
    store.save_turn(conversation_id, create_with_title="t", messages=[NewMessage("user", "hi")])
    store.save_turn(conversation_id, system=NewMessage("system", "Be kind."), messages=[NewMessage("user", "hey")])
    store.save_turn(conversation_id, system=NewMessage("system", "Be terse."), messages=[])
    context = store.conversation_context(conversation_id)
    assert context is not None
    assert [(m.role, m.content) for m in context.messages] == [("user", "hi"), ("system", "Be terse."), ("user", "hey")]


def test_token_updates_set_measured_counts_of_earlier_messages(store: Store) -> None:
    conversation_id = new_conversation_id()
    store.save_turn(conversation_id, create_with_title="t", messages=[NewMessage("user", "one")])
    context = store.conversation_context(conversation_id)
    assert context is not None and context.messages[0].tokens is None
    store.save_turn(conversation_id, messages=[], token_updates={context.messages[0].id: 12})
    again = store.conversation_context(conversation_id)
    assert again is not None and again.messages[0].tokens == 12


def test_a_turn_for_a_deleted_conversation_is_refused_and_writes_nothing(store: Store) -> None:
    conversation_id = new_conversation_id()
    store.save_turn(conversation_id, create_with_title="t", messages=[NewMessage("user", "first")])
    assert store.delete_conversation(conversation_id)
    with pytest.raises(ConversationNotFoundError, match=conversation_id):
        store.save_turn(conversation_id, messages=[NewMessage("user", "orphan")])
    assert store.search_messages("orphan", limit=5) == []
    assert store.conversation_context(conversation_id) is None


def test_an_unknown_conversation_has_no_context(store: Store) -> None:
    assert store.conversation_context(new_conversation_id()) is None
