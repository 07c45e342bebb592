"""Per-model request rules: which model answers, which effort it uses, and which parameters it refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from grok_mcp.simulator.catalog import Catalog, Effort, LanguageModel
from grok_mcp.simulator.config import RetiredMode
from grok_mcp.simulator.prompt import Prompt
from grok_mcp.simulator.wire import XAIFailure

LIVE_SEARCH_GONE = (
    "Live search is deprecated. Please switch to the Agent Tools API: https://docs.x.ai/docs/guides/tools/overview"
)
_REASONING_REFUSES = (
    ("stop", "stop"),
    ("frequency_penalty", "frequencyPenalty"),
    ("presence_penalty", "presencePenalty"),
)


def deprecated(name: str, retired_on: str, replacement: str) -> XAIFailure:
    """xAI's 404 for a model that was switched off."""
    return XAIFailure(
        404,
        f"The model {name} was deprecated on {retired_on} and is no longer accessible via the API. "
        f"Please use {replacement} instead.",
    )


def no_such_model(name: str, team_id: str) -> XAIFailure:
    """xAI's 404 for a model id nobody serves."""
    return XAIFailure(
        404,
        f"The model {name} does not exist or your team {team_id} does not have access to it. "
        "Please ensure you're using the correct API key. If you continue to have issues, please contact "
        "support@x.ai.",
    )


def resolve_language_model(
    catalog: Catalog,
    name: str,
    mode: RetiredMode,
    team_id: str,
    *,
    endpoint: Literal["chat", "responses", "tokenize"],
) -> tuple[LanguageModel, Effort | None]:
    """The model that answers for `name`, and the effort a redirected retired model runs at.

    Raises XAIFailure: 404 "deprecated" for a retired model in reject mode; for an unknown model 404
    on chat completions and 400 "Model not found" on the Responses API (as xAI does).
    """
    model = catalog.language_model(name)
    if model is not None:
        return model, None
    retired = catalog.retired_language_model(name)
    if retired is not None:
        target = catalog.language_model(retired.replacement)
        if mode == "redirect" and target is not None:
            return target, retired.redirect_effort
        raise deprecated(name, retired.retired_on, retired.replacement)
    if catalog.image_model(name) is not None:
        raise XAIFailure(400, f"Model {name} generates images; send it to /v1/images/generations instead.")
    if endpoint == "responses":
        raise XAIFailure(400, f"Model not found: {name}")
    raise no_such_model(name, team_id)


def effective_effort(model: LanguageModel, requested: Effort | None, redirected: Effort | None) -> Effort:
    """The reasoning effort the call runs at.

    Raises XAIFailure 400 when the model takes no `reasoning_effort` or not this value.
    """
    if requested is not None:
        if not model.efforts:
            raise XAIFailure(400, f"Model {model.id} does not support parameter reasoningEffort.")
        if requested not in model.efforts:
            raise XAIFailure(
                400,
                f"Model {model.id} does not support reasoning effort {requested!r}; "
                f"supported values are: {', '.join(model.efforts)}.",
            )
        return requested
    if not model.is_reasoning:
        return "none"
    if redirected is not None and (redirected in model.efforts or not model.efforts):
        return redirected
    return model.default_effort


def check_sampling_parameters(model: LanguageModel, body: Mapping[str, Any]) -> None:
    """Reasoning models refuse `stop`, `frequency_penalty` and `presence_penalty`.

    Raises XAIFailure 400 naming the first refused argument the way xAI does (camelCase).
    """
    if not model.is_reasoning:
        return
    for field, wire_name in _REASONING_REFUSES:
        if body.get(field) is not None:
            raise XAIFailure(400, f"Argument not supported on this model: {wire_name}")


def check_prompt(model: LanguageModel, prompt: Prompt) -> None:
    """Raises XAIFailure 400 when a model without image input receives images, and with xAI's text when the
    prompt (its text and its images) exceeds the model's context."""
    if prompt.images and not model.image_input:
        raise XAIFailure(
            400,
            f"Model {model.id} does not support image inputs. Use a model whose input_modalities include image.",
        )
    prompt_tokens = prompt.text_tokens + prompt.image_tokens
    if prompt_tokens > model.context:
        raise XAIFailure(
            400,
            f"This model's maximum prompt length is {model.context} but the request contains {prompt_tokens} tokens.",
        )


def reject_live_search(body: Mapping[str, Any]) -> None:
    """Raises XAIFailure 410: Live Search (`search_parameters`) is gone."""
    if body.get("search_parameters") is not None:
        raise XAIFailure(410, LIVE_SEARCH_GONE)
