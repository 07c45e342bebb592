"""The number fields of every simulated request body, each with the type xAI's serde reads it as.

`check_numbers` runs every one through BodyReader, so a wrong type (`"temperature": "hot"`), a fraction
where an integer belongs, a negative or an overflow is the 422 text/plain message xAI sends, naming the
field, before the endpoint looks at anything else (reference/xai-api.md §3.1, §6.1, §8, §15.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from grok_mcp.simulator.wire import BodyReader

NumberType = Literal["f32", "u32", "i64"]
NumberFields = Mapping[str, NumberType]

_SAMPLING: NumberFields = {
    "temperature": "f32",
    "top_p": "f32",
    "frequency_penalty": "f32",
    "presence_penalty": "f32",
    "top_logprobs": "u32",
    "seed": "i64",
}

CHAT_NUMBERS: NumberFields = {**_SAMPLING, "n": "u32", "max_tokens": "u32", "max_completion_tokens": "u32"}
"""`POST /v1/chat/completions`, and each chat request inside a batch."""

RESPONSES_NUMBERS: NumberFields = {**_SAMPLING, "max_output_tokens": "u32", "max_turns": "u32", "max_tool_calls": "u32"}
"""`POST /v1/responses`."""

IMAGE_NUMBERS: NumberFields = {"n": "u32"}
"""`POST /v1/images/generations`."""

NO_NUMBERS: NumberFields = {}
"""Bodies with no number field (`/v1/tokenize-text`, `/v1/batches`)."""


def check_numbers(reader: BodyReader, body: Mapping[str, Any], fields: NumberFields, path: str = "") -> None:
    """Read every field of `fields` present in `body` (at `path`) as its type, in the body's order as serde does.

    Raises XAIFailure 422 (text/plain, serde's words) for the first field that does not deserialize.
    """
    for name in body:
        kind = fields.get(name)
        if kind is None:
            continue
        if kind == "f32":
            reader.number(body, name, path)
        elif kind == "u32":
            reader.integer(body, name, path)
        else:
            reader.signed_integer(body, name, path)
