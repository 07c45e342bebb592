"""Prometheus metrics of one HTTP server process, served at `GET /metrics` (bearer token required).

Names follow Prometheus' conventions: the `grok_mcp_` prefix, base units (seconds, US dollars), `_total` on
counters. Every label has a small, bounded set of values, so a scrape never grows with what clients send:

- `tool`: this server's own tool names;
- `outcome`: `ok` or `error`;
- `model`: a model xAI answered with (at most MAX_MODELS of them, then `other`), `other` for a model xAI
  never answered with, `none` when no model was involved;
- `status`: `1xx` … `5xx`, or `none` (no response arrived);
- `type`: `input`, `cached_input`, `output`, `reasoning`.

No prompt, answer, key, client name or other client-chosen text is ever a label. Only HTTP mode collects
metrics: a stdio server has nobody to scrape it, and its calls are all in the usage ledger anyway, as
these are (`grok-mcp usage`, the tray's Usage page). Batch API results fetched by `job_result` are in the
ledger but not counted here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from grok_mcp.store import RequestRecord
from grok_mcp.store.units import ticks_to_usd

CONTENT_TYPE = CONTENT_TYPE_LATEST
MAX_MODELS = 64
"""Distinct model label values kept; later ones are counted as `other`."""

_DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 45, 90, 180, 600)


def status_class(status: int) -> str:
    """`1xx` … `5xx`, or `none` when no response arrived (0) or the status is not HTTP's."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "none"


class Metrics:
    """Counters and histograms of one process, in their own registry (never the global one)."""

    def __init__(self, *, version: str, inflight: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self._models: set[str] = set()
        self._lock = threading.Lock()
        Gauge(
            "grok_mcp_build_info", "The running Grok MCP's version (always 1).", ["version"], registry=self.registry
        ).labels(version=version).set(1)
        Gauge(
            "grok_mcp_tool_calls_in_flight", "Tool calls running now (jobs included).", registry=self.registry
        ).set_function(inflight)
        self._calls = self._counter(
            "grok_mcp_tool_calls", "Tool calls that ended, by tool and outcome.", "tool", "outcome"
        )
        self._call_seconds = self._histogram(
            "grok_mcp_tool_call_duration_seconds", "How long tool calls took, by tool.", "tool"
        )
        self._upstream = self._counter(
            "grok_mcp_upstream_requests", "Requests to xAI, by model and HTTP status class.", "model", "status"
        )
        self._upstream_seconds = self._histogram(
            "grok_mcp_upstream_request_duration_seconds", "How long requests to xAI took, by model.", "model"
        )
        self._cached = self._counter(
            "grok_mcp_cached_answers",
            "Answers served from the response cache or shared with an identical call in flight, by tool.",
            "tool",
        )
        self._tokens = self._counter("grok_mcp_tokens", "Tokens billed by xAI, by model and type.", "model", "type")
        self._cost = self._counter("grok_mcp_cost_usd", "What requests to xAI cost, in US dollars, by model.", "model")

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def _histogram(self, name: str, documentation: str, *labels: str) -> Histogram:
        return Histogram(name, documentation, labels, buckets=_DURATION_BUCKETS, registry=self.registry)

    def observe_call(self, tool: str, *, ok: bool, seconds: float) -> None:
        """One tool call ended."""
        self._calls.labels(tool=tool, outcome="ok" if ok else "error").inc()
        self._call_seconds.labels(tool=tool).observe(seconds)

    def observe_upstream(self, record: RequestRecord) -> None:
        """One ledger row: a request to xAI, or an answer served without one (`cached`)."""
        if record.cached:
            self._cached.labels(tool=record.tool).inc()
            return
        model = self._model_label(record.model, answered=200 <= record.status < 300)
        self._upstream.labels(model=model, status=status_class(record.status)).inc()
        if record.latency_ms is not None:
            self._upstream_seconds.labels(model=model).observe(record.latency_ms / 1000)
        for kind, count in (
            ("input", record.prompt_tokens - record.cached_tokens),
            ("cached_input", record.cached_tokens),
            ("output", record.completion_tokens),
            ("reasoning", record.reasoning_tokens),
        ):
            if count > 0:
                self._tokens.labels(model=model, type=kind).inc(count)
        if record.cost_ticks > 0:
            self._cost.labels(model=model).inc(ticks_to_usd(record.cost_ticks))

    def scrape(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    def _model_label(self, model: str | None, *, answered: bool) -> str:
        if not model:
            return "none"
        with self._lock:
            if model in self._models:
                return model
            if answered and len(self._models) < MAX_MODELS:
                self._models.add(model)
                return model
        return "other"
