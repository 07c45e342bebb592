"""Connections to the SQLite file: pragmas, a pool shared by threads, and transactions retried when busy."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import types
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import sqlite_utils

from grok_mcp.errors import DatabaseBusyError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT_S = 5.0
"""How long SQLite itself waits for another connection's lock before reporting SQLITE_BUSY."""

DEFAULT_RETRY_DEADLINE_S = 60.0
"""How long we keep retrying a busy transaction, on top of SQLite's own wait, before giving up."""

JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
"""After a checkpoint the -wal file is truncated to at most this size (goal D4)."""

WAL_CHECKPOINT_BYTES = 16 * 1024 * 1024
"""A writer that finds the -wal file bigger than this checkpoints and truncates it (goal D4)."""

_WAL_CHECK_EVERY_WRITES = 16
_CHECKPOINT_BUSY_TIMEOUT_MS = 20

_MAX_IDLE_CONNECTIONS = 4
_FIRST_RETRY_DELAY_S = 0.002
_MAX_RETRY_DELAY_S = 0.25
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class StoreClosedError(RuntimeError):
    """The store was used after `close()`: a bug in the caller."""


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether an error means another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED, any kind)."""
    code: int | None = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(exc)  # pragma: no cover - Python < 3.11 has no error codes
    return "locked" in text or "busy" in text  # pragma: no cover


def execute(
    db: sqlite_utils.Database, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
) -> sqlite3.Cursor:
    """Run one statement through sqlite-utils, in the caller's transaction if any; raises sqlite3.Error."""
    return db.execute(sql, params)  # pyright: ignore[reportUnknownMemberType] - its Sequence is unparameterized


def rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """All rows of a cursor as dicts keyed by column name."""
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def from_row(cls: type[T], row: Mapping[str, Any], **values: Any) -> T:
    """An instance of the dataclass `cls` from the row's columns of its fields' names, each turned into its
    field's type (a 0/1 column into a bool); `values` gives the fields that are not columns of the row."""
    columns = {name: convert(row[name]) for name, convert in _field_converters(cls) if name not in values}
    return cls(**columns, **values)


