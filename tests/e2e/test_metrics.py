"""GET /metrics of a real HTTP server: Prometheus text behind the bearer token, with bounded labels."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from grok_mcp.hosting.metrics import MAX_MODELS, Metrics, status_class
from grok_mcp.store import RequestRecord, Store
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import http_server
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio

ALLOWED_LABELS = {
    "tool": None,  # checked against the server's own tools below
    "outcome": {"ok", "error"},
    "status": {"1xx", "2xx", "3xx", "4xx", "5xx", "none"},
    "type": {"input", "cached_input", "output", "reasoning"},
    "version": None,
    "model": None,  # models xAI answered with, or other/none
}


def _families(text: str) -> dict[str, Metric]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(families: dict[str, Metric], sample_name: str, **labels: str) -> float:
    family_name = sample_name.removesuffix("_total").removesuffix("_count").removesuffix("_sum")
    for sample in families[family_name].samples:
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return 0.0


async def test_a_scrape_counts_calls_requests_tokens_and_cost_by_bounded_labels(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    with http_server(isolated_home, base_url=simulator.base_url, key=TEST_KEY) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            streamable_http_client(server.url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            for question in ("What is 2 + 2?", "Name a prime number."):
                assert not (await session.call_tool("chat", {"prompt": question, "model": "grok-4.3"})).is_error
            refused = await session.call_tool("chat", {"prompt": "hi", "model": "no-such-model-anywhere"})
            assert refused.is_error
            scraped = await http.get(f"{server.root}/metrics")
        unauthenticated = httpx2.get(f"{server.root}/metrics")
        foreign = httpx2.get(f"{server.root}/metrics", headers={**headers, "Host": "attacker.example"})

    assert scraped.status_code == 200, scraped.text
    assert scraped.headers["content-type"].startswith("text/plain")
    assert unauthenticated.status_code == 401 and foreign.status_code == 421
    families = _families(scraped.text)
    assert all(name.startswith("grok_mcp_") for name in families)
    for family in families.values():
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family.name
        for sample in family.samples:
            for label, value in sample.labels.items():
                if label == "le":
                    continue
                assert label in ALLOWED_LABELS, (family.name, label)
                allowed = ALLOWED_LABELS[label]
                if label == "tool":
                    assert value in tools
                elif label == "model":
                    assert value in {"grok-4.3", "other", "none"}, value
                elif allowed is not None:
                    assert value in allowed, (family.name, label, value)
    assert TEST_KEY not in scraped.text and server.token not in scraped.text
    assert "no-such-model-anywhere" not in scraped.text  # a name xAI never answered with is "other"

    assert _value(families, "grok_mcp_tool_calls_total", tool="chat", outcome="ok") == 2
    assert _value(families, "grok_mcp_tool_calls_total", tool="chat", outcome="error") == 1
    assert _value(families, "grok_mcp_tool_call_duration_seconds_count", tool="chat") == 3
    assert _value(families, "grok_mcp_upstream_requests_total", model="grok-4.3", status="2xx") == 2
    assert _value(families, "grok_mcp_tool_calls_in_flight") == 0
    assert _value(families, "grok_mcp_tokens_total", model="grok-4.3", type="output") > 0
    with Store.open(isolated_home / "grok-mcp.db") as store:
        ledger_usd = sum(r.cost_ticks for r in store.recent_requests(100) if r.model == "grok-4.3") / 1e10
    assert ledger_usd > 0
    assert _value(families, "grok_mcp_cost_usd_total", model="grok-4.3") == pytest.approx(ledger_usd)


def _row(
    model: str | None,
    *,
    status: int = 200,
    cached: bool = False,
    prompt_tokens: int = 0,
    cached_tokens: int = 0,
    completion_tokens: int = 0,
    reasoning_tokens: int = 0,
    cost_ticks: int = 0,
) -> RequestRecord:
    return RequestRecord(
        tool="chat",
        model=model,
        endpoint="/v1/chat/completions",
        status=status,
        cached=cached,
        prompt_tokens=prompt_tokens,
        cached_tokens=cached_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=reasoning_tokens,
        cost_ticks=cost_ticks,
    )


def test_model_labels_stay_bounded_and_unanswered_names_are_other() -> None:
    metrics = Metrics(version="0.0.0", inflight=lambda: 0)
    for i in range(MAX_MODELS + 10):
        metrics.observe_upstream(_row(f"model-{i}", prompt_tokens=1))
    metrics.observe_upstream(_row("typo-model", status=404))
    metrics.observe_upstream(_row(None, status=0))
    metrics.observe_upstream(_row("model-0", cached=True))

    families = _families(metrics.scrape().decode())
    models = {s.labels["model"] for s in families["grok_mcp_upstream_requests"].samples}
    assert len(models) == MAX_MODELS + 2  # plus "other" and "none"
    assert {"other", "none"} <= models and "typo-model" not in models
    assert _value(families, "grok_mcp_upstream_requests_total", model="other", status="2xx") == 10
    assert _value(families, "grok_mcp_upstream_requests_total", model="other", status="4xx") == 1
    assert _value(families, "grok_mcp_cached_answers_total", tool="chat") == 1


def test_input_tokens_exclude_the_cached_ones_and_cost_is_in_dollars() -> None:
    metrics = Metrics(version="0.0.0", inflight=lambda: 3)
    metrics.observe_upstream(
        _row(
            "grok-4.3",
            prompt_tokens=100,
            cached_tokens=40,
            completion_tokens=7,
            reasoning_tokens=5,
            cost_ticks=25_000_000,
        )
    )

    families = _families(metrics.scrape().decode())
    assert _value(families, "grok_mcp_tokens_total", model="grok-4.3", type="input") == 60
    assert _value(families, "grok_mcp_tokens_total", model="grok-4.3", type="cached_input") == 40
    assert _value(families, "grok_mcp_tokens_total", model="grok-4.3", type="output") == 7
    assert _value(families, "grok_mcp_tokens_total", model="grok-4.3", type="reasoning") == 5
    assert _value(families, "grok_mcp_cost_usd_total", model="grok-4.3") == pytest.approx(0.0025)
    assert _value(families, "grok_mcp_tool_calls_in_flight") == 3


@pytest.mark.parametrize(
    ("status", "expected"), [(0, "none"), (200, "2xx"), (302, "3xx"), (429, "4xx"), (503, "5xx"), (999, "none")]
)
def test_status_classes(status: int, expected: str) -> None:
    assert status_class(status) == expected
