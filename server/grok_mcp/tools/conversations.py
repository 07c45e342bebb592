"""The conversation tools: `chat_with_context` (a remembered conversation with Grok) and listing, reading,
searching and deleting conversations."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from grok_mcp.config import Settings
from grok_mcp.context import AppContext
from grok_mcp.conversation_history import (
    FALLBACK_CONTEXT_TOKENS,
    MESSAGE_OVERHEAD_TOKENS,
    FittedHistory,
    HistoryMessage,
    answer_reserve,
    attribute_prompt_tokens,
    estimate_tokens,
    fit_history,
    local_time,
    title_from,
    transcript_markdown,
)
from grok_mcp.errors import InputError, UserFacingError
from grok_mcp.grok import ChatCompletion
from grok_mcp.routing import RouteNeeds
from grok_mcp.store import Conversation, ConversationNotFoundError, ConversationSummary, SearchHit
from grok_mcp.store.conversations import NewMessage, new_conversation_id
from grok_mcp.tools.annotations import CONVERSES_WITH_GROK, DELETES_FROM_STORE, READS_STORE
from grok_mcp.tools.boundary import tool_call
from grok_mcp.tools.chat import build_chat_body, shape_chat_result
from grok_mcp.tools.long_calls import job_started_result, run_long_call
from grok_mcp.tools.models import resolve_chat_model
from grok_mcp.tools.results import ChatResult, result_text, tool_result
from grok_mcp.tools.scope import CallScope

ConversationId = Annotated[str, Field(min_length=1, max_length=200, description="A conversation's id.")]


class ConversationReply(ChatResult):
    """A chat answer within a conversation, with how much of the history was sent."""

    context_messages: int = Field(description="Messages sent to Grok: system prompt, history kept, the new message.")
    dropped_messages: int = Field(description="Earlier messages left out to fit the model's context window.")


class ConversationHead(BaseModel):
    """What every view of a conversation starts with."""

    id: str
    title: str
    model: str | None
    client: str | None
    created_at: str
    updated_at: str


class ConversationInfo(ConversationHead):
    """A conversation as listed."""

    message_count: int


class ConversationList(BaseModel):
    conversations: list[ConversationInfo]
    offset: int
    has_more: bool = Field(description="True when more conversations follow; ask again with a larger offset.")


class MessageEntry(BaseModel):
    """One message of a conversation."""

    role: str
    text: str
    model: str | None
    created_at: str
    request_id: str | None


class ConversationDetail(ConversationHead):
    messages: list[MessageEntry]


class SearchResult(BaseModel):
    """A message that matched; « and » mark the matched words in `snippet`."""

    conversation_id: str
    conversation_title: str
    message_id: int
    role: str
    snippet: str
    created_at: str
    score: float = Field(description="Relevance (bm25); higher is better.")


class SearchResults(BaseModel):
    query: str
    results: list[SearchResult]


class DeletedConversation(BaseModel):
    conversation_id: str
    title: str
    deleted_messages: int


class ConversationsOffError(UserFacingError):
    """chat_with_context was refused: saving conversations is off, so nothing could be remembered."""


def conversations_off(settings: Settings) -> ConversationsOffError:
    return ConversationsOffError(
        "chat_with_context cannot remember this conversation: saving conversations is off, so nothing was sent "
        "to Grok and nothing was stored. Use `chat` for a one-off answer, or turn saving on (the tray's Settings "
        f"page, or [conversations] save = true in {settings.settings_path}) and restart the server."
    )


def unknown_conversation(conversation_id: str) -> InputError:
    return InputError(
        f"No conversation has the id {conversation_id!r}. list_conversations and search_conversations show the "
        "conversations there are; omit conversation_id to start a new one."
    )


def _head(conversation: ConversationSummary | Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "title": conversation.title,
        "model": conversation.model,
        "client": conversation.client,
        "created_at": local_time(conversation.created_at),
        "updated_at": local_time(conversation.updated_at),
    }


def conversation_info(summary: ConversationSummary) -> ConversationInfo:
    return ConversationInfo(**_head(summary), message_count=summary.message_count)


def conversation_detail(conversation: Conversation) -> ConversationDetail:
    messages = [
        MessageEntry(
            role=m.role, text=m.content, model=m.model, created_at=local_time(m.created_at), request_id=m.request_id
        )
        for m in conversation.messages
    ]
    return ConversationDetail(**_head(conversation), messages=messages)


def search_result(hit: SearchHit) -> SearchResult:
    """The hit with the same fields, its time in local ISO 8601."""
    fields = asdict(hit)
    fields["created_at"] = local_time(hit.created_at)
    return SearchResult(**fields)


async def measure(call: CallScope, model: str, message: HistoryMessage) -> HistoryMessage:
    """The message with its exact token count from xAI's tokenizer (one ledger row for the call)."""
    if message.tokens is not None:
        return message
    counted = await call.app.grok.tokenize(model, message.content)
    await call.record(counted.call, model=model)
    return HistoryMessage(
        message.role, message.content, len(counted.tokens) + MESSAGE_OVERHEAD_TOKENS, message.message_id
    )


