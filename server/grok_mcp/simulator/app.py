"""The simulator's ASGI app: routes, the request log, the `x-simulated` mark and xAI-shaped 404/405s."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grok_mcp.simulator import batches, chat, control, images, info, responses
from grok_mcp.simulator.config import SimulatorConfig
from grok_mcp.simulator.gateway import RECORD_SCOPE_KEY, endpoint
from grok_mcp.simulator.state import SimulatorState
from grok_mcp.simulator.streaming import quiet_dropped_connections
from grok_mcp.simulator.wire import XAIFailure

logger = logging.getLogger(__name__)


class SimulatorMarks:
    """Pure ASGI middleware: logs every `/v1` request with its status and marks every response simulated."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        record = None
        state: SimulatorState = scope["app"].state.simulator
        if path.startswith("/v1/") or path == "/v1":
            record = state.record(scope["method"], path)
            scope[RECORD_SCOPE_KEY] = record

        async def marked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-simulated", b"true")]
                if record is not None:
                    record.status = message["status"]
            await send(message)

        if record is None:
            await self.app(scope, receive, marked_send)
            return
        state.request_started()
        try:
            await self.app(scope, receive, marked_send)
        finally:
            state.request_finished()


async def _not_found(request: Request, exc: Exception) -> Response:
    return XAIFailure(404, f"No such endpoint: {request.method} {request.url.path}").to_response()


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    failure = XAIFailure(405, f"Method {request.method} is not allowed on {request.url.path}", headers=headers)
    return failure.to_response()


def _routes() -> list[Route]:
    text, image, listing = "text", "image", "info"
    return [
        Route(
            "/v1/chat/completions",
            endpoint(chat.chat_completions, kind=text, json_body=True),
            methods=["POST"],
        ),
        Route(
            "/v1/chat/deferred-completion/{request_id}",
            endpoint(chat.deferred_completion, kind=text),
            methods=["GET"],
        ),
        Route("/v1/responses", endpoint(responses.create_response, kind=text, json_body=True), methods=["POST"]),
        Route("/v1/responses/{response_id}", endpoint(responses.get_response, kind=listing), methods=["GET"]),
        Route(
            "/v1/responses/{response_id}",
            endpoint(responses.delete_response, kind=listing),
            methods=["DELETE"],
        ),
        Route("/v1/models", endpoint(info.list_models, kind=listing), methods=["GET"]),
        Route("/v1/models/{model_id:path}", endpoint(info.get_model, kind=listing), methods=["GET"]),
        Route("/v1/language-models", endpoint(info.list_language_models, kind=listing), methods=["GET"]),
        Route(
            "/v1/language-models/{model_id:path}",
            endpoint(info.get_language_model, kind=listing),
            methods=["GET"],
        ),
        Route("/v1/image-generation-models", endpoint(info.list_image_models, kind=listing), methods=["GET"]),
        Route(
            "/v1/image-generation-models/{model_id:path}",
            endpoint(info.get_image_model, kind=listing),
            methods=["GET"],
        ),
        Route("/v1/images/generations", endpoint(images.generate, kind=image, json_body=True), methods=["POST"]),
        Route("/v1/tokenize-text", endpoint(info.tokenize_text, kind=text, json_body=True), methods=["POST"]),
        Route("/v1/api-key", endpoint(info.api_key_info, kind=listing, allow_blocked=True), methods=["GET"]),
        # The colon route comes first: `{batch_id}` alone would also match `batch_…:cancel`.
        Route("/v1/batches/{batch_id}:cancel", endpoint(batches.cancel_batch, kind=listing), methods=["POST"]),
        Route("/v1/batches", endpoint(batches.create_batch, kind=listing, json_body=True), methods=["POST"]),
        Route("/v1/batches", endpoint(batches.list_batches, kind=listing), methods=["GET"]),
        Route("/v1/batches/{batch_id}", endpoint(batches.get_batch, kind=listing), methods=["GET"]),
        Route(
            "/v1/batches/{batch_id}/requests",
            endpoint(batches.add_requests, kind=listing, json_body=True),
            methods=["POST"],
        ),
        Route("/v1/batches/{batch_id}/requests", endpoint(batches.list_requests, kind=listing), methods=["GET"]),
        Route("/v1/batches/{batch_id}/results", endpoint(batches.results, kind=listing), methods=["GET"]),
        Route("/_sim/in-flight", control.in_flight, methods=["GET"]),
        Route("/_sim/faults", control.add_faults, methods=["POST"]),
        Route("/_sim/faults", control.list_faults, methods=["GET"]),
        Route("/_sim/config", control.configure, methods=["POST"]),
        Route("/_sim/reset", control.reset, methods=["POST"]),
        Route("/_sim/requests", control.request_log, methods=["GET"]),
        Route("/_sim/files/{name}", control.file_download, methods=["GET"]),
    ]


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncGenerator[None]:
    # A simulated drop raises inside the response on purpose; uvicorn should not log it as a crash.
    logging.getLogger("uvicorn.error").addFilter(quiet_dropped_connections)
    logger.info("simulated xAI API ready")
    yield


def create_app(config: SimulatorConfig | None = None) -> Starlette:
    """The simulated xAI API as a Starlette app; its state lives on `app.state.simulator`."""
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(SimulatorMarks)],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
        lifespan=_lifespan,
    )
    app.state.simulator = SimulatorState(config or SimulatorConfig())
    return app
