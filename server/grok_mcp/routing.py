"""Model routing: which live-catalog model `model: "auto"` picks for a request, and why.

The rules, in order (documented in the README):

1. Candidates are the catalog's chat models, minus agentic multi-agent models (they run several
   agents per request and bill accordingly).
2. A request with images keeps only models whose input modalities include `image`.
3. A request must fit: its estimated prompt plus room for the answer must be within the model's
   context window (models that do not state a window are kept).
4. Then by preference:
   - `auto` (balanced): the catalog's default model (the newest that takes text and images) if it
     is left, else the cheapest left;
   - `auto:cheap`: the lowest blended price (input + output per token);
   - `auto:fast`: a non-reasoning model if one is left (no thinking before the first token), else
     the cheapest;
   - `auto:best`: the newest model, then the highest output price (the flagship).
Nothing here names a model: every choice comes from the live catalog's facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from grok_mcp.errors import InputError
from grok_mcp.grok import LanguageModel

Preference = Literal["balanced", "cheap", "fast", "best"]
AUTO_NAMES: dict[str, Preference] = {
    "auto": "balanced",
    "auto:balanced": "balanced",
    "auto:cheap": "cheap",
    "auto:fast": "fast",
    "auto:best": "best",
}
ANSWER_ROOM_TOKENS = 8192


@dataclass(frozen=True)
class RouteNeeds:
    """What a request needs from a model."""

    has_images: bool = False
    prompt_tokens: int = 0


@dataclass(frozen=True)
class RouteChoice:
    """The model `auto` picked, and the reason in words a user understands."""

    model: str
    reason: str


def auto_preference(model: str | None) -> Preference | None:
    """The routing preference when `model` asks for routing (`auto`, `auto:cheap` …), else None."""
    if model is None:
        return None
    return AUTO_NAMES.get(model.strip().lower())


def _blended_price(model: LanguageModel) -> int:
    return model.prompt_text_token_price + model.completion_text_token_price


def _fits(model: LanguageModel, needs: RouteNeeds) -> bool:
    if model.context_length is None:
        return True
    return needs.prompt_tokens + ANSWER_ROOM_TOKENS <= model.context_length


def choose_model(
    models: list[LanguageModel], needs: RouteNeeds, preference: Preference, *, default: LanguageModel | None
) -> RouteChoice:
    """Pick a model for a request by the rules above.

    Raises InputError when no model in the catalog can serve the request (naming why).
    """
    candidates = [m for m in models if "multi-agent" not in m.id]
    if needs.has_images:
        candidates = [m for m in candidates if m.supports_images]
        if not candidates:
            raise InputError("No model in xAI's catalog accepts images right now, so `auto` cannot route this.")
    fitting = [m for m in candidates if _fits(m, needs)]
    if not fitting:
        raise InputError(
            f"The prompt is about {needs.prompt_tokens:,} tokens, more than any suitable model's context window. "
            "Shorten it or split it up."
        )
    with_images = " that accepts images" if needs.has_images else ""
    cheapest = min(fitting, key=lambda m: (_blended_price(m), m.id))
    match preference:
        case "cheap":
            return RouteChoice(cheapest.id, f"auto:cheap picked the lowest-priced model{with_images}.")
        case "fast":
            quick = [m for m in fitting if "non-reasoning" in m.id]
            if quick:
                pick = min(quick, key=lambda m: (_blended_price(m), m.id))
                return RouteChoice(pick.id, f"auto:fast picked a non-reasoning model{with_images}: no thinking first.")
            return RouteChoice(
                cheapest.id, f"auto:fast found no non-reasoning model, so took the cheapest{with_images}."
            )
        case "best":
            pick = max(fitting, key=lambda m: (m.created or 0, m.completion_text_token_price, m.id))
            return RouteChoice(pick.id, f"auto:best picked the newest flagship model{with_images}.")
        case "balanced":
            if default is not None and default in fitting:
                return RouteChoice(default.id, "auto picked the catalog's default model.")
            return RouteChoice(
                cheapest.id, f"auto picked the lowest-priced model{with_images}: the default did not fit this request."
            )
