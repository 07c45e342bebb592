"""The models the simulator serves: ids, aliases, prices in ticks, context sizes and parameter rules.

Prices are integers in ticks per token (1 tick = 1e-10 USD), the unit xAI's `/v1/language-models`
uses; image prices are ticks per image. They follow the late-2026 list in reference/xai-api.md §7.4.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, TypeVar

Effort = Literal["none", "low", "medium", "high", "xhigh"]
EFFORTS: tuple[Effort, ...] = ("none", "low", "medium", "high", "xhigh")
REDIRECT_TARGET = "grok-4.3"


def _epoch(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class TokenPrices:
    """What a language model's tokens cost, in ticks per token; the long-context tier costs twice as much."""

    prompt: int
    cached: int
    completion: int


@dataclass(frozen=True)
class LanguageModel:
    """A chat model with its prices (ticks per token) and the parameters it accepts."""

    id: str
    created: int
    context: int
    prices: TokenPrices
    aliases: tuple[str, ...] = ()
    image_input: bool = True
    long_context_threshold: int | None = 200_000
    is_reasoning: bool = True
    efforts: tuple[Effort, ...] = ()
    default_effort: Effort = "none"
    shows_reasoning: bool = False
    fingerprint: str = "fp_5a1c0e9b7d"

    @property
    def has_long_context_tier(self) -> bool:
        return self.long_context_threshold is not None

    def to_json(self) -> dict[str, object]:
        """The entry as `/v1/language-models` shows it (plus `max_prompt_length`, as images have)."""
        prices = self.prices
        entry: dict[str, object] = _listed(self.id, self.created, fingerprint=self.fingerprint) | {
            "version": "1.0",
            "input_modalities": ["text", "image"] if self.image_input else ["text"],
            "output_modalities": ["text"],
            "prompt_text_token_price": prices.prompt,
            "cached_prompt_text_token_price": prices.cached,
            "prompt_image_token_price": prices.prompt if self.image_input else 0,
            "completion_text_token_price": prices.completion,
        }
        if self.long_context_threshold is not None:
            entry |= {
                "prompt_text_token_price_long_context": 2 * prices.prompt,
                "cached_prompt_text_token_price_long_context": 2 * prices.cached,
                "completion_text_token_price_long_context": 2 * prices.completion,
                "long_context_threshold": self.long_context_threshold,
            }
        entry |= {
            "search_price": 250_000_000,
            "max_prompt_length": self.context,
            "aliases": list(self.aliases),
        }
        return entry


@dataclass(frozen=True)
class ImageModel:
    """An image generation model with its price in ticks per image."""

    id: str
    created: int
    image_price: int
    aliases: tuple[str, ...] = ()
    max_prompt_length: int = 8000
    fingerprint: str = "fp_847f89d453"

    def to_json(self) -> dict[str, object]:
        """The entry as `/v1/image-generation-models` shows it."""
        return _listed(
            self.id, self.created, fingerprint=self.fingerprint, max_prompt_length=self.max_prompt_length
        ) | {
            "version": "1.0",
            "input_modalities": ["text", "image"],
            "output_modalities": ["image"],
            "image_price": self.image_price,
            "aliases": list(self.aliases),
        }


def _listed(model_id: str, created: int, **first: object) -> dict[str, object]:
    """The fields every model listing starts with, in xAI's order (`first` goes between id and created)."""
    return {"id": model_id, **first, "created": created, "object": "model", "owned_by": "xai"}


@dataclass(frozen=True)
class RetiredModel:
    """A model xAI switched off: rejected as deprecated, or redirected to its replacement."""

    id: str
    retired_on: str
    aliases: tuple[str, ...] = ()
    redirect_effort: Effort = "low"
    replacement: str = REDIRECT_TARGET


_ALL_EFFORTS: tuple[Effort, ...] = ("low", "medium", "high", "xhigh")

