"""The MCP resources: a conversation's transcript (`grok://conversations/{id}`) and the live catalog (`grok://models`)."""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from grok_mcp.context import AppContext
from grok_mcp.conversation_history import transcript_markdown
from grok_mcp.errors import XAIError
from grok_mcp.tools.boundary import app_context
from grok_mcp.tools.models import ModelList, build_model_list

CONVERSATION_URI = "grok://conversations/{conversation_id}"
MODELS_URI = "grok://models"


async def model_list(app: AppContext) -> ModelList:
    """The live catalog with prices in US dollars per million tokens (the same facts as `list_models`)."""
    return await build_model_list(app.catalog, app.settings, simulated=app.answers_are_simulated)


def register(server: MCPServer[AppContext]) -> None:
    """Add the resources to the server."""

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
        title="Grok models",
        description="The models xAI serves right now, with context sizes, modalities and US dollar prices, as JSON. "
        "Add ?refresh=true to fetch the catalog again instead of the cached copy.",
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
