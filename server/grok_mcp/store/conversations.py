"""Conversations and their messages, with full-text search over message text."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from grok_mcp.store.db import execute, from_row, rows

SNIPPET_START = "«"
"""Marks the start of a matched term in `SearchHit.snippet`."""

SNIPPET_END = "»"
"""Marks the end of a matched term in `SearchHit.snippet`."""

SNIPPET_ELLIPSIS = "…"
_SNIPPET_TOKENS = 16
_MAX_QUERY_TERMS = 32
# Characters FTS5 cannot take even inside a quoted string (NUL ends it) or that only add noise.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Message:
    """One message of a conversation; `parts_json` keeps multimodal parts as the caller gave them."""

    id: int
    conversation_id: str
    role: str
    content: str
    parts_json: str | None
    model: str | None
    created_at: float
    request_id: str | None


@dataclass(frozen=True)
class ConversationHead:
    """What a conversation's row says of it: the facts it is listed and shown with."""

    id: str
    title: str
    model: str | None
    created_at: float
    updated_at: float
    client: str | None


@dataclass(frozen=True)
class ConversationSummary(ConversationHead):
    """A conversation as listed, without its messages."""

    message_count: int


@dataclass(frozen=True)
class Conversation(ConversationHead):
    """A conversation with all its messages, oldest first."""

    messages: list[Message]


@dataclass(frozen=True)
class SearchHit:
    """A message that matched a search; `snippet` marks matched terms with SNIPPET_START and SNIPPET_END."""

    conversation_id: str
    conversation_title: str
    message_id: int
    role: str
    snippet: str
    created_at: float
    score: float
    """Relevance from FTS5's bm25, negated so that higher is better."""


class ConversationNotFoundError(LookupError):
    """No conversation has the given id."""


def fts_query(text: str) -> str | None:
    """A safe FTS5 query for free text: every term quoted so no FTS5 syntax survives, the last as a prefix.

    Returns None when the text holds no searchable term.
    """
    terms = _CONTROL_CHARACTERS.sub(" ", text).split()[:_MAX_QUERY_TERMS]
    if not terms:
        return None
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


def _insert_conversation(
    db: sqlite_utils.Database, conversation_id: str, *, title: str, model: str | None, client: str | None, now: float
) -> None:
    db.table("conversations").insert(
        {"id": conversation_id, "title": title, "model": model, "created_at": now, "updated_at": now, "client": client}
    )


def _bump_conversation(db: sqlite_utils.Database, conversation_id: str, *, now: float, model: str | None) -> None:
    """Move `updated_at` forward (and record `model`, when given); raises ConversationNotFoundError."""
    bumped = execute(
        db,
        "UPDATE conversations SET updated_at = max(updated_at, ?), model = coalesce(?, model) WHERE id = ?",
        (now, model, conversation_id),
    )
    if bumped.rowcount == 0:
        raise ConversationNotFoundError(f"No conversation has the id {conversation_id!r}.")


def list_conversations(db: sqlite_utils.Database, *, limit: int, offset: int) -> list[ConversationSummary]:
    """Conversations, most recently updated first."""
    result = execute(
        db,
        """
        SELECT c.id, c.title, c.model, c.created_at, c.updated_at, c.client,
               (SELECT count(*) FROM messages AS m WHERE m.conversation_id = c.id) AS message_count
        FROM conversations AS c
        ORDER BY c.updated_at DESC, c.rowid DESC
        LIMIT ? OFFSET ?
        """,
        (max(limit, 0), max(offset, 0)),
    )
    return [from_row(ConversationSummary, row) for row in rows(result)]


def get_conversation(db: sqlite_utils.Database, conversation_id: str) -> Conversation | None:
    """The conversation with its messages in order, or None when there is no such conversation."""
    found = rows(
        execute(
            db,
            "SELECT id, title, model, created_at, updated_at, client FROM conversations WHERE id = ?",
            (conversation_id,),
        )
    )
    if not found:
        return None
    messages = rows(
        execute(
            db,
            """
            SELECT id, conversation_id, role, content, parts_json, model, created_at, request_id
            FROM messages WHERE conversation_id = ? ORDER BY id
            """,
            (conversation_id,),
        )
    )
    return from_row(Conversation, found[0], messages=[from_row(Message, row) for row in messages])


def search_messages(db: sqlite_utils.Database, query: str, *, limit: int) -> list[SearchHit]:
    """Messages matching the words of `query`, best first (bm25), each with a snippet.

    Any text is accepted: FTS5 operators and punctuation in it are searched for as plain words.
    """
    match = fts_query(query)
    if match is None or limit <= 0:
        return []
    return _ranked_hits(db, match, limit=limit)