@cache
def _field_converters(cls: type[Any]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    hints = get_type_hints(cls)
    return tuple((field.name, _converter(hints[field.name])) for field in fields(cls))


def _converter(hint: Any) -> Callable[[Any], Any]:
    """How a column's value becomes a field of type `hint`: str, int, float and bool are converted (None
    kept when the field is optional); any other type takes the value as SQLite returns it."""
    if get_origin(hint) in (Union, types.UnionType):
        (inner, *rest) = [arg for arg in get_args(hint) if arg is not type(None)]
        if rest:
            return _as_is
        convert = _converter(inner)
        return lambda value: None if value is None else convert(value)
    if hint in (str, int, float, bool):
        return hint
    return _as_is


def _as_is(value: Any) -> Any:
    return value


def connect(path: Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> sqlite_utils.Database:
    """A read-write connection to `path` with our per-connection pragmas, wrapped by sqlite-utils.

    The connection issues no implicit BEGIN (isolation_level=None): the pool starts every transaction
    itself. Raises sqlite3.Error when the file cannot be opened.
    """
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        # In WAL mode synchronous=NORMAL keeps every commit across a crash of the process (kill -9 included,
        # goal D1) and never corrupts the file; only a power cut or OS crash may roll back the last few
        # commits. FULL would add an fsync to every ledger write to protect against that, and xAI's own
        # billing remains the source of truth for money, so NORMAL is the trade SQLite recommends for WAL.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
    except BaseException:
        conn.close()
        raise
    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


class ConnectionPool:
    """Connections to one database file, lent to one thread at a time, with transactions retried when busy.

    Writers in this process queue on a lock before `BEGIN IMMEDIATE`, so only writers in other processes
    ever meet SQLite's lock; readers each get their own connection and run concurrently under WAL.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        retry_deadline_s: float = DEFAULT_RETRY_DEADLINE_S,
    ) -> None:
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._retry_deadline_s = retry_deadline_s
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._idle: list[sqlite_utils.Database] = []
        self._is_closed = False
        self._wal = path.with_name(path.name + "-wal")
        self._writes_since_wal_check = 0
        self._nowait: sqlite_utils.Database | None = None  # write_if_free's connection, used under _write_lock

    @property
    def is_closed(self) -> bool:
        return self._is_closed

    @contextmanager
    def connection(self) -> Generator[sqlite_utils.Database]:
        """Borrow a connection for the current thread; it goes back to the pool (or is closed) afterwards.

        Raises StoreClosedError after `close()`, sqlite3.Error when a new connection cannot be opened.
        """
        with self._lock:
            if self._is_closed:
                raise StoreClosedError(f"the store at {self.path} is closed")
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = connect(self.path, busy_timeout_s=self._busy_timeout_s)
        try:
            yield db
        finally:
            with self._lock:
                # A connection left inside a transaction (a failed ROLLBACK) is never reused.
                keep = not self._is_closed and not db.conn.in_transaction
                keep = keep and len(self._idle) < _MAX_IDLE_CONNECTIONS
                if keep:
                    self._idle.append(db)
            if not keep:
                db.close()

    def write(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        """Run `work` in a `BEGIN IMMEDIATE` transaction and commit it; roll back if it raises.

        `work` may run more than once: when the database is busy the whole transaction is retried.
        Raises DatabaseBusyError when it stays busy past the retry deadline, and whatever `work` raises.
        """
        with self._write_lock:
            result = self._retrying(lambda: self._transaction("BEGIN IMMEDIATE", work))
            self._writes_since_wal_check += 1
            if self._writes_since_wal_check >= _WAL_CHECK_EVERY_WRITES:
                self._writes_since_wal_check = 0
                self._checkpoint_if_wal_is_big()
            return result

    def write_if_free(self, work: Callable[[sqlite_utils.Database], object]) -> bool:
        """Run `work` in a write transaction only if that means no waiting at all; whether it was written.

        For callers on an event loop, where a thread round trip costs more than a small write: nothing
        blocks. It returns False, having written nothing, when another thread or process holds the write
        lock, when the store is closed, or when this write is the one due to check the -wal file's size;
        the caller then uses `write` from a worker thread. Its connection never checkpoints by itself
        (wal_autocheckpoint=0), so a commit here never copies pages back; `write` does that. Raises what
        `work` raises, and sqlite3 errors other than busy.
        """
        if self._writes_since_wal_check + 1 >= _WAL_CHECK_EVERY_WRITES:
            return False
        if not self._write_lock.acquire(blocking=False):
            return False
        try:
            db = self._nowait_connection()
            if db is None:
                return False
            try:
                _in_transaction(db, "BEGIN IMMEDIATE", work)
            except sqlite3.OperationalError as exc:
                if is_busy(exc):
                    return False
                raise
            self._writes_since_wal_check += 1
            return True
        finally:
            self._write_lock.release()

    def _nowait_connection(self) -> sqlite_utils.Database | None:
        if self._nowait is None:
            with self._lock:
                if self._is_closed:
                    return None
            db = connect(self.path, busy_timeout_s=0)
            db.conn.execute("PRAGMA wal_autocheckpoint=0")
            self._nowait = db
        elif self._is_closed:
            return None
        return self._nowait

    def read(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        """Run `work` in one read transaction, so every query in it sees the same snapshot.

        Raises DatabaseBusyError when the database stays busy past the retry deadline.
        """
        return self._retrying(lambda: self._transaction("BEGIN", work))

    def run(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        """Run `work` outside any transaction (for pragmas that refuse to run inside one), retrying when busy.

        Raises DatabaseBusyError when the database stays busy past the retry deadline.
        """

        def attempt() -> T:
            with self.connection() as db:
                return work(db)

        return self._retrying(attempt)

    def close(self) -> None:
        """Close every idle connection now, and every borrowed one when it comes back. Idempotent."""
        with self._lock:
            self._is_closed = True
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()
        # A write in progress ends within its retry deadline; waiting longer than a few seconds here would
        # only delay an exit, and the connection then goes with the process.
        if self._write_lock.acquire(timeout=5.0):
            try:
                if self._nowait is not None:
                    self._nowait.close()
                    self._nowait = None
            finally:
                self._write_lock.release()

    def _checkpoint_if_wal_is_big(self) -> None:
        # SQLite's automatic checkpoints copy pages back but cannot rewind the -wal file while some
        # reader is still using it, and with readers always busy it grows without bound. A TRUNCATE
        # checkpoint waits briefly for the readers to move on, then empties it.
        try:
            size = self._wal.stat().st_size
        except OSError:  # pragma: no cover - removed by the last connection of another process
            return
        if size <= WAL_CHECKPOINT_BYTES:
            return
        # The write has committed: a failed checkpoint is only logged, never reported to its caller.
        try:
            with self.connection() as db:
                db.conn.execute(f"PRAGMA busy_timeout = {_CHECKPOINT_BUSY_TIMEOUT_MS}")
                try:
                    (busy, _, _) = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                finally:
                    db.conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        except sqlite3.Error as exc:  # pragma: no cover - depends on timing
            log.debug("could not checkpoint %s: %s", self.path, exc)
            return
        log.debug("checkpointed %s (%d bytes of WAL)%s", self.path, size, "; readers in the way" if busy else "")

    def _transaction(self, begin: str, work: Callable[[sqlite_utils.Database], T]) -> T:
        with self.connection() as db:
            return _in_transaction(db, begin, work)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        deadline = time.monotonic() + self._retry_deadline_s
        delay = _FIRST_RETRY_DELAY_S
        retries = 0
        while True:
            try:
                result = attempt()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DatabaseBusyError(
                        f"The Grok MCP database {self.path} stayed locked by another process for more than "
                        f"{self._retry_deadline_s + self._busy_timeout_s:.0f} s. Close other Grok MCP "
                        "processes (or tools that opened the file) and try again; `grok-mcp doctor` "
                        "shows which processes use it."
                    ) from exc
                retries += 1
                log.debug("database %s is busy (%s); retry %d", self.path, exc, retries)
                # Jitter keeps processes that collided from colliding again in lockstep.
                time.sleep(min(delay * random.uniform(0.5, 1.5), remaining))  # noqa: S311 - not for security
                delay = min(delay * 2, _MAX_RETRY_DELAY_S)
            else:
                if retries:
                    log.debug("database %s was busy; succeeded after %d retries", self.path, retries)
                return result


def _in_transaction(db: sqlite_utils.Database, begin: str, work: Callable[[sqlite_utils.Database], T]) -> T:
    """Run `work` between `begin` and COMMIT on `db`, rolling back if it raises."""
    db.conn.execute(begin)
    try:
        result = work(db)
        db.conn.execute("COMMIT")
    except BaseException:
        _rollback_quietly(db)
        raise
    return result


def _rollback_quietly(db: sqlite_utils.Database) -> None:
    if not db.conn.in_transaction:
        return
    try:
        db.conn.execute("ROLLBACK")
    except sqlite3.Error:  # pragma: no cover - the connection is then discarded by the pool
        log.warning("ROLLBACK failed; discarding the connection", exc_info=True)
