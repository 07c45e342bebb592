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
from grok_mcp.simulator.gateway import RECORD_SCOPE_KEY, EndpointKind, Handler, endpoint
from grok_mcp.simulator.number_fields import (
    CHAT_NUMBERS,
    IMAGE_NUMBERS,
    NO_NUMBERS,
    RESPONSES_NUMBERS,
    NumberFields,
)
from grok_mcp.simulator.state import SimulatorState
from grok_mcp.simulator.streaming import quiet_dropped_connections
from grok_mcp.simulator.wire import XAIFailure

logger = logging.getLogger(__name__)


class SimulatorMarks:
    """Pure ASGI middleware: logs every `/v1` request with its status and marks every response simulated
    (unless `marks_replies` is off)."""

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
                if state.config.marks_replies:
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


def _xai(
    method: str,
    path: str,
    handler: Handler,
    kind: EndpointKind,
    *,
    json_body: bool = False,
    numbers: NumberFields = NO_NUMBERS,
    allow_blocked: bool = False,
) -> Route:
    """A `/v1` route: the handler behind the gateway (body and its number fields, faults, key check, rate limits)."""
    wrapped = endpoint(handler, kind=kind, json_body=json_body, numbers=numbers, allow_blocked=allow_blocked)
    return Route(path, wrapped, methods=[method])


def _xai_routes() -> list[Route]:
    return [
        _xai("POST", "/v1/chat/completions", chat.chat_completions, "text", json_body=True, numbers=CHAT_NUMBERS),
        _xai("GET", "/v1/chat/deferred-completion/{request_id}", chat.deferred_completion, "text"),
        _xai("POST", "/v1/responses", responses.create_response, "text", json_body=True, numbers=RESPONSES_NUMBERS),
        _xai("GET", "/v1/responses/{response_id}", responses.get_response, "info"),
        _xai("DELETE", "/v1/responses/{response_id}", responses.delete_response, "info"),
        _xai("GET", "/v1/models", info.list_models, "info"),
        _xai("GET", "/v1/models/{model_id:path}", info.get_model, "info"),
        _xai("GET", "/v1/language-models", info.list_language_models, "info"),
        _xai("GET", "/v1/language-models/{model_id:path}", info.get_language_model, "info"),
        _xai("GET", "/v1/image-generation-models", info.list_image_models, "info"),
        _xai("GET", "/v1/image-generation-models/{model_id:path}", info.get_image_model, "info"),
        _xai("POST", "/v1/images/generations", images.generate, "image", json_body=True, numbers=IMAGE_NUMBERS),
        _xai("POST", "/v1/tokenize-text", info.tokenize_text, "text", json_body=True),
        _xai("GET", "/v1/api-key", info.api_key_info, "info", allow_blocked=True),
        # The colon route comes first: `{batch_id}` alone would also match `batch_…:cancel`.
        _xai("POST", "/v1/batches/{batch_id}:cancel", batches.cancel_batch, "info"),
        _xai("POST", "/v1/batches", batches.create_batch, "info", json_body=True),
        _xai("GET", "/v1/batches", batches.list_batches, "info"),
        _xai("GET", "/v1/batches/{batch_id}", batches.get_batch, "info"),
        _xai("POST", "/v1/batches/{batch_id}/requests", batches.add_requests, "info", json_body=True),
        _xai("GET", "/v1/batches/{batch_id}/requests", batches.list_requests, "info"),
        _xai("GET", "/v1/batches/{batch_id}/results", batches.results, "info"),
    ]


def _control_routes() -> list[Route]:
    """The `/_sim` control API that tests and benchmarks drive; no key needed."""
    return [
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
        routes=[*_xai_routes(), *_control_routes()],
        middleware=[Middleware(SimulatorMarks)],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
        lifespan=_lifespan,
    )
    app.state.simulator = SimulatorState(config or SimulatorConfig())
    return app
