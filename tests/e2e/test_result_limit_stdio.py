"""Over a real stdio pipe, no reply line carries a tool result past the limit: a plain call and an MCP task alike.

The client here is raw JSON-RPC on a real `grok-mcp serve` child's stdin/stdout (the tasks tests' peer), so
what is measured is the line an MCP client would read; the simulator on loopback answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grok_mcp.tools.result_parts import RESULT_LIMIT_BYTES

from tests.e2e.test_tasks import StdioPeer, start_task, stdio_peer
from tests.support.processes import server_env
from tests.support.simulator import TEST_KEY, RunningSimulator

MODEL = "grok-4.3"
WORD = "a" * 600_000
"""The simulator echoes a prompt's first words: one long word makes an answer of about 600 KB, twice in a result."""


def _line_bytes(message: dict[str, Any]) -> int:
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _answer_from_parts(peer: StdioPeer, job_id: str) -> str:
    """The whole answer text, paged through job_result over the pipe; every reply within the limit."""
    answer = ""
    part, count = 1, 1
    while part <= count:
        response = peer.request("tools/call", {"name": "job_result", "arguments": {"job_id": job_id, "part": part}})
        assert _line_bytes(response) <= RESULT_LIMIT_BYTES
        structured = response["result"]["structuredContent"]
        count = structured["parts"]
        answer += "".join(p["text"] for p in structured["pieces"] if p["path"] == ["structuredContent", "text"])
        part += 1
    return answer


def test_a_chat_too_large_for_one_reply_arrives_over_stdio_as_a_job_id_and_parts(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    env = server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)
    with stdio_peer(env, isolated_home) as (peer, _):
        response = peer.request("tools/call", {"name": "chat", "arguments": {"prompt": f"m {WORD}", "model": MODEL}})

        assert _line_bytes(response) <= RESULT_LIMIT_BYTES
        job_id = response["result"]["structuredContent"]["job_id"]
        assert WORD in _answer_from_parts(peer, job_id)


def test_a_task_result_too_large_for_one_reply_arrives_over_stdio_as_a_job_id_and_parts(
    isolated_home: Path, simulator: RunningSimulator
) -> None:
    env = server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)
    with stdio_peer(env, isolated_home) as (peer, _):
        task = start_task(peer, prompt=f"m {WORD}", model=MODEL)

        response = peer.request("tasks/result", {"taskId": task["taskId"]})

        assert _line_bytes(response) <= RESULT_LIMIT_BYTES
        result = response["result"]
        assert result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"] == task["taskId"]
        assert WORD in _answer_from_parts(peer, result["structuredContent"]["job_id"])
