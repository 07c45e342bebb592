"""Writers killed at random moments (SIGKILL), round after round on one file, lose no acknowledged write."""

from __future__ import annotations

import random
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from grok_mcp.store import Store

from tests.store.conftest import Child


def _acknowledged(lines: list[str]) -> tuple[set[str], set[int]]:
    request_ids: set[str] = set()
    message_ids: set[int] = set()
    for line in lines:
        kind, _, value = line.partition(" ")
        if kind == "request":
            request_ids.add(value)
        elif kind == "message":
            message_ids.add(int(value))
    return request_ids, message_ids


def _crash_rounds(path: Path, rounds: int, writers: int, seed: int) -> int:
    """Run the rounds; returns how many acknowledged writes were checked."""
    rng = random.Random(seed)
    checked = 0
    for round_no in range(rounds):
        children = [Child("crash", str(path), f"r{round_no}w{w}") for w in range(writers)]
        lines: list[str] = []
        for child in children:
            # Kill after a random number of acknowledged writes; 0 can land in the middle of opening
            # (and, in the first round, of migrating).
            for _ in range(rng.randrange(0, 40)):
                line = child.next_line()
                if line is None:
                    pytest.fail(f"round {round_no} (seed {seed}): writer exited early: {child.stderr}")
                lines.append(line)
            child.kill()
        for child in children:
            lines.extend(child.remaining_lines())  # printed before the kill: acknowledged too
            child.finish()
        request_ids, message_ids = _acknowledged(lines)

        with Store.open(path) as store:
            assert store.integrity_ok(), f"round {round_no} (seed {seed}): integrity check failed"
        with closing(sqlite3.connect(path)) as conn:
            stored_requests = {row[0] for row in conn.execute("SELECT id FROM requests")}
            stored_messages = {row[0] for row in conn.execute("SELECT id FROM messages")}
        assert request_ids <= stored_requests, f"round {round_no} (seed {seed}) lost acknowledged requests"
        assert message_ids <= stored_messages, f"round {round_no} (seed {seed}) lost acknowledged messages"
        checked += len(request_ids) + len(message_ids)
    return checked


def test_writers_killed_at_random_moments_lose_no_acknowledged_write(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    started = time.perf_counter()
    checked = _crash_rounds(tmp_path / "grok-mcp.db", rounds=30, writers=2, seed=seed)
    print(f"\n30 crash rounds, {checked} acknowledged writes checked in {time.perf_counter() - started:.1f} s")
    assert checked > 0


@pytest.mark.slow
def test_writers_killed_at_random_moments_lose_no_acknowledged_write_over_many_rounds(
    tmp_path: Path, soak: None
) -> None:
    seed = random.randrange(2**32)
    started = time.perf_counter()
    checked = _crash_rounds(tmp_path / "grok-mcp.db", rounds=300, writers=4, seed=seed)
    print(f"\n300 crash rounds, {checked} acknowledged writes checked in {time.perf_counter() - started:.1f} s")
    assert checked > 0
