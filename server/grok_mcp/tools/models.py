"""The `list_models` and `count_tokens` tools, and how a tool picks its model when none is named."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from grok_mcp.config import Settings
from grok_mcp.context import AppContext
from grok_mcp.grok import ImageModel, LanguageModel, ModelCatalog
from grok_mcp.routing import RouteNeeds, auto_preference, choose_model
from grok_mcp.tools.annotations import READS_XAI
from grok_mcp.tools.boundary import tool_call
from grok_mcp.tools.results import tool_result
from grok_mcp.tools.scope import CallScope

TICKS_PER_USD_PER_MILLION = 10_000  # catalog prices are ticks per token; ticks/token ÷ 10 000 = $ per 1M tokens


async def resolve_chat_model(
    app: AppContext, model: str | None, *, needs: RouteNeeds | None = None, call: CallScope | None = None
) -> str:
    """The model a chat-like call uses: the one asked for, else the configured default, else the catalog's.

    `auto` (and `auto:cheap`, `auto:fast`, `auto:best`) routes by the request's needs (grok_mcp.routing);
    the reason goes on `call.route`. Other names are passed to xAI as given: xAI resolves aliases and says
    when a model does not exist. Raises InputError when `auto` finds no model that can serve the request.
    """
    preference = auto_preference(model)
    if preference is not None:
        choice = choose_model(
            await app.catalog.language_models(),
            needs or RouteNeeds(),
            preference,
            default=await app.catalog.default_chat_model(),
        )
        if call is not None:
            call.route = choice.reason
        return choice.model
    if model is not None and model.strip():
        return model.strip()
    if app.settings.default_model:
        return app.settings.default_model
    return (await app.catalog.default_chat_model()).id


async def resolve_image_model(app: AppContext, model: str | None) -> str:
    if model is not None and model.strip():
        return model.strip()
    if app.settings.image_model:
        return app.settings.image_model
    return (await app.catalog.default_image_model()).id


async def build_model_list(catalog: ModelCatalog, settings: Settings, *, simulated: bool) -> ModelList:
    """The live catalog with dollar prices and the defaults marked (for the tool, the resource and the CLI).

    Raises XAIError subclasses when the catalog cannot be fetched.
    """
    chat_models = await catalog.language_models()
    image_models = await catalog.image_models()
    default_chat = settings.default_model or (await catalog.default_chat_model()).id if chat_models else None
    default_image = settings.image_model or (await catalog.default_image_model()).id if image_models else None
    entries = [
        _entry(
            m,
            "chat",
            default_chat,
            context_length=m.context_length,
            input_usd_per_million=per_million(m.prompt_text_token_price),
            cached_input_usd_per_million=per_million(m.cached_prompt_text_token_price),
            output_usd_per_million=per_million(m.completion_text_token_price),
        )
        for m in chat_models
    ]
    entries += [_entry(m, "image", default_image, usd_per_image=m.image_price / 1e10) for m in image_models]
    return ModelList(
        models=entries, default_chat_model=default_chat, default_image_model=default_image, simulated=simulated
    )


def _entry(
    model: LanguageModel | ImageModel,
    kind: str,
    default: str | None,
    *,
    context_length: int | None = None,
    **prices: float | None,
) -> ModelEntry:
    """One catalog model as the tool shows it: what every kind of model has, then its own facts and `prices`."""
    return ModelEntry(
        id=model.id,
        kind=kind,
        aliases=list(model.aliases),
        input_modalities=list(model.input_modalities),
        output_modalities=list(model.output_modalities),
        context_length=context_length,
        is_default=model.id == default,
        **prices,
    )


def format_model_table(listing: ModelList) -> str:
    """The catalog as a Markdown table, for people."""
    lines = [
        "| model | kind | context | input $/1M | cached $/1M | output $/1M | per image |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in listing.models:
        name = e.id + (" (default)" if e.is_default else "")
        context = f"{e.context_length:,}" if e.context_length else "—"
        lines.append(
            f"| {name} | {e.kind} | {context} | {_price(e.input_usd_per_million)} | "
            f"{_price(e.cached_input_usd_per_million)} | {_price(e.output_usd_per_million)} | "
            f"{_price(e.usd_per_image)} |"
        )
    if listing.simulated:
        lines.append("\n(Simulated catalog: Grok MCP is in demo mode.)")
    return "\n".join(lines)


def per_million(ticks_per_token: int | None) -> float | None:
    return None if ticks_per_token is None else ticks_per_token / TICKS_PER_USD_PER_MILLION


class ModelEntry(BaseModel):
    """One model of the live catalog, with prices in US dollars."""

    id: str
    kind: str = Field(description="`chat` or `image`.")
    aliases: list[str]
    input_modalities: list[str]
    output_modalities: list[str]
    context_length: int | None = None
    input_usd_per_million: float | None = None
    cached_input_usd_per_million: float | None = None
    output_usd_per_million: float | None = None
    usd_per_image: float | None = None
    is_default: bool = False


class ModelList(BaseModel):
    models: list[ModelEntry]
    default_chat_model: str | None
    default_image_model: str | None
    simulated: bool


class TokenCount(BaseModel):
    model: str
    tokens: int
    characters: int
    preview: list[str] = Field(description="The first tokens as text, to show how the text is split.")


def _price(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


async def list_models(ctx: Context) -> Annotated[CallToolResult, ModelList]:
    """List the models xAI serves right now, with context size, modalities and prices per million tokens."""
    async with tool_call(ctx, "list_models") as call:
        app = call.app
        listing = await build_model_list(app.catalog, app.settings, simulated=app.answers_are_simulated)
        return tool_result(format_model_table(listing), listing)


async def count_tokens(
    ctx: Context,
    text: Annotated[str, Field(min_length=1, description="The text to count (at least one character).")],
    model: Annotated[str | None, Field(description="Model whose tokenizer to use; the default if omitted.")] = None,
) -> Annotated[CallToolResult, TokenCount]:
    """Count how many tokens a text is for a model, with xAI's own tokenizer."""
    async with tool_call(ctx, "count_tokens") as call:
        chosen = await resolve_chat_model(call.app, model)
        call.model = chosen
        result = await call.app.grok.tokenize(chosen, text)
        await call.record(result.call, model=chosen)
        count = TokenCount(
            model=chosen,
            tokens=len(result.tokens),
            characters=len(text),
            preview=[t.string_token for t in result.tokens[:32]],
        )
        return tool_result(f"{count.tokens:,} tokens for {chosen} ({count.characters:,} characters).", count)


def register(server: MCPServer[AppContext]) -> None:
    """Add the catalog tools to the server."""
    server.add_tool(list_models, title="List Grok models", annotations=READS_XAI)
    server.add_tool(count_tokens, title="Count tokens", annotations=READS_XAI)
