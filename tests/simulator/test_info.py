"""Model listings, tokenize-text and api-key on the simulator."""

from __future__ import annotations

import httpx2
from grok_mcp.simulator.tokenizer import tokenize
from grok_mcp.simulator.usage import MESSAGE_OVERHEAD_TOKENS

from tests.simulator.helpers import chat
from tests.support.simulator import TEST_KEY


def test_the_models_list_is_openai_shaped_and_includes_chat_and_image_models(xai: httpx2.Client) -> None:
    body = xai.get("/models").json()

    assert body["object"] == "list"
    ids = [entry["id"] for entry in body["data"]]
    assert {"grok-4.7", "grok-4.3", "grok-3-mini", "grok-imagine-image", "grok-imagine-image-quality"} <= set(ids)
    assert "grok-4" not in ids
    entry = next(e for e in body["data"] if e["id"] == "grok-4.3")
    assert entry["object"] == "model"
    assert entry["owned_by"] == "xai"
    assert entry["prompt_text_token_price"] == 12_500


def test_a_model_is_found_by_alias_under_its_canonical_id(xai: httpx2.Client) -> None:
    assert xai.get("/models/grok-4.3-latest").json()["id"] == "grok-4.3"
    assert xai.get("/models/grok-imagine-image-2026-03-02").json()["image_price"] == 200_000_000
    missing = xai.get("/models/grok-99")
    assert missing.status_code == 404
    assert missing.json()["code"] == "Some requested entity was not found"


def test_language_models_carry_the_late_2026_prices_in_ticks(xai: httpx2.Client) -> None:
    models = {m["id"]: m for m in xai.get("/language-models").json()["models"]}

    expected = {
        "grok-4.7": (20_000, 5_000, 60_000, 500_000),
        "grok-4.6": (20_000, 5_000, 60_000, 500_000),
        "grok-4.5": (20_000, 5_000, 60_000, 500_000),
        "grok-4.3": (12_500, 2_000, 25_000, 1_000_000),
        "grok-4.20-0309-reasoning": (12_500, 2_000, 25_000, 1_000_000),
        "grok-4.20-0309-non-reasoning": (12_500, 2_000, 25_000, 1_000_000),
        "grok-4.20-multi-agent-0309": (12_500, 2_000, 25_000, 1_000_000),
        "grok-build-0.1": (10_000, 2_000, 20_000, 256_000),
        "grok-3-mini": (3_000, 750, 5_000, 131_072),
    }
    assert set(models) == set(expected)
    for model_id, (prompt, cached, completion, context) in expected.items():
        entry = models[model_id]
        assert entry["prompt_text_token_price"] == prompt
        assert entry["cached_prompt_text_token_price"] == cached
        assert entry["completion_text_token_price"] == completion
        assert entry["max_prompt_length"] == context
    grok_43 = models["grok-4.3"]
    assert grok_43["aliases"] == ["grok-4.3-latest"]
    assert grok_43["input_modalities"] == ["text", "image"]
    assert grok_43["long_context_threshold"] == 200_000
    assert grok_43["completion_text_token_price_long_context"] == 50_000
    assert models["grok-3-mini"]["input_modalities"] == ["text"]
    assert "long_context_threshold" not in models["grok-3-mini"]


def test_one_language_model_is_found_by_alias(xai: httpx2.Client) -> None:
    assert xai.get("/language-models/grok-4.20-reasoning-latest").json()["id"] == "grok-4.20-0309-reasoning"
    assert xai.get("/language-models/grok-imagine-image").status_code == 404


def test_image_generation_models_list_their_price_per_image(xai: httpx2.Client) -> None:
    models = {m["id"]: m for m in xai.get("/image-generation-models").json()["models"]}

    assert models["grok-imagine-image"]["image_price"] == 200_000_000
    assert models["grok-imagine-image"]["aliases"] == ["grok-imagine-image-2026-03-02"]
    assert models["grok-imagine-image-quality"]["image_price"] == 450_000_000
    assert models["grok-imagine-image"]["output_modalities"] == ["image"]
    assert xai.get("/image-generation-models/grok-4.3").status_code == 404


def test_tokenize_splits_words_with_their_leading_space(xai: httpx2.Client) -> None:
    response = xai.post("/tokenize-text", json={"model": "grok-4.3", "text": "Hello world!"})

    tokens = response.json()["token_ids"]
    assert [t["string_token"] for t in tokens] == ["Hello", " world", "!"]
    assert tokens[1]["token_bytes"] == [32, 119, 111, 114, 108, 100]
    assert all(isinstance(t["token_id"], int) for t in tokens)
    assert response.headers["x-ratelimit-limit-requests"] == "1200"


def test_tokenize_counts_match_the_prompt_usage(xai: httpx2.Client) -> None:
    text = "Count these tokens, please: 12345 apples and supercalifragilistic pears."

    tokens = xai.post("/tokenize-text", json={"model": "grok-4.3", "text": text}).json()["token_ids"]
    usage = xai.post("/chat/completions", json=chat(content=text)).json()["usage"]

    assert len(tokens) == len(tokenize(text))
    assert usage["prompt_tokens_details"]["text_tokens"] == len(tokens) + MESSAGE_OVERHEAD_TOKENS


def test_tokenize_needs_a_known_model_and_text(xai: httpx2.Client) -> None:
    assert xai.post("/tokenize-text", json={"model": "grok-99", "text": "hi"}).status_code == 404
    missing = xai.post("/tokenize-text", json={"model": "grok-4.3"})
    assert missing.status_code == 422
    assert "missing field `text`" in missing.text


def test_api_key_info_has_all_twelve_fields_derived_from_the_key(xai: httpx2.Client) -> None:
    first = xai.get("/api-key").json()
    second = xai.get("/api-key").json()

    assert set(first) == {
        "redacted_api_key", "user_id", "name", "create_time", "modify_time", "modified_by", "team_id", "acls",
        "api_key_id", "team_blocked", "api_key_blocked", "api_key_disabled",
    }  # fmt: skip
    assert first == second
    assert first["redacted_api_key"] == "xai-...0001"
    assert TEST_KEY not in str(first)
    assert first["api_key_blocked"] is False
    other = xai.get("/api-key", headers={"Authorization": "Bearer xai-another-key-9999"}).json()
    assert other["team_id"] != first["team_id"]


def test_api_key_info_describes_a_blocked_key_instead_of_refusing_it(xai: httpx2.Client) -> None:
    info = xai.get("/api-key", headers={"Authorization": "Bearer xai-blocked-key-0001"})

    assert info.status_code == 200
    assert info.json()["api_key_blocked"] is True
    assert info.json()["team_blocked"] is True
