"""The MCP resources: a conversation's transcript (`grok://conversations/{id}`) and the live catalog (`grok://models`).

Both are templates (a static resource cannot reach the lifespan's store and catalog), which the SDK lists
only in resources/templates/list; `ListedResources` puts the catalog and the conversations, most recently
updated first and paged, into resources/list too.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any, cast

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, Annotations, Resource
from pydantic import BaseModel

from grok_mcp.context import AppContext
from grok_mcp.conversation_history import transcript_markdown
from grok_mcp.errors import XAIError
from grok_mcp.store import ConversationSummary, PageCursor
from grok_mcp.tools.boundary import app_context
from grok_mcp.tools.models import ModelList, build_model_list

logger = logging.getLogger(__name__)

CONVERSATION_URI = "grok://conversations/{conversation_id}"
MODELS_URI = "grok://models"
MODELS_TITLE = "Grok models"
MODELS_DESCRIPTION = (
    "The models xAI serves right now, with context sizes, modalities and US dollar prices, as JSON. "
    "Add ?refresh=true to fetch the catalog again instead of the cached copy."
)
CONVERSATIONS_PER_PAGE = 50
"""Conversations per resources/list page (the first page also holds the catalog)."""


async def model_list(app: AppContext) -> ModelList:
    """The live catalog with prices in US dollars per million tokens (the same facts as `list_models`)."""
    return await build_model_list(app.catalog, app.settings, simulated=app.answers_are_simulated)


def register(server: MCPServer[AppContext]) -> None:
    """Add the resources to the server, and to its resources/list."""
    server.middleware.append(ListedResources())

    @server.resource(
        CONVERSATION_URI,
        name="conversation",
        title="Conversation transcript",
        description="A stored Grok conversation as Markdown: the system prompt, then every message with its time.",
        mime_type="text/markdown",
    )
    async def conversation_transcript(conversation_id: str, ctx: Context) -> str:
        store = app_context(ctx).store
        found = await anyio.to_thread.run_sync(store.get_conversation, conversation_id)
        if found is None:
            raise ResourceNotFoundError(
                f"No conversation has the id {conversation_id!r}; list_conversations shows the ids there are."
            )
        return transcript_markdown(found)

    # A static resource cannot reach the lifespan context, so the catalog is a template whose only
    # variable is an optional query: `grok://models` itself matches it.
    @server.resource(
        MODELS_URI + "{?refresh}",
        name="models",
        title=MODELS_TITLE,
        description=MODELS_DESCRIPTION,
        mime_type="application/json",
    )
    async def models_catalog(ctx: Context, refresh: str | None = None) -> str:
        app = app_context(ctx)
        if refresh is not None and refresh.lower() in ("1", "true", "yes"):
            app.catalog.invalidate()
        try:
            listing = await model_list(app)
        except XAIError as exc:
            raise ResourceError(str(exc)) from None
        return listing.model_dump_json(indent=2)


class ListedResources:
    """The server middleware that adds `grok://models` and the stored conversations to resources/list.

    The SDK's own listing (static resources: none today) comes first; the conversations are paged with a
    cursor of our own, most recently updated first.
    """

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "resources/list" or ctx.request_id is None:
            return await call_next(ctx)
        params: Mapping[str, Any] = ctx.params or {}
        cursor: object = params.get("cursor")
        after = _decode_cursor(cursor) if cursor is not None else None
        listed = _wire(await call_next(ctx))  # validates the params, and lists what the SDK knows
        app = cast(AppContext, ctx.lifespan_context)
        try:
            page = await anyio.to_thread.run_sync(
                lambda: app.store.conversation_page(after=after, limit=CONVERSATIONS_PER_PAGE)
            )
        except Exception:
            logger.exception("resources/list could not read the conversations")
            raise MCPError(
                code=INTERNAL_ERROR,
                message="Grok MCP could not read its database just now (the server log says why). Try again in a "
                "moment; `grok-mcp doctor` checks the database.",
            ) from None
        ours = [_conversation_resource(c) for c in page.conversations]
        if after is None:
            ours.insert(0, _models_resource())
        resources = cast(list[Any], listed.get("resources") or []) + [_dumped(r) for r in ours]
        listed = {**listed, "resources": resources}
        listed.pop("nextCursor", None)
        if page.next_cursor is not None:
            listed["nextCursor"] = _encode_cursor(page.next_cursor)
        return listed


def _models_resource() -> Resource:
    return Resource(
        uri=MODELS_URI, name="models", title=MODELS_TITLE, description=MODELS_DESCRIPTION, mime_type="application/json"
    )


def _conversation_resource(summary: ConversationSummary) -> Resource:
    updated = dt.datetime.fromtimestamp(summary.updated_at, tz=dt.UTC).isoformat(timespec="seconds")
    model = f" with {summary.model}" if summary.model else ""
    return Resource(
        uri=CONVERSATION_URI.format(conversation_id=summary.id),
        name=f"conversation-{summary.id}",
        title=summary.title or "Untitled conversation",
        description=f"A Grok conversation{model}: {summary.message_count} messages, last updated {updated}.",
        mime_type="text/markdown",
        annotations=Annotations(last_modified=updated.replace("+00:00", "Z")),
    )


def _dumped(resource: Resource) -> dict[str, Any]:
    return resource.model_dump(by_alias=True, mode="json", exclude_none=True)


def _wire(answered: HandlerResult) -> dict[str, Any]:
    if isinstance(answered, BaseModel):
        return answered.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dict(answered or {})


def _encode_cursor(cursor: PageCursor) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(cursor)).encode("utf-8")).decode("ascii")


def _decode_cursor(cursor: object) -> PageCursor:
    """The page a resources/list cursor stands for. Raises MCPError (invalid params) for one not made here."""
    try:
        updated_at, row_id = json.loads(base64.urlsafe_b64decode(str(cursor).encode("ascii")))
        return float(updated_at), int(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeError):
        raise MCPError(
            code=INVALID_PARAMS, message="This resources/list cursor was not made by Grok MCP: list again without one."
        ) from None
