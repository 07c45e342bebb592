"""The `/_sim` control API: the request log, run-time config and reset."""

from __future__ import annotations

import httpx2

from tests.simulator.helpers import chat
from tests.support.simulator import TEST_KEY, RunningSimulator


def test_the_request_log_counts_v1_calls_without_ever_holding_the_key(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    xai.post("/chat/completions", json=chat("grok-4.3-latest", stream=True))
    xai.get("/models")

    log = simulator.client.get("/_sim/requests")

    assert log.json()["count"] == 2
    first, second = log.json()["requests"]
    assert first["method"] == "POST"
    assert first["path"] == "/v1/chat/completions"
    assert first["model"] == "grok-4.3-latest"
    assert first["stream"] is True
    assert first["status"] == 200
    assert first["ts"] > 0
    assert second["path"] == "/v1/models"
    assert TEST_KEY not in log.text
    assert simulator.request_count("/v1/chat/completions") == 1


def test_unknown_paths_and_wrong_methods_get_404_and_405(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    unknown = xai.get("/embeddings-of-everything")
    wrong = xai.get("/chat/completions")

    assert unknown.status_code == 404
    assert unknown.json()["code"] == "Some requested entity was not found"
    assert wrong.status_code == 405
    assert unknown.headers["x-simulated"] == "true"
    assert [entry["status"] for entry in simulator.requests()] == [404, 405]


def test_config_changes_apply_at_run_time_and_reset_restores_them(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    changed = simulator.client.post("/_sim/config", json={"latency_ms": 5, "retired_mode": "redirect"}).json()
    redirected = xai.post("/chat/completions", json=chat("grok-4-0709"))
    simulator.add_faults({"kind": "status", "status": 500})
    xai.post("/responses", json={"model": "grok-4.3", "input": "remember me"})

    restored = simulator.client.post("/_sim/reset").json()

    assert changed["latency_ms"] == 5
    assert redirected.json()["model"] == "grok-4.3"
    assert float(redirected.headers["x-metrics-e2e-ms"]) >= 5
    assert restored["latency_ms"] == 0
    assert restored["retired_mode"] == "reject"
    assert simulator.client.get("/_sim/faults").json() == {"faults": []}
    assert simulator.requests() == []
    assert xai.post("/chat/completions", json=chat("grok-4-0709")).status_code == 404


def test_replies_can_come_unmarked_as_xai_sends_them_until_reset(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    assert xai.get("/models").headers["x-simulated"] == "true"
    simulator.set_config(marks_replies=False)
    assert "x-simulated" not in xai.post("/chat/completions", json=chat("grok-4.3")).headers
    assert "x-simulated" not in xai.get("/no-such-endpoint").headers
    simulator.reset()
    assert xai.get("/models").headers["x-simulated"] == "true"


def test_bad_config_is_refused(simulator: RunningSimulator) -> None:
    for body in (
        {"latency_ms": -1},
        {"retired_mode": "ignore"},
        {"colour": "red"},
        {"marks_replies": "no"},
        ["not", "an", "object"],
    ):
        assert simulator.client.post("/_sim/config", json=body).status_code == 400


def test_queued_faults_are_listed_with_what_remains(simulator: RunningSimulator) -> None:
    simulator.add_faults({"kind": "rate_limit", "count": 3})

    faults = simulator.client.get("/_sim/faults").json()["faults"]

    assert faults == [{"kind": "rate_limit", "count": 3, "seconds": 0.0, "remaining": 3}]
