"""The response cache's keys and entries: which requests count as identical, and answers stored as JSON.

Two requests are identical when they go to the same endpoint with the same canonical body (keys
sorted, the model name trimmed and lower-cased as sent) under the same key scope: a hash of the API key
(never the key), or `demo` in demo mode. Entries hold the parsed answer, never an error or a partial
stream; a cached answer comes back marked `cached` with a cost of zero.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

from grok_mcp.errors import UpstreamCall
from grok_mcp.grok import ChatCompletion, Citation, FunctionCall, ResponseResult, ResponseToolCall, Usage

DEFAULT_CACHE_TTL_S = 3600.0
"""How long an answer stays cached when a caller asks for caching and settings.toml sets no TTL."""

CACHED_MARK = "cached"
"""The key in `UpstreamCall.extra` that marks an answer served from the cache (or shared by a flight)."""

_FORMAT = 1


def key_scope(api_key: str | None, *, demo: bool) -> str:
    """The cache namespace of one API key (a salted hash, never the key), or `demo` in demo mode."""
    if demo:
        return "demo"
    if not api_key:
        return "no-key"
    return "key:" + hashlib.sha256(f"grok-mcp response cache\n{api_key}".encode()).hexdigest()[:32]


def canonical_body(body: Mapping[str, Any]) -> str:
    """The body as canonical JSON: keys sorted, no whitespace, the model name trimmed and lower-cased."""
    normal = dict(body)
    model = normal.get("model")
    if isinstance(model, str):
        normal["model"] = model.strip().lower()
    return json.dumps(normal, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cache_key(scope: str, endpoint: str, body: Mapping[str, Any]) -> str:
    """The cache key of a request: a SHA-256 over the scope, the endpoint and the canonical body."""
    material = f"v{_FORMAT}\n{scope}\n{endpoint}\n{canonical_body(body)}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def is_cached(call: UpstreamCall) -> bool:
    """Whether an answer came from the cache (or a shared flight) rather than its own upstream request."""
    return bool(call.extra.get(CACHED_MARK))


def _cached_call(endpoint: str, request_id: str | None) -> UpstreamCall:
    return UpstreamCall(endpoint=endpoint, status=200, request_id=request_id, extra={CACHED_MARK: True})


def _free(usage: Usage) -> Usage:
    return dataclasses.replace(usage, cost_ticks=0)


def encode_completion(completion: ChatCompletion) -> str:
    """A chat completion as a cache entry (its upstream call details and raw body left out)."""
    return json.dumps(
        {
            "format": _FORMAT,
            "id": completion.id,
            "request_id": completion.call.request_id,
            "model": completion.model,
            "text": completion.text,
            "reasoning": completion.reasoning,
            "finish_reason": completion.finish_reason,
            "tool_calls": [dataclasses.asdict(t) for t in completion.tool_calls],
            "citations": [dataclasses.asdict(c) for c in completion.citations],
            "usage": dataclasses.asdict(completion.usage),
            "system_fingerprint": completion.system_fingerprint,
        },
        ensure_ascii=False,
    )


def cached_completion(completion: ChatCompletion, endpoint: str) -> ChatCompletion:
    """The same answer as a free, cached one (what a flight's followers receive)."""
    return dataclasses.replace(
        completion, usage=_free(completion.usage), call=_cached_call(endpoint, completion.call.request_id)
    )


def decode_completion(entry: str, endpoint: str) -> ChatCompletion | None:
    """A cache entry as a free, cached chat completion; None for an entry this version cannot read."""
    try:
        data = cast(dict[str, Any], json.loads(entry))
        if data.get("format") != _FORMAT:
            return None
        return ChatCompletion(
            id=str(data["id"]),
            model=str(data["model"]),
            text=str(data["text"]),
            reasoning=data.get("reasoning"),
            finish_reason=data.get("finish_reason"),
            tool_calls=[FunctionCall(**t) for t in data.get("tool_calls", [])],
            citations=[Citation(**c) for c in data.get("citations", [])],
            usage=_free(Usage(**data["usage"])),
            call=_cached_call(endpoint, data.get("request_id")),
            system_fingerprint=data.get("system_fingerprint"),
        )
    except (ValueError, KeyError, TypeError):
        return None


def encode_response(response: ResponseResult) -> str:
    """A Responses API answer as a cache entry."""
    return json.dumps(
        {
            "format": _FORMAT,
            "id": response.id,
            "request_id": response.call.request_id,
            "model": response.model,
            "text": response.text,
            "citations": [dataclasses.asdict(c) for c in response.citations],
            "tool_calls": [dataclasses.asdict(t) for t in response.tool_calls],
            "usage": dataclasses.asdict(response.usage),
            "status": response.status,
            "reasoning": response.reasoning,
        },
        ensure_ascii=False,
    )


def cached_response(response: ResponseResult, endpoint: str) -> ResponseResult:
    """The same Responses API answer as a free, cached one."""
    return dataclasses.replace(
        response, usage=_free(response.usage), call=_cached_call(endpoint, response.call.request_id)
    )


def decode_response(entry: str, endpoint: str) -> ResponseResult | None:
    """A cache entry as a free, cached Responses API answer; None for an entry this version cannot read."""
    try:
        data = cast(dict[str, Any], json.loads(entry))
        if data.get("format") != _FORMAT:
            return None
        return ResponseResult(
            id=str(data["id"]),
            model=str(data["model"]),
            text=str(data["text"]),
            citations=[Citation(**c) for c in data.get("citations", [])],
            tool_calls=[ResponseToolCall(**t) for t in data.get("tool_calls", [])],
            usage=_free(Usage(**data["usage"])),
            call=_cached_call(endpoint, data.get("request_id")),
            status=data.get("status"),
            reasoning=data.get("reasoning"),
        )
    except (ValueError, KeyError, TypeError):
        return None
