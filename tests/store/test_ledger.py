"""The usage ledger: recording calls and reading sums, percentiles and spend back."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from grok_mcp.store import TOTAL_KEY, UNKNOWN_KEY, RequestRecord, Store, UsageCell, UsageGroup
from grok_mcp.store.ledger import percentile

DAY = 86_400.0


def _rec(**fields: object) -> RequestRecord:
    values: dict[str, object] = {"tool": "chat", "model": "grok-4", "endpoint": "/v1/chat/completions"}
    values.update(fields)
    return RequestRecord(**values)  # type: ignore[arg-type]


def _local_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def test_a_recorded_request_reads_back_with_every_field(store: Store) -> None:
    rec = RequestRecord(
        id="req-1",
        ts=1_700_000_000.25,
        tool="chat_stream",
        model="grok-4-fast",
        endpoint="/v1/chat/completions",
        status=200,
        error=None,
        prompt_tokens=11,
        cached_tokens=3,
        completion_tokens=17,
        reasoning_tokens=5,
        images=0,
        cost_ticks=123_456,
        latency_ms=812.5,
        ttft_ms=140.0,
        client="claude-desktop",
        transport="stdio",
        conversation_id="abc",
        cached=True,
    )
    store.record_request(rec)
    (got,) = store.recent_requests()
    assert got.seq is not None
    assert got == dataclasses.replace(rec, seq=got.seq)


def test_a_failed_call_without_a_request_id_is_recorded_and_ids_may_repeat(store: Store) -> None:
    store.record_request(_rec(id=None, status=0, error="UpstreamTimeoutError: no bytes in 30 s"))
    store.record_request(_rec(id="same", status=200))
    store.record_request(_rec(id="same", status=200))
    got = store.recent_requests()
    assert [r.id for r in got] == ["same", "same", None]
    assert got[-1].error == "UpstreamTimeoutError: no bytes in 30 s"
    assert got[-1].latency_ms is None
    assert got[-1].cached is False


def test_a_record_defaults_its_timestamp_to_now() -> None:
    before = time.time()
    rec = _rec()
    assert before <= rec.ts <= time.time()


def test_recent_requests_lists_the_newest_first_up_to_the_limit(store: Store) -> None:
    for i in range(5):
        store.record_request(_rec(id=f"r{i}", ts=1000.0 + i))
    assert [r.id for r in store.recent_requests(limit=3)] == ["r4", "r3", "r2"]
    assert store.recent_requests(limit=0) == []


def test_usage_by_model_tool_and_client_adds_up_exactly(store: Store) -> None:
    store.record_request(
        _rec(
            model="a",
            tool="chat",
            client="claude-desktop",
            prompt_tokens=10,
            cached_tokens=2,
            completion_tokens=5,
            reasoning_tokens=1,
            images=0,
            cost_ticks=1000,
            cached=True,
        )
    )
    store.record_request(
        _rec(
            model="a",
            tool="generate_image",
            client="cursor",
            images=2,
            cost_ticks=7000,
            status=500,
            error="UpstreamUnavailableError: 500",
        )
    )
    store.record_request(_rec(model="b", tool="chat", client=None, prompt_tokens=1, completion_tokens=1, cost_ticks=1))

    by_model = store.usage_summary(group_by="model")
    assert [g.key for g in by_model.groups] == ["a", "b"]
    a = by_model.groups[0]
    assert (a.requests, a.errors, a.cached_requests) == (2, 1, 1)
    assert (a.prompt_tokens, a.cached_tokens, a.completion_tokens, a.reasoning_tokens) == (10, 2, 5, 1)
    assert (a.images, a.cost_ticks) == (2, 8000)

    by_tool = store.usage_summary(group_by="tool")
    assert {g.key: g.cost_ticks for g in by_tool.groups} == {"generate_image": 7000, "chat": 1001}
    assert [g.key for g in by_tool.groups] == ["generate_image", "chat"], "dearest first"

    by_client = store.usage_summary(group_by="client")
    assert {g.key: g.requests for g in by_client.groups} == {"claude-desktop": 1, "cursor": 1, UNKNOWN_KEY: 1}

    total = by_model.total
    assert total.key == TOTAL_KEY
    assert (total.requests, total.errors, total.cost_ticks, total.images) == (3, 1, 8001, 2)
    assert total.prompt_tokens == 11 and total.completion_tokens == 6


def test_usage_latency_percentiles_use_the_nearest_rank(store: Store) -> None:
    for latency in range(100, 0, -1):
        store.record_request(_rec(model="fast", latency_ms=float(latency)))
    store.record_request(_rec(model="fast", latency_ms=None))
    store.record_request(_rec(model="silent", latency_ms=None))

    summary = store.usage_summary(group_by="model")
    groups = {g.key: g for g in summary.groups}
    assert (groups["fast"].latency_p50_ms, groups["fast"].latency_p95_ms) == (50.0, 95.0)
    assert (groups["silent"].latency_p50_ms, groups["silent"].latency_p95_ms) == (None, None)
    assert (summary.total.latency_p50_ms, summary.total.latency_p95_ms) == (50.0, 95.0)


def test_percentile_of_a_few_values() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == 4.0
    assert percentile([1.0, 2.0], 0.0) == 1.0


def test_usage_by_day_uses_local_dates_oldest_first(store: Store) -> None:
    start = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    stamps = [start + 3600, start + DAY + 7200, start + DAY + 7300, start + 3 * DAY]
    for i, ts in enumerate(stamps):
        store.record_request(_rec(ts=ts, cost_ticks=10**i))

    groups = store.usage_summary(group_by="day").groups

    expected: dict[str, int] = {}
    for i, ts in enumerate(stamps):
        expected[_local_day(ts)] = expected.get(_local_day(ts), 0) + 10**i
    assert [(g.key, g.cost_ticks) for g in groups] == sorted(expected.items())


@pytest.fixture
def new_york_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset exists only on Unix")
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("new_york_time")
def test_a_late_evening_call_counts_on_the_local_day_not_the_utc_day(store: Store) -> None:
    store.record_request(_rec(ts=1_773_111_600.0))  # 2026-03-10T03:00:00Z is 22:00 on the 9th at UTC-5
    (group,) = store.usage_summary(group_by="day").groups
    assert group.key == "2026-03-09"


def test_usage_counts_only_the_half_open_period(store: Store) -> None:
    for ts in (100.0, 200.0, 300.0):
        store.record_request(_rec(ts=ts, cost_ticks=int(ts)))
    assert store.usage_summary(since=200.0).total.cost_ticks == 500
    assert store.usage_summary(until=200.0).total.cost_ticks == 100
    assert store.usage_summary(since=100.0, until=300.0).total.cost_ticks == 300


def test_usage_of_an_empty_ledger_is_zero_with_no_percentiles(store: Store) -> None:
    summary = store.usage_summary(group_by="client")
    assert summary.groups == []
    assert summary.total == UsageGroup(TOTAL_KEY, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None)


def test_usage_rejects_an_unknown_grouping(store: Store) -> None:
    with pytest.raises(ValueError, match="group_by must be one of day, model, tool, client"):
        store.usage_summary(group_by="week")  # type: ignore[arg-type]


def test_spend_counts_the_cost_at_or_after_the_given_time(store: Store) -> None:
    assert store.spend_ticks(since=0.0) == 0
    store.record_request(_rec(ts=10.0, cost_ticks=5))
    store.record_request(_rec(ts=20.0, cost_ticks=7, error="InvalidRequestError: bad", status=400))
    store.record_request(_rec(ts=30.0, cost_ticks=11))
    assert store.spend_ticks(since=20.0) == 18
    assert store.spend_ticks(since=31.0) == 0


def test_usage_by_day_and_model_gives_one_cell_per_day_and_model(store: Store) -> None:
    start = 1_767_225_600.0 + 12 * 3600  # noon UTC keeps the local day the same across time zones near UTC
    store.record_request(_rec(ts=start, model="a", prompt_tokens=1, completion_tokens=2, cost_ticks=3))
    store.record_request(_rec(ts=start + 60, model="a", prompt_tokens=1, completion_tokens=2, cost_ticks=3))
    store.record_request(_rec(ts=start + 60, model="b", error="X: y", status=500))
    store.record_request(_rec(ts=start + DAY, model=None, cost_ticks=9))

    cells = store.usage_by_day_and_model(since=start - 1)

    day1, day2 = _local_day(start), _local_day(start + DAY)
    assert cells == [
        UsageCell(day=day1, model="a", requests=2, errors=0, prompt_tokens=2, completion_tokens=4, cost_ticks=6),
        UsageCell(day=day1, model="b", requests=1, errors=1, prompt_tokens=0, completion_tokens=0, cost_ticks=0),
        UsageCell(
            day=day2,
            model=UNKNOWN_KEY,
            requests=1,
            errors=0,
            prompt_tokens=0,
            completion_tokens=0,
            cost_ticks=9,
        ),
    ]
    assert store.usage_by_day_and_model(until=start) == []


# Demo-mode (simulated) calls are kept apart from real ones: never summed together, never counted for budgets.


def test_real_and_simulated_calls_are_summed_apart_and_never_together(store: Store) -> None:
    now = time.time()
    store.record_request(_rec(ts=now, cost_ticks=100, prompt_tokens=10))
    store.record_request(_rec(ts=now, cost_ticks=7_000, prompt_tokens=900, simulated=True))
    store.record_request(_rec(ts=now, model="grok-sim-only", cost_ticks=5_000, simulated=True))

    real = store.usage_summary(group_by="model")
    demo = store.usage_summary(group_by="model", simulated=True)

    assert (real.total.requests, real.total.cost_ticks, real.total.prompt_tokens) == (1, 100, 10)
    assert [g.key for g in real.groups] == ["grok-4"]
    assert (demo.total.requests, demo.total.cost_ticks) == (2, 12_000)
    assert {g.key for g in demo.groups} == {"grok-4", "grok-sim-only"}
    assert [c.cost_ticks for c in store.usage_by_day_and_model()] == [100]
    assert sorted(c.model for c in store.usage_by_day_and_model(simulated=True)) == ["grok-4", "grok-sim-only"]


def test_budget_spend_counts_only_real_calls(store: Store) -> None:
    store.record_request(_rec(ts=500.0, cost_ticks=40))
    store.record_request(_rec(ts=500.0, cost_ticks=9_999_999, simulated=True))
    assert store.spend_since(0.0, 600.0) == [40, 0]
    assert store.spend_ticks(since=0.0) == 40
    assert store.spend_ticks(since=0.0, simulated=True) == 9_999_999


def test_a_simulated_row_reads_back_marked(store: Store) -> None:
    store.record_request(_rec(id="demo-1", simulated=True))
    store.record_request(_rec(id="real-1", error="ModelNotFoundError: no such model"))
    assert [(r.id, r.simulated) for r in store.recent_requests()] == [("real-1", False), ("demo-1", True)]
    assert [r.id for r in store.recent_errors(simulated=True)] == []
    assert [r.id for r in store.recent_errors(simulated=False)] == ["real-1"]
