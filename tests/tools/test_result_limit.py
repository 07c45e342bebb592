"""Results too large for one MCP reply: delivered as a job whose parts job_result pages through, nothing lost.

An MCP client refuses a tool result past about 1 MiB (Claude Desktop: "result exceeds maximum length of
1048576"), so a batch of long answers that were paid for would be lost at delivery. Each test asks the real
server in-process through the SDK client, against the simulator on loopback, for more than one reply holds.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from grok_mcp.tools.result_parts import (
    KEEP_BYTES,
    RESULT_LIMIT_BYTES,
    ResultPiece,
    json_size,
    readable_text,
    split_result,
)
from mcp import Client
from mcp.types import CallToolResult

from tests.support.simulator import RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio

MODEL = "grok-4.3"
LONG_WORD = "w" * 3_000
"""The simulator echoes a prompt's first words, so one long word makes a long answer."""


def wire_size(result: CallToolResult) -> int:
    """The bytes of the result as the SDK puts it on the wire (its JSON, UTF-8)."""
    return len(result.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8"))


def _structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


async def _every_part(mcp: Client, job_id: str) -> list[CallToolResult]:
    """Page through job `job_id`'s parts, from 1 to the count the first part gives."""
    first = await mcp.call_tool("job_result", {"job_id": job_id, "part": 1})
    parts = [first]
    count = _structured(first)["parts"]
    for number in range(2, count + 1):
        parts.append(await mcp.call_tool("job_result", {"job_id": job_id, "part": number}))
    return parts


def _pieces(parts: list[CallToolResult], path: list[Any]) -> list[dict[str, Any]]:
    """The pieces of the original result at `path`, in order, from every part."""
    return [piece for part in parts for piece in _structured(part)["pieces"] if piece["path"] == path]


async def test_a_batch_too_large_for_one_reply_becomes_a_job_whose_parts_hold_every_answer_once(
    mcp: Client, ledger: Any, simulator: RunningSimulator
) -> None:
    count = 300
    requests = [{"id": f"q{i}", "prompt": f"item-{i} {LONG_WORD}", "model": MODEL} for i in range(count)]

    result = await mcp.call_tool("batch_chat", {"requests": requests, "concurrency": 16})

    assert wire_size(result) <= RESULT_LIMIT_BYTES
    data = _structured(result)
    job_id = data["job_id"]
    assert job_id.startswith("result:")
    assert job_id in text_of(result)
    assert "job_result" in text_of(result)
    assert data["totals"]["succeeded"] == count  # the small result still says what the batch did
    parts = await _every_part(mcp, job_id)
    assert len(parts) > 1
    assert all(wire_size(part) <= RESULT_LIMIT_BYTES for part in parts)
    items = [item for piece in _pieces(parts, ["structuredContent", "results"]) for item in piece["items"]]
    assert sorted(item["index"] for item in items) == list(range(count))  # each exactly once
    for item in items:
        assert f"item-{item['index']}" in item["text"]
        assert LONG_WORD in item["text"]
    rows = [row for row in ledger() if row.tool == "batch_chat"]
    assert len(rows) == count
    assert {row.id for row in rows} == {item["request_id"] for item in items}


async def test_a_chat_answer_too_large_for_one_reply_is_paged_whole_by_job_result(
    mcp: Client, ledger: Any, simulator: RunningSimulator
) -> None:
    word = "a" * 600_000

    result = await mcp.call_tool("chat", {"prompt": f"marker {word}", "model": MODEL})

    assert wire_size(result) <= RESULT_LIMIT_BYTES
    data = _structured(result)
    assert data["job_id"].startswith("result:")
    assert data["cost_usd"] > 0  # what the answer cost is in the small result
    parts = await _every_part(mcp, data["job_id"])
    assert all(wire_size(part) <= RESULT_LIMIT_BYTES for part in parts)
    answer = "".join(piece["text"] for piece in _pieces(parts, ["structuredContent", "text"]))
    assert word in answer
    assert answer.startswith("[Simulated")
    readable = "".join(piece["text"] for piece in _pieces(parts, ["content", 0, "text"]))
    assert word in readable
    assert len([row for row in ledger() if row.tool == "chat"]) == 1


async def test_job_result_refuses_a_part_past_the_last_naming_how_many_there_are(mcp: Client) -> None:
    requests = [{"prompt": f"item-{i} {LONG_WORD}", "model": MODEL} for i in range(300)]
    data = _structured(await mcp.call_tool("batch_chat", {"requests": requests, "concurrency": 16}))
    count = data["spilled"]["parts"]

    message = await error_of(mcp, "job_result", {"job_id": data["job_id"], "part": count + 1})

    assert f"{count} parts" in message


async def test_every_tool_output_schema_takes_a_result_whose_long_fields_were_emptied(mcp: Client) -> None:
    """The small result keeps every field with long strings as "" and long lists as []: no schema may refuse it."""
    tools = (await mcp.list_tools()).tools
    refusing = {"minLength", "minItems", "minProperties"}
    for tool in tools:
        schema = json.dumps(tool.output_schema or {})
        assert not any(f'"{word}"' in schema for word in refusing), tool.name
        assert '"additionalProperties": false' not in schema, tool.name


def rebuilt(small: dict[str, Any], parts: list[list[ResultPiece]]) -> dict[str, Any]:
    """The whole result again, from the skeleton and the parts, as a client following the pieces would."""
    whole = copy.deepcopy(small)
    for piece in (piece for part in parts for piece in part):
        parent: Any = whole
        for step in piece.path[:-1]:
            parent = parent[step]
        last = piece.path[-1]
        if piece.items is not None:
            assert len(parent[last]) == piece.start  # in order, nothing skipped or repeated
            parent[last].extend(piece.items)
        else:
            assert len(parent[last]) == piece.start
            parent[last] += piece.text
    return whole


HOSTILE_TEXT = 'x\u0001"\\\n\u2028é🙂' * 60_000
"""Characters that JSON escapes to six bytes, quotes, backslashes, line breaks and multi-byte ones."""


@pytest.mark.parametrize(
    "structured",
    [
        {"text": HOSTILE_TEXT, "model": "m", "usage": {"prompt_tokens": 1}},
        {"results": [{"index": i, "text": "y" * (3_000 if i % 40 else 700_000)} for i in range(200)]},
        {"answer": {"results": [{"text": HOSTILE_TEXT[: 1000 + i]} for i in range(300)]}, "data": [HOSTILE_TEXT]},
        {"many": {f"k{i}": "v" * 2_000 for i in range(2_000)}},
    ],
    ids=["escaped text", "a list with huge items", "nested lists", "a wide object"],
)
def test_a_split_result_fits_part_by_part_and_rebuilds_exactly(structured: dict[str, Any]) -> None:
    result = {"content": [{"type": "text", "text": HOSTILE_TEXT}], "structuredContent": structured, "isError": False}

    split = split_result(result)

    assert json_size(split.skeleton) <= KEEP_BYTES + 1_000
    for part in split.parts:
        pieces = [piece.model_dump(mode="json", exclude_none=True) for piece in part]
        assert json_size(pieces) + json_size(readable_text(part)) <= RESULT_LIMIT_BYTES - 50_000
    whole = rebuilt(split.skeleton, split.parts)
    assert whole["structuredContent"] == structured
    assert whole["content"] == result["content"]
