"""The content filter: with `[logging] content` off, other libraries' debug lines keep their traces, not messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from grok_mcp.logs import configure_logging

MARKER = "CONTENTMARKER-91ab"


def _logged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return (tmp_path / "grok-mcp.log").read_text(encoding="utf-8"), capsys.readouterr().err


def _library_lines_carrying_a_message() -> None:
    chunk = f'data: {{"result":{{"content":[{{"text":"{MARKER}"}}]}}}}\r\n\r\n'.encode()
    logging.getLogger("sse_starlette.sse").debug("chunk: %s", chunk)
    logging.getLogger("mcp.server.sse").debug(f"Sending message via SSE: SessionMessage(text='{MARKER} {'x' * 200}')")
    logging.getLogger("mcp.shared.session").debug("frame %r", {"params": {"prompt": MARKER}})
    logging.getLogger("mcp.server.streamable_http").debug("a reply of\ntwo lines: %s", f"{MARKER}\nmore")


def test_other_libraries_lines_lose_message_arguments_but_keep_their_traces_when_content_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", log_dir=tmp_path, debug=True, content=False)

    _library_lines_carrying_a_message()
    logging.getLogger("mcp.server.streamable_http_manager").debug("session %s for %s", "4f2a9c", "tools/call")

    for sink in _logged(tmp_path, capsys):
        assert MARKER not in sink
        assert "chunk: <bytes of" in sink
        assert "not logged: [logging] content is off" in sink
        assert "Sending message via SSE: <str of" in sink
        assert "session 4f2a9c for tools/call" in sink  # short one-line names stay: they are traces


def test_our_own_lines_and_everything_once_content_is_on_are_logged_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", log_dir=tmp_path, debug=True, content=True)

    _library_lines_carrying_a_message()
    logging.getLogger("grok_mcp.calls.jobs").info("job %s ended: %s", "chat:1", "done")

    log, stderr = _logged(tmp_path, capsys)
    assert MARKER in log and MARKER in stderr
    assert "job chat:1 ended: done" in log