def _ranked_hits(db: sqlite_utils.Database, match: str, *, limit: int, lowest: int | None = None) -> list[SearchHit]:
    """The best `limit` messages (bm25) for an FTS5 match expression, with snippets; only rowids from
    `lowest` up when it is given."""
    bound = " AND messages_fts.rowid >= :lowest" if lowest is not None else ""
    result = execute(
        db,
        f"""
        SELECT m.id AS message_id, m.conversation_id, c.title, m.role, m.created_at,
               snippet(messages_fts, 0, :start, :end, :ellipsis, :tokens) AS snippet,
               messages_fts.rank AS rank
        FROM messages_fts
        JOIN messages AS m ON m.id = messages_fts.rowid
        JOIN conversations AS c ON c.id = m.conversation_id
        WHERE messages_fts MATCH :match{bound}
        ORDER BY messages_fts.rank, m.id DESC
        LIMIT :limit
        """,  # noqa: S608 - `bound` is one of two fixed strings; every value is a bound parameter
        {
            "start": SNIPPET_START,
            "end": SNIPPET_END,
            "ellipsis": SNIPPET_ELLIPSIS,
            "tokens": _SNIPPET_TOKENS,
            "match": match,
            "lowest": lowest,
            "limit": limit,
        },
    )
    return [
        from_row(SearchHit, row, conversation_title=str(row["title"]), score=-float(row["rank"]))
        for row in rows(result)
    ]


def delete_conversation(db: sqlite_utils.Database, conversation_id: str) -> bool:
    """Delete a conversation, its messages and their search entries; False when there was none."""
    deleted = execute(db, "DELETE FROM conversations WHERE id = ?", (conversation_id,))
    return deleted.rowcount > 0


# Turns of `chat_with_context`: the history sent back to xAI and the messages a turn adds.


@dataclass(frozen=True)
class ContextMessage:
    """A message as sent back to xAI: its text and its prompt tokens (None when never measured)."""

    id: int
    role: str
    content: str
    tokens: int | None


@dataclass(frozen=True)
class ConversationContext:
    """What a new turn needs of a conversation: the model it last used and its messages, oldest first."""

    model: str | None
    messages: list[ContextMessage]


@dataclass(frozen=True)
class NewMessage:
    """A message a turn appends; `tokens` is its size in the prompt of a later turn, when known."""

    role: str
    content: str
    model: str | None = None
    request_id: str | None = None
    tokens: int | None = None
    parts_json: str | None = None


def new_conversation_id() -> str:
    """A fresh conversation id (a uuid4 hex string), for a conversation that `save_turn` creates."""
    return uuid.uuid4().hex


def conversation_context(db: sqlite_utils.Database, conversation_id: str) -> ConversationContext | None:
    """A conversation's model and every message with its token count, oldest first; None when there is none."""
    found = rows(execute(db, "SELECT model FROM conversations WHERE id = ?", (conversation_id,)))
    if not found:
        return None
    result = execute(
        db,
        "SELECT id, role, content, tokens FROM messages WHERE conversation_id = ? ORDER BY id",
        (conversation_id,),
    )
    messages = [from_row(ContextMessage, row) for row in rows(result)]
    return ConversationContext(model=found[0]["model"], messages=messages)


def save_turn(
    db: sqlite_utils.Database,
    conversation_id: str,
    *,
    create_with_title: str | None,
    model: str | None,
    client: str | None,
    system: NewMessage | None,
    messages: list[NewMessage],
    token_updates: dict[int, int],
) -> list[int]:
    """Record one turn in a single transaction, so other processes see all of it or none of it; returns the
    ids of the messages it appended, in order (the system prompt's first when it was added, not replaced).

    Creates the conversation when `create_with_title` is given, else bumps it and records `model` as the
    one it now uses. `system` replaces the conversation's system prompt (the first message with role
    `system`) or adds one. `token_updates` sets measured token counts of earlier messages by id.
    Raises ConversationNotFoundError when an existing conversation is gone (deleted meanwhile).
    """
    now = time.time()
    if create_with_title is not None:
        _insert_conversation(db, conversation_id, title=create_with_title, model=model, client=client, now=now)
    else:
        _bump_conversation(db, conversation_id, now=now, model=model)
    for message_id, tokens in token_updates.items():
        execute(
            db,
            "UPDATE messages SET tokens = ? WHERE id = ? AND conversation_id = ?",
            (tokens, message_id, conversation_id),
        )
    appended = list(messages)
    if system is not None and not _replace_system_prompt(db, conversation_id, system, now=now):
        appended.insert(0, system)
    table = db.table("messages")
    ids: list[int] = []
    for message in appended:
        table.insert(_message_row(conversation_id, message, now=now))
        ids.append(int(table.last_rowid or 0))
    return ids


