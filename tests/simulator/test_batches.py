"""The simulated Batch API: create, add, pending until the latency passes, results, the discount, cancel, list."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.simulator.helpers import chat
from tests.support.simulator import RunningSimulator


def _requests(*bodies: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "batch_requests": [
            {"batch_request_id": request_id, "batch_request": {"chat_get_completion": body}}
            for request_id, body in bodies
        ]
    }


def _new_batch(xai: httpx2.Client, name: str = "nightly") -> str:
    response = xai.post("/batches", json={"name": name})
    assert response.status_code == 200, response.text
    return str(response.json()["batch_id"])


def test_a_new_batch_is_empty_and_shaped_like_xais(xai: httpx2.Client) -> None:
    response = xai.post("/batches", json={"name": "nightly"})

    body = response.json()
    assert body["batch_id"].startswith("batch_")
    assert body["name"] == "nightly"
    assert len(body["create_time"]) == len("2026-04-16")
    assert body["cancel_time"] is None
    assert body["state"] == {"num_requests": 0, "num_pending": 0, "num_success": 0, "num_error": 0, "num_cancelled": 0}


def test_creating_a_batch_without_a_name_is_a_text_plain_422(xai: httpx2.Client) -> None:
    response = xai.post("/batches", json={})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/plain")
    assert "missing field `name`" in response.text


def test_requests_stay_pending_until_the_latency_passes_then_give_results_and_errors(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=60_000)
    batch_id = _new_batch(xai)

    added = xai.post(
        f"/batches/{batch_id}/requests",
        json=_requests(("a", chat()), ("b", chat(model="grok-nonexistent"))),
    )
    pending = xai.get(f"/batches/{batch_id}").json()
    early = xai.get(f"/batches/{batch_id}/results").json()
    simulator.set_config(latency_ms=0)
    done = xai.get(f"/batches/{batch_id}").json()
    results = xai.get(f"/batches/{batch_id}/results").json()
    metadata = xai.get(f"/batches/{batch_id}/requests").json()

    assert added.status_code == 200
    assert added.content == b"null"
    assert pending["state"]["num_pending"] == 2
    assert early == {"results": [], "pagination_token": None}
    assert done["state"] == {"num_requests": 2, "num_pending": 0, "num_success": 1, "num_error": 1, "num_cancelled": 0}
    first, second = results["results"]
    assert first["batch_request_id"] == "a"
    completion = first["response"]["completion_response"]
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"]
    assert second["batch_request_id"] == "b"
    assert second["error"]["code"] == 5  # NOT_FOUND, as gRPC numbers it
    assert "grok-nonexistent" in second["error"]["message"]
    assert [(m["batch_request_id"], m["state"]) for m in metadata["batch_request_metadata"]] == [
        ("a", "succeeded"),
        ("b", "failed"),
    ]
    assert metadata["batch_request_metadata"][0]["endpoint"] == "xai_api.Chat/GetCompletion"


def test_batch_requests_cost_twenty_percent_less_than_direct_calls(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    body = chat(content="Explain the batch discount in one sentence.")
    direct = xai.post("/chat/completions", json=body).json()["usage"]
    simulator.reset()  # forget the prompt cache, so the batch request pays for the same uncached tokens
    batch_id = _new_batch(xai)
    xai.post(f"/batches/{batch_id}/requests", json=_requests(("only", body)))

    result = xai.get(f"/batches/{batch_id}/results").json()["results"][0]
    batched = result["response"]["completion_response"]["usage"]

    assert batched["prompt_tokens"] == direct["prompt_tokens"]
    assert batched["cost_in_usd_ticks"] == round(direct["cost_in_usd_ticks"] * 0.8)
    assert (
        xai.get(f"/batches/{batch_id}").json()["cost_breakdown"]["total_cost_usd_ticks"] == batched["cost_in_usd_ticks"]
    )


def test_results_come_in_pages_of_at_most_a_hundred(xai: httpx2.Client) -> None:
    batch_id = _new_batch(xai)
    xai.post(f"/batches/{batch_id}/requests", json=_requests(*((str(i), chat(content=f"q{i}")) for i in range(130))))

    first = xai.get(f"/batches/{batch_id}/results").json()
    second = xai.get(f"/batches/{batch_id}/results", params={"pagination_token": first["pagination_token"]}).json()

    assert len(first["results"]) == 100
    assert len(second["results"]) == 30
    assert second["pagination_token"] is None
    ids = [r["batch_request_id"] for r in first["results"] + second["results"]]
    assert ids == [str(i) for i in range(130)]


def test_cancel_uses_the_colon_path_and_cancels_the_pending_requests(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=60_000)
    batch_id = _new_batch(xai)
    xai.post(f"/batches/{batch_id}/requests", json=_requests(("a", chat()), ("b", chat())))

    cancelled = xai.post(f"/batches/{batch_id}:cancel")
    simulator.set_config(latency_ms=0)
    after = xai.get(f"/batches/{batch_id}").json()
    added_late = xai.post(f"/batches/{batch_id}/requests", json=_requests(("c", chat())))

    assert cancelled.status_code == 200
    assert cancelled.json()["cancel_time"] is not None
    assert after["state"]["num_cancelled"] == 2
    assert after["state"]["num_pending"] == 0
    assert xai.get(f"/batches/{batch_id}/results").json()["results"] == []
    states = [m["state"] for m in xai.get(f"/batches/{batch_id}/requests").json()["batch_request_metadata"]]
    assert states == ["cancelled", "cancelled"]
    assert added_late.status_code == 400


def test_finished_requests_keep_their_results_after_a_cancel(xai: httpx2.Client) -> None:
    batch_id = _new_batch(xai)
    xai.post(f"/batches/{batch_id}/requests", json=_requests(("done", chat())))

    xai.post(f"/batches/{batch_id}:cancel")

    state = xai.get(f"/batches/{batch_id}").json()["state"]
    assert state["num_success"] == 1
    assert state["num_cancelled"] == 0
    assert [r["batch_request_id"] for r in xai.get(f"/batches/{batch_id}/results").json()["results"]] == ["done"]


def test_the_listing_shows_the_teams_batches_newest_first(xai: httpx2.Client) -> None:
    older = _new_batch(xai, "older")
    newer = _new_batch(xai, "newer")
    stranger = xai.post(
        "/batches", json={"name": "theirs"}, headers={"Authorization": "Bearer xai-someone-else-entirely"}
    )

    listing = xai.get("/batches").json()

    assert stranger.status_code == 200
    assert [b["batch_id"] for b in listing["batches"]] == [newer, older]
    assert listing["pagination_token"] is None


def test_another_teams_or_an_unknown_batch_is_not_found(xai: httpx2.Client) -> None:
    batch_id = _new_batch(xai)

    theirs = xai.get(f"/batches/{batch_id}", headers={"Authorization": "Bearer xai-someone-else-entirely"})
    unknown = xai.get("/batches/batch_00000000-0000-0000-0000-000000000000/results")

    assert theirs.status_code == 404
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "Some requested entity was not found"


def test_adding_a_request_id_twice_or_a_malformed_request_is_refused(xai: httpx2.Client) -> None:
    batch_id = _new_batch(xai)

    twice = xai.post(f"/batches/{batch_id}/requests", json=_requests(("x", chat()), ("x", chat())))
    no_id = xai.post(f"/batches/{batch_id}/requests", json={"batch_requests": [{"batch_request": {}}]})

    assert twice.status_code == 400
    assert "more than once" in twice.json()["error"]
    assert no_id.status_code == 422
    assert "missing field `batch_request_id`" in no_id.text
    assert xai.get(f"/batches/{batch_id}").json()["state"]["num_requests"] == 0


def test_the_in_flight_counter_reports_the_most_requests_served_at_once(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    xai.post("/chat/completions", json=chat())

    counts = simulator.client.get("/_sim/in-flight").json()

    assert counts == {"in_flight": 0, "max_in_flight": 1}