async def fit_measuring(
    call: CallScope,
    model: str,
    system: HistoryMessage | None,
    history: list[HistoryMessage],
    new_message: HistoryMessage,
    budget: int,
) -> FittedHistory:
    """Fit the history with estimates; when they would drop anything or refuse, measure exactly and fit again."""
    try:
        fitted = fit_history(system, history, new_message, budget_tokens=budget)
        if fitted.dropped == 0:
            return fitted
    except InputError:
        pass
    if system is not None:
        system = await measure(call, model, system)
    new_message = await measure(call, model, new_message)
    history = [await measure(call, model, m) if m.role != "system" else m for m in history]
    return fit_history(system, history, new_message, budget_tokens=budget)


@dataclass(frozen=True)
class StoredHistory:
    """A conversation's id (None for a new one), its stored messages and the model it last used."""

    conversation_id: str | None
    messages: list[HistoryMessage]
    model: str | None


async def stored_history(call: CallScope, conversation_id: str | None) -> StoredHistory:
    """The history a turn continues (none for a new conversation). Raises InputError for an unknown id."""
    if conversation_id is None:
        return StoredHistory(None, [], None)
    conversation_id = conversation_id.strip()
    found = await anyio.to_thread.run_sync(call.app.store.conversation_context, conversation_id)
    if found is None:
        raise unknown_conversation(conversation_id)
    history = [HistoryMessage(m.role, m.content, m.tokens, m.id) for m in found.messages]
    return StoredHistory(conversation_id, history, found.model)


async def fit_turn(
    call: CallScope, stored: StoredHistory, message: str, system: str | None, max_tokens: int | None
) -> tuple[FittedHistory, int]:
    """What this turn sends to `call.model`, fitted to its context window (also returned)."""
    model = call.model or ""
    stored_system = next((m for m in stored.messages if m.role == "system"), None)
    replaces_system = system is not None and (stored_system is None or stored_system.content != system)
    system_message = HistoryMessage("system", system) if replaces_system and system else stored_system
    found_model = await call.app.catalog.resolve(model)
    window = (found_model.context_length if found_model else None) or FALLBACK_CONTEXT_TOKENS
    budget = window - answer_reserve(window, max_tokens)
    history = stored.messages
    return await fit_measuring(call, model, system_message, history, HistoryMessage("user", message), budget), window


def turn_messages(
    fitted: FittedHistory, completion: ChatCompletion, message: str
) -> tuple[list[NewMessage], NewMessage | None, dict[int, int]]:
    """What a turn adds to the store: the new message and the answer, a new system prompt (if any), and the
    token counts of stored messages now known from xAI's usage."""
    usage = completion.usage
    shares: list[int | None] = [m.tokens for m in fitted.messages]
    if usage.prompt_tokens > 0:
        shares = list(attribute_prompt_tokens(usage.prompt_tokens, fitted.messages))
    token_updates: dict[int, int] = {}
    new_system: NewMessage | None = None
    for sent, tokens in zip(fitted.messages[:-1], shares[:-1], strict=True):
        if sent.message_id is not None and sent.tokens is None and tokens is not None:
            token_updates[sent.message_id] = tokens
        elif sent.role == "system" and sent.message_id is None:
            new_system = NewMessage("system", sent.content, tokens=tokens)
    answer_tokens = usage.completion_tokens + MESSAGE_OVERHEAD_TOKENS if usage.completion_tokens else None
    turn = [
        NewMessage("user", message, tokens=shares[-1]),
        NewMessage(
            "assistant",
            completion.text,
            model=completion.model,
            request_id=completion.call.request_id or completion.id,
            tokens=answer_tokens,
        ),
    ]
    return turn, new_system, token_updates