# The price tiers of reference/xai-api.md §7.4, per 1M tokens: input / cached / output.
_GROK_4_5_PRICES = TokenPrices(prompt=20_000, cached=5_000, completion=60_000)  # $2.00 / $0.50 / $6.00
_GROK_4_3_PRICES = TokenPrices(prompt=12_500, cached=2_000, completion=25_000)  # $1.25 / $0.20 / $2.50

_GROK_4_7 = LanguageModel(
    id="grok-4.7",
    created=_epoch("2026-09-21"),
    context=500_000,
    prices=_GROK_4_5_PRICES,
    efforts=_ALL_EFFORTS,
    default_effort="high",
    fingerprint="fp_47c3a91e02",
)
_GROK_4_20 = LanguageModel(
    id="grok-4.20-0309-reasoning",
    created=_epoch("2026-03-09"),
    context=1_000_000,
    prices=_GROK_4_3_PRICES,
    aliases=("grok-4.20", "grok-4.20-reasoning", "grok-4.20-reasoning-latest", "grok-4.20-0309"),
    default_effort="medium",
    fingerprint="fp_420a77e5c1",
)

# A sibling of the same release is written as what sets it apart from its elder (the reference says "same").
LANGUAGE_MODELS: tuple[LanguageModel, ...] = (
    _GROK_4_7,
    replace(_GROK_4_7, id="grok-4.6", created=_epoch("2026-08-10"), fingerprint="fp_46b8d02f11"),
    replace(
        _GROK_4_7,
        id="grok-4.5",
        created=_epoch("2026-07-08"),
        aliases=("grok-4.5-latest",),
        fingerprint="fp_45e1f7c3a8",
    ),
    LanguageModel(
        id="grok-4.3",
        created=1776384000,
        context=1_000_000,
        prices=_GROK_4_3_PRICES,
        aliases=("grok-4.3-latest",),
        efforts=("none", *_ALL_EFFORTS),
        default_effort="low",
        fingerprint="fp_0a1b2c3d4e",
    ),
    _GROK_4_20,
    replace(
        _GROK_4_20,
        id="grok-4.20-0309-non-reasoning",
        aliases=("grok-4.20-non-reasoning", "grok-4.20-non-reasoning-latest"),
        is_reasoning=False,
        default_effort="none",
        fingerprint="fp_420b31d9f4",
    ),
    replace(
        _GROK_4_20,
        id="grok-4.20-multi-agent-0309",
        aliases=("grok-4.20-multi-agent", "grok-4.20-multi-agent-latest"),
        efforts=_ALL_EFFORTS,
        fingerprint="fp_420c5be806",
    ),
    LanguageModel(
        id="grok-build-0.1",
        created=_epoch("2026-04-16"),
        context=256_000,
        prices=TokenPrices(prompt=10_000, cached=2_000, completion=20_000),
        default_effort="medium",
        fingerprint="fp_b01d7e2a90",
    ),
    LanguageModel(
        id="grok-3-mini",
        created=1743724800,
        context=131_072,
        prices=TokenPrices(prompt=3_000, cached=750, completion=5_000),
        aliases=(
            "grok-3-mini-latest",
            "grok-3-mini-beta",
            "grok-3-mini-fast",
            "grok-3-mini-fast-latest",
            "grok-3-mini-fast-beta",
        ),
        image_input=False,
        long_context_threshold=None,
        efforts=("low", "high"),
        default_effort="low",
        shows_reasoning=True,
        fingerprint="fp_2a88aa14fb",
    ),
)

IMAGE_MODELS: tuple[ImageModel, ...] = (
    ImageModel(
        id="grok-imagine-image",
        created=1769558400,
        image_price=200_000_000,
        aliases=("grok-imagine-image-2026-03-02",),
    ),
    ImageModel(
        id="grok-imagine-image-quality",
        created=_epoch("2026-05-15"),
        image_price=450_000_000,
        fingerprint="fp_9c2e41ab57",
    ),
)

