"""Injected faults: error statuses, 429 storms, errors with HTTP 200, broken streams, drops and stalls."""

from __future__ import annotations

import json
import logging

import httpx2
import pytest

from tests.simulator.helpers import chat, sse_data, sse_events
from tests.support.simulator import RunningSimulator

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def test_a_status_fault_hits_the_next_count_requests_then_clears(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    simulator.add_faults({"kind": "status", "status": 503, "count": 2, "retry_after": 1.5})

    statuses = [xai.post("/chat/completions", json=chat()) for _ in range(3)]

    assert [r.status_code for r in statuses] == [503, 503, 200]
    assert statuses[0].json()["code"] == "The service is currently unavailable"
    assert statuses[0].headers["retry-after"] == "1.5"
    assert statuses[0].headers["x-simulated"] == "true"
    assert [entry["status"] for entry in simulator.requests()] == [503, 503, 200]


def test_a_status_fault_uses_the_xai_shape_for_its_status(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    simulator.add_faults(
        {"kind": "status", "status": 422},
        {"kind": "status", "status": 500, "message": "Image generation failed. Please try again later."},
        {"kind": "status", "status": 502},
    )

    unprocessable = xai.post("/chat/completions", json=chat())
    internal = xai.post("/chat/completions", json=chat())
    gateway = xai.post("/chat/completions", json=chat())

    assert unprocessable.headers["content-type"].startswith("text/plain")
    assert unprocessable.text.startswith("Failed to deserialize")
    assert internal.json() == {
        "code": "Internal error",
        "error": "Image generation failed. Please try again later.",
    }
    assert gateway.status_code == 502
    assert gateway.headers["content-type"].startswith("text/html")


def test_a_rate_limit_fault_is_a_429_naming_the_team(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    simulator.add_faults({"kind": "rate_limit", "retry_after": 2})

    response = xai.post("/chat/completions", json=chat())

    assert response.status_code == 429
    assert response.json()["code"] == "Some resource has been exhausted"
    assert response.json()["error"].startswith("Too many requests for team ")
    assert response.headers["retry-after"] == "2"


def test_a_credits_fault_is_the_credits_exhausted_429(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    simulator.add_faults({"kind": "credits"})

    response = xai.post("/chat/completions", json=chat())

    assert response.status_code == 429
    assert "used all available credits" in response.json()["error"]


def test_an_error_200_fault_answers_http_200_with_an_error_body(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    simulator.add_faults({"kind": "error_200"})

    response = xai.post("/chat/completions", json=chat())

    assert response.status_code == 200
    assert response.json() == {
        "code": "The service is currently unavailable",
        "error": "Timed out waiting for first token",
    }


def test_a_fault_with_a_path_only_hits_that_endpoint(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    simulator.add_faults({"kind": "status", "status": 500, "path": "/v1/responses"})

    chat_response = xai.post("/chat/completions", json=chat())
    responses_response = xai.post("/responses", json={"model": "grok-4.3", "input": "hi"})

    assert chat_response.status_code == 200
    assert responses_response.status_code == 500


def test_a_midstream_fault_sends_an_error_event_and_ends_the_stream(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    simulator.add_faults({"kind": "midstream", "after_chunks": 3})

    plain = xai.post("/chat/completions", json=chat())
    streamed = xai.post("/chat/completions", json=chat(stream=True))

    assert plain.status_code == 200
    events = sse_events(streamed.text)
    assert len(events) == 4
    assert all(event.get("object") == "chat.completion.chunk" for event in events[:3])
    assert events[3] == {
        "code": "The service is currently unavailable",
        "error": "Service temporarily unavailable. The model did not respond to this request.",
    }
    assert "[DONE]" not in sse_data(streamed.text)


def test_a_dropped_connection_is_a_transport_error_without_a_logged_crash(
    xai: httpx2.Client, simulator: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.add_faults({"kind": "drop"})

    with caplog.at_level(logging.ERROR), pytest.raises(httpx2.TransportError):
        xai.post("/chat/completions", json=chat())

    assert xai.post("/chat/completions", json=chat()).status_code == 200
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]


def test_a_drop_mid_stream_breaks_the_stream_after_some_chunks(xai: httpx2.Client, simulator: RunningSimulator) -> None:
    simulator.add_faults({"kind": "drop", "after_chunks": 2})
    received: list[str] = []

    with (
        pytest.raises(httpx2.TransportError),
        xai.stream("POST", "/chat/completions", json=chat(stream=True)) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: "):
                received.append(line)

    assert len(received) == 2


def test_a_stall_before_the_answer_times_the_client_out(simulator: RunningSimulator) -> None:
    simulator.add_faults({"kind": "stall", "seconds": 30})
    client = httpx2.Client(base_url=simulator.base_url, headers={"Authorization": "Bearer xai-test-stall-0001"})

    with client, pytest.raises(httpx2.ReadTimeout):
        client.post("/chat/completions", json=chat(), timeout=0.3)


def test_a_stall_mid_stream_stops_the_chunks(simulator: RunningSimulator) -> None:
    simulator.add_faults({"kind": "stall", "seconds": 30, "after_chunks": 1})
    client = httpx2.Client(base_url=simulator.base_url, headers={"Authorization": "Bearer xai-test-stall-0001"})
    received: list[str] = []

    with (
        client,
        pytest.raises(httpx2.ReadTimeout),
        client.stream("POST", "/chat/completions", json=chat(stream=True), timeout=0.3) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: "):
                received.append(line)

    assert len(received) == 1


def test_a_bad_json_fault_spoils_the_next_structured_answer_only(
    xai: httpx2.Client, simulator: RunningSimulator
) -> None:
    simulator.add_faults({"kind": "bad_json"})
    structured = chat(response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}})

    plain = xai.post("/chat/completions", json=chat()).json()["choices"][0]["message"]["content"]
    spoiled = xai.post("/chat/completions", json=structured).json()["choices"][0]["message"]["content"]
    healthy = xai.post("/chat/completions", json=structured).json()["choices"][0]["message"]["content"]

    assert plain.startswith("[Simulated")
    with pytest.raises(json.JSONDecodeError):
        json.loads(spoiled)
    assert "answer" in json.loads(healthy)


def test_a_fault_can_ride_on_one_request_in_a_header(xai: httpx2.Client) -> None:
    faulted = xai.post("/chat/completions", json=chat(), headers={"x-sim-fault": '{"kind": "status", "status": 504}'})
    clean = xai.post("/chat/completions", json=chat())
    broken = xai.post("/chat/completions", json=chat(), headers={"x-sim-fault": "{nope"})

    assert faulted.status_code == 504
    assert clean.status_code == 200
    assert broken.status_code == 400


def test_unusable_faults_are_refused_by_the_control_api(simulator: RunningSimulator) -> None:
    for faults in ([{"kind": "explode"}], [{"kind": "status"}], [{"kind": "stall", "seconds": -1}], "nope"):
        response = simulator.client.post("/_sim/faults", json={"faults": faults})

        assert response.status_code == 400
