"""The Store: one SQLite file shared by every Grok MCP process, used safely from any thread."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import sqlite_utils

from grok_mcp.errors import DatabaseUnusableError
from grok_mcp.store import cache, conversations, jobs, ledger, migrations
from grok_mcp.store.conversations import (
    Conversation,
    ConversationContext,
    ConversationPage,
    ConversationSummary,
    ImportedConversation,
    NewMessage,
    PageCursor,
    SearchHit,
)
from grok_mcp.store.db import DEFAULT_BUSY_TIMEOUT_S, DEFAULT_RETRY_DEADLINE_S, ConnectionPool, execute
from grok_mcp.store.jobs import JobRecord, JobStatus
from grok_mcp.store.ledger import GroupBy, RequestRecord, UsageCell, UsageSummary

log = logging.getLogger(__name__)


class _RollBack(Exception):
    """Raised inside a write transaction to undo it on purpose."""


class Store:
    """The usage ledger, conversations and response cache in one SQLite file (WAL).

    Every method may be called from any thread, and several processes may use the same file at once.
    Every method raises DatabaseBusyError if another process keeps the file locked past the retry
    deadline, and StoreClosedError after `close()`.
    """

    def __init__(self, pool: ConnectionPool) -> None:
        """Use `Store.open`; this only wraps a pool whose database is already migrated."""
        self._pool = pool

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        retry_deadline_s: float = DEFAULT_RETRY_DEADLINE_S,
    ) -> Self:
        """Open (creating it and its folder if needed) and migrate the database at `path`.

        Raises DatabaseTooNewError, leaving the file untouched, when a newer Grok MCP wrote it;
        DatabaseBusyError when another process keeps it locked; DatabaseUnusableError when the folder
        cannot be created or the file is not a usable SQLite database.
        """
        try:
            return cls._open(path, busy_timeout_s=busy_timeout_s, retry_deadline_s=retry_deadline_s)
        except OSError as exc:
            raise DatabaseUnusableError(
                f"Cannot create or open the database at {path}: {exc.strerror or exc}. "
                "Check the folder's permissions, or set GROK_MCP_HOME to a writable folder."
            ) from None
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnusableError(
                f"{path} is not a usable Grok MCP database ({exc}). Move it away, and Grok MCP starts a new "
                "one, or restore it from a backup."
            ) from None

    @classmethod
    def _open(cls, path: Path, *, busy_timeout_s: float, retry_deadline_s: float) -> Self:
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = migrations.stored_schema_version(path)
        if stored is not None and stored > migrations.LATEST_SCHEMA_VERSION:
            raise migrations.too_new_error(path, stored)
        pool = ConnectionPool(path, busy_timeout_s=busy_timeout_s, retry_deadline_s=retry_deadline_s)
        try:
            # Checked again through a real connection before the first write (the WAL switch): the
            # header read above cannot see a hot rollback journal.
            current = pool.read(migrations.schema_version)
            if current > migrations.LATEST_SCHEMA_VERSION:
                raise migrations.too_new_error(path, current)
            pool.run(_enable_wal)
            applied = migrations.migrate(pool)
        except BaseException:
            pool.close()
            raise
        if applied:
            log.info("database %s is at schema version %d", path, migrations.LATEST_SCHEMA_VERSION)
        return cls(pool)

    @property
    def path(self) -> Path:
        return self._pool.path

    @property
    def is_closed(self) -> bool:
        return self._pool.is_closed

    @property
    def schema_version(self) -> int:
        """The schema version of the file (LATEST_SCHEMA_VERSION once opened by this program)."""
        return self._pool.read(migrations.schema_version)

    def close(self) -> None:
        """Close the store's connections. Idempotent."""
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # The usage ledger

    def record_request(self, rec: RequestRecord) -> None:
        """Append one upstream call to the usage ledger; it is durable when this returns."""
        self._pool.write(lambda db: ledger.insert_request(db, rec))

    def record_request_if_free(self, rec: RequestRecord) -> bool:
        """`record_request` without any waiting, for the event loop: False, with nothing written, when the
        write would have to wait (see ConnectionPool.write_if_free); the caller then uses `record_request`."""
        return self._pool.write_if_free(lambda db: ledger.insert_request(db, rec))

    def record_requests_once(self, recs: Sequence[RequestRecord]) -> int:
        """Append upstream calls whose xAI request id is not in the ledger yet; returns how many were added.

        The checks and the inserts share one write transaction, so two processes recording the same
        results (a finished batch fetched twice) leave one row per call.
        """
        return self._pool.write(lambda db: ledger.insert_requests_once(db, recs))

    def usage_summary(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        group_by: GroupBy = "day",
        simulated: bool = False,
    ) -> UsageSummary:
        """Usage in [since, until) per local day (oldest first), or per model, tool or client (dearest first).

        Real calls only, or with `simulated` demo-mode calls only (never both summed). Raises ValueError for an
        unknown group_by.
        """
        return self._pool.read(
            lambda db: ledger.usage_summary(db, since=since, until=until, group_by=group_by, simulated=simulated)
        )

    def usage_by_day_and_model(
        self, *, since: float | None = None, until: float | None = None, simulated: bool = False
    ) -> list[UsageCell]:
        """Usage in [since, until) per local day and model, for charts; real or (`simulated`) demo-mode calls."""
        return self._pool.read(
            lambda db: ledger.usage_by_day_and_model(db, since=since, until=until, simulated=simulated)
        )

    def spend_ticks(self, *, since: float, simulated: bool = False) -> int:
        """Cost in ticks (1e-10 USD) of the real calls (`simulated`: the demo-mode calls) made at or after `since`."""
        return self._pool.read(lambda db: ledger.spend_ticks(db, since=since, simulated=simulated))

    def recent_requests(self, limit: int = 50) -> list[RequestRecord]:
        """The newest `limit` ledger records, newest first, with `seq` set."""
        return self._pool.read(lambda db: ledger.recent_requests(db, limit=limit))

    # Conversations

    def list_conversations(self, *, limit: int = 50, offset: int = 0) -> list[ConversationSummary]:
        """Conversations, most recently updated first."""
        return self._pool.read(lambda db: conversations.list_conversations(db, limit=limit, offset=offset))

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        """A conversation with its messages oldest first, or None when there is none with that id."""
        return self._pool.read(lambda db: conversations.get_conversation(db, conversation_id))

    def search_messages(self, query: str, *, limit: int = 20) -> list[SearchHit]:
        """Messages containing every word of `query` (the last as a prefix), best first, with snippets.

        Any text is safe: FTS5 operators and punctuation are searched for as plain words, never parsed.
        """
        return self._pool.read(lambda db: conversations.search_messages(db, query, limit=limit))

    def delete_conversation(self, conversation_id: str) -> bool:
        """Delete a conversation with its messages and search entries; False when there was none."""
        return self._pool.write(lambda db: conversations.delete_conversation(db, conversation_id))

    def conversation_context(self, conversation_id: str) -> ConversationContext | None:
        """A conversation's model and messages with their token counts, oldest first; None when there is none."""
        return self._pool.read(lambda db: conversations.conversation_context(db, conversation_id))

    def save_turn(
        self,
        conversation_id: str,
        *,
        create_with_title: str | None = None,
        model: str | None = None,
        client: str | None = None,
        system: NewMessage | None = None,
        messages: list[NewMessage] | None = None,
        token_updates: dict[int, int] | None = None,
    ) -> list[int]:
        """Record a turn of a conversation atomically: create it or bump it, set its system prompt, append.

        Returns the ids of the appended messages, in order. Raises ConversationNotFoundError when the
        conversation is gone and `create_with_title` is None.
        """
        return self._pool.write(
            lambda db: conversations.save_turn(
                db,
                conversation_id,
                create_with_title=create_with_title,
                model=model,
                client=client,
                system=system,
                messages=messages or [],
                token_updates=token_updates or {},
            )
        )

    # Health and maintenance

    def check_writable(self) -> None:
        """Prove that a write transaction can take the lock and write, then roll it back.

        Raises DatabaseBusyError or DatabaseUnusableError (read-only file, full disk) when it cannot.
        """

        def probe(db: sqlite_utils.Database) -> None:
            execute(db, "INSERT INTO migrations (version, name, applied_at, applied_by_pid) VALUES (-1, 'probe', 0, 0)")
            raise _RollBack

        try:
            self._pool.write(probe)
        except _RollBack:
            return
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnusableError(f"The database at {self.path} cannot be written: {exc}.") from None

    def integrity_ok(self) -> bool:
        """Whether SQLite's integrity check, the foreign keys and the search index all check out."""
        return self._pool.write(_integrity_ok)

    # The tray's dashboard

    def count_conversations(self) -> int:
        """How many conversations the store holds."""
        return self._pool.read(conversations.count_conversations)

    def conversation_page(self, *, after: PageCursor | None = None, limit: int = 200) -> ConversationPage:
        """A page of conversations after the cursor of the previous page (None: the newest), newest first."""
        return self._pool.read(lambda db: conversations.conversation_page(db, after=after, limit=limit))

    def import_conversations(self, items: Sequence[ImportedConversation]) -> int:
        """Write whole conversations with their messages in one transaction; returns how many.

        Raises sqlite3.IntegrityError, writing nothing, when an id is already taken.
        """
        return self._pool.write(lambda db: conversations.import_conversations(db, items))

    def recent_errors(self, limit: int = 20, *, simulated: bool | None = None) -> list[RequestRecord]:
        """The newest `limit` ledger records that ended in an error, newest first, with `seq` set; real or
        (`simulated`) demo-mode calls, or both when None."""
        return self._pool.read(lambda db: ledger.recent_errors(db, limit=limit, simulated=simulated))

    def requests_by_id(self, request_ids: Sequence[str]) -> dict[str, RequestRecord]:
        """Ledger records by xAI request id (for the cost of each turn); unknown ids are left out."""
        return self._pool.read(lambda db: ledger.requests_by_id(db, request_ids))

    def search_recent_messages(self, query: str, *, limit: int = 200, window: int = 2000) -> list[SearchHit]:
        """The best `limit` matches of `query` among its newest `window` matching messages, best first.

        Search-as-you-type for any history size: the cost is bounded by `window`, not by the history.
        """
        return self._pool.read(lambda db: conversations.search_recent_messages(db, query, limit=limit, window=window))

    # The call pipeline: budgets, the response cache (on the caller's clock), and long-call jobs

    def spend_since(self, *starts: float) -> list[int]:
        """Cost in ticks of the real calls made at or after each of `starts`, read in one transaction (budgets:
        demo-mode calls cost nothing)."""
        return self._pool.read(lambda db: [ledger.spend_ticks(db, since=start) for start in starts])

    def cached_response_at(self, key: str, *, now: float) -> str | None:
        """The cached JSON body for `key` as of `now`, or None when there is none or it has expired."""
        return self._pool.read(lambda db: cache.get_cached(db, key, now=now))

    def cache_response_at(self, key: str, body_json: str, *, now: float, ttl_s: float) -> None:
        """Cache a JSON body under `key` from `now` for `ttl_s` seconds, replacing any earlier one."""
        self._pool.write(lambda db: cache.put_cached(db, key, body_json, now=now, ttl_s=ttl_s))

    def cache_purge_at(self, *, now: float) -> int:
        """Delete the cache entries expired at `now`; returns how many."""
        return self._pool.write(lambda db: cache.purge_expired(db, now=now))

    def create_job(self, job: JobRecord) -> None:
        """Store a new long-call job. Raises sqlite3.IntegrityError when its id is taken."""
        self._pool.write(lambda db: jobs.create_job(db, job))

    def create_job_with_parts(self, job: JobRecord, parts: Sequence[str]) -> None:
        """Store a finished job with its parts (JSON texts, numbered from 1) in one transaction.

        Raises sqlite3.IntegrityError when its id is taken.
        """
        self._pool.write(lambda db: jobs.create_job_with_parts(db, job, parts))

    def get_job_part(self, job_id: str, part: int) -> str | None:
        """Part `part` (from 1) of job `job_id`, as stored, or None when there is no such part."""
        return self._pool.read(lambda db: jobs.get_job_part(db, job_id, part))

    def finish_job(
        self,
        job_id: str,
        *,
        status: JobStatus,
        now: float,
        result_json: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Record how a running job ended; False when it is unknown or has already ended."""
        return self._pool.write(
            lambda db: jobs.finish_job(db, job_id, status=status, now=now, result_json=result_json, error=error)
        )

    def heartbeat_jobs(self, job_ids: Sequence[str], *, now: float) -> int:
        """Mark running jobs as alive at `now`; returns how many are still running."""
        return self._pool.write(lambda db: jobs.heartbeat_jobs(db, job_ids, now=now))

    def get_job(self, job_id: str) -> JobRecord | None:
        """The job with id `job_id`, or None."""
        return self._pool.read(lambda db: jobs.get_job(db, job_id))

    def list_jobs(
        self, *, kind: str, client: str | None, after: tuple[float, str] | None = None, limit: int = 50
    ) -> list[JobRecord]:
        """Up to `limit` jobs of `kind` started for `client` (None: a client with no name), newest first.

        `after` is the (`created_at`, `id`) of the last job of the previous page.
        """
        return self._pool.read(lambda db: jobs.list_jobs(db, kind=kind, client=client, after=after, limit=limit))

    def purge_jobs(self, *, finished_before: float) -> int:
        """Delete jobs that ended before `finished_before`, and their parts; returns how many jobs."""
        return self._pool.write(lambda db: jobs.purge_jobs(db, finished_before=finished_before))


def _enable_wal(db: sqlite_utils.Database) -> None:
    (mode,) = execute(db, "PRAGMA journal_mode=WAL").fetchone()
    if str(mode).lower() != "wal":  # pragma: no cover - only on filesystems without shared memory
        log.warning("database %s could not switch to WAL (journal mode %s)", db.conn, mode)


def _integrity_ok(db: sqlite_utils.Database) -> bool:
    checks = [str(row[0]) for row in execute(db, "PRAGMA integrity_check").fetchall()]
    if checks != ["ok"]:
        log.error("integrity_check failed: %s", "; ".join(checks[:10]))
        return False
    if execute(db, "PRAGMA foreign_key_check").fetchall():
        log.error("foreign_key_check found rows whose parent is missing")
        return False
    try:
        # With rank 1 FTS5 also compares its index with the messages table it mirrors.
        execute(db, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        log.error("the message search index is inconsistent: %s", exc)
        return False
    return True
