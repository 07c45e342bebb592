"""`batch_chat` and `job_result` through a real MCP client against the simulator: order, failures, bounds, jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from grok_mcp.tools import batch, jobs
from mcp import Client

from tests.support.simulator import TEST_KEY, RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio

CHAT_PATH = "/v1/chat/completions"
MODEL = "grok-4.3"


@pytest.fixture
async def mcp(settings: Settings) -> AsyncIterator[Client]:
    """The real server with the batch and job tools (registered here until grok_mcp.app lists them)."""
    server = build_server(settings)
    names = {tool.name for tool in await server.list_tools()}
    if "batch_chat" not in names:
        batch.register(server)
    if "job_result" not in names:
        jobs.register(server)
    async with Client(server) as client:
        yield client


def _items(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "prompt": f"Question number {i}?", "model": MODEL, **extra} for i in range(count)]


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    return dict(data)


def _in_flight(simulator: RunningSimulator) -> dict[str, int]:
    return dict(simulator.client.get("/_sim/in-flight").json())


# ------------------------------------------------------------------------------------------ parallel


async def test_every_item_is_answered_in_input_order_with_totals_and_one_ledger_row_each(
    mcp: Client, ledger: Any, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=20)

    data = _structured(await mcp.call_tool("batch_chat", {"requests": _items(12), "concurrency": 4}))

    results = data["results"]
    assert [r["index"] for r in results] == list(range(12))
    assert [r["id"] for r in results] == [f"q{i}" for i in range(12)]
    assert all(r["status"] == "succeeded" and r["text"] and r["model"] == MODEL for r in results)
    rows = ledger()
    assert len(rows) == 12
    assert {row.tool for row in rows} == {"batch_chat"}
    assert {row.id for row in rows} == {r["request_id"] for r in results}
    totals = data["totals"]
    assert (totals["items"], totals["succeeded"], totals["failed"]) == (12, 12, 0)
    assert totals["prompt_tokens"] == sum(r["usage"]["prompt_tokens"] for r in results)
    assert totals["cost_usd"] == pytest.approx(sum(row.cost_ticks for row in rows) / 1e10)
    assert data["mode"] == "parallel" and data["status"] == "done"
    assert simulator.request_count(CHAT_PATH) == 12


async def test_failed_items_carry_their_own_error_and_never_sink_the_batch(
    mcp: Client, ledger: Any, simulator: RunningSimulator
) -> None:
    simulator.add_faults({"kind": "status", "status": 400, "count": 2, "path": CHAT_PATH, "message": "Bad day"})
    items = [
        *_items(6),
        {"id": "unknown-model", "prompt": "Hi", "model": "grok-nonexistent"},
        {"id": "no-question", "model": MODEL},
    ]

    data = _structured(await mcp.call_tool("batch_chat", {"requests": items, "concurrency": 3}))

    by_id = {r["id"]: r for r in data["results"]}
    assert [r["id"] for r in data["results"]] == [item["id"] for item in items]
    assert by_id["unknown-model"]["status"] == "failed"
    assert "grok-nonexistent" in by_id["unknown-model"]["error"]
    assert by_id["no-question"]["status"] == "failed"
    assert "either `prompt`" in by_id["no-question"]["error"]
    faulted = [r for r in data["results"][:6] if r["status"] == "failed"]
    assert len(faulted) == 2
    assert all("Bad day" in r["error"] for r in faulted)
    assert (data["totals"]["succeeded"], data["totals"]["failed"]) == (4, 4)
    # Every upstream call has its row, failures too; the item refused before any call has none.
    rows = ledger()
    assert len(rows) == 7
    assert sum(1 for row in rows if row.error is not None) == 3
    assert "FAILED" in text_of(await mcp.call_tool("batch_chat", {"requests": items[-1:]}))


async def test_no_more_requests_run_at_once_than_the_concurrency(mcp: Client, simulator: RunningSimulator) -> None:
    simulator.set_config(latency_ms=60)

    data = _structured(await mcp.call_tool("batch_chat", {"requests": _items(12), "concurrency": 3}))

    assert data["totals"]["succeeded"] == 12
    assert _in_flight(simulator)["max_in_flight"] == 3


async def test_a_progress_notification_arrives_as_each_item_finishes(mcp: Client) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    result = await mcp.call_tool("batch_chat", {"requests": _items(5)}, progress_callback=on_progress)

    assert not result.is_error, text_of(result)
    assert sorted(u[0] for u in updates) == [1, 2, 3, 4, 5]
    assert {u[1] for u in updates} == {5}
    assert {u[2] for u in updates} == {f"{n}/5 done" for n in range(1, 6)}


async def test_cancelling_the_call_stops_the_outstanding_requests_and_the_server_keeps_serving(
    mcp: Client, ledger: Any, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=150)
    first_done = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        first_done.set()

    async with anyio.create_task_group() as tasks:

        async def call() -> None:
            await mcp.call_tool("batch_chat", {"requests": _items(20), "concurrency": 2}, progress_callback=on_progress)

        tasks.start_soon(call)
        with anyio.fail_after(10):
            await first_done.wait()
        tasks.cancel_scope.cancel()

    with anyio.fail_after(5):  # the cancelled requests' connections close; a bounded poll, not a sleep
        while _in_flight(simulator)["in_flight"] > 0:
            await anyio.sleep(0.01)
    ran = simulator.request_count(CHAT_PATH)
    after = await mcp.call_tool("chat", {"prompt": "Still there?", "model": MODEL})

    assert not after.is_error, text_of(after)
    assert 1 <= ran < 20
    assert simulator.request_count(CHAT_PATH) == ran + 1  # nothing of the batch ran on in the background
    batch_rows = [row for row in ledger() if row.tool == "batch_chat"]
    assert 1 <= len(batch_rows) <= ran


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"requests": []}, "requests"),
        ({"requests": _items(1001)}, "requests"),
        ({"requests": _items(1), "concurrency": 0}, "concurrency"),
        ({"requests": _items(1), "concurrency": 65}, "concurrency"),
        ({"requests": _items(1), "mode": "overnight"}, "mode"),
        ({"requests": [{"prompt": "hi", "temperature": 3}]}, "temperature"),
    ],
)
async def test_unusable_arguments_are_refused_before_any_request(
    mcp: Client, simulator: RunningSimulator, arguments: dict[str, Any], expected: str
) -> None:
    message = await error_of(mcp, "batch_chat", arguments)

    assert expected in message
    assert simulator.request_count() == 0


# ----------------------------------------------------------------------------------------- Batch API


async def _job_result(mcp: Client, job_id: str) -> dict[str, Any]:
    return _structured(await mcp.call_tool("job_result", {"job_id": job_id}))


async def test_a_batch_api_job_goes_from_pending_to_done_and_its_rows_are_recorded_once(
    mcp: Client, ledger: Any, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=60_000)
    items = [*_items(3), {"id": "bad", "prompt": "Hi", "model": "grok-nonexistent"}, {"prompt": "no label"}]

    submitted = _structured(await mcp.call_tool("batch_chat", {"requests": items, "mode": "batch_api"}))
    job_id = submitted["job_id"]
    pending = await _job_result(mcp, job_id)
    rows_while_pending = ledger()
    simulator.set_config(latency_ms=0)
    done = await _job_result(mcp, job_id)
    rows = ledger()
    again = await _job_result(mcp, job_id)

    assert job_id.startswith("batch:batch_")
    assert submitted["status"] == "pending"
    assert submitted["results"] == []
    assert pending["status"] == "pending"
    assert pending["totals"]["pending"] == 5
    assert pending["results"] is None
    assert rows_while_pending == []
    assert done["status"] == "done"
    results = done["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["id"] for r in results] == ["q0", "q1", "q2", "bad", None]
    assert [r["status"] for r in results] == ["succeeded"] * 3 + ["failed", "succeeded"]
    assert "grok-nonexistent" in results[3]["error"]
    assert done["totals"]["succeeded"] == 4
    assert len(rows) == 5
    assert {row.tool for row in rows} == {"batch_chat"}
    assert {r["request_id"] for r in results if r["request_id"]} <= {row.id for row in rows}
    assert sum(row.cost_ticks for row in rows) / 1e10 == pytest.approx(done["totals"]["cost_usd"])
    assert again["results"] == results
    assert len(ledger()) == 5


async def test_batch_api_mode_submits_nothing_when_an_item_is_unusable(
    mcp: Client, simulator: RunningSimulator
) -> None:
    items = [*_items(2), {"id": "empty", "messages": [], "model": MODEL}]

    message = await error_of(mcp, "batch_chat", {"requests": items, "mode": "batch_api"})

    assert "Nothing was submitted" in message
    assert "item 3" in message
    assert simulator.request_count() == 0


async def test_job_result_reports_a_cancelled_batch_with_its_cancelled_items(
    mcp: Client, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=60_000)
    submitted = _structured(await mcp.call_tool("batch_chat", {"requests": _items(2), "mode": "batch_api"}))
    batch_id = submitted["job_id"].removeprefix("batch:")
    cancelled = simulator.client.post(f"/v1/batches/{batch_id}:cancel", headers={"Authorization": f"Bearer {TEST_KEY}"})
    assert cancelled.status_code == 200

    report = await _job_result(mcp, submitted["job_id"])

    assert report["status"] == "cancelled"
    assert [(r["index"], r["status"]) for r in report["results"]] == [(0, "cancelled"), (1, "cancelled")]
    assert report["totals"]["cancelled"] == 2


@pytest.mark.parametrize(
    ("job_id", "expected"),
    [
        ("nope", "not a job id"),
        ("video:123", "not a job id"),
        ("batch:", "not a job id"),
        ("batch:batch_00000000-0000-0000-0000-000000000000", "xAI has no batch"),
    ],
)
async def test_job_result_explains_an_unknown_job(mcp: Client, ledger: Any, job_id: str, expected: str) -> None:
    message = await error_of(mcp, "job_result", {"job_id": job_id})

    assert expected in message
    assert ledger() == []
