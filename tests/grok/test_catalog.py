"""The live model catalog: TTL caching, shared fetches, aliases, default models and cost arithmetic."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import pytest
from grok_mcp.errors import ModelNotFoundError
from grok_mcp.grok import GrokClient, ImageModel, LanguageModel, ModelCatalog, Usage, compute_cost_ticks

from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.anyio

LANGUAGE = "/v1/language-models"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def model(**overrides: Any) -> LanguageModel:
    fields: dict[str, Any] = {
        "id": "m",
        "aliases": (),
        "created": 1,
        "input_modalities": ("text",),
        "output_modalities": ("text",),
        "prompt_text_token_price": 30_000,
        "cached_prompt_text_token_price": 7_500,
        "completion_text_token_price": 150_000,
    }
    fields.update(overrides)
    return LanguageModel(**fields)


class ListSource:
    """A catalog source serving fixed lists (for the selection rules, which need no HTTP)."""

    def __init__(self, language: list[LanguageModel], image: list[ImageModel] | None = None) -> None:
        self.language = language
        self.image = image or []

    async def language_models(self) -> list[LanguageModel]:
        return self.language

    async def image_generation_models(self) -> list[ImageModel]:
        return self.image


def test_cost_is_uncached_input_plus_cached_input_plus_output_and_reasoning() -> None:
    # xAI's recorded grok-3 call: 10·30000 + 2·7500 + 7·150000 = 1 365 000 ticks.
    usage = Usage(prompt_tokens=12, cached_tokens=2, completion_tokens=3, reasoning_tokens=4)
    assert compute_cost_ticks(model(), usage) == 1_365_000


def test_a_prompt_at_the_long_context_threshold_bills_every_token_at_the_higher_prices() -> None:
    priced = model(
        prompt_text_token_price=20_000,
        cached_prompt_text_token_price=5_000,
        completion_text_token_price=60_000,
        prompt_text_token_price_long_context=40_000,
        cached_prompt_text_token_price_long_context=10_000,
        completion_text_token_price_long_context=120_000,
        long_context_threshold=200_000,
    )
    below = Usage(prompt_tokens=199_999, cached_tokens=99_999, completion_tokens=100, reasoning_tokens=50)
    at = Usage(prompt_tokens=200_000, cached_tokens=100_000, completion_tokens=100, reasoning_tokens=50)
    assert compute_cost_ticks(priced, below) == 100_000 * 20_000 + 99_999 * 5_000 + 150 * 60_000
    assert compute_cost_ticks(priced, at) == 100_000 * 40_000 + 100_000 * 10_000 + 150 * 120_000


def test_a_model_without_long_context_prices_keeps_its_normal_prices() -> None:
    usage = Usage(prompt_tokens=300_000, completion_tokens=10)
    assert compute_cost_ticks(model(long_context_threshold=128_000), usage) == 300_000 * 30_000 + 10 * 150_000


def test_cached_tokens_never_exceed_the_prompt_in_the_arithmetic() -> None:
    usage = Usage(prompt_tokens=10, cached_tokens=50)
    assert compute_cost_ticks(model(), usage) == 10 * 7_500


async def test_the_computed_cost_matches_what_the_simulator_billed(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    chosen = await catalog.default_chat_model()
    body = {"model": chosen.id, "messages": [{"role": "user", "content": "A long question " * 200}]}

    first = await client.chat(body)
    second = await client.chat(body)  # the repeated prompt is partly served from the prompt cache

    for completion in (first, second):
        billed = completion.usage.cost_ticks
        assert billed is not None
        unbilled = dataclasses.replace(completion.usage, cost_ticks=None)
        assert await catalog.cost_ticks(completion.model, unbilled) == billed
        assert await catalog.billed_cost_ticks(completion.model, unbilled) == billed
    assert second.usage.cached_tokens > 0


async def test_billed_cost_prefers_xais_own_number() -> None:
    catalog = ModelCatalog(ListSource([model()]))
    assert await catalog.billed_cost_ticks("m", Usage(prompt_tokens=10, cost_ticks=7)) == 7


async def test_an_unknown_model_costs_zero_rather_than_failing_a_finished_call() -> None:
    catalog = ModelCatalog(ListSource([model()]))
    assert await catalog.cost_ticks("nope", Usage(prompt_tokens=10)) == 0
    assert await catalog.image_cost_ticks("nope", 3) == 0


async def test_image_cost_is_the_per_image_price_times_the_count(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    image_model = await catalog.default_image_model()
    generation = await client.generate_images({"model": image_model.id, "prompt": "a cat", "n": 3})
    assert await catalog.image_cost_ticks(image_model.id, 3) == generation.cost_ticks == 3 * image_model.image_price


async def test_the_catalog_is_fetched_once_per_ttl(client: GrokClient, simulator: RunningSimulator) -> None:
    clock = FakeClock()
    catalog = ModelCatalog(client, ttl_s=600, clock=clock)

    await catalog.language_models()
    clock.now += 599
    await catalog.resolve("anything")
    assert simulator.request_count(LANGUAGE) == 1

    clock.now += 2
    await catalog.language_models()
    assert simulator.request_count(LANGUAGE) == 2

    catalog.invalidate()
    await catalog.language_models()
    assert simulator.request_count(LANGUAGE) == 3


async def test_concurrent_lookups_share_one_fetch(client: GrokClient, simulator: RunningSimulator) -> None:
    catalog = ModelCatalog(client)
    found: list[LanguageModel | None] = []

    async def look_up() -> None:
        found.append(await catalog.resolve((await client.language_models())[0].id))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(look_up)

    assert len(found) == 10 and all(m is not None for m in found)
    # 10 direct client calls plus exactly one catalog fetch.
    assert simulator.request_count(LANGUAGE) == 11


async def test_a_stale_catalog_is_used_when_a_refresh_fails(client: GrokClient, simulator: RunningSimulator) -> None:
    clock = FakeClock()
    catalog = ModelCatalog(client, ttl_s=10, clock=clock)
    models = await catalog.language_models()
    simulator.add_faults({"kind": "status", "status": 503, "count": 10, "path": LANGUAGE})
    clock.now += 11

    assert await catalog.language_models() == models


async def test_aliases_resolve_to_the_canonical_model(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    models = await catalog.language_models()
    aliased = next(m for m in models if m.aliases)

    assert await catalog.resolve(aliased.id) == aliased
    for alias in aliased.aliases:
        assert await catalog.resolve(alias) == aliased
    assert await catalog.resolve(aliased.aliases[0].upper()) == aliased
    assert await catalog.resolve("no-such-model") is None


async def test_catalog_entries_carry_prices_modalities_and_context_length(client: GrokClient) -> None:
    models = await ModelCatalog(client).language_models()
    assert models
    for entry in models:
        assert entry.prompt_text_token_price > 0
        assert entry.completion_text_token_price > 0
        assert entry.context_length is not None and entry.context_length > 0
        assert entry.supports_images == ("image" in entry.input_modalities)
    assert any(m.supports_images for m in models) and any(not m.supports_images for m in models)


async def test_the_default_chat_model_is_the_newest_that_reads_images(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    models = await catalog.language_models()
    newest_created = max(m.created or 0 for m in models if m.supports_images)

    chosen = await catalog.default_chat_model()

    assert chosen.supports_images
    assert chosen.created == newest_created


async def test_the_default_chat_model_prefers_the_base_variant_among_same_day_releases() -> None:
    catalog = ModelCatalog(
        ListSource(
            [
                model(id="x-1-multi-agent", created=5, input_modalities=("text", "image")),
                model(id="x-1", created=5, input_modalities=("text", "image")),
                model(id="x-2-text-only", created=9),
                model(id="x-0", created=1, input_modalities=("text", "image")),
            ]
        )
    )
    assert (await catalog.default_chat_model()).id == "x-1"


async def test_without_image_models_the_newest_text_model_is_the_default() -> None:
    catalog = ModelCatalog(ListSource([model(id="old", created=1), model(id="new", created=2)]))
    assert (await catalog.default_chat_model()).id == "new"


async def test_an_empty_catalog_has_no_default_and_says_so() -> None:
    catalog = ModelCatalog(ListSource([]))
    with pytest.raises(ModelNotFoundError, match="no chat models"):
        await catalog.default_chat_model()
    with pytest.raises(ModelNotFoundError, match="no image generation models"):
        await catalog.default_image_model()


async def test_the_default_image_model_is_the_newest_image_model(client: GrokClient) -> None:
    catalog = ModelCatalog(client)
    images = await catalog.image_models()
    chosen = await catalog.default_image_model()
    assert chosen.created == max(m.created or 0 for m in images)
    assert chosen.image_price > 0
    assert await catalog.resolve_image(chosen.id) == chosen


def test_reasoning_effort_support_is_unknown_unless_the_catalog_lists_it() -> None:
    assert model().accepts_reasoning_effort("high") is None
    listed = model(reasoning_efforts=("low", "high"))
    assert listed.accepts_reasoning_effort("high") is True
    assert listed.accepts_reasoning_effort("xhigh") is False
