"""Hostile `json_schema` arguments, sent as a model that read hostile text would send them.

A `$ref` never makes the server fetch a URL or read a file, a schema that refers to itself or is too
big is refused before anything is sent to xAI, and a `pattern` that backtracks without end fails its
call with the limit named while every other call is still answered.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.support.simulator import RunningSimulator
from tests.tools.conftest import error_of, text_of

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"
SECRET = "SECRET-MARKER-7f3c9e"
DID_NOT_HANG_S = 20  # ten times the 2 s validation bound: only proves the call came back


class CountingServer:
    """A loopback HTTP server that serves a schema to anyone who asks, and counts who asked."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                body = b'{"type": "string"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/schema+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/schema.json"


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(timeout=5)


def object_with(name: str, subschema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {name: subschema}, "required": [name]}


async def chat_error(mcp: Client, schema: dict[str, Any]) -> str:
    with anyio.fail_after(DID_NOT_HANG_S):
        return await error_of(mcp, "chat", {"prompt": "Fill in the form.", "json_schema": schema})


# ------------------------------------------------------------------------------------- references


async def test_an_http_reference_is_refused_and_never_requested(
    mcp: Client, simulator: RunningSimulator, counting_server: CountingServer
) -> None:
    message = await chat_error(mcp, object_with("city", {"$ref": counting_server.url}))

    assert "not inside the schema" in message
    assert "$defs" in message
    assert counting_server.hits == []
    assert simulator.request_count(CHAT) == 0


async def test_a_file_reference_to_a_fifo_is_refused_without_opening_it(
    mcp: Client, simulator: RunningSimulator, tmp_path: Path
) -> None:
    fifo = tmp_path / "schema.fifo"
    os.mkfifo(fifo)

    message = await chat_error(mcp, object_with("city", {"$ref": fifo.as_uri()}))

    assert "not inside the schema" in message
    with pytest.raises(OSError):  # ENXIO: nobody holds the FIFO open for reading
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert simulator.request_count(CHAT) == 0


