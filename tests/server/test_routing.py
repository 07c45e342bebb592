"""Model routing for `model: "auto"`: choices come from the live catalog's facts, with a reason."""

from __future__ import annotations

import pytest
from grok_mcp.errors import InputError
from grok_mcp.grok import GrokClient, LanguageModel, ModelCatalog
from grok_mcp.routing import RouteNeeds, auto_preference, choose_model

from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def catalog(simulator: RunningSimulator) -> tuple[list[LanguageModel], LanguageModel]:
    async with GrokClient(base_url=simulator.base_url, api_key=lambda: TEST_KEY) as client:
        live = ModelCatalog(client)
        return await live.language_models(), await live.default_chat_model()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("auto", "balanced"),
        ("AUTO:cheap", "cheap"),
        (" auto:fast ", "fast"),
        ("auto:best", "best"),
        ("grok-4.3", None),
        (None, None),
    ],
)
def test_auto_names_map_to_preferences(name: str | None, expected: str | None) -> None:
    assert auto_preference(name) == expected


async def test_balanced_auto_takes_the_catalog_default(catalog: tuple[list[LanguageModel], LanguageModel]) -> None:
    models, default = catalog
    choice = choose_model(models, RouteNeeds(), "balanced", default=default)
    assert choice.model == default.id
    assert "default" in choice.reason


async def test_cheap_picks_the_lowest_blended_price_and_respects_images(
    catalog: tuple[list[LanguageModel], LanguageModel],
) -> None:
    models, default = catalog

    def price(m: LanguageModel) -> int:
        return m.prompt_text_token_price + m.completion_text_token_price

    text_only = choose_model(models, RouteNeeds(), "cheap", default=default)
    assert price(next(m for m in models if m.id == text_only.model)) == min(price(m) for m in models)
    with_images = choose_model(models, RouteNeeds(has_images=True), "cheap", default=default)
    chosen = next(m for m in models if m.id == with_images.model)
    assert chosen.supports_images
    assert price(chosen) == min(price(m) for m in models if m.supports_images and "multi-agent" not in m.id)
    assert "images" in with_images.reason


async def test_fast_prefers_a_non_reasoning_model(catalog: tuple[list[LanguageModel], LanguageModel]) -> None:
    models, default = catalog
    choice = choose_model(models, RouteNeeds(), "fast", default=default)
    assert "non-reasoning" in choice.model


async def test_best_is_the_newest_flagship_and_never_multi_agent(
    catalog: tuple[list[LanguageModel], LanguageModel],
) -> None:
    models, default = catalog
    choice = choose_model(models, RouteNeeds(), "best", default=default)
    newest = max((m.created or 0) for m in models if "multi-agent" not in m.id)
    assert next(m for m in models if m.id == choice.model).created == newest
    assert "multi-agent" not in choice.model


async def test_a_long_prompt_rules_out_models_with_small_windows(
    catalog: tuple[list[LanguageModel], LanguageModel],
) -> None:
    models, default = catalog
    windows = sorted({m.context_length for m in models if m.context_length})
    smallest, largest = windows[0], windows[-1]
    needs = RouteNeeds(prompt_tokens=smallest)  # too long for the smallest window once the answer needs room
    choice = choose_model(models, needs, "cheap", default=default)
    chosen = next(m for m in models if m.id == choice.model)
    assert chosen.context_length is None or chosen.context_length > smallest
    with pytest.raises(InputError, match="context window"):
        choose_model(models, RouteNeeds(prompt_tokens=largest), "balanced", default=default)


def test_no_image_model_means_a_clear_error() -> None:
    text_only = LanguageModel(
        id="text-1",
        aliases=(),
        created=1,
        input_modalities=("text",),
        output_modalities=("text",),
        prompt_text_token_price=1,
        cached_prompt_text_token_price=1,
        completion_text_token_price=1,
    )
    with pytest.raises(InputError, match="accepts images"):
        choose_model([text_only], RouteNeeds(has_images=True), "balanced", default=text_only)
