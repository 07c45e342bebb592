"""The simulated Batch API (xai-api.md §12): create, add requests, status, request states, results, cancel, list."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response

from grok_mcp.simulator.chat import completion_body, plan_chat
from grok_mcp.simulator.gateway import Exchange
from grok_mcp.simulator.number_fields import CHAT_NUMBERS, check_numbers
from grok_mcp.simulator.state import BatchEntry, StoredBatch
from grok_mcp.simulator.wire import BodyReader, XAIFailure

# xai-api.md §7.4: batch requests are billed 20% below the listed token prices (xAI's model pages say
# so for grok-4.3 and grok-4.20; the simulator applies it to every model).
BATCH_DISCOUNT = 0.2
BATCH_LIFETIME_DAYS = 30
MAX_PAGE = 100
ENDPOINT = "xai_api.Chat/GetCompletion"

# The gRPC status a batch result's `error.code` carries (google.rpc.Status) for an HTTP status.
_GRPC_CODES: dict[int, int] = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 5,  # NOT_FOUND
    410: 9,  # FAILED_PRECONDITION
    413: 3,
    415: 3,
    422: 3,
    429: 8,  # RESOURCE_EXHAUSTED
    500: 13,  # INTERNAL
    503: 14,  # UNAVAILABLE
    504: 4,  # DEADLINE_EXCEEDED
}


def _day(ts: float, days: int = 0) -> str:
    """A date as xAI's batch objects show it (`YYYY-MM-DD`)."""
    return (datetime.fromtimestamp(ts, UTC) + timedelta(days=days)).strftime("%Y-%m-%d")


def _latency_s(exchange: Exchange) -> float:
    return exchange.config.latency_ms / 1000


def _entry_state(entry: BatchEntry, now: float, latency_s: float) -> str:
    if entry.cancelled:
        return "cancelled"
    if now < entry.added_at + latency_s:
        return "pending"
    return "failed" if entry.error is not None else "succeeded"


def _batch_json(batch: StoredBatch, exchange: Exchange) -> dict[str, Any]:
    now, latency_s = time.time(), _latency_s(exchange)
    states = [_entry_state(entry, now, latency_s) for entry in batch.entries.values()]
    cost = sum(
        int(entry.response["usage"]["cost_in_usd_ticks"])
        for entry, state in zip(batch.entries.values(), states, strict=True)
        if state == "succeeded" and entry.response is not None
    )
    return {
        "batch_id": batch.batch_id,
        "name": batch.name,
        "create_time": _day(batch.created_at),
        "expire_time": _day(batch.created_at, BATCH_LIFETIME_DAYS),
        "create_api_key_id": batch.api_key_id,
        "cancel_time": batch.cancel_time,
        "cancel_by_xai_message": None,
        "state": {
            "num_requests": len(states),
            "num_pending": states.count("pending"),
            "num_success": states.count("succeeded"),
            "num_error": states.count("failed"),
            "num_cancelled": states.count("cancelled"),
        },
        "cost_breakdown": {"total_cost_usd_ticks": cost},
    }


def _owned_batch(exchange: Exchange) -> StoredBatch:
    batch_id = str(exchange.request.path_params["batch_id"])
    batch = exchange.state.batches.get(batch_id)
    if batch is None or batch.owner != exchange.key.team_id:
        raise XAIFailure(404, f"Batch with id={batch_id} not found")
    return batch


def _page_params(exchange: Exchange) -> tuple[int, int]:
    """`limit` (1..100, default 100) and the offset a `pagination_token` stands for."""
    query = exchange.request.query_params
    try:
        limit = int(query.get("limit") or MAX_PAGE)
        offset = int(query.get("pagination_token") or 0)
    except ValueError:
        raise XAIFailure(400, "limit and pagination_token must be the values this API returned") from None
    if limit < 1 or offset < 0:
        raise XAIFailure(400, "limit must be positive and pagination_token must be one this API returned")
    return min(limit, MAX_PAGE), offset


def _next_token(offset: int, limit: int, total: int) -> str | None:
    return str(offset + limit) if offset + limit < total else None


def _discounted(body: dict[str, Any]) -> dict[str, Any]:
    usage: dict[str, Any] = dict(body["usage"])
    usage["cost_in_usd_ticks"] = round(int(usage["cost_in_usd_ticks"]) * (1 - BATCH_DISCOUNT))
    return body | {"usage": usage}


def _answer(exchange: Exchange, request_id: str, inner: dict[str, Any]) -> BatchEntry:
    """Run one batch request through the same validation and reply as `POST /v1/chat/completions`."""
    now = time.time()
    model = inner.get("model")
    entry = BatchEntry(request_id, model if isinstance(model, str) else None, now, _day(now))
    single = Exchange(
        request=exchange.request,
        state=exchange.state,
        config=exchange.config,
        key=exchange.key,
        request_id=str(uuid.uuid4()),
        reader=BodyReader(json.dumps(inner)),
        body=inner,
        fault=None,
        started=time.monotonic(),
    )
    try:
        plan = plan_chat(single)
    except XAIFailure as failure:
        entry.error = {"code": _GRPC_CODES.get(failure.status, 2), "message": failure.message, "details": []}
        return entry
    entry.response = _discounted(completion_body(plan, single.request_id, int(now)))
    return entry


