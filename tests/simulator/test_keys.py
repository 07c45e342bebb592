"""The simulator's key rules: 401 without a header, xAI's 400 for a bad key, 403 blocked, 429 no credit."""

from __future__ import annotations

import httpx2

from tests.simulator.helpers import chat
from tests.support.simulator import RunningSimulator


def _post(simulator: RunningSimulator, headers: dict[str, str]) -> httpx2.Response:
    return httpx2.post(f"{simulator.base_url}/chat/completions", json=chat(), headers=headers)


def test_a_request_without_authorization_is_a_401(simulator: RunningSimulator) -> None:
    response = _post(simulator, {})

    assert response.status_code == 401
    assert response.json()["code"] == "The request does not have valid authentication credentials for the operation"
    assert "Authorization" in response.json()["error"]


def test_a_non_bearer_authorization_is_a_401(simulator: RunningSimulator) -> None:
    assert _post(simulator, {"Authorization": "Basic abc"}).status_code == 401


def test_an_invalid_key_is_xais_400_with_the_redacted_key(simulator: RunningSimulator) -> None:
    response = _post(simulator, {"Authorization": "Bearer xai-invalid-key-xyz"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***yz. You can obtain an API key from https://console.x.ai.",
    }


def test_short_keys_and_keys_without_the_xai_prefix_are_invalid(simulator: RunningSimulator) -> None:
    for key in ("xai-short", "sk-0123456789abcdef"):
        response = _post(simulator, {"Authorization": f"Bearer {key}"})

        assert response.status_code == 400
        assert key not in response.text


def test_a_blocked_key_is_a_403(simulator: RunningSimulator) -> None:
    response = _post(simulator, {"Authorization": "Bearer xai-blocked-key-0001"})

    assert response.status_code == 403
    assert response.json()["code"] == "The caller does not have permission to execute the specified operation"


def test_a_key_without_credits_gets_the_credits_exhausted_429(simulator: RunningSimulator) -> None:
    response = _post(simulator, {"Authorization": "Bearer xai-nocredit-key-0001"})

    assert response.status_code == 429
    assert response.json()["code"] == "Some resource has been exhausted"
    assert "has either used all available credits or reached its monthly spending limit" in response.json()["error"]


def test_every_endpoint_needs_a_key(simulator: RunningSimulator) -> None:
    for path in ("/models", "/language-models", "/image-generation-models", "/api-key"):
        assert httpx2.get(f"{simulator.base_url}{path}").status_code == 401
