"""The simulator answers many paced requests at once (everything waits with asyncio, nothing blocks)."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from tests.simulator.helpers import chat
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio


async def test_concurrent_paced_requests_all_complete(simulator: RunningSimulator) -> None:
    simulator.set_config(latency_ms=50, ttft_ms=20, chunk_ms=1)
    statuses: list[int] = []

    async with httpx2.AsyncClient(
        base_url=simulator.base_url, headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=10
    ) as client:

        async def call(index: int) -> None:
            response = await client.post("/chat/completions", json=chat(content=f"q{index}", stream=index % 2 == 0))
            statuses.append(response.status_code)

        async with anyio.create_task_group() as group:
            for index in range(32):
                group.start_soon(call, index)

    assert statuses == [200] * 32
    assert simulator.request_count("/v1/chat/completions") == 32
