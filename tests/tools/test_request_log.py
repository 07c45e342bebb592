"""The request log: metadata for every upstream call, prompts and answers only with the opt-in, and the
--debug timing line of each tool call."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from mcp import Client

from tests.support.processes import ROOT

pytestmark = pytest.mark.anyio

SECRET_PROMPT = "my private question about lighthouses"


def log_lines(settings: Settings) -> list[dict[str, object]]:
    path = settings.logs_dir / "requests.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_every_upstream_call_is_logged_without_content_by_default(mcp: Client, settings: Settings) -> None:
    result = await mcp.call_tool("chat", {"prompt": SECRET_PROMPT})
    assert not result.is_error
    lines = log_lines(settings)
    assert len(lines) == 1
    line = lines[0]
    assert line["tool"] == "chat"
    assert line["status"] == 200
    assert line["id"] == result.structured_content["request_id"]  # pyright: ignore[reportOptionalSubscript]
    assert "prompt" not in line and "answer" not in line
    assert SECRET_PROMPT not in (settings.logs_dir / "requests.jsonl").read_text(encoding="utf-8")


async def test_prompts_and_answers_are_logged_only_after_opting_in(settings: Settings) -> None:
    opted_in = dataclasses.replace(settings, log_content=True)
    async with Client(build_server(opted_in)) as client:
        result = await client.call_tool("chat", {"prompt": SECRET_PROMPT})
        search = await client.call_tool("web_search", {"query": "lighthouse news"})
    assert not result.is_error and not search.is_error
    chat_line, search_line = log_lines(opted_in)
    assert SECRET_PROMPT in str(chat_line["prompt"])
    assert chat_line["answer"] == result.structured_content["text"]  # pyright: ignore[reportOptionalSubscript]
    assert search_line["prompt"] == "lighthouse news"


async def test_debug_logs_where_each_calls_time_went(mcp: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="grok_mcp.tools.scope"):
        assert not (await mcp.call_tool("chat", {"prompt": "hi"})).is_error
    lines = [r.getMessage() for r in caplog.records if "timings" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith("chat timings: total ")
    assert "upstream" in lines[0] and "(1 call(s))" in lines[0] and "ledger" in lines[0]


def test_the_log_rotates_by_size(tmp_path: Path) -> None:
    from grok_mcp.calls.request_log import RequestLog
    from grok_mcp.store import RequestRecord

    log = RequestLog(tmp_path, with_content=True)
    record = RequestRecord(tool="chat", model="m", endpoint="/v1/chat/completions", status=200)
    big = "x" * 200_000
    try:
        for _ in range(40):
            log.write(record, prompt=big, answer=big)
    finally:
        log.close()
    assert (tmp_path / "requests.jsonl.1").exists()
    assert all(len(line) < 250_000 for line in (tmp_path / "requests.jsonl").read_text(encoding="utf-8").splitlines())


WRITER = """
import sys
from pathlib import Path
import grok_mcp.calls.request_log as request_log
from grok_mcp.store import RequestRecord

request_log.MAX_BYTES = 20_000
request_log.BACKUPS = 100
log = request_log.RequestLog(Path(sys.argv[1]), with_content=False)
for i in range(int(sys.argv[3])):
    log.write(RequestRecord(tool="chat", model="grok-4.3", endpoint="/v1/chat/completions", id=f"{sys.argv[2]}-{i}"))
log.close()
"""


def test_server_processes_writing_at_once_rotate_the_log_without_losing_or_splitting_a_line(tmp_path: Path) -> None:
    writers, lines_each = 4, 300
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), f"w{n}", str(lines_each)], cwd=ROOT)
        for n in range(writers)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0] * writers

    files = sorted(tmp_path.glob("requests.jsonl*"))
    ids = [json.loads(line)["id"] for path in files for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(ids) == sorted(f"w{n}-{i}" for n in range(writers) for i in range(lines_each))
    assert len(files) > 5, "the test must make the writers rotate many times"
    longest = max(len(line) + 1 for path in files for line in path.read_text(encoding="utf-8").splitlines())
    for backup in (path for path in files if path.name != "requests.jsonl"):
        # Rotated under an inter-process lock: nobody wrote on into a file after another process rotated it.
        assert backup.stat().st_size <= 20_000 + longest, backup.name
