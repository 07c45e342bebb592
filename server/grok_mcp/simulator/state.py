"""Everything one simulator app remembers between requests; it lives on `app.state.simulator`."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from grok_mcp.simulator.catalog import Catalog
from grok_mcp.simulator.config import SimulatorConfig
from grok_mcp.simulator.faults import FaultQueue
from grok_mcp.simulator.prompt import Turn
from grok_mcp.simulator.usage import PromptCache

REQUESTS_PER_MINUTE = 1200
TOKENS_PER_MINUTE = 18_000_000
IMAGE_REQUESTS_PER_MINUTE = 300
_MAX_LOG = 10_000


@dataclass(kw_only=True)
class RequestRecord:
    """One request that reached a `/v1` path; never holds the key. Fields stand in the order `/_sim/requests` lists."""

    method: str
    path: str
    model: str | None = None
    stream: bool = False
    status: int | None = None
    ts: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class DeferredJob:
    """A deferred chat completion: pending until it is ready and was polled once, then fetched once."""

    owner: str
    body: dict[str, Any]
    ready_at: float
    polls: int = 0


@dataclass
class BatchEntry:
    """One request of a simulated batch: its answer (or xAI's error) is decided when it is added.

    It stays pending until `latency_ms` (the current setting) has passed since it was added, so a test
    can hold a batch pending with a high latency and finish it by setting the latency to 0.
    """

    batch_request_id: str
    model: str | None
    added_at: float
    created: str
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    cancelled: bool = False


@dataclass
class StoredBatch:
    """A simulated Batch API batch and its requests, in the order they were added."""

    owner: str
    batch_id: str
    name: str
    created_at: float
    api_key_id: str
    entries: dict[str, BatchEntry] = field(default_factory=dict[str, BatchEntry])
    cancel_time: str | None = None


@dataclass
class StoredResponse:
    """A stored Responses-API object, with the conversation a follow-up continues from."""

    owner: str
    body: dict[str, Any]
    turns: tuple[Turn, ...]


@dataclass
class RateWindow:
    """Requests and tokens per key in the current minute, for the `x-ratelimit-remaining-*` headers."""

    minute: int = 0
    requests: dict[str, int] = field(default_factory=dict[str, int])
    tokens: dict[str, int] = field(default_factory=dict[str, int])

    def spend(self, owner: str, tokens: int, now: float) -> tuple[int, int]:
        """Count one request and its tokens; return the requests and tokens used this minute."""
        minute = int(now // 60)
        if minute != self.minute:
            self.minute = minute
            self.requests.clear()
            self.tokens.clear()
        self.requests[owner] = self.requests.get(owner, 0) + 1
        self.tokens[owner] = self.tokens.get(owner, 0) + tokens
        return self.requests[owner], self.tokens[owner]


class SimulatorState:
    """Faults, the request log, stored responses, deferred jobs, batches, generated files, cache and pacing."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.base_config = config
        self.config = config
        self.catalog = Catalog()
        self.faults = FaultQueue()
        self.log: list[RequestRecord] = []
        self.request_count = 0
        self.responses: dict[str, StoredResponse] = {}
        self.deferred: dict[str, DeferredJob] = {}
        self.files: OrderedDict[str, bytes] = OrderedDict()
        self.prompt_cache = PromptCache()
        self.rate = RateWindow()
        self.batches: dict[str, StoredBatch] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    def reset(self) -> None:
        """Forget faults, the log, stored responses, jobs, batches, files, the cache and config overrides."""
        self.config = self.base_config
        self.faults.clear()
        self.log.clear()
        self.request_count = 0
        self.responses.clear()
        self.deferred.clear()
        self.files.clear()
        self.prompt_cache.clear()
        self.rate = RateWindow()
        self.batches.clear()
        self.max_in_flight = self.in_flight

    def configure(self, **overrides: Any) -> SimulatorConfig:
        self.config = replace(self.config, **overrides)
        return self.config

    def record(self, method: str, path: str) -> RequestRecord:
        """Start a log entry for a request (its status is filled in when the response starts)."""
        entry = RequestRecord(method=method, path=path, ts=time.time())
        self.log.append(entry)
        self.request_count += 1
        if len(self.log) > _MAX_LOG:
            del self.log[: len(self.log) - _MAX_LOG]
        return entry

    def request_started(self) -> None:
        """Count a `/v1` request in flight (for tests that check a client's concurrency bound)."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def request_finished(self) -> None:
        self.in_flight -= 1

    def store_file(self, name: str, data: bytes) -> None:
        self.files[name] = data
        while len(self.files) > max(self.config.max_stored_files, 1):
            self.files.popitem(last=False)
