"""The usage ledger: one row per upstream call, and the sums, percentiles and spend read from it."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlite_utils

from grok_mcp.store.db import execute, from_row, rows

GroupBy = Literal["day", "model", "tool", "client"]

UNKNOWN_KEY = "unknown"
"""The group key for rows whose model, tool or client is not recorded."""

TOTAL_KEY = "total"
"""The key of `UsageSummary.total`."""

# The only SQL spliced into queries: fixed fragments chosen by group_by, never caller text.
_GROUP_KEYS: dict[str, str] = {
    "day": "date(ts, 'unixepoch', 'localtime')",
    "model": f"coalesce(model, '{UNKNOWN_KEY}')",
    "tool": f"coalesce(tool, '{UNKNOWN_KEY}')",
    "client": f"coalesce(client, '{UNKNOWN_KEY}')",
}

_SUMS = """
    count(*) AS requests,
    coalesce(sum(error IS NOT NULL), 0) AS errors,
    coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
    coalesce(sum(cached_tokens), 0) AS cached_tokens,
    coalesce(sum(completion_tokens), 0) AS completion_tokens,
    coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
    coalesce(sum(images), 0) AS images,
    coalesce(sum(cost_ticks), 0) AS cost_ticks,
    coalesce(sum(cached), 0) AS cached_requests
"""

_COLUMNS = (
    "id",
    "ts",
    "tool",
    "model",
    "endpoint",
    "status",
    "error",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "images",
    "cost_ticks",
    "latency_ms",
    "ttft_ms",
    "client",
    "transport",
    "conversation_id",
    "cached",
    "simulated",
)


@dataclass(frozen=True, kw_only=True)
class RequestRecord:
    """One upstream call as the ledger keeps it; `seq` is set only on records read back from the store."""

    tool: str
    model: str | None
    endpoint: str
    id: str | None = None
    """xAI's request id; None when no response arrived."""
    ts: float = field(default_factory=time.time)
    status: int = 0
    """HTTP status; 0 when no response arrived."""
    error: str | None = None
    """Error class and message; None on success."""
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    images: int = 0
    cost_ticks: int = 0
    """Cost in ticks: 1 tick = 1e-10 USD."""
    latency_ms: float | None = None
    ttft_ms: float | None = None
    client: str | None = None
    transport: str | None = None
    conversation_id: str | None = None
    cached: bool = False
    simulated: bool = False
    """True when the simulator (demo mode), not xAI, answered: no money was spent."""
    seq: int | None = None


@dataclass(frozen=True)
class UsageGroup:
    """Usage summed over one group (a local day, a model, a tool or a client), or over everything."""

    key: str
    requests: int
    errors: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    images: int
    cost_ticks: int
    cached_requests: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


@dataclass(frozen=True)
class UsageSummary:
    """Usage per group plus the total over the same period."""

    groups: list[UsageGroup]
    total: UsageGroup


@dataclass(frozen=True)
class UsageCell:
    """Usage of one model on one local day: one bar segment of the tray's usage chart."""

    day: str
    model: str
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_ticks: int


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (`fraction` in 0..1) of ascending values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


_INSERT = f"INSERT INTO requests ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"  # noqa: S608 - our own column names


def insert_request(db: sqlite_utils.Database, rec: RequestRecord) -> int:
    """Append one record to the ledger (inside the caller's transaction); returns its `seq`.

    One prepared statement (SQLite caches it per connection): this runs before every answer goes out.
    """
    values = [getattr(rec, name) for name in _COLUMNS]
    values[_COLUMNS.index("cached")] = int(rec.cached)
    values[_COLUMNS.index("simulated")] = int(rec.simulated)
    return int(execute(db, _INSERT, values).lastrowid or 0)


def insert_requests_once(db: sqlite_utils.Database, recs: Sequence[RequestRecord]) -> int:
    """Append each record unless the ledger already has a row with its id (inside the caller's transaction).

    Returns how many rows were added. A record without an id is always added.
    """
    added = 0
    for rec in recs:
        if rec.id is not None:
            found = execute(db, "SELECT 1 FROM requests WHERE id = ? LIMIT 1", (rec.id,)).fetchone()
            if found is not None:
                continue
        insert_request(db, rec)
        added += 1
    return added


