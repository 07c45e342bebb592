"""The front door of every `/v1` endpoint: body parsing, injected faults, the key check and common headers."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal, cast

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from grok_mcp.simulator.config import SimulatorConfig
from grok_mcp.simulator.faults import Fault, FaultError, parse_fault_header
from grok_mcp.simulator.keys import ApiKey, credits_exhausted, key_from_authorization, rate_limited
from grok_mcp.simulator.number_fields import NO_NUMBERS, NumberFields, check_numbers
from grok_mcp.simulator.state import (
    IMAGE_REQUESTS_PER_MINUTE,
    REQUESTS_PER_MINUTE,
    TOKENS_PER_MINUTE,
    RequestRecord,
    SimulatorState,
)
from grok_mcp.simulator.streaming import DroppedResponse, sleep_or_disconnect
from grok_mcp.simulator.wire import BodyReader, XAIFailure, parse_json_body

logger = logging.getLogger(__name__)

EndpointKind = Literal["text", "image", "info"]
RECORD_SCOPE_KEY = "sim.record"
_ANONYMOUS_TEAM = "00000000-0000-4000-8000-000000000000"
_DEFAULT_STATUS_MESSAGES: dict[int, str] = {
    400: "Simulated invalid request.",
    401: "Simulated authentication failure.",
    403: "Simulated permission failure: this key may not use this endpoint.",
    404: "Simulated: the requested entity was not found.",
    429: "The service is temporarily at capacity. Please retry your request shortly.",
    500: "Internal error",
    503: "Service temporarily unavailable. The model is at capacity and currently cannot serve this request. "
    "Please try again later.",
}
_CLOUDFLARE_PAGE = (
    "<html><head><title>{status} {phrase}</title></head><body><center><h1>{status} {phrase}</h1></center>"
    "<hr><center>cloudflare</center></body></html>"
)


def _cloudflare_page(status: int) -> str:
    return _CLOUDFLARE_PAGE.format(status=status, phrase=HTTPStatus(status).phrase)


def simulator_state(request: Request) -> SimulatorState:
    """The state of the app serving this request."""
    return cast(SimulatorState, request.app.state.simulator)


@dataclass
class Exchange:
    """One authorised request on its way through an endpoint, with what the endpoint reports back."""

    request: Request
    state: SimulatorState
    config: SimulatorConfig
    key: ApiKey
    request_id: str
    reader: BodyReader
    body: dict[str, Any]
    fault: Fault | None
    started: float
    tokens_used: int = 0
    ttft_ms: float | None = None

    async def pause(self, ms: float) -> None:
        """Wait `ms` milliseconds (or until the client leaves)."""
        await sleep_or_disconnect(ms, self.request.receive)

    @property
    def root_url(self) -> str:
        return str(self.request.base_url).rstrip("/")

    def cache_scope(self, model_id: str) -> str:
        """Where this key's prompt cache for a model lives: a cached prefix serves only the key that sent it."""
        return f"{self.key.fingerprint}:{model_id}"

    @property
    def structured_fault(self) -> bool:
        return self.fault is not None and self.fault.kind == "bad_json"


Handler = Callable[[Exchange], Awaitable[Response]]


def _is_structured(body: dict[str, Any]) -> bool:
    response_format: object = body.get("response_format")
    text: object = body.get("text")
    if isinstance(text, dict):
        response_format = cast(dict[str, Any], text).get("format")
    if isinstance(response_format, dict):
        return cast(dict[str, Any], response_format).get("type") in ("json_schema", "json_object")
    return False


def _fault_failure(fault: Fault, team_id: str) -> XAIFailure | None:
    retry = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    if fault.kind == "rate_limit":
        failure = rate_limited(team_id, retry)
        if fault.message:
            failure = XAIFailure(429, fault.message, headers=retry)
        return failure
    if fault.kind == "credits":
        failure = credits_exhausted(team_id)
        failure.headers.update(retry)
        return failure
    if fault.kind == "error_200":
        message = fault.message or "Timed out waiting for first token"
        return XAIFailure(503, message, http_status=200)
    if fault.kind == "status":
        status = fault.status or 500
        message = fault.message or _DEFAULT_STATUS_MESSAGES.get(status, f"Simulated HTTP {status}.")
        if status == 422 and fault.message is None:
            message = "Failed to deserialize the JSON body into the target type: simulated at line 1 column 1"
        return XAIFailure(status, message, headers=retry)
    return None


