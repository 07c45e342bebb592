"""Read-only endpoints: the model listings, `/v1/tokenize-text` and `/v1/api-key`."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from grok_mcp.simulator.gateway import Exchange
from grok_mcp.simulator.policy import no_such_model, resolve_language_model
from grok_mcp.simulator.tokenizer import tokenize


def _model_id(exchange: Exchange) -> str:
    return str(exchange.request.path_params["model_id"])


def _found(exchange: Exchange, entry: dict[str, object] | None) -> Response:
    """The entry for the path's model id, or xAI's 404 when no such model is served."""
    if entry is None:
        raise no_such_model(_model_id(exchange), exchange.key.team_id)
    return JSONResponse(entry)


async def list_models(exchange: Exchange) -> Response:
    """`GET /v1/models`: every served model, OpenAI-shaped, with prices."""
    catalog = exchange.state.catalog
    data = [catalog.models_list_entry(model_id) for model_id in catalog.all_ids()]
    return JSONResponse({"object": "list", "data": data})


async def get_model(exchange: Exchange) -> Response:
    """`GET /v1/models/{id}` (aliases resolve to the canonical entry)."""
    return _found(exchange, exchange.state.catalog.models_list_entry(_model_id(exchange)))


async def list_language_models(exchange: Exchange) -> Response:
    """`GET /v1/language-models`: chat models with prices, modalities, aliases and context."""
    return JSONResponse({"models": [model.to_json() for model in exchange.state.catalog.language]})


async def get_language_model(exchange: Exchange) -> Response:
    """`GET /v1/language-models/{id}`."""
    model = exchange.state.catalog.language_model(_model_id(exchange))
    return _found(exchange, model.to_json() if model is not None else None)


async def list_image_models(exchange: Exchange) -> Response:
    """`GET /v1/image-generation-models`."""
    return JSONResponse({"models": [model.to_json() for model in exchange.state.catalog.image]})


async def get_image_model(exchange: Exchange) -> Response:
    """`GET /v1/image-generation-models/{id}`."""
    model = exchange.state.catalog.image_model(_model_id(exchange))
    return _found(exchange, model.to_json() if model is not None else None)


async def tokenize_text(exchange: Exchange) -> Response:
    """`POST /v1/tokenize-text`: the same tokens usage counts."""
    reader, body = exchange.reader, exchange.body
    name = reader.required_string(body, "model")
    text = reader.required_string(body, "text")
    resolve_language_model(
        exchange.state.catalog, name, exchange.config.retired_mode, exchange.key.team_id, endpoint="tokenize"
    )
    tokens = tokenize(text)
    exchange.tokens_used = len(tokens)
    return JSONResponse({"token_ids": [token.to_json() for token in tokens]})


async def api_key_info(exchange: Exchange) -> Response:
    """`GET /v1/api-key`: twelve fields derived from the key (blocked keys are described, not refused)."""
    return JSONResponse(exchange.key.info())
