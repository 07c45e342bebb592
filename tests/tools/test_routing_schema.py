"""`model: auto` routing and structured output with one repair round, through the real tools."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from mcp import Client
from PIL import Image

from tests.support.simulator import RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
}


async def catalog(mcp: Client) -> dict[str, dict[str, Any]]:
    listing = (await mcp.call_tool("list_models", {})).structured_content
    assert listing is not None
    return {m["id"]: m for m in listing["models"]}


async def test_auto_cheap_routes_to_the_cheapest_model_and_says_why(mcp: Client) -> None:
    models = await catalog(mcp)
    result = await mcp.call_tool("chat", {"prompt": "hello", "model": "auto:cheap"})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    chat_models = [m for m in models.values() if m["kind"] == "chat" and "multi-agent" not in m["id"]]
    cheapest = min(chat_models, key=lambda m: m["input_usd_per_million"] + m["output_usd_per_million"])
    assert data["model"] == cheapest["id"]
    assert data["route"] and "lowest-priced" in data["route"]
    assert "auto:cheap picked" in text_of(result)


async def test_auto_for_images_only_considers_models_that_see(mcp: Client) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    result = await mcp.call_tool("analyze_image", {"images": [uri], "model": "auto:cheap"})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert "image" in (await catalog(mcp))[data["model"]]["input_modalities"]
    assert "accepts images" in data["route"]


async def test_a_plain_model_name_is_not_routed(mcp: Client) -> None:
    result = await mcp.call_tool("chat", {"prompt": "hello", "model": "grok-4.3"})
    assert result.structured_content is not None
    assert result.structured_content["route"] is None


async def test_an_answer_that_misses_the_schema_is_repaired_once(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.add_faults({"kind": "bad_json", "count": 1})
    result = await mcp.call_tool("chat", {"prompt": "Largest city in Japan?", "json_schema": SCHEMA})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert isinstance(data["data"]["population"], int)
    chats = [r for r in simulator.requests() if r["path"] == "/v1/chat/completions"]
    assert len(chats) == 2
    rows = ledger()
    assert len(rows) == 2
    assert all(r.cost_ticks > 0 for r in rows)


async def test_an_answer_still_wrong_after_the_repair_is_a_clear_error(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    simulator.add_faults({"kind": "bad_json", "count": 2})
    message = await error_of(mcp, "chat_stream", {"prompt": "Largest city in Japan?", "json_schema": SCHEMA})
    assert "did not match the JSON Schema, even after one repair round" in message
    assert len(ledger()) == 2


async def test_an_invalid_schema_is_refused_before_calling_xai(mcp: Client, simulator: RunningSimulator) -> None:
    assert "not a valid JSON Schema" in await error_of(mcp, "chat", {"prompt": "x", "json_schema": {"type": "objekt"}})
    assert not [r for r in simulator.requests() if r["path"] == "/v1/chat/completions"]
