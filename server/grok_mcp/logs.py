"""Logging setup for every Grok MCP process: stderr (never stdout), a rotating file, one redaction filter.

Secrets must never reach a log line. `RedactingFilter` sits on every handler we install and rewrites
each record's final message: anything shaped like an xAI key or a bearer token, and every exact
secret registered with `register_secret`, is replaced before the record is formatted.

Prompts and answers are the user's, so they reach the logs only when the user opted in (`[logging] content
= true`). Our own log lines carry traces, never content; the libraries below us do not promise that (at
DEBUG sse_starlette logs every SSE chunk it sends: whole tool results). Unless content is on,
`ContentFilter` sits on every handler too and replaces, in other libraries' lines, every argument that may
carry a message (bytes, objects, long or multi-line text) by its type and size.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from pathlib import Path

_KEY_PATTERN = re.compile(r"xai-[A-Za-z0-9_\-]{4,}")
# A credential, not a word: every bearer token we accept is 32+ characters (xAI keys match _KEY_PATTERN), and
# no word of our own messages ("the bearer token is required") is 16 characters of token alphabet.
_BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{16,}")
_REDACTED = "[redacted]"

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message (and its traceback text) with `[redacted]`."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add_secret(self, secret: str) -> None:
        if len(secret) >= 8:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, _REDACTED)
        text = _KEY_PATTERN.sub(_REDACTED, text)
        return _BEARER_PATTERN.sub(lambda m: m.group(1) + _REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatter = logging.Formatter()
            record.exc_text = self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


OUR_LOGGERS = "grok_mcp"
"""The loggers whose lines are written to carry traces only (the request log writes content on its own)."""

SAFE_ARG_CHARS = 120
"""The longest single-line text argument another library's log line keeps: method names, ids, URLs, versions."""

SAFE_MESSAGE_CHARS = 80
"""How much of another library's ready-made message (one with no arguments) is kept before a `: `."""


def _withheld(value: object) -> str:
    """What a log line shows instead of an argument that may carry content: its type, and its size when cheap."""
    if isinstance(value, str | bytes | bytearray):
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"<{type(value).__name__} of {len(value):,} {unit} not logged: [logging] content is off>"
    return f"<{type(value).__name__} not logged: [logging] content is off>"


def _is_trace(value: object) -> bool:
    """Whether a log argument is a trace (a number, a flag, a short one-line name) rather than possible content."""
    if value is None or isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= SAFE_ARG_CHARS and "\n" not in value


class ContentFilter(logging.Filter):
    """Keeps message content out of other libraries' log lines: arguments that may carry it are replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == OUR_LOGGERS or record.name.startswith(OUR_LOGGERS + "."):
            return True
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(arg if _is_trace(arg) else _withheld(arg) for arg in args)
        elif isinstance(args, dict) and args:
            record.args = {key: arg if _is_trace(arg) else _withheld(arg) for key, arg in args.items()}
        elif not args and isinstance(record.msg, str) and len(record.msg) > SAFE_ARG_CHARS:
            head, sep, rest = record.msg.partition(": ")
            kept = f"{head}{sep}" if sep and len(head) <= SAFE_MESSAGE_CHARS else ""
            record.msg = kept + _withheld(rest if kept else record.msg)
        return True


_filter = RedactingFilter()
_content_filter = ContentFilter()


def redaction_filter() -> RedactingFilter:
    """The process's redaction filter (one per process, so every handler shares the secret list)."""
    return _filter


def register_secret(secret: str | None) -> None:
    """Make sure this exact value never appears in a log line of this process."""
    if secret:
        _filter.add_secret(secret)


def shared_rotating_file(path: Path, *, max_bytes: int, backups: int) -> logging.Handler:
    """A size-rotated log file that several processes write at once (every stdio server a client starts, and
    the tray's server, share the data dir's logs).

    The standard RotatingFileHandler rotates under each process's own view of the file: on POSIX the others
    go on writing into the renamed backup, and on Windows the rename fails while another process has the
    file open. concurrent-log-handler takes an inter-process lock around each write and rotation, and a
    writer whose file was rotated by another process reopens the new one. Raises OSError.
    """
    from concurrent_log_handler import ConcurrentRotatingFileHandler

    return ConcurrentRotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")


def configure_logging(
    level: str = "INFO", *, log_dir: Path | None = None, debug: bool = False, content: bool = False
) -> None:
    """Send logs to stderr (and to a rotating file in `log_dir`), every handler behind the redaction filter
    and, unless `content` (the user's `[logging] content`), the content filter.

    stdout is left alone: in stdio mode it belongs to the MCP protocol.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    effective = "DEBUG" if debug else level.upper()
    root.setLevel(effective)

    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter(_FORMAT))
    if not content:
        stderr.addFilter(_content_filter)
    stderr.addFilter(_filter)
    root.addHandler(stderr)

    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            file_handler = shared_rotating_file(log_dir / "grok-mcp.log", max_bytes=2_000_000, backups=5)
        except OSError as exc:
            logging.getLogger(__name__).warning("Not logging to a file in %s: %s", log_dir, exc.strerror)
        else:
            file_handler.setFormatter(logging.Formatter(_FORMAT))
            if not content:
                file_handler.addFilter(_content_filter)
            file_handler.addFilter(_filter)
            root.addHandler(file_handler)

    # Third-party loggers that would otherwise be chatty at INFO; --debug opens them up.
    quiet = logging.DEBUG if debug else logging.WARNING
    for name in ("httpx2", "httpcore2", "uvicorn.access", "mcp", "sse_starlette"):
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
