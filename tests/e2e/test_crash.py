"""A server killed with SIGKILL in the middle of writing, again and again, leaves an intact database
holding a ledger row for every call that was answered."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2

from tests.support.processes import http_server

ROUNDS = 8
CALLS_PER_ROUND = 24


def call_chat(url: str, token: str, prompt: str, answered: list[str], changed: threading.Condition) -> None:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "chat", "arguments": {"prompt": prompt}},
    }
    try:
        with httpx2.Client(timeout=20) as client:
            # Stateless enough for one call: initialize first to get a session, then call.
            init = client.post(
                url,
                headers=headers,
                json={
                    "jsonrpc": "2.0",
                    "id": 0,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "crash", "version": "0"},
                    },
                },
            )
            session = init.headers.get("mcp-session-id")
            if session:
                headers["Mcp-Session-Id"] = session
            client.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
            response = client.post(url, headers=headers, json=body)
            if response.status_code == 200 and '"request_id"' in response.text and '"isError":false' in response.text:
                with changed:
                    answered.append(prompt)
                    changed.notify_all()
    except httpx2.TransportError:
        pass  # killed mid-call: this one was never answered
    finally:
        with changed:
            changed.notify_all()


def enough_answered(answered: list[str], prefix: str, running: list[threading.Thread]) -> Callable[[], bool]:
    """True once three calls of this round were answered (or all of them ended)."""
    return lambda: sum(1 for p in answered if p.startswith(prefix)) >= 3 or not any(t.is_alive() for t in running)


def test_sigkill_during_writes_never_loses_an_answered_call_or_corrupts_the_database(isolated_home: Path) -> None:
    answered: list[str] = []
    changed = threading.Condition()
    for round_ in range(ROUNDS):
        with http_server(isolated_home, base_url=None, key=None, extra_args=("--simulate",)) as server:
            threads = [
                threading.Thread(
                    target=call_chat, args=(server.url, server.token, f"round {round_} call {i}", answered, changed)
                )
                for i in range(CALLS_PER_ROUND)
            ]
            for thread in threads:
                thread.start()
            # Kill while calls are landing: as soon as a few have been answered in this round.
            with changed:
                changed.wait_for(enough_answered(answered, f"round {round_} ", threads), timeout=30)
            os.kill(server.process.pid, signal.SIGKILL)
            for thread in threads:
                thread.join(timeout=30)
    assert len(answered) >= ROUNDS * 3

    db = sqlite3.connect(isolated_home / "grok-mcp.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = db.execute("SELECT COUNT(*) FROM requests WHERE tool = 'chat' AND status = 200").fetchone()[0]
    finally:
        db.close()
    # Every answered call wrote its ledger row before the answer went out.
    assert rows >= len(answered)
