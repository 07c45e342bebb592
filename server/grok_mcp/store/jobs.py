"""Jobs: tool calls that outlived their MCP call, with the result whichever process ran them wrote, and results
too large for one reply, kept as parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import sqlite_utils

from grok_mcp.store.db import execute, from_row, rows

JobStatus = Literal["running", "done", "failed", "cancelled"]


@dataclass(frozen=True)
class JobRecord:
    """One job as stored; `result_json` is set when it is done, `error` when it failed or was cancelled."""

    id: str
    kind: str
    tool: str
    status: JobStatus
    created_at: float
    heartbeat_at: float
    finished_at: float | None = None
    owner_pid: int | None = None
    client: str | None = None
    result_json: str | None = None
    error: str | None = None


def create_job(db: sqlite_utils.Database, job: JobRecord) -> None:
    """Insert a new job. Raises sqlite3.IntegrityError when its id is taken."""
    execute(
        db,
        """
        INSERT INTO jobs (id, kind, tool, status, created_at, heartbeat_at, finished_at, owner_pid, client,
                          result_json, error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            job.id,
            job.kind,
            job.tool,
            job.status,
            job.created_at,
            job.heartbeat_at,
            job.finished_at,
            job.owner_pid,
            job.client,
            job.result_json,
            job.error,
        ),
    )


def create_job_with_parts(db: sqlite_utils.Database, job: JobRecord, parts: Sequence[str]) -> None:
    """Insert a finished job and its parts (numbered from 1), all or nothing. Raises sqlite3.IntegrityError
    when its id is taken."""
    create_job(db, job)
    for number, body_json in enumerate(parts, start=1):
        execute(db, "INSERT INTO job_parts (job_id, part, body_json) VALUES (?, ?, ?)", (job.id, number, body_json))


def get_job_part(db: sqlite_utils.Database, job_id: str, part: int) -> str | None:
    """Part `part` (from 1) of job `job_id`, or None when it has no such part."""
    found = execute(db, "SELECT body_json FROM job_parts WHERE job_id = ? AND part = ?", (job_id, part)).fetchone()
    return None if found is None else str(found[0])


def finish_job(
    db: sqlite_utils.Database,
    job_id: str,
    *,
    status: JobStatus,
    now: float,
    result_json: str | None = None,
    error: str | None = None,
) -> bool:
    """Record how a running job ended; False when there is no such running job (never overwrites an end)."""
    cursor = execute(
        db,
        """
        UPDATE jobs SET status = ?, finished_at = ?, heartbeat_at = ?, result_json = ?, error = ?
        WHERE id = ? AND status = 'running'
        """,
        (status, now, now, result_json, error, job_id),
    )
    return cursor.rowcount > 0


def heartbeat_jobs(db: sqlite_utils.Database, job_ids: Sequence[str], *, now: float) -> int:
    """Mark running jobs as alive at `now`; returns how many were updated."""
    updated = 0
    for job_id in job_ids:
        cursor = execute(db, "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND status = 'running'", (now, job_id))
        updated += cursor.rowcount
    return updated


def get_job(db: sqlite_utils.Database, job_id: str) -> JobRecord | None:
    """The job with id `job_id`, or None."""
    found = rows(
        execute(
            db,
            """
            SELECT id, kind, tool, status, created_at, heartbeat_at, finished_at, owner_pid, client,
                   result_json, error
            FROM jobs WHERE id = ?
            """,
            (job_id,),
        )
    )
    return from_row(JobRecord, found[0]) if found else None


def list_jobs(
    db: sqlite_utils.Database,
    *,
    kind: str,
    client: str | None,
    after: tuple[float, str] | None = None,
    limit: int = 50,
) -> list[JobRecord]:
    """Up to `limit` jobs of `kind` started for `client` (None: for a client that gave no name), newest first.

    `after` is the (`created_at`, `id`) of the last job of the previous page.
    """
    created, last_id = after if after is not None else (None, None)
    found = rows(
        execute(
            db,
            """
            SELECT id, kind, tool, status, created_at, heartbeat_at, finished_at, owner_pid, client,
                   result_json, error
            FROM jobs
            WHERE kind = ? AND client IS ?
              AND (? IS NULL OR created_at < ? OR (created_at = ? AND id < ?))
            ORDER BY created_at DESC, id DESC
            LIMIT ?
            """,
            (kind, client, created, created, created, last_id, limit),
        )
    )
    return [from_row(JobRecord, row) for row in found]


def purge_jobs(db: sqlite_utils.Database, *, finished_before: float) -> int:
    """Delete jobs that ended before `finished_before`, and their parts; returns how many jobs."""
    execute(
        db,
        """
        DELETE FROM job_parts WHERE job_id IN (
            SELECT id FROM jobs WHERE status != 'running' AND finished_at < ?
        )
        """,
        (finished_before,),
    )
    return execute(db, "DELETE FROM jobs WHERE status != 'running' AND finished_at < ?", (finished_before,)).rowcount