@pytest.mark.parametrize("content", [f'"{SECRET}"', f'{{"type": "integer", "description": "{SECRET}"}}', SECRET])
async def test_a_file_reference_to_a_secret_file_is_refused_and_its_text_shows_nowhere(
    mcp: Client, simulator: RunningSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(content, encoding="utf-8")
    caplog.set_level(logging.DEBUG)

    message = await chat_error(mcp, {"$ref": secret.as_uri()})

    assert "not inside the schema" in message
    assert SECRET not in message
    assert SECRET not in caplog.text
    logs = [p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.rglob("*.log*") if p.is_file()]
    assert not any(SECRET in text for text in logs)
    assert simulator.request_count(CHAT) == 0


async def test_a_reference_to_dev_zero_is_refused_without_reading_it(mcp: Client, simulator: RunningSimulator) -> None:
    message = await chat_error(mcp, object_with("blob", {"$ref": "file:///dev/zero"}))

    assert "not inside the schema" in message
    assert simulator.request_count(CHAT) == 0


async def test_a_schema_that_refers_to_itself_is_refused_before_anything_is_sent(
    mcp: Client, simulator: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    message = await chat_error(mcp, {"$ref": "#"})

    assert "refers to itself" in message
    assert "bug in Grok MCP" not in message
    assert len(caplog.records) < 20
    assert simulator.request_count(CHAT) == 0


async def test_references_inside_the_schema_still_resolve(mcp: Client) -> None:
    schema = {
        "$id": "https://example.com/answer",
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/place"},
            "work": {"$ref": "https://example.com/office"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/person"}, "maxItems": 1},
        },
        "required": ["home", "work", "children"],
        "$defs": {
            "place": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "office": {"$id": "https://example.com/office", "type": "string"},
            "person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        },
    }

    result = await mcp.call_tool("chat", {"prompt": "Where do you live?", "json_schema": schema})

    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    assert isinstance(result.structured_content["data"]["home"]["city"], str)


# ------------------------------------------------------------------------------------------ limits


async def test_a_schema_too_large_is_refused_naming_the_limit(mcp: Client, simulator: RunningSimulator) -> None:
    schema = object_with("notes", {"type": "string", "description": "x" * 200_000})

    message = await chat_error(mcp, schema)

    assert "100,000 bytes" in message
    assert simulator.request_count(CHAT) == 0


async def test_a_schema_nested_too_deep_is_refused_naming_the_limit(mcp: Client, simulator: RunningSimulator) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        schema = {"type": "array", "items": schema}

    message = await chat_error(mcp, schema)

    assert "32 levels" in message
    assert simulator.request_count(CHAT) == 0


async def test_a_schema_with_too_many_keywords_is_refused_naming_the_limit(
    mcp: Client, simulator: RunningSimulator
) -> None:
    schema = {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(3000)}}

    message = await chat_error(mcp, schema)

    assert "5,000 keywords" in message
    assert simulator.request_count(CHAT) == 0


# ----------------------------------------------------------------------------------------- regexes


async def test_the_issues_backtracking_pattern_ends_in_a_clear_mismatch(mcp: Client) -> None:
    schema = object_with("word", {"type": "string", "const": "a" * 28 + "!", "pattern": "(a+)+$"})

    message = await chat_error(mcp, schema)

    assert "did not match the JSON Schema" in message
    assert "does not match '(a+)+$'" in message


async def test_a_pattern_that_backtracks_without_end_fails_its_call_while_other_calls_are_answered(
    mcp: Client, simulator: RunningSimulator, ledger: Any
) -> None:
    schema = object_with("word", {"type": "string", "const": "a" * 40 + "!", "pattern": "(a|aa)+$"})
    finished: list[str] = []
    outcome: dict[str, str] = {}

    async def hostile() -> None:
        outcome["hostile"] = await chat_error(mcp, schema)
        finished.append("hostile")

    async def bystander() -> None:
        with anyio.fail_after(DID_NOT_HANG_S):
            while await anyio.to_thread.run_sync(simulator.request_count, CHAT) == 0:
                await anyio.sleep(0.01)  # polling the simulator's log with a bound, not waiting for time
            result = await mcp.call_tool("count_tokens", {"text": "Is anyone there?"})
        assert not result.is_error, text_of(result)
        finished.append("bystander")

    async with anyio.create_task_group() as group:
        group.start_soon(hostile)
        group.start_soon(bystander)

    assert finished == ["bystander", "hostile"]
    assert "(a|aa)+$" in outcome["hostile"]
    assert "2 s" in outcome["hostile"]
    assert "bug in Grok MCP" not in outcome["hostile"]
    assert simulator.request_count(CHAT) == 1  # no repair round for an answer that could not be checked
    assert [row.tool for row in ledger() if row.tool == "chat"] == ["chat"]  # the paid answer is recorded


async def test_a_pattern_the_regex_engine_cannot_compile_is_refused_before_anything_is_sent(
    mcp: Client, simulator: RunningSimulator
) -> None:
    message = await chat_error(mcp, object_with("word", {"type": "string", "pattern": "(unclosed"}))

    assert "not a valid JSON Schema" in message
    assert simulator.request_count(CHAT) == 0


@pytest.mark.parametrize("mode", ["parallel", "batch_api"])
async def test_batch_chat_refuses_an_outside_reference_before_anything_is_sent(
    mcp: Client, simulator: RunningSimulator, counting_server: CountingServer, mode: str
) -> None:
    items = [{"prompt": "Which city?", "json_schema": object_with("city", {"$ref": counting_server.url})}]

    with anyio.fail_after(DID_NOT_HANG_S):
        result = await mcp.call_tool("batch_chat", {"requests": items, "mode": mode})

    assert "not inside the schema" in text_of(result)
    assert counting_server.hits == []
    assert [r["path"] for r in simulator.requests() if r["method"] != "GET"] == []  # the catalog only
