"""The route of one paid upstream call through the pipeline: cache lookup, single-flight, budget, cache entry.

A call that may not be cached only passes the budget guard. A cacheable one is looked up by its cache
key; a miss joins an identical request already in the air or, as its leader, passes the budget guard,
sends the request and stores the answer for the next caller. Each result type has one `CacheCodec`
saying how its answers enter and leave the cache.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import anyio

from grok_mcp.calls.cache import (
    cache_key,
    cached_completion,
    cached_response,
    decode_completion,
    decode_response,
    encode_completion,
    encode_response,
)
from grok_mcp.calls.flights import SharedTask, WorkCancelledError
from grok_mcp.calls.pipeline import CallPipeline
from grok_mcp.errors import UserFacingError, XAIError
from grok_mcp.grok import ChatCompletion, ResponseResult
from grok_mcp.store import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class CacheCodec(Generic[T]):
    """How answers of one endpoint enter and leave the response cache."""

    endpoint: str
    """The endpoint the answers come from: part of every cache key."""
    encode: Callable[[T], str]
    """The answer as a cache entry."""
    decode: Callable[[str, str], T | None]
    """The answer of a cache entry (given the endpoint), or None for an entry this version cannot read."""
    share: Callable[[T, str], T]
    """The answer as another caller of the same request sees it: marked cached, at no cost."""


CHAT_COMPLETIONS: CacheCodec[ChatCompletion] = CacheCodec(
    "chat/completions", encode_completion, decode_completion, cached_completion
)
"""Chat completions, plain or streamed: one cache entry kind."""

RESPONSES: CacheCodec[ResponseResult] = CacheCodec("responses", encode_response, decode_response, cached_response)
"""Responses API answers (server-side search)."""


@dataclass(frozen=True)
class Route(Generic[T]):
    """One call on its way through the pipeline: what it sends, how its answer is cached, what guards it."""

    pipeline: CallPipeline
    store: Store
    codec: CacheCodec[T]
    body: Mapping[str, Any]
    fetch: Callable[[], Awaitable[T]]
    """Sends the request upstream (and records it in the ledger)."""
    guard_budget: Callable[[], Awaitable[None]]
    """Raises BudgetExceededError past a spending limit; awaited before any paid request is sent."""
    label: str
    """Who is calling, for the log (a tool name)."""


async def through_pipeline(route: Route[T], ttl_s: float | None) -> T:
    """The answer of `route`'s request: from the cache, shared with an identical request, or fetched.

    `ttl_s` None keeps the call away from the cache and single-flight. Raises BudgetExceededError, what
    `fetch` raises (a shared request's XAIError without its ledger row), and UserFacingError when the
    request this call waited for was cancelled by a shutdown.
    """
    if ttl_s is None:
        await route.guard_budget()
        return await route.fetch()
    pipeline = route.pipeline
    await pipeline.key_ready()
    key = cache_key(pipeline.key_scope(), route.codec.endpoint, route.body)
    flight = pipeline.flights.find(key)
    if flight is None:
        hit = await _cached(route, key)
        if hit is not None:
            return hit
        flight = pipeline.flights.find(key)
    if flight is None:
        await route.guard_budget()
        flight = pipeline.flights.find(key)
    if flight is not None:
        return route.codec.share(cast(T, await _follow(flight)), route.codec.endpoint)

    async def fly() -> T:
        result = await route.fetch()
        await _store(route, key, result, ttl_s)
        return result

    host = pipeline.host
    if host is None:  # no long-lived task group (not served by open_app_context): run inline
        return await fly()
    return cast(T, await _lead(pipeline.flights.start(host, key, fly, ttl_s=ttl_s)))


async def _cached(route: Route[T], key: str) -> T | None:
    now = route.pipeline.now()
    entry = await anyio.to_thread.run_sync(lambda: route.store.cached_response_at(key, now=now))
    return route.codec.decode(entry, route.codec.endpoint) if entry is not None else None


async def _store(route: Route[T], key: str, result: T, ttl_s: float) -> None:
    try:
        entry = route.codec.encode(result)
        now = route.pipeline.now()
        await anyio.to_thread.run_sync(lambda: route.store.cache_response_at(key, entry, now=now, ttl_s=ttl_s))
    except Exception:  # an answer that cannot be cached is still an answer
        logger.exception("Could not cache the answer of %s", route.label)


async def _lead(flight: SharedTask[object]) -> object:
    """The answer of the request this call leads (its errors are this call's own)."""
    try:
        return await flight.wait()
    except WorkCancelledError:
        raise _cancelled() from None


async def _follow(flight: SharedTask[object]) -> object:
    """The answer of an identical request another call leads; its ledger row belongs to that call."""
    try:
        return await flight.wait()
    except XAIError as exc:
        raise _unrecorded(exc) from None
    except WorkCancelledError:
        raise _cancelled() from None


def _cancelled() -> UserFacingError:
    return UserFacingError(
        "An identical request this call was waiting for was cancelled (the server is stopping). Try again."
    )


def _unrecorded(exc: XAIError) -> XAIError:
    """The same error for a call that shared another's request: its ledger row belongs to that call."""
    clone = copy.copy(exc)
    clone.call = None
    return clone