def _replace_system_prompt(db: sqlite_utils.Database, conversation_id: str, system: NewMessage, *, now: float) -> bool:
    """Put `system` in place of the conversation's first system message; False when it has none."""
    replaced = execute(
        db,
        """
        UPDATE messages SET content = ?, tokens = ?, created_at = ?
        WHERE id = (SELECT min(id) FROM messages WHERE conversation_id = ? AND role = 'system')
        """,
        (system.content, system.tokens, now, conversation_id),
    )
    return replaced.rowcount > 0


def _message_row(conversation_id: str, message: NewMessage, *, now: float) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "role": message.role,
        "content": message.content,
        "parts_json": message.parts_json,
        "model": message.model,
        "created_at": now,
        "request_id": message.request_id,
        "tokens": message.tokens,
    }


# The tray's conversation browser: counts, keyset pages and bulk imports.

PageCursor = tuple[float, int]
"""Where a page of conversations ends: the last row's `updated_at` and rowid (opaque to callers)."""


@dataclass(frozen=True)
class ConversationPage:
    """One page of conversations, most recently updated first; `next_cursor` is None on the last page."""

    conversations: list[ConversationSummary]
    next_cursor: PageCursor | None


@dataclass(frozen=True)
class ImportedConversation:
    """A whole conversation written at once by `import_conversations` (demo data, benchmarks, restores)."""

    title: str
    model: str | None
    client: str | None
    created_at: float
    updated_at: float
    messages: list[NewMessage]
    id: str = field(default_factory=new_conversation_id)


def count_conversations(db: sqlite_utils.Database) -> int:
    """How many conversations the store holds."""
    (count,) = execute(db, "SELECT count(*) FROM conversations").fetchone()
    return int(count)


def conversation_page(db: sqlite_utils.Database, *, after: PageCursor | None, limit: int) -> ConversationPage:
    """Up to `limit` conversations after `after` (None: from the newest), most recently updated first.

    Keyset paging: each page costs the same however deep it is, and rows updated meanwhile are not repeated.
    """
    limit = max(limit, 0)
    where = "" if after is None else "WHERE (c.updated_at, c.rowid) < (:updated_at, :rowid)"
    result = execute(
        db,
        f"""
        SELECT c.rowid AS row_id, c.id, c.title, c.model, c.created_at, c.updated_at, c.client,
               (SELECT count(*) FROM messages AS m WHERE m.conversation_id = c.id) AS message_count
        FROM conversations AS c
        {where}
        ORDER BY c.updated_at DESC, c.rowid DESC
        LIMIT :limit
        """,  # noqa: S608 - `where` is one of two fixed fragments
        {
            "updated_at": after[0] if after else None,
            "rowid": after[1] if after else None,
            "limit": limit,
        },
    )
    found = rows(result)
    summaries = [from_row(ConversationSummary, row) for row in found]
    last = found[-1] if found and len(found) == limit else None
    cursor = (float(last["updated_at"]), int(last["row_id"])) if last is not None else None
    return ConversationPage(conversations=summaries, next_cursor=cursor)


def import_conversations(db: sqlite_utils.Database, items: Sequence[ImportedConversation]) -> int:
    """Insert whole conversations with their messages (inside the caller's transaction); returns how many.

    Messages take their conversation's `updated_at` as their time. Raises sqlite3.IntegrityError when an
    id is already taken.
    """
    db.conn.executemany(
        "INSERT INTO conversations (id, title, model, created_at, updated_at, client) VALUES (?, ?, ?, ?, ?, ?)",
        [(item.id, item.title, item.model, item.created_at, item.updated_at, item.client) for item in items],
    )
    db.conn.executemany(
        """
        INSERT INTO messages (conversation_id, role, content, parts_json, model, created_at, request_id, tokens)
        VALUES (?, ?, ?, NULL, ?, ?, ?, ?)
        """,
        [
            (item.id, message.role, message.content, message.model, item.updated_at, message.request_id, message.tokens)
            for item in items
            for message in item.messages
        ],
    )
    return len(items)


def search_recent_messages(db: sqlite_utils.Database, query: str, *, limit: int, window: int) -> list[SearchHit]:
    """The best `limit` matches (bm25) among the newest `window` messages matching `query`, with snippets.

    Ranking every match of a short prefix costs time in proportion to the whole history; bounding it by the
    newest matches keeps search-as-you-type fast at any size. Any text is accepted, as in `search_messages`.
    """
    match = fts_query(query)
    if match is None or limit <= 0 or window <= 0:
        return []
    (lowest,) = execute(
        db,
        "SELECT min(rowid) FROM "
        "(SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?)",
        (match, window),
    ).fetchone()
    if lowest is None:
        return []
    return _ranked_hits(db, match, limit=limit, lowest=int(lowest))
