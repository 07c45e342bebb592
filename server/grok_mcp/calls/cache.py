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
from typing import Any, Generic, TypeVar, cast

from pydantic import TypeAdapter

from grok_mcp.errors import UpstreamCall
from grok_mcp.grok import ChatCompletion, ResponseResult, Usage

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


Answer = TypeVar("Answer", ChatCompletion, ResponseResult)


class _AnswerCodec(Generic[Answer]):
    """Cache entries of one answer type, shaped by a pydantic TypeAdapter over its dataclass.

    An entry is the answer's fields (its upstream call details and raw body left out) beside `format`
    and `request_id`; the entries written by earlier, hand-written codecs have the same shape.
    """

    def __init__(self, answer_type: type[Answer]) -> None:
        self._adapter: TypeAdapter[Answer] = TypeAdapter(answer_type)

    def encode(self, answer: Answer) -> str:
        fields = self._adapter.dump_python(answer, mode="json", exclude={"call", "raw"})
        return json.dumps({"format": _FORMAT, "request_id": answer.call.request_id, **fields}, ensure_ascii=False)

    def decode(self, entry: str, endpoint: str) -> Answer | None:
        """The entry as a free, cached answer; None for an entry this version cannot read."""
        try:
            data: object = json.loads(entry)
            if not isinstance(data, dict) or data.get("format") != _FORMAT:  # pyright: ignore[reportUnknownMemberType]
                return None
            fields = cast(dict[str, Any], data)
            answer = self._adapter.validate_python({**fields, "call": _cached_call(endpoint, fields.get("request_id"))})
        except ValueError:  # not JSON, or pydantic's ValidationError (a ValueError): a miss
            return None
        return dataclasses.replace(answer, usage=_free(answer.usage))

    @staticmethod
    def cached(answer: Answer, endpoint: str) -> Answer:
        """The same answer as a free, cached one (what a flight's followers receive)."""
        return dataclasses.replace(
            answer, usage=_free(answer.usage), call=_cached_call(endpoint, answer.call.request_id)
        )


def _free(usage: Usage) -> Usage:
    return dataclasses.replace(usage, cost_ticks=0)


_COMPLETIONS = _AnswerCodec(ChatCompletion)
_RESPONSES = _AnswerCodec(ResponseResult)

encode_completion = _COMPLETIONS.encode
"""A chat completion as a cache entry."""
decode_completion = _COMPLETIONS.decode
"""A cache entry as a free, cached chat completion; None for an entry this version cannot read."""
cached_completion = _COMPLETIONS.cached
"""The same chat completion as a free, cached one (what a flight's followers receive)."""
encode_response = _RESPONSES.encode
"""A Responses API answer as a cache entry."""
decode_response = _RESPONSES.decode
"""A cache entry as a free, cached Responses API answer; None for an entry this version cannot read."""
cached_response = _RESPONSES.cached
"""The same Responses API answer as a free, cached one."""
