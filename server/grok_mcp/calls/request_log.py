"""The request log: one JSON line per upstream call in logs/requests.jsonl, rotated by size.

Every line has what the ledger has (time, tool, model, endpoint, status, tokens, cost, latency, request
id, client). Prompts and answers are added only when the user opted in (`[logging] content = true` in
settings.toml, or the tray's Settings page): they are the user's data, not ours. Secrets never appear:
lines pass the process's redaction filter like every other log line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from pathlib import Path
from typing import Any

from grok_mcp.logs import redaction_filter, shared_rotating_file
from grok_mcp.store import RequestRecord

FILENAME = "requests.jsonl"
MAX_BYTES = 5_000_000
BACKUPS = 5
MAX_CONTENT_CHARS = 100_000  # one enormous prompt must not make one enormous line


def _clip(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_CONTENT_CHARS else text[:MAX_CONTENT_CHARS] + "…[clipped]"


class RequestLog:
    """Writes request lines to a size-rotated file; thread-safe (lines are written from worker threads)."""

    def __init__(self, directory: Path, *, with_content: bool) -> None:
        self.with_content = with_content
        self.path = directory / FILENAME
        self._handler: logging.Handler | None = None
        self._lock = threading.Lock()

    def _open(self) -> logging.Handler:
        if self._handler is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handler = shared_rotating_file(self.path, max_bytes=MAX_BYTES, backups=BACKUPS)
            handler.setFormatter(logging.Formatter("%(message)s"))
            handler.addFilter(redaction_filter())
            self._handler = handler
        return self._handler

    def write(self, record: RequestRecord, *, prompt: Any = None, answer: str | None = None) -> None:
        """Append one line for an upstream call; prompt and answer only when content logging is on.

        Raises OSError when the log file cannot be written (the caller logs it and carries on).
        """
        line: dict[str, Any] = {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name != "seq"}
        if self.with_content:
            if prompt is not None:
                line["prompt"] = _clip(prompt)
            if answer is not None:
                line["answer"] = _clip(answer)
        text = json.dumps(line, ensure_ascii=False, default=str)
        with self._lock:
            handler = self._open()
            handler.handle(logging.LogRecord("grok_mcp.requests", logging.INFO, __file__, 0, text, None, None))

    def close(self) -> None:
        with self._lock:
            if self._handler is not None:
                self._handler.close()
                self._handler = None
