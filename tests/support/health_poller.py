"""Poll a server's `/healthz` from a process of its own and report the slowest answer.

Run as `python -m tests.support.health_poller ROOT_URL`: it asks `ROOT_URL/healthz` every 20 ms over one
kept-alive connection until its stdin closes, then prints one JSON line: how many answers came, the
slowest and the median in milliseconds, and any answer that was not a 200. A process of its own keeps the
measurement out of the test process, whose threads (hypothesis, the simulator) share one GIL.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time

import httpx2

INTERVAL_S = 0.02
TIMEOUT_S = 5.0


def poll(root: str, stop: threading.Event) -> dict[str, object]:
    latencies_ms: list[float] = []
    failures: list[str] = []
    with httpx2.Client(timeout=TIMEOUT_S) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status = client.get(f"{root}/healthz").status_code
            except httpx2.HTTPError as error:
                failures.append(type(error).__name__)
            else:
                latencies_ms.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    failures.append(f"HTTP {status}")
            stop.wait(INTERVAL_S)
    return {
        "answers": len(latencies_ms),
        "worst_ms": round(max(latencies_ms, default=0.0), 2),
        "median_ms": round(statistics.median(latencies_ms), 2) if latencies_ms else 0.0,
        "failures": failures[:20],
    }


def main() -> None:
    stop = threading.Event()
    report: dict[str, object] = {}
    poller = threading.Thread(target=lambda: report.update(poll(sys.argv[1], stop)), daemon=True)
    poller.start()
    sys.stdin.read()  # until the test closes our stdin
    stop.set()
    poller.join(timeout=TIMEOUT_S * 2)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
