"""The call pipeline through a real MCP client against the simulator: budgets, the response cache, single-flight."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from grok_mcp.app import build_server, open_app_context
from grok_mcp.config import Settings
from grok_mcp.context import AppContext
from grok_mcp.store.units import start_of_day, start_of_month
from mcp import Client
from mcp.types import CallToolResult

from tests.support.ledger import record_chat_call
from tests.support.simulator import TEST_KEY, RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio

CHAT_PATH = "/v1/chat/completions"
MODEL = "grok-4.3"
QUESTION = {"prompt": "What is the boiling point of water at sea level?", "model": MODEL}


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[Client, AppContext]]:
    """The real server over its own opened context, so a test can reach the pipeline (its clock)."""
    async with open_app_context(settings) as context, Client(build_server(settings, context=context)) as client:
        yield client, context


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


def seed_spend(settings: Settings, usd: float, *, ts: float | None = None) -> None:
    record_chat_call(
        settings.db_path,
        model=MODEL,
        id="seeded",
        ts=time.time() if ts is None else ts,
        status=200,
        cost_ticks=round(usd * 1e10),
    )


async def wait_until(condition: Callable[[], bool], *, limit_s: float = 10) -> None:
    with anyio.fail_after(limit_s):
        while not condition():
            await anyio.sleep(0.005)


def in_flight(simulator: RunningSimulator) -> int:
    return int(simulator.client.get("/_sim/in-flight").json()["in_flight"])


# ------------------------------------------------------------------------------------------- budgets


async def test_a_call_past_the_daily_budget_is_refused_before_any_request_naming_limit_and_spend(
    settings: Settings, simulator: RunningSimulator, ledger: Any
) -> None:
    seed_spend(settings, 5.25)
    budgeted = dataclasses.replace(settings, daily_budget_usd=5.0)

    async with Client(build_server(budgeted)) as mcp:
        message = await error_of(mcp, "chat", QUESTION)

    assert "daily budget of $5.00" in message
    assert "$5.2500 spent today" in message
    assert "[budgets] daily_usd" in message and "settings.toml" in message and "Settings page" in message
    assert simulator.request_count() == 0
    assert [row.id for row in ledger()] == ["seeded"]  # a refusal is no upstream call: no ledger row


async def test_the_monthly_budget_counts_spend_since_the_first_of_the_month(
    settings: Settings, simulator: RunningSimulator
) -> None:
    now = time.time()
    day_start, month_start = start_of_day(now), start_of_month(now)
    seed_spend(settings, 2.0, ts=month_start + 1 if month_start < day_start else time.time())
    seed_spend(settings, 0.5, ts=month_start - 3600)  # last month: not counted
    budgeted = dataclasses.replace(settings, daily_budget_usd=100.0, monthly_budget_usd=2.0)

    async with Client(build_server(budgeted)) as mcp:
        message = await error_of(mcp, "chat", QUESTION)

    assert "monthly budget of $2.00" in message
    assert "$2.0000 spent this month" in message
    assert simulator.request_count() == 0


async def test_a_call_under_the_budget_runs_and_its_cost_counts_for_the_next(
    settings: Settings, simulator: RunningSimulator
) -> None:
    simulator.set_config(marks_replies=False)  # answered as xAI answers: a real, billed call
    budgeted = dataclasses.replace(settings, daily_budget_usd=1e-9)  # below one call's cost

    async with Client(build_server(budgeted)) as mcp:
        first = await mcp.call_tool("chat", QUESTION)
        second = await mcp.call_tool("chat", {**QUESTION, "prompt": "And at the top of Everest?"})

    assert not first.is_error, text_of(first)
    assert second.is_error and "daily budget" in text_of(second)
    assert simulator.request_count(CHAT_PATH) == 1


@pytest.mark.parametrize("demo_mode", [False, True], ids=["simulator-as-base-url", "serve-simulate"])
async def test_simulated_spend_never_counts_against_a_budget(
    settings: Settings, simulator: RunningSimulator, ledger: Any, demo_mode: bool
) -> None:
    budgeted = dataclasses.replace(settings, daily_budget_usd=1e-9, monthly_budget_usd=1e-9, simulate=demo_mode)

    async with Client(build_server(budgeted)) as mcp:
        answers = [await mcp.call_tool("chat", {**QUESTION, "prompt": f"Question {i}"}) for i in range(3)]

    assert all(not answer.is_error for answer in answers), [text_of(a) for a in answers]
    rows = ledger()
    assert len(rows) == 3 and all(row.simulated and row.cost_ticks > 0 for row in rows)


async def test_a_real_call_is_recorded_as_real_and_counts_after_demo_calls_did_not(
    settings: Settings, simulator: RunningSimulator, ledger: Any
) -> None:
    budgeted = dataclasses.replace(settings, daily_budget_usd=1e-9)
    async with Client(build_server(budgeted)) as mcp:
        assert not (await mcp.call_tool("chat", QUESTION)).is_error  # marked simulated: free
    simulator.set_config(marks_replies=False)
    async with Client(build_server(budgeted)) as mcp:
        real = await mcp.call_tool("chat", {**QUESTION, "prompt": "And now for real?"})
        refused = await mcp.call_tool("chat", {**QUESTION, "prompt": "Once more?"})

    assert not real.is_error, text_of(real)
    assert refused.is_error and "daily budget" in text_of(refused)
    assert [row.simulated for row in ledger()] == [True, False]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("chat_stream", QUESTION),
        ("chat_with_context", {"message": "Hello there", "model": MODEL}),
        ("analyze_image", {"images": ["https://example.com/cat.png"], "model": MODEL}),
        ("generate_image", {"prompt": "a red square"}),
        ("web_search", {"query": "latest news", "model": MODEL}),
        ("x_search", {"query": "latest posts", "model": MODEL}),
        ("batch_chat", {"requests": [QUESTION], "mode": "batch_api"}),
    ],
)
async def test_every_paid_tool_is_refused_past_the_budget_without_an_upstream_request(
    settings: Settings, simulator: RunningSimulator, tool: str, arguments: dict[str, Any]
) -> None:
    seed_spend(settings, 1.0)
    budgeted = dataclasses.replace(settings, daily_budget_usd=1.0)

    async with Client(build_server(budgeted)) as mcp:
        result = await mcp.call_tool(tool, arguments)

    assert result.is_error, text_of(result)
    assert "daily budget of $1.00" in text_of(result)
    paid = [r for r in simulator.requests() if r["path"] not in ("/v1/language-models", "/v1/image-generation-models")]
    assert paid == []


async def test_batch_items_past_the_budget_fail_one_by_one_with_the_budget_message(
    settings: Settings, simulator: RunningSimulator
) -> None:
    seed_spend(settings, 3.0)
    budgeted = dataclasses.replace(settings, monthly_budget_usd=3.0)

    async with Client(build_server(budgeted)) as mcp:
        data = structured(await mcp.call_tool("batch_chat", {"requests": [QUESTION, QUESTION]}))

    assert [r["status"] for r in data["results"]] == ["failed", "failed"]
    assert all("monthly budget of $3.00" in r["error"] for r in data["results"])
    assert simulator.request_count(CHAT_PATH) == 0


# ------------------------------------------------------------------------------ cache and single-flight


async def test_a_hundred_identical_concurrent_cacheable_calls_reach_xai_once(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.set_config(latency_ms=200)
    results: list[dict[str, Any]] = []

    async def ask() -> None:
        results.append(structured(await mcp.call_tool("chat", {**QUESTION, "cache": True})))

    async with anyio.create_task_group() as tasks:
        for _ in range(100):
            tasks.start_soon(ask)

    assert simulator.request_count(CHAT_PATH) == 1
    assert len({r["text"] for r in results}) == 1
    assert sorted(r["cached"] for r in results) == [False] + [True] * 99
    assert sum(r["cost_usd"] for r in results if r["cached"]) == 0
    rows = ledger()
    upstream = [row for row in rows if not row.cached]
    cached = [row for row in rows if row.cached]
    assert len(upstream) == 1 and upstream[0].cost_ticks > 0
    assert len(cached) == 99
    assert all(row.cost_ticks == 0 and row.prompt_tokens == 0 for row in cached)


async def test_a_cache_hit_costs_nothing_and_says_so(mcp: Client, simulator: RunningSimulator, ledger: Any) -> None:
    first = structured(await mcp.call_tool("chat", {**QUESTION, "cache": True}))
    hit_result = await mcp.call_tool("chat", {**QUESTION, "model": " GROK-4.3 ", "cache": True})
    hit = structured(hit_result)

    assert simulator.request_count(CHAT_PATH) == 1
    assert first["cached"] is False and first["cost_usd"] > 0
    assert hit["cached"] is True
    assert hit["cost_usd"] == 0
    assert hit["text"] == first["text"]
    assert hit["request_id"] == first["request_id"]
    assert "from Grok MCP's cache at no cost" in text_of(hit_result)
    assert [(row.cached, row.cost_ticks == 0) for row in ledger()] == [(False, False), (True, True)]


async def test_without_cache_identical_calls_each_reach_xai(mcp: Client, simulator: RunningSimulator) -> None:
    await mcp.call_tool("chat", QUESTION)
    await mcp.call_tool("chat", QUESTION)
    await mcp.call_tool("chat", {**QUESTION, "cache": True})
    await mcp.call_tool("chat", {**QUESTION, "cache": False})

    assert simulator.request_count(CHAT_PATH) == 4


async def test_settings_ttl_makes_caching_the_default_and_cache_false_opts_out(
    settings: Settings, simulator: RunningSimulator
) -> None:
    cached_by_default = dataclasses.replace(settings, cache_ttl_s=600)

    async with Client(build_server(cached_by_default)) as mcp:
        await mcp.call_tool("chat", QUESTION)
        second = structured(await mcp.call_tool("chat", QUESTION))
        third = structured(await mcp.call_tool("chat", {**QUESTION, "cache": False}))
        await mcp.call_tool("web_search", {"query": "news", "model": MODEL})
        await mcp.call_tool("web_search", {"query": "news", "model": MODEL})  # searches go stale: not by default

    assert second["cached"] is True and third["cached"] is False
    assert simulator.request_count(CHAT_PATH) == 2
    assert simulator.request_count("/v1/responses") == 2


async def test_errors_are_never_cached(mcp: Client, simulator: RunningSimulator, ledger: Any) -> None:
    simulator.add_faults({"kind": "status", "status": 503, "count": 3, "path": CHAT_PATH})

    failed = await mcp.call_tool("chat", {**QUESTION, "cache": True})
    assert failed.is_error
    after_storm = simulator.request_count(CHAT_PATH)
    answered = structured(await mcp.call_tool("chat", {**QUESTION, "cache": True}))
    hit = structured(await mcp.call_tool("chat", {**QUESTION, "cache": True}))

    assert answered["cached"] is False
    assert simulator.request_count(CHAT_PATH) == after_storm + 1
    assert hit["cached"] is True and hit["text"] == answered["text"]
    rows = ledger()
    assert [row.status for row in rows if not row.cached] == [503, 200]


async def test_concurrent_callers_of_a_failing_request_all_fail_with_one_ledger_row(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.add_faults({"kind": "status", "status": 400, "count": 1, "path": CHAT_PATH, "message": "Bad day"})
    simulator.set_config(latency_ms=100)
    outcomes: list[CallToolResult] = []

    async def ask() -> None:
        outcomes.append(await mcp.call_tool("chat", {**QUESTION, "cache": True}))

    async with anyio.create_task_group() as tasks:
        for _ in range(5):
            tasks.start_soon(ask)

    assert all(result.is_error and "Bad day" in text_of(result) for result in outcomes)
    assert simulator.request_count(CHAT_PATH) == 1
    assert [row.status for row in ledger()] == [400]


async def test_cached_answers_expire_after_the_ttl(settings: Settings, simulator: RunningSimulator) -> None:
    now = [1_900_000_000.0]
    short = dataclasses.replace(settings, cache_ttl_s=60)

    async with serving(short) as (mcp, context):
        context.pipeline.clock = lambda: now[0]
        structured(await mcp.call_tool("chat", QUESTION))
        now[0] += 59
        before = structured(await mcp.call_tool("chat", QUESTION))
        now[0] += 2
        after = structured(await mcp.call_tool("chat", QUESTION))

    assert before["cached"] is True
    assert after["cached"] is False
    assert simulator.request_count(CHAT_PATH) == 2


async def test_different_keys_never_share_cache_entries_and_the_key_is_never_stored(
    mcp: Client, settings: Settings, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = structured(await mcp.call_tool("chat", {**QUESTION, "cache": True}))
    monkeypatch.setenv("XAI_API_KEY", "xai-another-team-key-0002")
    other = structured(await mcp.call_tool("chat", {**QUESTION, "cache": True}))
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    again = structured(await mcp.call_tool("chat", {**QUESTION, "cache": True}))

    assert (first["cached"], other["cached"], again["cached"]) == (False, False, True)
    assert simulator.request_count(CHAT_PATH) == 2
    for path in settings.home.glob("grok-mcp.db*"):
        assert TEST_KEY.encode() not in path.read_bytes()


async def test_a_cancelled_leader_does_not_fail_its_followers(
    settings: Settings, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.set_config(latency_ms=400)
    follower: list[CallToolResult] = []

    def waiters() -> int:
        return sum(flight.waiters for flight in context.pipeline.flights.running())

    async def follow() -> None:
        follower.append(await mcp.call_tool("chat", {**QUESTION, "cache": True}))

    async with (
        serving(settings) as (mcp, context),
        anyio.create_task_group() as outer,
        anyio.create_task_group() as leader,
    ):
        leader.start_soon(mcp.call_tool, "chat", {**QUESTION, "cache": True})
        await wait_until(lambda: in_flight(simulator) == 1)
        outer.start_soon(follow)
        await wait_until(lambda: waiters() == 2)  # the follower joined the leader's flight
        leader.cancel_scope.cancel()

    assert len(follower) == 1
    data = structured(follower[0])
    assert data["cached"] is True and data["text"]
    assert simulator.request_count(CHAT_PATH) == 1
    rows = ledger()
    assert [row.cached for row in rows] == [False, True]  # the leader's upstream call still got its row
    assert rows[0].cost_ticks > 0


async def test_chat_stream_with_a_cache_hit_returns_the_whole_answer_in_one_progress_notification(
    mcp: Client, simulator: RunningSimulator
) -> None:
    first = structured(await mcp.call_tool("chat_stream", {**QUESTION, "cache": True}))
    updates: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message)

    hit = structured(await mcp.call_tool("chat_stream", {**QUESTION, "cache": True}, progress_callback=on_progress))
    from_chat = structured(await mcp.call_tool("chat", {**QUESTION, "cache": True}))

    assert hit["cached"] is True and hit["text"] == first["text"] == from_chat["text"]
    assert updates == [first["text"]]
    assert simulator.request_count(CHAT_PATH) == 1


async def test_search_and_image_questions_can_be_cached_on_request(mcp: Client, simulator: RunningSimulator) -> None:
    search = {"query": "What happened today?", "model": MODEL, "cache": True}
    image = {"images": ["https://example.com/cat.png"], "prompt": "What is this?", "model": MODEL, "cache": True}

    first_search = structured(await mcp.call_tool("web_search", search))
    second_search = structured(await mcp.call_tool("web_search", search))
    other_search = structured(await mcp.call_tool("x_search", search))
    first_image = structured(await mcp.call_tool("analyze_image", image))
    second_image = structured(await mcp.call_tool("analyze_image", image))

    assert (first_search["cached"], second_search["cached"], other_search["cached"]) == (False, True, False)
    assert second_search["citations"] == first_search["citations"]
    assert (first_image["cached"], second_image["cached"]) == (False, True)
    assert simulator.request_count("/v1/responses") == 2
    assert simulator.request_count(CHAT_PATH) == 1


async def test_batch_items_share_one_request_when_cacheable(mcp: Client, simulator: RunningSimulator) -> None:
    simulator.set_config(latency_ms=50)
    items = [{**QUESTION, "id": f"q{i}", "cache": True} for i in range(10)]

    data = structured(await mcp.call_tool("batch_chat", {"requests": items, "concurrency": 10}))

    assert [r["status"] for r in data["results"]] == ["succeeded"] * 10
    assert sorted(r["cached"] for r in data["results"]) == [False] + [True] * 9
    assert simulator.request_count(CHAT_PATH) == 1