# reference/xai-api.md §7.5: every retired language model redirects to REDIRECT_TARGET when redirects are on.
RETIRED_MODELS: tuple[RetiredModel, ...] = (
    RetiredModel("grok-4-0709", "2026-05-15", ("grok-4", "grok-4-latest")),
    RetiredModel("grok-4-fast-reasoning", "2026-05-15", ("grok-4-fast", "grok-4-fast-reasoning-latest")),
    RetiredModel("grok-4-fast-non-reasoning", "2026-05-15", ("grok-4-fast-non-reasoning-latest",), "none"),
    RetiredModel("grok-4-1-fast-reasoning", "2026-05-15", ("grok-4-1-fast", "grok-4-1-fast-reasoning-latest")),
    RetiredModel("grok-4-1-fast-non-reasoning", "2026-05-15", ("grok-4-1-fast-non-reasoning-latest",), "none"),
    RetiredModel("grok-code-fast-1", "2026-05-15", ("grok-code-fast", "grok-code-fast-1-0825")),
    RetiredModel(
        "grok-3",
        "2026-05-15",
        ("grok-3-latest", "grok-3-beta", "grok-3-fast", "grok-3-fast-latest", "grok-3-fast-beta"),
        "none",
    ),
    RetiredModel("grok-2-1212", "2026-03-01", ("grok-2", "grok-2-latest"), "none"),
    RetiredModel("grok-2-vision-1212", "2026-03-01", ("grok-2-vision", "grok-2-vision-latest"), "none"),
    RetiredModel("grok-beta", "2025-09-15", redirect_effort="none"),
    RetiredModel("grok-vision-beta", "2025-09-15", redirect_effort="none"),
)

RETIRED_IMAGE_MODELS: tuple[RetiredModel, ...] = (
    RetiredModel("grok-imagine-image-pro", "2026-05-15", replacement="grok-imagine-image-quality"),
    RetiredModel(
        "grok-2-image-1212", "2026-03-01", ("grok-2-image", "grok-2-image-latest"), replacement="grok-imagine-image"
    ),
)


_Model = TypeVar("_Model", LanguageModel, ImageModel, RetiredModel)


def _named(models: tuple[_Model, ...], name: str) -> _Model | None:
    """The model of `models` whose id or alias is `name` (each name belongs to one model), if any."""
    return next((model for model in models if name == model.id or name in model.aliases), None)


@dataclass(frozen=True)
class Catalog:
    """Look-ups over the model tables: alias → model, and which ids are retired."""

    language: tuple[LanguageModel, ...] = LANGUAGE_MODELS
    image: tuple[ImageModel, ...] = IMAGE_MODELS
    retired: tuple[RetiredModel, ...] = RETIRED_MODELS
    retired_image: tuple[RetiredModel, ...] = RETIRED_IMAGE_MODELS

    def language_model(self, name: str) -> LanguageModel | None:
        """The language model with this id or alias, if one is served."""
        return _named(self.language, name)

    def image_model(self, name: str) -> ImageModel | None:
        """The image model with this id or alias, if one is served."""
        return _named(self.image, name)

    def retired_language_model(self, name: str) -> RetiredModel | None:
        """The retired language model this id or alias named, if any."""
        return _named(self.retired, name)

    def retired_image_model(self, name: str) -> RetiredModel | None:
        """The retired image model this id or alias named, if any."""
        return _named(self.retired_image, name)

    def models_list_entry(self, name: str) -> dict[str, object] | None:
        """The OpenAI-shaped `/v1/models` entry for an id or alias, with the newer spec's prices."""
        language = self.language_model(name)
        if language is not None:
            full = language.to_json()
            price_fields = {k: v for k, v in full.items() if "price" in k or k == "long_context_threshold"}
            return _listed(language.id, language.created) | price_fields
        image = self.image_model(name)
        if image is not None:
            return _listed(image.id, image.created) | {"image_price": image.image_price}
        return None

    def all_ids(self) -> list[str]:
        """Every canonical id served, language models first."""
        return [m.id for m in self.language] + [m.id for m in self.image]
