"""The response cache: JSON bodies of earlier identical calls, each kept until it expires."""

from __future__ import annotations

import sqlite_utils

from grok_mcp.store.db import execute


def get_cached(db: sqlite_utils.Database, key: str, *, now: float) -> str | None:
    """The cached body for `key`, or None when there is none or it expired at or before `now`."""
    found = execute(db, "SELECT body_json FROM response_cache WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
    return None if found is None else str(found[0])


def put_cached(db: sqlite_utils.Database, key: str, body_json: str, *, now: float, ttl_s: float) -> None:
    """Store (or replace) the body for `key`, valid for `ttl_s` seconds from `now`."""
    execute(
        db,
        """
        INSERT INTO response_cache (key, created_at, expires_at, body_json) VALUES (?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET
            created_at = excluded.created_at, expires_at = excluded.expires_at, body_json = excluded.body_json
        """,
        (key, now, now + ttl_s, body_json),
    )


def purge_expired(db: sqlite_utils.Database, *, now: float) -> int:
    """Delete the entries that expired at or before `now`; returns how many."""
    return execute(db, "DELETE FROM response_cache WHERE expires_at <= ?", (now,)).rowcount
