"""Changing a config file without ever losing it: lock, timestamped backup, atomic replace, read-back, undo.

Backups live in Grok MCP's data dir (`client-backups/<client>/<file hash>/`), not beside the client's file,
so a client that scans its own folder never sees them; the newest five are kept. An install record beside
them remembers what the install created, so `remove` can give back the exact bytes from before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import secrets
import stat
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass
from pathlib import Path

from grok_mcp.clients.errors import (
    ConfigLockTimeoutError,
    ConfigReadOnlyError,
    ConfigUnreadableError,
    ConfigWriteError,
    NothingToUndoError,
)

logger = logging.getLogger(__name__)

KEEP_BACKUPS = 5
LOCK_TIMEOUT_S = 10.0
MAX_CONFIG_BYTES = 1024 * 1024
"""The largest client config file read: hand-kept configs are kilobytes, and a parse holds many times its size."""
_LOCK_POLL_S = 0.02

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def real_target(path: Path) -> Path:
    """The file to replace: a symlinked config (dotfile managers) is edited where it really lives.

    Raises ConfigUnreadableError for a link that loops, or that points at nothing: no file is ever created
    through a link, whose target anyone who could write the client's folder may have chosen.
    """
    if not path.is_symlink():
        return path
    try:
        return path.resolve(strict=True)
    except FileNotFoundError:
        raise ConfigUnreadableError(
            f"{path} is a symbolic link to {_link_text(path)}, which does not exist, and Grok MCP creates no "
            "file through a link. Create that file yourself or remove the link, then try again."
        ) from None
    except (OSError, RuntimeError):  # RuntimeError: "Symlink loop" before Python 3.13
        raise _symlink_loop(path) from None


def _link_text(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "another path"


def _symlink_loop(path: Path) -> ConfigUnreadableError:
    return ConfigUnreadableError(
        f"{path} is a symbolic link that loops back on itself, so there is no file to read. Grok MCP changed "
        "nothing. Point the link at the real config file or remove it, then try again."
    )


@contextlib.contextmanager
def file_lock(target: Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> Generator[None]:
    """Hold an OS lock on `<target>.lock` for the block; the lock file is removed again afterwards.

    Raises ConfigLockTimeoutError, and ConfigWriteError when the lock file cannot be made (or is a symlink).
    """
    lock_path = target.with_name(target.name + ".lock")
    deadline = time.monotonic() + timeout_s
    while True:
        fd = _open_lock(lock_path)
        try:
            _wait_for_lock(fd, deadline, target, lock_path, timeout_s)
        except BaseException:
            os.close(fd)
            raise
        if _is_still_linked(fd, lock_path):
            break
        # The holder before us removed the file we had opened: lock the one that is there now.
        _unlock(fd)
        os.close(fd)
    try:
        yield
    finally:
        _release_lock(fd, lock_path)


def _open_lock(lock_path: Path) -> int:
    """Open (or create) the lock file, never through a symlink planted in its place."""
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise ConfigWriteError(
            f"Cannot create the lock file {lock_path}: {exc.strerror}. Nothing was changed. If it is a "
            "symbolic link, remove it and try again."
        ) from exc


def _wait_for_lock(fd: int, deadline: float, target: Path, lock_path: Path, timeout_s: float) -> None:
    while True:
        try:
            _try_lock(fd)
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise ConfigLockTimeoutError(
                    f"Another program has been changing {target} for over {timeout_s:g} s (it holds {lock_path}). "
                    "Nothing was changed; try again in a moment."
                ) from None
            time.sleep(_LOCK_POLL_S)  # a bounded wait for another writer, not a test sleep


def _is_still_linked(fd: int, lock_path: Path) -> bool:
    """Whether the locked file is still the one at `lock_path` (a holder removes it when done)."""
    try:
        named = os.stat(lock_path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _release_lock(fd: int, lock_path: Path) -> None:
    """Remove the lock file and let go. On POSIX it is removed while still locked (waiters then see it gone and
    lock the next one); Windows refuses to remove a file another waiter holds open, and that is fine."""
    if sys.platform != "win32":
        with contextlib.suppress(OSError):
            lock_path.unlink()
    try:
        _unlock(fd)
    finally:
        os.close(fd)
    if sys.platform == "win32":
        with contextlib.suppress(OSError):
            lock_path.unlink()


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(target: Path, data: bytes, *, like: os.stat_result | None, new_mode: int = 0o644) -> None:
    """Write `data` to a temp file in the same folder, fsync it, then `os.replace` it over `target`.

    The new file keeps the old one's permission bits (and owner, when we may set it). Raises ConfigWriteError.
    """
    temp = target.with_name(f".{target.name}.grok-mcp-{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temp, stat.S_IMODE(like.st_mode) if like is not None else new_mode)
        if like is not None and hasattr(os, "chown") and (like.st_uid, like.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):
                os.chown(temp, like.st_uid, like.st_gid)
        os.replace(temp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise ConfigWriteError(f"Cannot write {target}: {exc.strerror}. The file was left as it was.") from exc


@dataclass
class InstallRecord:
    """What an install did to one file, so `remove` can undo exactly that when nobody touched the file since."""

    created_file: bool
    created_container: bool
    before_backup: str | None
    after_sha256: str


class BackupStore:
    """Timestamped copies of one config file (the newest `KEEP_BACKUPS`), and its install record."""

    def __init__(self, root: Path, client: str, target: Path) -> None:
        digest = hashlib.sha256(str(target).encode("utf-8")).hexdigest()[:16]
        self.folder = root / client / digest
        self.target = target

    def _ensure(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.folder / "target.txt").write_text(str(self.target) + "\n", encoding="utf-8")

    def save(self, content: bytes | None) -> Path:
        """Keep `content` (None: the file did not exist) as the newest backup; returns its path."""
        self._ensure()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        suffix = ".bak" if content is not None else ".absent"
        path = self.folder / f"{stamp}{suffix}"
        counter = 0
        while path.exists():
            counter += 1
            path = self.folder / f"{stamp}-{counter:03d}{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, content or b"")
            os.fsync(fd)
        finally:
            os.close(fd)
        for old in self.backups()[:-KEEP_BACKUPS]:
            old.unlink()
        return path

    def backups(self) -> list[Path]:
        """Oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.suffix in (".bak", ".absent"))

    def read_record(self) -> InstallRecord | None:
        try:
            raw = json.loads((self.folder / "install.json").read_text(encoding="utf-8"))
            return InstallRecord(**raw)
        except (OSError, ValueError, TypeError):
            return None

    def write_record(self, record: InstallRecord | None) -> None:
        path = self.folder / "install.json"
        if record is None:
            path.unlink(missing_ok=True)
            return
        self._ensure()
        path.write_text(json.dumps(asdict(record)), encoding="utf-8")


