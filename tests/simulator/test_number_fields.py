"""Every number field of every simulated endpoint refuses a wrong type the way xAI's serde does: a text/plain 422."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.simulator.helpers import chat

DESERIALIZE = "Failed to deserialize the JSON body into the target type: "

CHAT_NUMBERS = [
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "top_logprobs",
    "seed",
]
RESPONSES_NUMBERS = [
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "max_output_tokens",
    "max_turns",
    "max_tool_calls",
    "top_logprobs",
    "seed",
]
IMAGE_NUMBERS = ["n"]

REQUESTS = {
    "/chat/completions": chat(),
    "/responses": {"model": "grok-4.3", "input": "hi"},
    "/images/generations": {"model": "grok-imagine-image", "prompt": "a red rocket"},
}
CASES = (
    [("/chat/completions", field) for field in CHAT_NUMBERS]
    + [("/responses", field) for field in RESPONSES_NUMBERS]
    + [("/images/generations", field) for field in IMAGE_NUMBERS]
)


def _refusal(response: httpx2.Response) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(DESERIALIZE)
    return response.text


@pytest.mark.parametrize(("path", "field"), CASES)
def test_a_string_in_a_number_field_is_a_plain_text_422_naming_the_field(
    xai: httpx2.Client, path: str, field: str
) -> None:
    text = _refusal(xai.post(path, json={**REQUESTS[path], field: "hot"}))
    assert f'{field}: invalid type: string "hot", expected ' in text
    assert " at line 1 column " in text


@pytest.mark.parametrize("value", [True, [1], {"a": 1}])
def test_a_boolean_a_list_or_a_map_for_temperature_is_refused_too(xai: httpx2.Client, value: Any) -> None:
    text = _refusal(xai.post("/chat/completions", json=chat(temperature=value)))
    assert "temperature: invalid type: " in text and "expected f32" in text


@pytest.mark.parametrize(("field", "value"), [("max_tokens", 1.5), ("n", -1), ("max_tokens", 2**32)])
def test_an_integer_field_refuses_a_fraction_a_negative_and_an_overflow(
    xai: httpx2.Client, field: str, value: float
) -> None:
    text = _refusal(xai.post("/chat/completions", json={**chat(), field: value}))
    assert f"{field}: invalid " in text and "expected u32" in text


def test_a_number_field_with_a_number_is_accepted(xai: httpx2.Client) -> None:
    response = xai.post("/chat/completions", json=chat(temperature=0.5, top_p=1, seed=-7, n=2))
    assert response.status_code == 200, response.text


def test_a_wrong_type_inside_a_batch_request_refuses_the_whole_post(xai: httpx2.Client) -> None:
    batch_id = xai.post("/batches", json={"name": "typed"}).json()["batch_id"]
    body = {
        "batch_requests": [
            {"batch_request_id": "a", "batch_request": {"chat_get_completion": chat()}},
            {"batch_request_id": "b", "batch_request": {"chat_get_completion": chat(temperature="hot")}},
        ]
    }
    text = _refusal(xai.post(f"/batches/{batch_id}/requests", json=body))
    assert 'batch_requests[1].batch_request.chat_get_completion.temperature: invalid type: string "hot"' in text
    assert xai.get(f"/batches/{batch_id}").json()["state"]["num_requests"] == 0
