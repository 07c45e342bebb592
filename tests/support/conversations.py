"""Conversations for tests, written through the store's one production path (`Store.save_turn`)."""

from __future__ import annotations

from grok_mcp.store import ImportedConversation, NewMessage, Store
from grok_mcp.store.conversations import new_conversation_id


def imported_conversations(
    n: int, *, with_messages: bool = True, start: float = 1_700_000_000.0
) -> list[ImportedConversation]:
    """`n` conversations, one a second from `start`; with messages, each has a question and a priced answer.

    Conversation `i` is titled `conversation {i}`; its answer carries the request id `r{i}`.
    """
    return [
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


def create_conversation(store: Store, *, title: str, model: str | None = None, client: str | None = None) -> str:
    """Start an empty conversation, as a tool's first turn does; returns its id."""
    conversation_id = new_conversation_id()
    store.save_turn(conversation_id, create_with_title=title, model=model, client=client)
    return conversation_id


def add_message(
    store: Store,
    conversation_id: str,
    *,
    role: str,
    content: str,
    parts_json: str | None = None,
    model: str | None = None,
    request_id: str | None = None,
) -> int:
    """Append one message as a turn (bumping the conversation); returns its id.

    Raises ConversationNotFoundError when the conversation does not exist.
    """
    message = NewMessage(role=role, content=content, model=model, request_id=request_id, parts_json=parts_json)
    (message_id,) = store.save_turn(conversation_id, messages=[message])
    return message_id