async def save_turn(
    call: CallScope, fitted: FittedHistory, completion: ChatCompletion, message: str, *, is_new: bool
) -> bool:
    """Store the turn; False when its conversation was deleted while Grok answered."""
    turn, new_system, token_updates = turn_messages(fitted, completion, message)
    try:
        await anyio.to_thread.run_sync(
            lambda: call.app.store.save_turn(
                call.conversation_id or "",
                create_with_title=title_from(message) if is_new else None,
                model=completion.model,
                client=call.client,
                system=new_system,
                messages=turn,
                token_updates=token_updates,
            )
        )
    except ConversationNotFoundError:
        return False
    return True


async def run_turn(
    call: CallScope,
    *,
    message: str,
    conversation_id: str | None,
    model: str | None,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
) -> CallToolResult:
    """One turn of `chat_with_context`: fit the history, ask Grok, save the turn, shape the reply.

    Raises ConversationsOffError when saving conversations is off; InputError for an empty message or system
    prompt, an unknown conversation, or a message too big for the model's window; XAIError subclasses when xAI
    refuses or fails the call.
    """
    started = time.monotonic()
    if not call.app.settings.save_conversations:
        raise conversations_off(call.app.settings)
    if not message.strip():
        raise InputError("`message` is empty. Say something to Grok.")
    if system is not None and not system.strip():
        raise InputError("`system` is empty. Omit it to keep the conversation's system prompt.")
    stored = await stored_history(call, conversation_id)
    is_new = stored.conversation_id is None
    needs = RouteNeeds(
        prompt_tokens=sum(estimate_tokens(m.content) for m in stored.messages) + estimate_tokens(message)
    )
    wanted = model if model and model.strip() else stored.model
    call.model = await resolve_chat_model(call.app, wanted, needs=needs, call=call)
    call.conversation_id = stored.conversation_id or new_conversation_id()
    fitted, window = await fit_turn(call, stored, message, system, max_tokens)
    body = build_chat_body(
        model=call.model,
        messages=[{"role": m.role, "content": m.content} for m in fitted.messages],
        temperature=temperature,
        max_tokens=max_tokens,
        reasoning_effort=None,
        json_schema=None,
    )
    completion = await call.chat(body)
    result = await shape_chat_result(call, completion, wants_json=False, started=started)
    notes: list[str] = []
    structured: dict[str, Any] = dict(result.structured_content or {})
    if not await save_turn(call, fitted, completion, message, is_new=is_new):
        notes.append(f"(Not saved: conversation {call.conversation_id} was deleted while Grok answered.)")
        structured["conversation_id"] = None
    if fitted.dropped:
        notes.append(
            f"({fitted.dropped} earlier messages were left out to fit {call.model}'s context window of "
            f"{window:,} tokens.)"
        )
    if is_new and structured.get("conversation_id"):
        notes.append(f"(New conversation {call.conversation_id}: pass it as conversation_id to continue.)")
    structured["context_messages"] = len(fitted.messages)
    structured["dropped_messages"] = fitted.dropped
    reply = ConversationReply.model_validate(structured)
    return tool_result("\n\n".join([result_text(result), *notes]), reply)


def list_text(listing: ConversationList) -> str:
    if not listing.conversations:
        return "No conversations yet." if listing.offset == 0 else "No more conversations."
    lines = ["| updated | title | messages | model | id |", "|---|---|---|---|---|"]
    for c in listing.conversations:
        lines.append(f"| {c.updated_at} | {c.title} | {c.message_count} | {c.model or '—'} | `{c.id}` |")
    if listing.has_more:
        lines.append(f"\nMore follow: ask again with offset {listing.offset + len(listing.conversations)}.")
    return "\n".join(lines)


def search_text(results: SearchResults) -> str:
    if not results.results:
        return f"No message matches {results.query!r}."
    lines = [f"{len(results.results)} messages match {results.query!r}, best first:"]
    for r in results.results:
        lines.append(f"- {r.conversation_title} (`{r.conversation_id}`, {r.role}, {r.created_at}): {r.snippet}")
    return "\n".join(lines)


