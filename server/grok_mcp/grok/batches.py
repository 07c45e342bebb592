"""xAI's Batch API on the wire: the request payloads, and the typed batches, request states and results it returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Generic, TypeVar

from grok_mcp.errors import UpstreamCall
from grok_mcp.grok.parsing import JSON, as_int, as_list, as_object, as_str, parse_chat_completion
from grok_mcp.grok.types import ChatCompletion

# gRPC status numbers xAI puts in a batch result's `error.code` (google.rpc.Status), as HTTP statuses.
_GRPC_TO_HTTP: dict[int, int] = {
    3: 400,  # INVALID_ARGUMENT
    4: 504,  # DEADLINE_EXCEEDED
    5: 404,  # NOT_FOUND
    7: 403,  # PERMISSION_DENIED
    8: 429,  # RESOURCE_EXHAUSTED
    9: 400,  # FAILED_PRECONDITION
    12: 501,  # UNIMPLEMENTED
    13: 500,  # INTERNAL
    14: 503,  # UNAVAILABLE
    16: 401,  # UNAUTHENTICATED
}


@dataclass(frozen=True)
class BatchState:
    """How many of a batch's requests are pending, succeeded, failed or were cancelled."""

    num_requests: int = 0
    num_pending: int = 0
    num_success: int = 0
    num_error: int = 0
    num_cancelled: int = 0

    @property
    def is_finished(self) -> bool:
        """True once no request is pending (every request succeeded, failed or was cancelled)."""
        return self.num_pending == 0


@dataclass(frozen=True)
class Batch:
    """One batch as xAI describes it; `cancel_time` is set once it was cancelled."""

    batch_id: str
    name: str
    state: BatchState
    create_time: str | None = None
    expire_time: str | None = None
    cancel_time: str | None = None
    cancel_by_xai_message: str | None = None
    total_cost_ticks: int | None = None

    @property
    def is_cancelled(self) -> bool:
        return self.cancel_time is not None


@dataclass(frozen=True)
class BatchRequestInfo:
    """The state of one request in a batch: `pending`, `succeeded`, `failed` or `cancelled` (xAI's words)."""

    batch_request_id: str
    state: str
    model: str | None = None
    create_time: str | None = None
    finish_time: str | None = None


@dataclass(frozen=True)
class BatchItemOutcome:
    """The result of one finished batch request: a completion, or xAI's error for it."""

    batch_request_id: str
    completion: ChatCompletion | None
    error_message: str | None = None
    error_status: int | None = None
    """The HTTP status the error's gRPC code stands for (400 for a bad argument, 404 for a model …)."""


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; `pagination_token` is None on the last page."""

    items: list[T]
    pagination_token: str | None


def batch_requests_payload(requests: Sequence[tuple[str, Mapping[str, Any]]]) -> JSON:
    """The body of `POST /v1/batches/{id}/requests` for (batch_request_id, chat completion body) pairs."""
    return {
        "batch_requests": [
            {"batch_request_id": request_id, "batch_request": {"chat_get_completion": dict(body)}}
            for request_id, body in requests
        ]
    }


def _optional_str(value: object) -> str | None:
    """A string field, with empty strings (protobuf's unset) read as None."""
    text = as_str(value)
    return text or None


def _optional_strs(entry: JSON, *keys: str) -> dict[str, str | None]:
    """The string fields `keys` of `entry` by name (see _optional_str), for a dataclass named as xAI names them."""
    return {key: _optional_str(entry.get(key)) for key in keys}


def parse_batch(body: JSON) -> Batch:
    """A Batch from its JSON object."""
    state = as_object(body.get("state"))
    cost = as_object(body.get("cost_breakdown"))
    total = cost.get("total_cost_usd_ticks")
    # Every count, and every time, comes under its field's own name.
    return Batch(
        batch_id=as_str(body.get("batch_id")) or "",
        name=as_str(body.get("name")) or "",
        state=BatchState(**{count.name: as_int(state.get(count.name)) for count in fields(BatchState)}),
        total_cost_ticks=None if total is None else as_int(total),
        **_optional_strs(body, "create_time", "expire_time", "cancel_time", "cancel_by_xai_message"),
    )


def parse_batch_list(body: JSON) -> Page[Batch]:
    """A page of `GET /v1/batches`."""
    batches = [parse_batch(as_object(entry)) for entry in as_list(body.get("batches"))]
    return Page(batches, _optional_str(body.get("pagination_token")))


def _request_state(value: object) -> str:
    """`pending` from `pending`, `STATE_PENDING` or the enum's number alike."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {1: "pending", 2: "succeeded", 3: "cancelled", 4: "failed"}.get(value, "unknown")
    text = (as_str(value) or "unknown").lower()
    return text.removeprefix("state_")


def parse_batch_requests(body: JSON) -> Page[BatchRequestInfo]:
    """A page of `GET /v1/batches/{id}/requests`."""
    infos = [
        BatchRequestInfo(
            batch_request_id=as_str(entry.get("batch_request_id")) or "",
            state=_request_state(entry.get("state")),
            **_optional_strs(entry, "model", "create_time", "finish_time"),
        )
        for entry in map(as_object, as_list(body.get("batch_request_metadata")))
    ]
    return Page(infos, _optional_str(body.get("pagination_token")))


def _completion_body(response: JSON) -> JSON | None:
    """The chat completion inside a result's `response` (the proto's `completion_response`).

    The REST shape is not documented (xai-api.md §12 marks it UNCERTAIN), so a completion placed
    directly in `response`, or under the request's own key, is accepted too.
    """
    for key in ("completion_response", "chat_get_completion"):
        inner = as_object(response.get(key))
        if inner:
            return inner
    return response if "choices" in response else None


def _error_of(entry: JSON) -> tuple[str, int | None]:
    error = entry.get("error")
    if isinstance(error, str):
        return error, None
    fields = as_object(error)
    message = as_str(fields.get("message")) or as_str(fields.get("error")) or "xAI reported an error for this request"
    code = fields.get("code")
    status = _GRPC_TO_HTTP.get(code) if isinstance(code, int) and not isinstance(code, bool) else None
    return message, status


def parse_batch_results(body: JSON, call: UpstreamCall) -> Page[BatchItemOutcome]:
    """A page of `GET /v1/batches/{id}/results`; each completion's call is the page's fetch with its own request id."""
    outcomes: list[BatchItemOutcome] = []
    for entry in map(as_object, as_list(body.get("results"))):
        request_id = as_str(entry.get("batch_request_id")) or ""
        completion = _completion_body(as_object(entry.get("response")))
        if completion is not None and entry.get("error") in (None, {}):
            usage = as_object(completion.get("usage"))
            item_call = replace(
                call,
                request_id=as_str(completion.get("id")) or None,
                cost_ticks=as_int(usage.get("cost_in_usd_ticks")),
            )
            outcomes.append(BatchItemOutcome(request_id, parse_chat_completion(completion, item_call)))
            continue
        message, status = _error_of(entry)
        outcomes.append(BatchItemOutcome(request_id, None, message, status))
    return Page(outcomes, _optional_str(body.get("pagination_token")))
