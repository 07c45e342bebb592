"""Benchmark: `search_conversations` over 100,000 conversations and 1,000,000 messages (target ≤ 50 ms median).

The history is seeded once through the store's bulk import (Zipf-distributed words, so common words
match hundreds of thousands of messages and rare ones a handful) and kept in build/bench-search/ for
later runs. Queries mix common, middling and rare words, one- and two-word, and prefixes.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from grok_mcp.store import ImportedConversation, NewMessage, Store

CONVERSATIONS = 100_000
MESSAGES_PER_CONVERSATION = 10
VOCABULARY = 20_000
BATCH = 2_000

Report = Callable[[str, float, str, float], None]


def _words(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "pa", "do", "fe", "gu", "hi", "ja", "be"]
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def seed(path: Path) -> list[str]:
    """Write the benchmark history (unless already there) and return the vocabulary, most common first."""
    rng = random.Random(7)
    words = _words(rng)
    weights = [1 / (rank + 1) for rank in range(VOCABULARY)]  # Zipf: the n-th word is 1/n as common
    if path.exists():
        with Store.open(path) as store:
            if store.count_conversations() >= CONVERSATIONS:
                return words
        path.unlink()
    started = time.perf_counter()
    now = time.time()
    with Store.open(path) as store:
        for first in range(0, CONVERSATIONS, BATCH):
            items: list[ImportedConversation] = []
            for n in range(first, first + BATCH):
                messages = [
                    NewMessage(
                        role="user" if i % 2 == 0 else "assistant",
                        content=" ".join(rng.choices(words, weights=weights, k=rng.randint(8, 40))),
                    )
                    for i in range(MESSAGES_PER_CONVERSATION)
                ]
                stamp = now - (CONVERSATIONS - n) * 60
                items.append(
                    ImportedConversation(
                        title=messages[0].content[:60],
                        model="grok-4.3",
                        client="bench",
                        created_at=stamp,
                        updated_at=stamp,
                        messages=messages,
                    )
                )
            store.import_conversations(items)
    print(
        f"  seeded {CONVERSATIONS:,} conversations / {CONVERSATIONS * MESSAGES_PER_CONVERSATION:,} messages "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return words


def bench_search(root: Path, report: Report) -> None:
    path = root / "build" / "bench-search" / "grok-mcp.db"
    words = seed(path)
    rng = random.Random(11)
    queries = (
        [words[i] for i in (0, 1, 5, 20)]  # very common: a large share of all messages
        + [words[rng.randint(100, 1000)] for _ in range(8)]  # middling
        + [words[rng.randint(5000, VOCABULARY - 1)] for _ in range(8)]  # rare
        + [f"{words[rng.randint(50, 500)]} {words[rng.randint(50, 500)]}" for _ in range(6)]  # two words
        + [words[rng.randint(200, 2000)][:3] for _ in range(4)]  # prefixes, as typed
    )
    with Store.open(path) as store:
        for query in queries[:4]:
            store.search_messages(query, limit=20)  # warm the page cache
        samples: list[float] = []
        for _ in range(3):
            for query in queries:
                started = time.perf_counter()
                store.search_messages(query, limit=20)
                samples.append(time.perf_counter() - started)
    samples.sort()
    print(
        f"  {len(samples)} searches: p90 {samples[len(samples) * 9 // 10] * 1000:.1f} ms, "
        f"max {samples[-1] * 1000:.1f} ms"
    )
    report(
        "search_conversations over 100k conversations / 1M messages (median)",
        statistics.median(samples) * 1000,
        "ms",
        50.0,
    )


if __name__ == "__main__":

    def _print(name: str, value: float, unit: str, target: float) -> None:
        print(f"{name:70} {value:9.2f} {unit}  target ≤ {target:g} {unit}  {'ok' if value <= target else 'MISSED'}")

    bench_search(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1], _print)
