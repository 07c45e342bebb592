"""The typed results of xAI calls: completions, stream events, responses, models, images, tokens, key info."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grok_mcp.errors import UpstreamCall


@dataclass(frozen=True)
class Usage:
    """Token counts and billed cost of one call, normalised across Chat Completions and Responses.

    `completion_tokens` is visible output only: it never includes `reasoning_tokens` (the Responses
    API's `output_tokens` does, so its reasoning share is subtracted). `cached_tokens` and
    `image_tokens` are subsets of `prompt_tokens`. `cost_ticks` is xAI's `cost_in_usd_ticks` as sent
    (1 tick = 1e-10 USD), or None when the response did not carry it.
    """

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    image_tokens: int = 0
    num_sources_used: int = 0
    num_server_side_tools_used: int = 0
    cost_ticks: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens + self.reasoning_tokens


@dataclass(frozen=True)
class FunctionCall:
    """A function call the model asks the caller to make; `arguments` is the JSON string xAI sent."""

    id: str
    name: str
    arguments: str
    type: str = "function"


@dataclass(frozen=True)
class Citation:
    """A source the model cited."""

    url: str
    title: str | None = None


@dataclass(frozen=True)
class ChatCompletion:
    """One Chat Completions answer (first choice), from a plain call, a stream or a deferred request.

    `model` is the canonical id xAI answered with, not necessarily the name that was sent.
    """

    id: str
    model: str
    text: str
    reasoning: str | None
    finish_reason: str | None
    tool_calls: list[FunctionCall]
    citations: list[Citation]
    usage: Usage
    call: UpstreamCall
    system_fingerprint: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any], repr=False, compare=False)


@dataclass(frozen=True)
class TextDelta:
    """A fragment of the visible answer, as it arrived."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A fragment of the model's exposed thinking (only some models stream it)."""

    text: str


@dataclass(frozen=True)
class StreamDone:
    """The last event of a stream: the whole completion assembled from its chunks."""

    completion: ChatCompletion


StreamEvent = TextDelta | ReasoningDelta | StreamDone


@dataclass(frozen=True)
class ResponseToolCall:
    """A tool call made during a Responses API turn (server-side search, code, or a client function)."""

    id: str
    type: str
    name: str
    arguments: str
    status: str | None = None


@dataclass(frozen=True)
class ResponseResult:
    """One Responses API answer: its text, the sources it cited and the tools xAI ran for it."""

    id: str
    model: str
    text: str
    citations: list[Citation]
    tool_calls: list[ResponseToolCall]
    usage: Usage
    call: UpstreamCall
    status: str | None = None
    reasoning: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any], repr=False, compare=False)

    @property
    def cost_ticks(self) -> int | None:
        return self.usage.cost_ticks


@dataclass(frozen=True)
class ModelInfo:
    """An entry of the OpenAI-shaped `/v1/models` list (chat, image and video models alike)."""

    id: str
    created: int | None
    owned_by: str | None


@dataclass(frozen=True)
class LanguageModel:
    """A chat model from `/v1/language-models`, with its prices in ticks per token.

    Long-context prices apply to every token of a request whose prompt reaches
    `long_context_threshold`; they are None when the catalog does not list them.
    `reasoning_efforts` is None unless the catalog says which `reasoning_effort` values the model takes.
    """

    id: str
    aliases: tuple[str, ...]
    created: int | None
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    prompt_text_token_price: int
    cached_prompt_text_token_price: int
    completion_text_token_price: int
    prompt_image_token_price: int | None = None
    prompt_text_token_price_long_context: int | None = None
    cached_prompt_text_token_price_long_context: int | None = None
    completion_text_token_price_long_context: int | None = None
    long_context_threshold: int | None = None
    search_price: int | None = None
    context_length: int | None = None
    reasoning_efforts: tuple[str, ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The id followed by every alias: each is accepted as `model` in a request."""
        return (self.id, *self.aliases)

    @property
    def supports_images(self) -> bool:
        return "image" in self.input_modalities

    def accepts_reasoning_effort(self, effort: str) -> bool | None:
        """True or False when the catalog lists the accepted values; None when it does not say."""
        if self.reasoning_efforts is None:
            return None
        return effort in self.reasoning_efforts


@dataclass(frozen=True)
class ImageModel:
    """An image model from `/v1/image-generation-models`; `image_price` is in ticks per image."""

    id: str
    aliases: tuple[str, ...]
    created: int | None
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    image_price: int
    max_prompt_length: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True)
class GeneratedImage:
    """One generated image: inline base64 or a temporary URL, whichever was asked for."""

    b64_json: str | None
    url: str | None
    mime_type: str | None
    revised_prompt: str | None


@dataclass(frozen=True)
class ImageGeneration:
    """The images of one generation request and what they cost."""

    images: list[GeneratedImage]
    model: str | None
    usage: Usage
    call: UpstreamCall

    @property
    def cost_ticks(self) -> int | None:
        return self.usage.cost_ticks


@dataclass(frozen=True)
class Token:
    """One token of `/v1/tokenize-text`."""

    token_id: int
    string_token: str
    token_bytes: bytes


@dataclass(frozen=True)
class Tokenization:
    """The tokens of a text for one model, and the call that produced them."""

    tokens: list[Token]
    call: UpstreamCall


@dataclass(frozen=True)
class ApiKeyInfo:
    """What xAI says about the calling key (`/v1/api-key`); the key itself appears only redacted."""

    redacted_api_key: str
    user_id: str
    name: str
    create_time: str
    modify_time: str
    modified_by: str
    team_id: str
    acls: tuple[str, ...]
    api_key_id: str
    team_blocked: bool
    api_key_blocked: bool
    api_key_disabled: bool
    call: UpstreamCall