async def _pre_response_fault(fault: Fault, team_id: str, request: Request) -> Response | None:
    """Apply a fault that strikes before the answer; a response replaces the answer, None lets it through."""
    if fault.kind == "drop":
        return DroppedResponse()
    if fault.kind == "stall":
        await sleep_or_disconnect(fault.seconds * 1000, request.receive)
        return None
    failure = _fault_failure(fault, team_id)
    if failure is None:
        return None
    if fault.kind == "status" and failure.status in (502, 504) and fault.message is None:
        return HTMLResponse(_cloudflare_page(failure.status), failure.status, failure.headers)
    return failure.to_response()


def _common_headers(response: Response, exchange: Exchange, kind: EndpointKind) -> None:
    if response.status_code >= 400 or kind == "info":
        return
    now = time.time()
    used_requests, used_tokens = exchange.state.rate.spend(exchange.key.fingerprint, exchange.tokens_used, now)
    if kind == "image":
        response.headers["x-ratelimit-limit-requests"] = str(IMAGE_REQUESTS_PER_MINUTE)
        response.headers["x-ratelimit-remaining-requests"] = str(max(IMAGE_REQUESTS_PER_MINUTE - used_requests, 0))
        return
    response.headers["x-ratelimit-limit-requests"] = str(REQUESTS_PER_MINUTE)
    response.headers["x-ratelimit-remaining-requests"] = str(max(REQUESTS_PER_MINUTE - used_requests, 0))
    response.headers["x-ratelimit-limit-tokens"] = str(TOKENS_PER_MINUTE)
    response.headers["x-ratelimit-remaining-tokens"] = str(max(TOKENS_PER_MINUTE - used_tokens, 0))
    elapsed = (time.monotonic() - exchange.started) * 1000
    if "x-metrics-e2e-ms" not in response.headers:
        response.headers["x-metrics-e2e-ms"] = f"{elapsed:.1f}"
    ttft = exchange.ttft_ms if exchange.ttft_ms is not None else elapsed
    response.headers["x-metrics-ttft-ms"] = f"{ttft:.1f}"


def endpoint(
    handler: Handler,
    *,
    kind: EndpointKind,
    json_body: bool = False,
    numbers: NumberFields = NO_NUMBERS,
    allow_blocked: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with what every xAI endpoint does before and after its own work.

    `numbers` are the body's number fields: each is read as its type before the handler runs.
    """

    async def run(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            response = await _run(request, request_id, started)
        except XAIFailure as failure:
            response = failure.to_response()
        response.headers.setdefault("x-request-id", request_id)
        return response

    async def _run(request: Request, request_id: str, started: float) -> Response:
        state = simulator_state(request)
        reader, body = await _read_body(request, json_body=json_body)
        fault = _choose_fault(request, state, is_stream=body.get("stream") is True, is_structured=_is_structured(body))
        authorization = request.headers.get("authorization")
        if fault is not None and not fault.is_midstream:
            replacement = await _pre_response_fault(fault, _team_of(authorization), request)
            if replacement is not None:
                return replacement
        key = key_from_authorization(authorization)
        key.check(allow_blocked=allow_blocked)
        check_numbers(reader, body, numbers)
        exchange = Exchange(
            request=request,
            state=state,
            config=state.config,
            key=key,
            request_id=request_id,
            reader=reader,
            body=body,
            fault=fault,
            started=started,
        )
        response = await handler(exchange)
        _common_headers(response, exchange, kind)
        return response

    return run


async def _read_body(request: Request, *, json_body: bool) -> tuple[BodyReader, dict[str, Any]]:
    """The request's JSON body (empty unless the endpoint takes one), noted in its request-log record."""
    reader = BodyReader("")
    body: dict[str, Any] = {}
    if json_body:
        reader, body = parse_json_body(await request.body(), request.headers.get("content-type"))
    record = cast(RequestRecord | None, request.scope.get(RECORD_SCOPE_KEY))
    if record is not None:
        model = body.get("model")
        record.model = model if isinstance(model, str) else request.path_params.get("model_id")
        record.stream = body.get("stream") is True
    return reader, body


def _team_of(authorization: str | None) -> str:
    try:
        return key_from_authorization(authorization).team_id
    except XAIFailure:
        return _ANONYMOUS_TEAM


def _choose_fault(request: Request, state: SimulatorState, *, is_stream: bool, is_structured: bool) -> Fault | None:
    header = request.headers.get("x-sim-fault")
    if header:
        try:
            fault = parse_fault_header(header)
        except FaultError as exc:
            raise XAIFailure(400, f"Simulator: {exc}", code="Simulator fault header is invalid") from None
    else:
        fault = state.faults.take(request.url.path, is_stream=is_stream, is_structured=is_structured)
    if fault is not None:
        logger.debug("injecting a %s fault into %s %s", fault.kind, request.method, request.url.path)
    return fault
