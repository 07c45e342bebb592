"""A child process that uses the real Store, for the multi-process tests: `python child.py MODE DB [ARGS]`.

Modes:
  open      print "ready", wait for "go" on stdin, open the store, print its schema version (JSON).
  contend   open, print "ready", wait for "go", record N requests (with a read every 50), print the
            commit latencies in ms (JSON).
  crash     open, then write forever: a ledger row, and every 4th time a message; print each id
            once its commit returned ("request TAG-i" / "message ID"). Killed by the parent.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from grok_mcp.store import NewMessage, RequestRecord, Store
from grok_mcp.store.conversations import new_conversation_id


def _wait_for_go() -> None:
    print("ready", flush=True)
    line = sys.stdin.readline()
    if line.strip() != "go":
        raise SystemExit(f"expected 'go', got {line!r}")


def open_racing(path: Path) -> None:
    _wait_for_go()
    with Store.open(path) as store:
        print(json.dumps({"schema_version": store.schema_version}), flush=True)


def contend(path: Path, writes: int, tag: str) -> None:
    with Store.open(path) as store:
        _wait_for_go()
        latencies: list[float] = []
        for i in range(writes):
            rec = RequestRecord(
                tool="chat", model="grok-test", endpoint="/v1/chat/completions", id=f"{tag}-{i}", cost_ticks=1
            )
            started = time.perf_counter()
            store.record_request(rec)
            latencies.append((time.perf_counter() - started) * 1000)
            if i % 50 == 0:
                store.usage_summary(group_by="model")
        print(json.dumps(latencies), flush=True)


def crash(path: Path, tag: str) -> None:
    with Store.open(path) as store:
        conversation_id = new_conversation_id()  # a script run by path: no tests.support here
        store.save_turn(conversation_id, create_with_title=f"crash {tag}", model="grok-test", client=tag)
        print(f"conversation {conversation_id}", flush=True)
        i = 0
        while True:
            store.record_request(
                RequestRecord(
                    tool="chat",
                    model="grok-test",
                    endpoint="/v1/chat/completions",
                    id=f"{tag}-{i}",
                    prompt_tokens=i,
                    cost_ticks=7,
                    latency_ms=1.0,
                )
            )
            print(f"request {tag}-{i}", flush=True)
            if i % 4 == 0:
                message = NewMessage(role="user", content=f"crash round {tag} line {i}")
                (message_id,) = store.save_turn(conversation_id, messages=[message])
                print(f"message {message_id}", flush=True)
            i += 1


def main(argv: list[str]) -> None:
    mode, path = argv[0], Path(argv[1])
    if mode == "open":
        open_racing(path)
    elif mode == "contend":
        contend(path, int(argv[2]), argv[3])
    elif mode == "crash":
        crash(path, argv[2])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
