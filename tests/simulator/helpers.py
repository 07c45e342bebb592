"""Small helpers for the simulator tests: an SSE parser and request bodies."""

from __future__ import annotations

import json
from typing import Any


def sse_data(text: str) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    payloads: list[str] = []
    for block in text.split("\n\n"):
        lines = [line[len("data: ") :] for line in block.split("\n") if line.startswith("data: ")]
        if lines:
            payloads.append("\n".join(lines))
    return payloads


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON events of an SSE body (the final `[DONE]` left out)."""
    return [json.loads(data) for data in sse_data(text) if data != "[DONE]"]


def chat(model: str = "grok-4.3", content: Any = "What is the capital of France?", **extra: Any) -> dict[str, Any]:
    """A chat completions request body."""
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}