async def chat_with_context(
    ctx: Context,
    message: Annotated[str, Field(description="What to say to Grok next.")],
    conversation_id: Annotated[
        str | None, Field(description="The conversation to continue; omit to start a new one.")
    ] = None,
    model: Annotated[
        str | None, Field(description="Model id or alias; the conversation's model, else the default.")
    ] = None,
    system: Annotated[
        str | None, Field(description="System prompt; remembered, and replaced when given again.")
    ] = None,
    temperature: Annotated[float | None, Field(ge=0, le=2)] = None,
    max_tokens: Annotated[
        int | None, Field(ge=1, description="Cap on the answer's tokens (also the room kept for it).")
    ] = None,
) -> Annotated[CallToolResult, ConversationReply]:
    """Talk to Grok in a conversation it remembers: the history is stored and sent back each turn, trimmed
    to the model's context window (oldest turns first, the system prompt kept). Returns conversation_id.
    A turn still running after a while (45 s by default) returns a job id for job_result instead. Refused when
    the user turned saving conversations off."""
    async with tool_call(ctx, "chat_with_context") as call:

        async def turn() -> CallToolResult:
            return await run_turn(
                call,
                message=message,
                conversation_id=conversation_id,
                model=model,
                system=system,
                temperature=temperature,
                max_tokens=max_tokens,
            )

        def as_job(job_id: str) -> CallToolResult:
            # The turn is saved to the conversation when it ends, whoever asks for it.
            return job_started_result(call, job_id, ConversationReply, context_messages=0, dropped_messages=0)

        return await run_long_call(call, turn, started=as_job)


async def list_conversations(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=200, description="How many to list.")] = 20,
    offset: Annotated[int, Field(ge=0, description="How many of the most recent to skip.")] = 0,
) -> Annotated[CallToolResult, ConversationList]:
    """List stored conversations, most recently updated first."""
    async with tool_call(ctx, "list_conversations") as call:
        found = await anyio.to_thread.run_sync(
            lambda: call.app.store.list_conversations(limit=limit + 1, offset=offset)
        )
        listing = ConversationList(
            conversations=[conversation_info(s) for s in found[:limit]], offset=offset, has_more=len(found) > limit
        )
        return tool_result(list_text(listing), listing)


async def get_conversation(
    ctx: Context, conversation_id: ConversationId
) -> Annotated[CallToolResult, ConversationDetail]:
    """Read a stored conversation: every message with its role, text, model and time."""
    async with tool_call(ctx, "get_conversation") as call:
        found = await anyio.to_thread.run_sync(call.app.store.get_conversation, conversation_id.strip())
        if found is None:
            raise unknown_conversation(conversation_id)
        return tool_result(transcript_markdown(found), conversation_detail(found))


async def search_conversations(
    ctx: Context,
    query: Annotated[str, Field(description="Words to look for in every message (the last may be a prefix).")],
    limit: Annotated[int, Field(ge=1, le=100, description="How many matches to return.")] = 10,
) -> Annotated[CallToolResult, SearchResults]:
    """Full-text search over every stored message, best matches first, each with a snippet."""
    async with tool_call(ctx, "search_conversations") as call:
        if not query.strip():
            raise InputError("`query` is empty. Give the words to search for.")
        hits = await anyio.to_thread.run_sync(lambda: call.app.store.search_messages(query, limit=limit))
        results = SearchResults(query=query, results=[search_result(h) for h in hits])
        return tool_result(search_text(results), results)


async def delete_conversation(
    ctx: Context, conversation_id: ConversationId
) -> Annotated[CallToolResult, DeletedConversation]:
    """Delete a conversation and all its messages, for good."""
    async with tool_call(ctx, "delete_conversation") as call:
        store = call.app.store
        wanted = conversation_id.strip()
        found = await anyio.to_thread.run_sync(store.get_conversation, wanted)
        if found is None or not await anyio.to_thread.run_sync(store.delete_conversation, wanted):
            raise unknown_conversation(conversation_id)
        deleted = DeletedConversation(conversation_id=found.id, title=found.title, deleted_messages=len(found.messages))
        return tool_result(f"Deleted the conversation {found.title!r} ({len(found.messages)} messages).", deleted)


def register(server: MCPServer[AppContext]) -> None:
    """Add the conversation tools to the server."""
    server.add_tool(chat_with_context, title="Chat with Grok in a conversation", annotations=CONVERSES_WITH_GROK)
    server.add_tool(list_conversations, title="List conversations", annotations=READS_STORE)
    server.add_tool(get_conversation, title="Read a conversation", annotations=READS_STORE)
    server.add_tool(search_conversations, title="Search conversations", annotations=READS_STORE)
    server.add_tool(delete_conversation, title="Delete a conversation", annotations=DELETES_FROM_STORE)
