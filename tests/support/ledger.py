"""Rows in the request ledger for tests, written as a finished call writes them (`Store.record_request`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grok_mcp.store import RequestRecord, Store


def record_chat_call(db_path: Path, *, model: str | None, **fields: Any) -> None:
    """Write one `chat` call to /v1/chat/completions into the ledger at `db_path`; `fields` as in RequestRecord."""
    with Store.open(db_path) as store:
        store.record_request(RequestRecord(tool="chat", model=model, endpoint="/v1/chat/completions", **fields))