def sha256(data: bytes | None) -> str:
    return hashlib.sha256(data if data is not None else b"\0absent").hexdigest()


def read_bytes(path: Path, *, limit: int = MAX_CONFIG_BYTES) -> bytes | None:
    """The file's bytes, or None when it does not exist; at most `limit` bytes are ever read.

    Opened without blocking (a FIFO put in its place gives no writer to wait for), then checked with fstat before
    any read. Raises ConfigUnreadableError (too large, not a regular file, a link loop), ConfigWriteError.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigWriteError(f"{path} is a folder, not a file. Nothing was changed.") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _symlink_loop(path) from None
        raise ConfigWriteError(f"Cannot read {path}: {exc.strerror}. Nothing was changed.") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigWriteError(f"{path} is a folder, not a file. Nothing was changed.")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigUnreadableError(
                f"{path} is not a regular file (it is a pipe, a device or a socket), so Grok MCP did not read "
                "it and changed nothing. Put the client's real config file there, or remove it."
            )
        if info.st_size > limit:
            raise _too_large(path, info.st_size, limit)
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigWriteError(f"Cannot read {path}: {exc.strerror}. Nothing was changed.") from exc
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read it
        raise _too_large(path, len(data), limit)
    return data


def _too_large(path: Path, size: int, limit: int) -> ConfigUnreadableError:
    return ConfigUnreadableError(
        f"{path} is larger than {limit // (1024 * 1024)} MiB ({size:,} bytes): too large for an MCP client's "
        "config file, so Grok MCP did not read it and changed nothing. Check that it is the right file, or "
        "move it away, then try again."
    )


@dataclass(frozen=True)
class Change:
    """The outcome of one guarded edit."""

    before: bytes | None
    after: bytes | None
    backup: Path | None

    @property
    def is_changed(self) -> bool:
        return self.before != self.after


def apply_change(
    target: Path,
    transform: Callable[[bytes | None], bytes | None],
    *,
    verify: Callable[[bytes | None], None],
    backups: BackupStore,
    new_mode: int = 0o644,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
) -> Change:
    """Under the file's lock: read, transform (None deletes the file), back up, replace atomically, verify.

    Nothing is written when the transform changes nothing (idempotent re-runs). When the written file does
    not read back as intended the previous content is put back and ConfigWriteError is raised. Raises the
    ClientSetupError the transform raises, ConfigReadOnlyError and ConfigLockTimeoutError too.
    """
    created_dirs: list[Path] = []
    folder = target.parent
    while not folder.exists():
        created_dirs.append(folder)
        folder = folder.parent
    if created_dirs:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigWriteError(f"Cannot create the folder {target.parent}: {exc.strerror}.") from exc
    try:
        with file_lock(target, timeout_s=lock_timeout_s):
            before = read_bytes(target)
            after = transform(before)
            if after == before:
                return Change(before, after, None)
            info = target.stat() if before is not None else None
            if info is not None and not info.st_mode & stat.S_IWUSR:
                raise ConfigReadOnlyError(
                    f"{target} is read-only, so Grok MCP left it alone. Make it writable "
                    f"(chmod u+w) and try again, or use `grok-mcp clients snippet` and paste the entry yourself."
                )
            backup = backups.save(before)
            _write_or_delete(target, after, info, new_mode)
            try:
                written = read_bytes(target)
                if written != after:
                    raise ConfigWriteError(f"{target} did not read back as written.")
                verify(written)
            except Exception:
                _write_or_delete(target, before, info, new_mode)
                logger.warning("Restored %s after a failed check of what was written.", target)
                raise
            return Change(before, after, backup)
    except BaseException:
        for folder in created_dirs:  # deepest first: leave no empty folders behind a failed install
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _write_or_delete(target: Path, content: bytes | None, like: os.stat_result | None, new_mode: int) -> None:
    if content is None:
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise ConfigWriteError(f"Cannot delete {target}: {exc.strerror}.") from exc
        return
    atomic_write(target, content, like=like, new_mode=new_mode)


def undo_last(target: Path, backups: BackupStore, *, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Path:
    """Put back the newest backup (deleting the file if it did not exist then) and drop that backup.

    Returns the backup used. Raises NothingToUndoError, ConfigWriteError, ConfigLockTimeoutError.
    """
    available = backups.backups()
    if not available:
        raise NothingToUndoError(f"There is no backup of {target} to go back to.")
    newest = available[-1]
    content = None if newest.suffix == ".absent" else newest.read_bytes()
    with file_lock(target, timeout_s=lock_timeout_s):
        info = target.stat() if target.exists() else None
        _write_or_delete(target, content, info, 0o644)
    newest.unlink()
    backups.write_record(None)
    return newest
