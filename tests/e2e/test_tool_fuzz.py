"""Every tool's arguments, fuzzed by hypothesis, against a real `grok-mcp serve --transport http`.

Arguments come from a model that may have read hostile text, so they are drawn both inside each tool's
input schema (tests/support/schema_strategies.py reads the schema the server lists) and outside it: random objects,
a valid call with one argument swapped for any JSON value, a valid call missing a required argument.
Three things are checked at once while the calls run one after another through the MCP Python SDK:
  - the server answers every call, within a bound, with a result or a JSON-RPC error, never with
    "a bug in Grok MCP", an internal error, or a result its own output schema refuses;
  - `/healthz`, asked every 20 ms by a process of its own, answers every time in under 100 ms;
  - the server's peak resident set (VmHWM) stays under a bound.
The upstream is the simulator on loopback, so every paid path really runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.support.processes import ROOT, HttpServer, http_server
from tests.support.schema_strategies import from_schema
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/<pid>/status")

CALL_TIMEOUT_S = 60.0
HEALTHZ_BOUND_MS = 100.0
PEAK_RSS_BOUND_MB = 300.0
INVALID_PARAMS = -32602
EXAMPLES = 400

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@dataclass
class Answer:
    """What one call got: a tool result (`is_error`, its text) or a JSON-RPC error (`code`)."""

    is_error: bool
    text: str
    code: int | None = None


@dataclass
class FuzzTarget:
    server: HttpServer
    portal: BlockingPortal
    session: ClientSession
    schemas: dict[str, dict[str, Any]]
    models: list[str]

    def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        return self.portal.call(self._call, tool, arguments)

    async def _call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        try:
            with anyio.fail_after(CALL_TIMEOUT_S):
                result = await self.session.call_tool(tool, arguments)
        except MCPError as error:
            return Answer(is_error=True, text=error.error.message, code=error.error.code)
        text = " ".join(getattr(block, "text", "") for block in result.content)
        return Answer(is_error=bool(result.is_error), text=text)


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.M)
    assert match is not None, status
    return int(match.group(1)) / 1024


@asynccontextmanager
async def mcp_session(server: HttpServer) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {server.token}"}, timeout=CALL_TIMEOUT_S) as http,
        streamable_http_client(server.url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@pytest.fixture
def target(tmp_path: Path, simulator: RunningSimulator) -> Iterator[FuzzTarget]:
    models = httpx2.get(
        f"{simulator.base_url}/models", headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=10
    ).json()["data"]
    home = tmp_path / "server-home"
    home.mkdir()
    with (
        http_server(home, base_url=simulator.base_url, key=TEST_KEY) as server,
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(mcp_session(server)) as session,
    ):
        tools = portal.call(session.list_tools).tools
        yield FuzzTarget(
            server, portal, session, {tool.name: tool.input_schema for tool in tools}, [m["id"] for m in models]
        )


@pytest.fixture
def healthz_poller(target: FuzzTarget) -> Iterator[subprocess.Popen[str]]:
    poller = subprocess.Popen(
        [sys.executable, "-m", "tests.support.health_poller", target.server.root],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield poller
    if poller.poll() is None:
        poller.kill()
        poller.wait()


def with_known_models(schema: Any, models: list[str]) -> Any:
    """`schema` with every `model` property drawn from the upstream's models (or left out), so calls get
    past the model check and reach the paid paths; any other string only ever meets "unknown model"."""
    if isinstance(schema, list):
        return [with_known_models(item, models) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: with_known_models(value, models) for key, value in schema.items()}
    properties = copied.get("properties")
    if isinstance(properties, dict) and "model" in properties:
        properties["model"] = {"anyOf": [{"enum": models}, {"type": "null"}]}
    return copied


def calls_of(tool: str, schema: dict[str, Any], models: list[str]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    valid = from_schema(with_known_models(schema, models))
    required = list(schema.get("required", []))
    names = [*schema.get("properties", {})] or ["x"]
    swapped = st.tuples(valid, st.sampled_from(names), json_values).map(lambda t: {**t[0], t[1]: t[2]})
    outside = st.dictionaries(st.text(max_size=12), json_values, max_size=5) | swapped
    if required:
        missing = st.tuples(valid, st.sampled_from(required)).map(
            lambda t: {key: value for key, value in t[0].items() if key != t[1]}
        )
        outside |= missing
    # Half the calls inside the schema, half outside (a plain `valid | outside` would flatten to a quarter).
    arguments = st.sampled_from([valid, outside]).flatmap(lambda chosen: chosen)
    return st.tuples(st.just(tool), arguments)


def check_answer(tool: str, arguments: dict[str, Any], answer: Answer) -> None:
    shown = f"{tool}({json.dumps(arguments)[:300]}) -> {answer}"
    if answer.code is not None:
        assert answer.code == INVALID_PARAMS, shown
        assert answer.text, shown
        return
    assert "bug in Grok MCP" not in answer.text, shown
    if answer.is_error:
        assert answer.text.strip(), shown  # an error says what went wrong


def test_fuzzed_arguments_to_every_tool_are_answered_while_healthz_stays_fast_and_memory_bounded(
    target: FuzzTarget, healthz_poller: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(target.schemas) >= 15, sorted(target.schemas)
    calls = st.one_of([calls_of(tool, schema, target.models) for tool, schema in sorted(target.schemas.items())])
    answered: dict[str, int] = dict.fromkeys(target.schemas, 0)
    succeeded: dict[str, int] = dict.fromkeys(target.schemas, 0)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(call=calls)
    def one_call(call: tuple[str, dict[str, Any]]) -> None:
        tool, arguments = call
        answer = target.call(tool, arguments)
        check_answer(tool, arguments, answer)
        succeeded[tool] += not answer.is_error
        assert target.server.process.poll() is None, target.server.stderr_text()[-3000:]
        answered[tool] += 1

    one_call()

    report, _ = healthz_poller.communicate(timeout=30)
    health = json.loads(report)
    peak = peak_rss_mb(target.server.process.pid)
    with capsys.disabled():
        print(
            f"\ntool fuzz: {sum(answered.values())} calls over {len(answered)} tools; /healthz answered "
            f"{health['answers']} times, worst {health['worst_ms']} ms, median {health['median_ms']} ms; "
            f"server peak RSS {peak:.0f} MB; succeeded per tool {succeeded}"
        )
    assert all(count > 0 for count in answered.values()), answered
    assert health["failures"] == [], health
    assert health["answers"] > 0
    assert health["worst_ms"] < HEALTHZ_BOUND_MS, health
    assert peak < PEAK_RSS_BOUND_MB
