"""What the dashboard exports: conversations as Markdown or JSON and usage as CSV, written atomically to a path."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grok_mcp.store import Conversation, Message, RequestRecord, UsageCell
from grok_mcp.store.units import ticks_to_usd

from grok_mcp_desktop.widgets.formatting import usd, when


@dataclass(frozen=True)
class Transcript:
    """A conversation with the ledger records of its turns (by xAI request id), as the transcript view shows it."""

    conversation: Conversation
    requests: Mapping[str, RequestRecord]

    def request_of(self, message: Message) -> RequestRecord | None:
        return self.requests.get(message.request_id) if message.request_id else None

    @property
    def total_cost_ticks(self) -> int:
        return sum(record.cost_ticks for record in self.requests.values())


def image_references(message: Message) -> list[str]:
    """The image URLs or file paths among a message's multimodal parts (empty when it has none)."""
    if not message.parts_json:
        return []
    try:
        parts: Any = json.loads(message.parts_json)
    except json.JSONDecodeError:
        return []
    found: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        image: Any = part.get("image_url") or part.get("image") or part.get("path")
        if isinstance(image, dict):
            image = image.get("url")
        if isinstance(image, str) and image:
            found.append(image)
    return found


def conversation_markdown(transcript: Transcript) -> str:
    """The conversation as Markdown: a heading, then each message with its role, model, time and cost."""
    conversation = transcript.conversation
    lines = [f"# {conversation.title}", ""]
    facts = [f"Started {when(conversation.created_at)}", f"updated {when(conversation.updated_at)}"]
    if conversation.model:
        facts.append(f"model {conversation.model}")
    if transcript.requests:
        facts.append(f"cost {usd(transcript.total_cost_ticks)}")
    lines += ["_" + ", ".join(facts) + "_", ""]
    for message in conversation.messages:
        heading = f"## {message.role.capitalize()}"
        details = [when(message.created_at)]
        if message.model:
            details.append(message.model)
        record = transcript.request_of(message)
        if record is not None:
            details.append(usd(record.cost_ticks))
        lines += [f"{heading} ({', '.join(details)})", "", message.content, ""]
        lines += [f"![image]({reference})" for reference in image_references(message)]
    return "\n".join(lines).rstrip() + "\n"


def conversation_json(transcript: Transcript) -> str:
    """The conversation as JSON: its fields and messages, each with `cost_usd` where the ledger knows it."""
    conversation = transcript.conversation
    messages: list[dict[str, Any]] = []
    for message in conversation.messages:
        record = transcript.request_of(message)
        messages.append(
            {
                "id": message.id,
                "role": message.role,
                "content": message.content,
                "parts": json.loads(message.parts_json) if message.parts_json else None,
                "model": message.model,
                "created_at": message.created_at,
                "request_id": message.request_id,
                "cost_usd": ticks_to_usd(record.cost_ticks) if record is not None else None,
            }
        )
    document = {
        "id": conversation.id,
        "title": conversation.title,
        "model": conversation.model,
        "client": conversation.client,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "messages": messages,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


USAGE_CSV_HEADER = ("day", "model", "requests", "errors", "prompt_tokens", "completion_tokens", "cost_usd")


def usage_csv(cells: Sequence[UsageCell]) -> str:
    """Usage per day and model as CSV, with a header row; cost in USD with ten decimals (exact ticks)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(USAGE_CSV_HEADER)
    for cell in cells:
        writer.writerow(
            (
                cell.day,
                cell.model,
                cell.requests,
                cell.errors,
                cell.prompt_tokens,
                cell.completion_tokens,
                f"{ticks_to_usd(cell.cost_ticks):.10f}",
            )
        )
    return buffer.getvalue()


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file and a rename, so no half-written file is left.

    Raises OSError when the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
