"""Deferred chat completions: a request id, 202 while pending, the result exactly once, then 404."""

from __future__ import annotations

import httpx2

from tests.simulator.helpers import chat
from tests.support.simulator import TEST_KEY


def test_a_deferred_completion_is_pending_then_delivered_once_then_gone(xai: httpx2.Client) -> None:
    started = xai.post("/chat/completions", json=chat(deferred=True))
    request_id = started.json()["request_id"]

    pending = xai.get(f"/chat/deferred-completion/{request_id}")
    done = xai.get(f"/chat/deferred-completion/{request_id}")
    gone = xai.get(f"/chat/deferred-completion/{request_id}")

    assert started.status_code == 200
    assert started.json() == {"request_id": request_id}
    assert pending.status_code == 202
    assert pending.content == b""
    assert done.status_code == 200
    assert done.json()["id"] == request_id
    assert done.json()["object"] == "chat.completion"
    assert done.headers["x-request-id"] == request_id
    assert gone.status_code == 404


def test_a_deferred_completion_belongs_to_the_key_that_asked(xai: httpx2.Client) -> None:
    request_id = xai.post("/chat/completions", json=chat(deferred=True)).json()["request_id"]

    other = xai.get(
        f"/chat/deferred-completion/{request_id}",
        headers={"Authorization": "Bearer xai-someone-else-entirely"},
    )

    assert other.status_code == 404
    assert xai.get(f"/chat/deferred-completion/{request_id}").status_code == 202
    assert TEST_KEY not in other.text


def test_an_unknown_deferred_request_is_not_found(xai: httpx2.Client) -> None:
    response = xai.get("/chat/deferred-completion/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json()["code"] == "Some requested entity was not found"