def _period(since: float | None, until: float | None, *, simulated: bool) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of one ledger (real or simulated calls, never both) over [since, until)."""
    clauses = ["simulated = :simulated"]
    params: dict[str, Any] = {"simulated": int(simulated)}
    if since is not None:
        clauses.append("ts >= :since")
        params["since"] = since
    if until is not None:
        clauses.append("ts < :until")
        params["until"] = until
    return " WHERE " + " AND ".join(clauses), params


def _group(row: dict[str, Any], key: str, latencies: Sequence[float]) -> UsageGroup:
    return from_row(
        UsageGroup,
        row,
        key=key,
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
    )


def usage_summary(
    db: sqlite_utils.Database, *, since: float | None, until: float | None, group_by: GroupBy, simulated: bool = False
) -> UsageSummary:
    """Usage in [since, until) per local day (chronological), or per model, tool or client (costliest first).

    Real calls only, or with `simulated` demo-mode calls only: the two are never summed together. Latency
    percentiles cover the rows that recorded a latency. Raises ValueError for an unknown group_by.
    """
    if group_by not in _GROUP_KEYS:
        raise ValueError(f"group_by must be one of {', '.join(_GROUP_KEYS)}, not {group_by!r}")
    key_sql = _GROUP_KEYS[group_by]
    where, params = _period(since, until, simulated=simulated)
    order = "key" if group_by == "day" else "cost_ticks DESC, requests DESC, key"
    grouped = rows(
        execute(
            db,
            f"SELECT {key_sql} AS key, {_SUMS} FROM requests{where} GROUP BY 1 ORDER BY {order}",  # noqa: S608
            params,
        )
    )
    (total_row,) = rows(execute(db, f"SELECT {_SUMS} FROM requests{where}", params))  # noqa: S608
    latency_where = f"{where} AND latency_ms IS NOT NULL"
    latencies: dict[str, list[float]] = {}
    every_latency: list[float] = []
    latency_rows = execute(
        db,
        f"SELECT {key_sql} AS key, latency_ms FROM requests{latency_where}",  # noqa: S608
        params,
    ).fetchall()
    for key, latency in latency_rows:
        latencies.setdefault(str(key), []).append(float(latency))
        every_latency.append(float(latency))
    for values in latencies.values():
        values.sort()
    every_latency.sort()
    groups = [_group(row, str(row["key"]), latencies.get(str(row["key"]), [])) for row in grouped]
    return UsageSummary(groups=groups, total=_group(total_row, TOTAL_KEY, every_latency))


def usage_by_day_and_model(
    db: sqlite_utils.Database, *, since: float | None, until: float | None, simulated: bool = False
) -> list[UsageCell]:
    """Usage in [since, until) per local day and model, ordered by day then model; real or simulated calls."""
    where, params = _period(since, until, simulated=simulated)
    result = execute(
        db,
        f"""
        SELECT {_GROUP_KEYS["day"]} AS day, {_GROUP_KEYS["model"]} AS model, count(*) AS requests,
               coalesce(sum(error IS NOT NULL), 0) AS errors,
               coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
               coalesce(sum(completion_tokens), 0) AS completion_tokens,
               coalesce(sum(cost_ticks), 0) AS cost_ticks
        FROM requests{where} GROUP BY 1, 2 ORDER BY 1, 2
        """,  # noqa: S608
        params,
    )
    return [from_row(UsageCell, row) for row in rows(result)]


def spend_ticks(db: sqlite_utils.Database, *, since: float, simulated: bool = False) -> int:
    """Total cost in ticks of the real calls (with `simulated`: the demo-mode calls) made at or after `since`."""
    (total,) = execute(
        db,
        "SELECT coalesce(sum(cost_ticks), 0) FROM requests WHERE simulated = ? AND ts >= ?",
        (int(simulated), since),
    ).fetchone()
    return int(total)


def recent_requests(db: sqlite_utils.Database, *, limit: int) -> list[RequestRecord]:
    """The newest `limit` records, newest first."""
    result = execute(
        db,
        f"SELECT seq, {', '.join(_COLUMNS)} FROM requests ORDER BY ts DESC, seq DESC LIMIT ?",  # noqa: S608
        (max(limit, 0),),
    )
    return [from_row(RequestRecord, row) for row in rows(result)]


# The tray's dashboard: recent failures and the cost of each turn of a transcript.


def recent_errors(db: sqlite_utils.Database, *, limit: int, simulated: bool | None = None) -> list[RequestRecord]:
    """The newest `limit` records that ended in an error, newest first: real or simulated calls (None: both)."""
    which = "" if simulated is None else f" AND simulated = {int(simulated)}"
    result = execute(
        db,
        f"SELECT seq, {', '.join(_COLUMNS)} FROM requests WHERE error IS NOT NULL{which} "  # noqa: S608
        "ORDER BY ts DESC, seq DESC LIMIT ?",
        (max(limit, 0),),
    )
    return [from_row(RequestRecord, row) for row in rows(result)]


def requests_by_id(db: sqlite_utils.Database, request_ids: Sequence[str]) -> dict[str, RequestRecord]:
    """The ledger records with the given xAI request ids, keyed by id; ids not in the ledger are left out."""
    found: dict[str, RequestRecord] = {}
    unique = list(dict.fromkeys(request_ids))
    # SQLite limits bound parameters per statement; 500 per query stays far below every build's limit.
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        result = execute(
            db,
            f"SELECT seq, {', '.join(_COLUMNS)} FROM requests WHERE id IN ({marks}) ORDER BY seq",  # noqa: S608
            chunk,
        )
        for row in rows(result):
            found[str(row["id"])] = from_row(RequestRecord, row)
    return found
