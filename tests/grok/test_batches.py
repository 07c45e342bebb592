"""The Batch API through GrokClient against the simulator: a batch's life, paging, cancel, listing and errors."""

from __future__ import annotations

from typing import Any

import pytest
from grok_mcp.errors import InvalidRequestError, NotFoundError
from grok_mcp.grok import GrokClient

from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.anyio


def _body(question: str, model: str = "grok-4.3") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": question}]}


async def test_a_batch_is_created_filled_pending_then_finished_with_completions_and_errors(
    client: GrokClient, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=60_000)
    batch = await client.create_batch("nightly")
    await client.add_batch_requests(
        batch.batch_id, [("0", _body("What is 2+2?")), ("1", _body("Hi", model="grok-nonexistent"))]
    )

    pending = await client.get_batch(batch.batch_id)
    simulator.set_config(latency_ms=0)
    done = await client.get_batch(batch.batch_id)
    page = await client.batch_results(batch.batch_id)

    assert batch.batch_id.startswith("batch_")
    assert batch.name == "nightly"
    assert batch.state.num_requests == 0
    assert pending.state.num_pending == 2
    assert not pending.state.is_finished
    assert done.state.is_finished
    assert (done.state.num_success, done.state.num_error) == (1, 1)
    assert done.total_cost_ticks is not None and done.total_cost_ticks > 0
    answered, refused = page.items
    assert answered.batch_request_id == "0"
    assert answered.completion is not None
    assert answered.completion.model == "grok-4.3"
    assert answered.completion.text
    assert answered.completion.call.request_id == answered.completion.id
    assert answered.completion.usage.cost_ticks == done.total_cost_ticks
    assert refused.batch_request_id == "1"
    assert refused.completion is None
    assert refused.error_status == 404
    assert refused.error_message and "grok-nonexistent" in refused.error_message
    assert page.pagination_token is None


async def test_results_and_request_states_are_read_page_by_page(client: GrokClient) -> None:
    batch = await client.create_batch("big")
    await client.add_batch_requests(batch.batch_id, [(str(i), _body(f"q{i}")) for i in range(120)])

    first = await client.batch_results(batch.batch_id, limit=100)
    second = await client.batch_results(batch.batch_id, limit=100, pagination_token=first.pagination_token)
    states = await client.list_batch_requests(batch.batch_id, limit=50)

    assert [o.batch_request_id for o in first.items + second.items] == [str(i) for i in range(120)]
    assert second.pagination_token is None
    assert len(states.items) == 50
    assert states.pagination_token is not None
    assert {info.state for info in states.items} == {"succeeded"}


async def test_cancelling_a_batch_cancels_its_pending_requests(client: GrokClient, simulator: RunningSimulator) -> None:
    simulator.set_config(latency_ms=60_000)
    batch = await client.create_batch("to cancel")
    await client.add_batch_requests(batch.batch_id, [("0", _body("a")), ("1", _body("b"))])

    cancelled = await client.cancel_batch(batch.batch_id)
    states = await client.list_batch_requests(batch.batch_id)

    assert cancelled.is_cancelled
    assert cancelled.state.num_cancelled == 2
    assert cancelled.state.is_finished
    assert [info.state for info in states.items] == ["cancelled", "cancelled"]
    assert simulator.request_count(f"/v1/batches/{batch.batch_id}:cancel") == 1


async def test_the_listing_holds_the_batches_newest_first(client: GrokClient) -> None:
    first = await client.create_batch("first")
    second = await client.create_batch("second")

    listing = await client.list_batches()

    assert [b.batch_id for b in listing.items] == [second.batch_id, first.batch_id]


async def test_an_unknown_batch_is_not_found(client: GrokClient) -> None:
    with pytest.raises(NotFoundError):
        await client.get_batch("batch_00000000-0000-0000-0000-000000000000")


async def test_adding_the_same_request_id_twice_is_an_invalid_request(client: GrokClient) -> None:
    batch = await client.create_batch("dupes")

    with pytest.raises(InvalidRequestError, match="more than once"):
        await client.add_batch_requests(batch.batch_id, [("x", _body("a")), ("x", _body("b"))])
