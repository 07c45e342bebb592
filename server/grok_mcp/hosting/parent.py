"""The parent's lifeline (`serve --exit-with-parent`): a parent holds our stdin open, and its end of file means stop.

The tray starts its HTTP server child with stdin a pipe whose write end only the tray holds. However the tray
ends (it closes the pipe on purpose, exits, crashes, or is killed) the operating system closes that end, and
our read of stdin returns end of file: on Windows, macOS and Linux alike, with no polling and no pid checks.
Only HTTP mode may watch stdin; in stdio mode stdin is the protocol.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading

import anyio
from anyio.from_thread import BlockingPortal

logger = logging.getLogger(__name__)

PARENT_GONE = "Stdin closed (the parent process is gone)"
_CHUNK = 4096


async def wait_for_stdin_eof() -> None:
    """Return once stdin reaches end of file or can no longer be read.

    A daemon thread blocks in read() and discards whatever the parent writes: it never keeps the process
    alive at exit and never spins. No usable stdin at all counts as end of file: no parent holds a lifeline.
    Raises nothing; cancelling the caller leaves the thread blocked harmlessly until the process exits.
    """
    watched = _stdin_fd()
    if watched is None:
        logger.info("No stdin to watch for the parent; treating it as closed")
        return
    closed = anyio.Event()
    async with BlockingPortal() as portal:

        def watch() -> None:
            _read_until_eof(watched)
            # RuntimeError: the server stopped for another reason first, and nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                portal.call(closed.set)

        threading.Thread(target=watch, name="grok-mcp-parent-lifeline", daemon=True).start()
        await closed.wait()


def _stdin_fd() -> int | None:
    stream = sys.stdin
    if stream is None:  # a process started without standard handles (a windowed parent on Windows)
        return None
    try:
        return stream.fileno()
    except (OSError, ValueError):
        return None


def _read_until_eof(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, _CHUNK):
                return
        except OSError as exc:  # a broken or invalid handle: the parent's end is gone just the same
            logger.info("Stdin can no longer be read (%s); treating it as closed", exc.strerror or exc)
            return