async def create_batch(exchange: Exchange) -> Response:
    """`POST /v1/batches {"name"}`: an empty batch (a missing name is serde's 422, as at xAI)."""
    name = exchange.reader.required_string(exchange.body, "name")
    batch = StoredBatch(
        owner=exchange.key.team_id,
        batch_id=f"batch_{uuid.uuid4()}",
        name=name,
        created_at=time.time(),
        api_key_id=exchange.key.api_key_id,
    )
    exchange.state.batches[batch.batch_id] = batch
    return JSONResponse(_batch_json(batch, exchange))


async def add_requests(exchange: Exchange) -> Response:
    """`POST /v1/batches/{id}/requests`: add chat requests; each is answered (or refused) on its own. Body `null`."""
    batch = _owned_batch(exchange)
    reader = exchange.reader
    raw_requests = reader.array(exchange.body, "batch_requests", required=True)
    parsed: list[tuple[str, dict[str, Any]]] = []
    for index, raw in enumerate(raw_requests):
        path = f"batch_requests[{index}]"
        item = reader.object(raw, path)
        request_id = reader.required_string(item, "batch_request_id", path)
        wrapper = reader.required_mapping(item, "batch_request", path)
        inner = reader.mapping(wrapper, "chat_get_completion", f"{path}.batch_request")
        if inner is None:
            raise XAIFailure(400, f"{path}.batch_request must hold a chat_get_completion request")
        check_numbers(reader, inner, CHAT_NUMBERS, f"{path}.batch_request.chat_get_completion")
        parsed.append((request_id, inner))
    if batch.cancel_time is not None:
        raise XAIFailure(400, f"Batch {batch.batch_id} was cancelled; no requests can be added to it")
    seen = set(batch.entries)
    for request_id, _ in parsed:
        if request_id in seen:
            raise XAIFailure(400, f"batch_request_id {request_id} is used more than once in batch {batch.batch_id}")
        seen.add(request_id)
    for request_id, inner in parsed:
        batch.entries[request_id] = _answer(exchange, request_id, inner)
    return JSONResponse(None)


async def get_batch(exchange: Exchange) -> Response:
    """`GET /v1/batches/{id}`: the batch and its request counts."""
    return JSONResponse(_batch_json(_owned_batch(exchange), exchange))


async def list_requests(exchange: Exchange) -> Response:
    """`GET /v1/batches/{id}/requests`: each request's state, in the order they were added."""
    batch = _owned_batch(exchange)
    limit, offset = _page_params(exchange)
    now, latency_s = time.time(), _latency_s(exchange)
    entries = list(batch.entries.values())
    metadata: list[dict[str, Any]] = []
    for entry in entries[offset : offset + limit]:
        state = _entry_state(entry, now, latency_s)
        metadata.append(
            {
                "batch_request_id": entry.batch_request_id,
                "endpoint": ENDPOINT,
                "model": entry.model,
                "state": state,
                "create_time": entry.created,
                "finish_time": None if state in ("pending", "cancelled") else _day(entry.added_at + latency_s),
            }
        )
    return JSONResponse(
        {"batch_request_metadata": metadata, "pagination_token": _next_token(offset, limit, len(entries))}
    )


async def results(exchange: Exchange) -> Response:
    """`GET /v1/batches/{id}/results`: the finished requests, each a completion or a gRPC-style error."""
    batch = _owned_batch(exchange)
    limit, offset = _page_params(exchange)
    now, latency_s = time.time(), _latency_s(exchange)
    finished = [
        entry for entry in batch.entries.values() if _entry_state(entry, now, latency_s) in ("succeeded", "failed")
    ]
    page: list[dict[str, Any]] = []
    for entry in finished[offset : offset + limit]:
        if entry.response is not None:
            page.append(
                {"batch_request_id": entry.batch_request_id, "response": {"completion_response": entry.response}}
            )
        else:
            page.append({"batch_request_id": entry.batch_request_id, "error": entry.error})
    return JSONResponse({"results": page, "pagination_token": _next_token(offset, limit, len(finished))})


async def cancel_batch(exchange: Exchange) -> Response:
    """`POST /v1/batches/{id}:cancel`: pending requests are cancelled; finished ones keep their results."""
    batch = _owned_batch(exchange)
    now, latency_s = time.time(), _latency_s(exchange)
    if batch.cancel_time is None:
        batch.cancel_time = _day(now)
        for entry in batch.entries.values():
            if _entry_state(entry, now, latency_s) == "pending":
                entry.cancelled = True
    return JSONResponse(_batch_json(batch, exchange))


async def list_batches(exchange: Exchange) -> Response:
    """`GET /v1/batches`: the team's batches, newest first."""
    limit, offset = _page_params(exchange)
    owned = [batch for batch in exchange.state.batches.values() if batch.owner == exchange.key.team_id]
    owned.reverse()
    return JSONResponse(
        {
            "batches": [_batch_json(batch, exchange) for batch in owned[offset : offset + limit]],
            "pagination_token": _next_token(offset, limit, len(owned)),
        }
    )
