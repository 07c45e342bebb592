"""Malformed and hostile JSON-RPC never crashes a server: over stdio it keeps answering, over HTTP no 5xx."""

from __future__ import annotations

import json
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.processes import ROOT, SERVER_COMMAND, HttpServer, http_server, server_env

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
methods = st.sampled_from(
    [
        "initialize",
        "tools/list",
        "tools/call",
        "resources/read",
        "prompts/get",
        "ping",
        "notifications/initialized",
        "x",
    ]
) | st.text(max_size=12)
rpc_messages = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2]) | json_scalars,
        "id": st.integers() | st.text(max_size=8) | st.none() | json_values,
        "method": methods,
        "params": json_values
        | st.fixed_dictionaries(
            {
                "name": st.sampled_from(["chat", "count_tokens", "nope"]) | st.text(max_size=6),
                "arguments": json_values,
            }
        ),
    },
)
hostile_lines = (
    rpc_messages.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=60).filter(lambda s: "\n" not in s and "\r" not in s)
    | st.just("[" * 5000 + "]" * 5000)
    | st.just('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"chat"')  # truncated mid-object
)


class StdioProbe:
    """One long-lived stdio server fed hostile lines, then asked to answer a real ping."""

    def __init__(self, home: Path) -> None:
        self.process = subprocess.Popen(
            [*SERVER_COMMAND, "serve", "--simulate"],
            env=server_env(home),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,  # select() sees only the pipe: no line may wait unseen in a read buffer
        )
        self.next_id = 10_000
        self.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "fuzz", "version": "0"},
                },
            }
        )
        self.read_until_id(1)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict[str, Any] | str) -> None:
        assert self.process.stdin is not None
        line = message if isinstance(message, str) else json.dumps(message)
        self.process.stdin.write(line.encode("utf-8", "surrogatepass") + b"\n")
        self.process.stdin.flush()

    def read_until_id(self, wanted: int, timeout: float = 20) -> dict[str, Any]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"the server closed stdout (exit code {self.process.poll()})")
            message = json.loads(line)
            assert message.get("jsonrpc") == "2.0"
            if message.get("id") == wanted:
                return message
        raise AssertionError(f"no answer to request {wanted} within {timeout} s")

    def still_answers(self) -> None:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": "ping"})
        answer = self.read_until_id(self.next_id)
        assert "result" in answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture(scope="module")
def stdio_probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StdioProbe]:
    probe = StdioProbe(tmp_path_factory.mktemp("fuzz-stdio"))
    yield probe
    probe.close()
    assert probe.process.returncode == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(hostile_lines, min_size=1, max_size=5))
def test_hostile_lines_over_stdio_never_stop_the_server(stdio_probe: StdioProbe, lines: list[str]) -> None:
    for line in lines:
        stdio_probe.send(line)
    stdio_probe.still_answers()
    assert stdio_probe.process.poll() is None


@pytest.fixture(scope="module")
def http_probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    with http_server(
        tmp_path_factory.mktemp("fuzz-http"), base_url=None, key=None, extra_args=("--simulate",)
    ) as server:
        yield server


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=hostile_lines,
    content_type=st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1"]),
)
def test_hostile_bodies_over_http_get_4xx_or_a_jsonrpc_error_never_5xx(
    http_probe: HttpServer, body: str, content_type: str
) -> None:
    headers = {
        "Authorization": f"Bearer {http_probe.token}",
        "Content-Type": content_type,
        "Accept": "application/json, text/event-stream",
    }
    response = httpx2.post(http_probe.url, headers=headers, content=body.encode("utf-8", "surrogatepass"), timeout=30)
    assert response.status_code < 500, response.text
    assert http_probe.process.poll() is None


def test_an_oversized_body_is_refused_with_413(http_probe: HttpServer) -> None:
    headers = {
        "Authorization": f"Bearer {http_probe.token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    body = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + "x" * (5 * 1024 * 1024) + '"}}'
    response = httpx2.post(http_probe.url, headers=headers, content=body, timeout=30)
    assert response.status_code == 413
