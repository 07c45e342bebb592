"""Token accounting and billing: prompt segments, the simulated prompt cache, reasoning tokens and cost.

The arithmetic is xAI's (reference/xai-api.md §0.2, §3.2): `cached ⊂ prompt`; chat totals add
reasoning to prompt and completion; the Responses API counts reasoning inside `output_tokens`; cost
is `(prompt − cached)·input + cached·cached_price + (completion + reasoning)·output` in ticks, with
every price doubled (the `*_long_context` fields) once the prompt reaches the long-context threshold,
plus 50 000 000 ticks ($5 / 1k) per server-side tool call.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from grok_mcp.simulator.catalog import Effort, LanguageModel

MESSAGE_OVERHEAD_TOKENS = 3
IMAGE_TOKENS_LOW = 256
IMAGE_TOKENS = 1024
SERVER_TOOL_CALL_TICKS = 50_000_000
REASONING_TOKENS: dict[Effort, int] = {"none": 0, "low": 64, "medium": 256, "high": 768, "xhigh": 2048}
_CACHE_CAPACITY = 50_000


@dataclass(frozen=True)
class Segment:
    """One cacheable unit of a prompt (a message or input item): a digest of its content and its tokens."""

    digest: str
    text_tokens: int
    image_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.text_tokens + self.image_tokens

    @staticmethod
    def of(content_key: str, text_tokens: int, image_tokens: int = 0) -> Segment:
        digest = hashlib.blake2b(content_key.encode("utf-8"), digest_size=16).hexdigest()
        return Segment(digest, text_tokens, image_tokens)


def image_tokens(detail: str | None) -> int:
    """Tokens one input image costs: fewer at `detail: "low"`."""
    return IMAGE_TOKENS_LOW if detail == "low" else IMAGE_TOKENS


def reasoning_tokens(effort: Effort) -> int:
    """Reasoning tokens a reasoning model spends at this effort (deterministic, grows with effort)."""
    return REASONING_TOKENS[effort]


class PromptCache:
    """Prompt prefixes already seen per key and model; a repeated prefix is billed as cached."""

    def __init__(self, capacity: int = _CACHE_CAPACITY) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def clear(self) -> None:
        self._seen.clear()

    def cached_tokens(self, scope: str, segments: Sequence[Segment]) -> int:
        """Tokens of the longest already-seen prefix of `segments`; then remember every prefix."""
        running = hashlib.blake2b(scope.encode("utf-8"), digest_size=16)
        cached = 0
        total = 0
        for segment in segments:
            running.update(segment.digest.encode("ascii"))
            total += segment.tokens
            prefix = running.hexdigest()
            if prefix in self._seen:
                cached = total
                self._seen.move_to_end(prefix)
            else:
                self._seen[prefix] = None
        self._trim()
        return cached

    def remember(self, scope: str, segments: Sequence[Segment]) -> None:
        """Record every prefix of `segments` (a finished exchange, answer included) as seen."""
        running = hashlib.blake2b(scope.encode("utf-8"), digest_size=16)
        for segment in segments:
            running.update(segment.digest.encode("ascii"))
            self._seen[running.hexdigest()] = None
        self._trim()

    def _trim(self) -> None:
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)


@dataclass(frozen=True)
class Usage:
    """The token counts of one call and what it cost in ticks."""

    text_tokens: int
    image_tokens: int
    cached_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cost_ticks: int
    server_tool_calls: Mapping[str, int] = field(default_factory=dict[str, int])

    @property
    def prompt_tokens(self) -> int:
        return self.text_tokens + self.image_tokens

    @property
    def tool_calls(self) -> int:
        return sum(self.server_tool_calls.values())

    def chat_json(self) -> dict[str, object]:
        """`usage` of a chat completion: total = prompt + completion + reasoning."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens + self.reasoning_tokens,
            "prompt_tokens_details": {
                "text_tokens": self.text_tokens,
                "audio_tokens": 0,
                "image_tokens": self.image_tokens,
                "cached_tokens": self.cached_tokens,
            },
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
            "num_sources_used": 0,
            "cost_in_usd_ticks": self.cost_ticks,
        }

    def responses_json(self) -> dict[str, object]:
        """`usage` of a response: output includes reasoning, total = input + output."""
        output = self.completion_tokens + self.reasoning_tokens
        body: dict[str, object] = {
            "input_tokens": self.prompt_tokens,
            "input_tokens_details": {"cached_tokens": self.cached_tokens},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.prompt_tokens + output,
            "num_sources_used": 0,
            "num_server_side_tools_used": self.tool_calls,
            "cost_in_usd_ticks": self.cost_ticks,
        }
        if self.server_tool_calls:
            body["server_side_tool_usage_details"] = {
                f"{name}_calls": count for name, count in self.server_tool_calls.items()
            }
        return body


def _price(served: Mapping[str, object], name: str, long_context: bool) -> int:
    value = served.get(f"{name}_long_context" if long_context else name)
    assert isinstance(value, int)
    return value


def bill(
    model: LanguageModel,
    *,
    text_tokens: int,
    image_tokens: int,
    cached_tokens: int,
    completion_tokens: int,
    reasoning_tokens: int,
    server_tool_calls: Mapping[str, int] | None = None,
) -> Usage:
    """Usage for one call, priced from the same catalog entry `/v1/language-models` serves."""
    served = model.to_json()
    prompt = text_tokens + image_tokens
    cached = min(cached_tokens, prompt)
    threshold = model.long_context_threshold
    long_context = threshold is not None and prompt >= threshold
    tools = dict(server_tool_calls or {})
    cost = (
        (prompt - cached) * _price(served, "prompt_text_token_price", long_context)
        + cached * _price(served, "cached_prompt_text_token_price", long_context)
        + (completion_tokens + reasoning_tokens) * _price(served, "completion_text_token_price", long_context)
        + sum(tools.values()) * SERVER_TOOL_CALL_TICKS
    )
    return Usage(
        text_tokens=text_tokens,
        image_tokens=image_tokens,
        cached_tokens=cached,
        completion_tokens=completion_tokens,
        reasoning_tokens=reasoning_tokens,
        cost_ticks=cost,
        server_tool_calls=tools,
    )
