"""Long calls become jobs: a call past the job threshold returns a job id, and job_result (any process) answers."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from grok_mcp.store import JobRecord, Store
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from tests.support.processes import ROOT, SERVER_COMMAND, server_env
from tests.support.simulator import TEST_KEY, RunningSimulator
from tests.tools.conftest import text_of

pytestmark = pytest.mark.anyio

CHAT_PATH = "/v1/chat/completions"
MODEL = "grok-4.3"
QUESTION = {"prompt": "Think hard: what is the meaning of life?", "model": MODEL}


@pytest.fixture
def quick_jobs(settings: Settings) -> Settings:
    """Settings whose job threshold is far below the simulator latency the tests set."""
    return dataclasses.replace(settings, job_threshold_s=0.2)


@pytest.fixture
async def mcp(quick_jobs: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(quick_jobs)) as client:
        yield client


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


async def poll_until_done(
    ask: Callable[[], Awaitable[CallToolResult]], *, limit_s: float = 15
) -> tuple[dict[str, Any], str]:
    """job_result asked again (bounded) until the job is no longer pending."""
    with anyio.fail_after(limit_s):
        while True:
            result = await ask()
            data = structured(result)
            if data["status"] != "pending":
                return data, text_of(result)
            await anyio.sleep(0.05)


async def test_a_call_past_the_job_threshold_returns_a_job_id_and_job_result_gives_the_answer_later(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.set_config(latency_ms=1500)

    started = await mcp.call_tool("chat", QUESTION)
    job = structured(started)
    job_id = job["job_id"]
    pending = structured(await mcp.call_tool("job_result", {"job_id": job_id}))
    done, done_text = await poll_until_done(lambda: mcp.call_tool("job_result", {"job_id": job_id}))

    assert job_id.startswith("chat:")
    assert "still working" in text_of(started) and f'job_id "{job_id}"' in text_of(started)
    assert job["cost_usd"] == 0 and job["text"] == text_of(started)
    assert pending["status"] == "pending" and "still running" in pending["message"]
    assert done["status"] == "done" and done["kind"] == "chat" and done["tool"] == "chat"
    answer = done["answer"]
    assert answer["text"] and answer["text"] in done_text
    assert answer["model"] == MODEL and answer["cost_usd"] > 0
    assert simulator.request_count(CHAT_PATH) == 1
    rows = [row for row in ledger() if row.tool == "chat"]
    assert len(rows) == 1 and rows[0].cost_ticks > 0
    assert answer["cost_usd"] == pytest.approx(rows[0].cost_ticks / 1e10)


async def test_a_call_within_the_threshold_answers_directly(mcp: Client, simulator: RunningSimulator) -> None:
    data = structured(await mcp.call_tool("chat", QUESTION))

    assert data["job_id"] is None and data["text"]


async def test_a_long_conversation_turn_is_saved_when_its_job_ends(mcp: Client, simulator: RunningSimulator) -> None:
    simulator.set_config(latency_ms=800)

    job = structured(await mcp.call_tool("chat_with_context", {"message": "A long question", "model": MODEL}))
    done, _ = await poll_until_done(lambda: mcp.call_tool("job_result", {"job_id": job["job_id"]}))
    conversation = structured(await mcp.call_tool("get_conversation", {"conversation_id": job["conversation_id"]}))

    assert done["answer"]["conversation_id"] == job["conversation_id"]
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][1]["text"] == done["answer"]["text"]


async def test_a_long_stream_becomes_a_job_too(mcp: Client, simulator: RunningSimulator) -> None:
    simulator.set_config(ttft_ms=800)

    job = structured(await mcp.call_tool("chat_stream", QUESTION))
    done, _ = await poll_until_done(lambda: mcp.call_tool("job_result", {"job_id": job["job_id"]}))

    assert done["answer"]["text"] and done["answer"]["cost_usd"] > 0


async def test_a_job_that_fails_says_why(mcp: Client, simulator: RunningSimulator) -> None:
    simulator.set_config(ttft_ms=600)
    simulator.add_faults({"kind": "midstream", "count": 1, "path": CHAT_PATH, "after_chunks": 1})

    job = structured(await mcp.call_tool("chat_stream", QUESTION))
    done, text = await poll_until_done(lambda: mcp.call_tool("job_result", {"job_id": job["job_id"]}))

    assert done["status"] == "failed"
    assert done["answer"] is None
    assert "stream" in text.lower()


async def test_a_job_whose_process_died_says_it_was_lost(mcp: Client, quick_jobs: Settings) -> None:
    long_ago = time.time() - 600
    with Store.open(quick_jobs.db_path) as store:
        store.create_job(
            JobRecord(
                id="chat:deadbeef",
                kind="chat",
                tool="chat",
                status="running",
                created_at=long_ago,
                heartbeat_at=long_ago,
                owner_pid=999_999,
            )
        )

    data = structured(await mcp.call_tool("job_result", {"job_id": "chat:deadbeef"}))

    assert data["status"] == "failed"
    assert "stopped before it finished" in data["message"] and "999999" in data["message"]


async def test_job_result_refuses_an_unknown_chat_job(mcp: Client) -> None:
    result = await mcp.call_tool("job_result", {"job_id": "chat:0123"})

    assert result.is_error and "No job has the id" in text_of(result)


@asynccontextmanager
async def stdio_server(home: Path, simulator: RunningSimulator, errlog: Any) -> AsyncIterator[ClientSession]:
    env = server_env(home, base_url=simulator.base_url, key=TEST_KEY)
    params = StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "serve"], env=env, cwd=str(ROOT)
    )
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def test_job_result_from_a_second_server_process_sees_the_job_and_its_answer(
    mcp: Client, quick_jobs: Settings, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=2500)

    with (quick_jobs.home / "stderr.txt").open("w+", encoding="utf-8") as errlog:
        async with stdio_server(quick_jobs.home, simulator, errlog) as other:
            job = structured(await mcp.call_tool("chat", QUESTION))
            seen_running = structured(await other.call_tool("job_result", {"job_id": job["job_id"]}))
            done, _ = await poll_until_done(lambda: other.call_tool("job_result", {"job_id": job["job_id"]}))

    assert seen_running["status"] == "pending"
    assert done["status"] == "done" and done["answer"]["text"]
    assert simulator.request_count(CHAT_PATH) == 1


async def test_a_parallel_batch_past_the_job_threshold_runs_on_as_a_job(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.set_config(latency_ms=800)
    items = [{"prompt": "first question", "model": MODEL}, {"prompt": "second question", "model": MODEL, "id": "b"}]

    started = await mcp.call_tool("batch_chat", {"requests": items, "concurrency": 2})
    job = structured(started)
    done, done_text = await poll_until_done(lambda: mcp.call_tool("job_result", {"job_id": job["job_id"]}))

    assert job["status"] == "pending" and job["job_id"].startswith("chat:") and job["results"] == []
    assert f'job_id "{job["job_id"]}"' in text_of(started)
    assert done["status"] == "done" and done["tool"] == "batch_chat"
    answer = done["answer"]
    assert answer["status"] == "done" and answer["totals"]["succeeded"] == 2
    assert [(r["index"], r["id"]) for r in answer["results"]] == [(0, None), (1, "b")]
    assert all(r["text"] and r["text"] in done_text for r in answer["results"])
    assert simulator.request_count(CHAT_PATH) == 2
    assert len([row for row in ledger() if row.tool == "batch_chat"]) == 2
