"""The live model catalog: xAI's chat and image models with prices, cached with a TTL, and cost arithmetic."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

import anyio

from grok_mcp.errors import ModelNotFoundError, XAIError
from grok_mcp.grok.types import ImageModel, LanguageModel, Usage

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", LanguageModel, ImageModel)


class CatalogSource(Protocol):
    """What the catalog needs from the client (GrokClient has both)."""

    async def language_models(self) -> list[LanguageModel]: ...

    async def image_generation_models(self) -> list[ImageModel]: ...


class _Cached(Generic[T]):
    """One value fetched on demand and kept for `ttl_s`; concurrent callers share a single fetch."""

    def __init__(self, fetch: Callable[[], Awaitable[T]], ttl_s: float, clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._clock = clock
        self._value: T | None = None
        self._fetched_at = 0.0
        self._lock = anyio.Lock()

    def _fresh(self) -> bool:
        return self._value is not None and self._clock() - self._fetched_at < self._ttl_s

    def invalidate(self) -> None:
        self._fetched_at = float("-inf")

    async def get(self) -> T:
        if self._fresh():
            assert self._value is not None
            return self._value
        async with self._lock:
            if self._fresh():
                assert self._value is not None
                return self._value
            try:
                value = await self._fetch()
            except XAIError as exc:
                if self._value is not None and exc.retryable:
                    # A stale price list beats failing a call that already succeeded upstream.
                    logger.warning("Could not refresh the xAI model catalog (%s); using the cached one", exc)
                    return self._value
                raise
            self._value = value
            self._fetched_at = self._clock()
            return value


def compute_cost_ticks(model: LanguageModel, usage: Usage) -> int:
    """What xAI bills for `usage` on `model`, in ticks, per the published arithmetic.

    (prompt − cached) × input price + cached × cached price + (completion + reasoning) × output price;
    when the prompt reaches the model's long-context threshold every token is billed at the
    long-context prices (where the catalog lists them). Server-side tool invocations are not included:
    their prices are not in the catalog, and xAI's own `cost_in_usd_ticks` should be preferred anyway.
    """
    threshold = model.long_context_threshold
    is_long = threshold is not None and usage.prompt_tokens >= threshold

    def price(normal: int, long_context: int | None) -> int:
        return long_context if is_long and long_context is not None else normal

    input_price = price(model.prompt_text_token_price, model.prompt_text_token_price_long_context)
    cached_price = price(model.cached_prompt_text_token_price, model.cached_prompt_text_token_price_long_context)
    output_price = price(model.completion_text_token_price, model.completion_text_token_price_long_context)
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    return (
        (usage.prompt_tokens - cached) * input_price
        + cached * cached_price
        + (usage.completion_tokens + usage.reasoning_tokens) * output_price
    )


def _newest_first_key(model: LanguageModel | ImageModel) -> tuple[int, int, str]:
    # Newest first; among models released together, the shortest id (the base variant), then by name.
    return (-(model.created or 0), len(model.id), model.id)


class ModelCatalog:
    """xAI's models and prices as the key sees them, refreshed at most every `ttl_s` seconds.

    Nothing here knows a model name or a price: both come from `/v1/language-models` and
    `/v1/image-generation-models` (the simulator serves its own). Prices are integers in ticks per
    token (ticks per image for image models); 1 tick = 1e-10 USD.
    """

    def __init__(
        self,
        client: CatalogSource,
        ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._language = _Cached(client.language_models, ttl_s, clock)
        self._image = _Cached(client.image_generation_models, ttl_s, clock)

    def invalidate(self) -> None:
        """Forget the cached lists; the next lookup fetches them again."""
        self._language.invalidate()
        self._image.invalidate()

    async def language_models(self) -> list[LanguageModel]:
        """The chat models. Raises the XAIError subclasses of GrokClient.language_models."""
        return list(await self._language.get())

    async def image_models(self) -> list[ImageModel]:
        """The image models. Raises the XAIError subclasses of GrokClient.image_generation_models."""
        return list(await self._image.get())

    async def resolve(self, name: str) -> LanguageModel | None:
        """The chat model whose id or alias is `name` (exact match first, then ignoring case), or None.

        Raises the XAIError subclasses of GrokClient.language_models.
        """
        return _find(await self._language.get(), name)

    async def resolve_image(self, name: str) -> ImageModel | None:
        """The image model whose id or alias is `name`, or None. Raises XAIError subclasses."""
        return _find(await self._image.get(), name)

    async def default_chat_model(self) -> LanguageModel:
        """The model to use when none is named: the newest chat model that accepts text and images.

        Falls back to the newest text-in, text-out model when none takes images. Among models released
        at the same time, the shortest id wins (the base variant rather than a specialised one).
        Raises ModelNotFoundError when xAI lists no chat model, and XAIError subclasses on fetch failures.
        """
        models = [
            m for m in await self._language.get() if "text" in m.input_modalities and "text" in m.output_modalities
        ]
        with_images = [m for m in models if m.supports_images]
        candidates = sorted(with_images or models, key=_newest_first_key)
        if not candidates:
            raise ModelNotFoundError(
                "xAI lists no chat models for this API key. Check the key's model permissions at https://console.x.ai."
            )
        return candidates[0]

    async def default_image_model(self) -> ImageModel:
        """The newest model that outputs images. Raises ModelNotFoundError when there is none."""
        candidates = sorted(
            (m for m in await self._image.get() if "image" in m.output_modalities), key=_newest_first_key
        )
        if not candidates:
            raise ModelNotFoundError(
                "xAI lists no image generation models for this API key. Check the key's model "
                "permissions at https://console.x.ai."
            )
        return candidates[0]

    async def cost_ticks(self, model: str, usage: Usage) -> int:
        """The cost of `usage` on `model` (id or alias) from the live prices; 0 if the model is unknown.

        Raises the XAIError subclasses of GrokClient.language_models.
        """
        found = await self.resolve(model)
        if found is None:
            logger.warning("No price for model %r in the xAI catalog; recording its cost as 0", model)
            return 0
        return compute_cost_ticks(found, usage)

    async def billed_cost_ticks(self, model: str, usage: Usage) -> int:
        """xAI's own `cost_in_usd_ticks` when the response carried it, else the computed cost."""
        if usage.cost_ticks is not None:
            return usage.cost_ticks
        return await self.cost_ticks(model, usage)

    async def image_cost_ticks(self, model: str, n: int) -> int:
        """The price of `n` images from `model` (id or alias); 0 if the model is unknown.

        Raises the XAIError subclasses of GrokClient.image_generation_models.
        """
        found = await self.resolve_image(model)
        if found is None:
            logger.warning("No price for image model %r in the xAI catalog; recording its cost as 0", model)
            return 0
        return found.image_price * n


def _find(models: list[M], name: str) -> M | None:
    for model in models:
        if name in model.names:
            return model
    folded = name.casefold()
    for model in models:
        if any(folded == alias.casefold() for alias in model.names):
            return model
    return None
