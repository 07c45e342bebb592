"""Deterministic simulated answers: plainly simulated text that echoes the question, and structured output."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from grok_mcp.simulator.schema_fill import fill

_SUMMARY_WORDS = 24
_CLOSINGS = (
    "A real Grok model would answer here; the simulator returns the same text for the same request, "
    "so demos and tests behave identically every time.",
    "Nothing was sent to xAI and nothing was billed; the usage and cost figures are computed from the "
    "simulator's own price table.",
    "Point GROK_MCP_BASE_URL at https://api.x.ai/v1 and store a real key to get genuine answers.",
    "This answer is deterministic: ask the same question again and you will read these same words.",
)


def summarize(text: str, words: int = _SUMMARY_WORDS) -> str:
    """The first words of a text on one line, with an ellipsis when it was longer."""
    parts = re.sub(r"\s+", " ", text).strip().split(" ")
    summary = " ".join(parts[:words])
    return summary + ("…" if len(parts) > words else "") if summary else "(an empty message)"


def _pick(seed: str, options: tuple[str, ...]) -> str:
    digest = hashlib.blake2b(seed.encode("utf-8"), digest_size=4).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


def answer_text(
    model: str,
    question: str,
    *,
    images: int = 0,
    tool_result: str | None = None,
    choice: int = 0,
) -> str:
    """A plain-text answer that names the model and echoes the question."""
    lines = [f"[Simulated {model}] You asked: “{summarize(question)}”."]
    if images:
        noun = "image" if images == 1 else "images"
        lines.append(
            f"I received {images} {noun}; the simulator does not look at pixels, so imagine a vivid description here."
        )
    if tool_result is not None:
        lines.append(f"The tool returned: “{summarize(tool_result, 16)}”.")
    if choice:
        lines.append(f"(Alternative answer {choice + 1}.)")
    lines.append(_pick(f"{model}\n{question}", _CLOSINGS))
    return " ".join(lines)


def reasoning_text(model: str, question: str) -> str:
    """The visible thinking of models that expose it (grok-3-mini's `reasoning_content`)."""
    return (
        f"The user asks: “{summarize(question, 12)}”. This is the {model} simulator, "
        "so I will answer deterministically and say that the answer is simulated."
    )


def json_object_text(model: str, question: str) -> str:
    """The answer for `response_format: json_object`."""
    return json.dumps({"answer": answer_text(model, question), "model": model, "simulated": True})


def json_schema_text(schema: Mapping[str, Any], question: str) -> str:
    """An answer that validates against the given JSON schema."""
    return json.dumps(fill(schema, summarize(question, 8)), ensure_ascii=False)


def broken_json(text: str) -> str:
    """A structured answer cut off mid-way: never parseable, so never valid against the schema."""
    return '{"truncated": ' + text[: len(text) // 2]
