"""The client-setup branch of the error tree: config files we refuse to touch, and why.

    UserFacingError (grok_mcp.errors)
    └── ClientSetupError              a client's config cannot be changed safely           (exit 1)
        ├── ConfigSyntaxError         the file does not parse: names the file, line and column
        ├── ConfigShapeError          it parses, but the part we would edit is not what the client expects
        ├── ConfigReadOnlyError       the user made the file read-only; we leave it alone
        ├── ConfigUnreadableError     not read at all: over MAX_CONFIG_BYTES, not a regular file, a link that
        │                             loops or points at nothing
        ├── ConfigLockTimeoutError    another writer held the file's lock for longer than the bound
        ├── ConfigWriteError          the file could not be written, or did not read back as written
        ├── NothingToUndoError        no backup is left for this client's config file
        └── UnknownClientError        the NAME is not one we know                          (exit 2)
            UnsupportedModeError      the client cannot take what was asked (HTTP for Claude Desktop)  (exit 2)

Every message says that nothing was changed (or what was restored) and what to do next.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grok_mcp.errors import ExitCode, UserFacingError


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of `offset` in `text`, as a ConfigSyntaxError names them."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def too_long_number(digits: str) -> str:
    """What a ConfigSyntaxError says of a number longer than Python converts (`sys.get_int_max_str_digits()`)."""
    return (
        f"a number of {len(digits.lstrip('-'))} digits, more than the {sys.get_int_max_str_digits()} that "
        "Grok MCP reads"
    )


class ClientSetupError(UserFacingError):
    """A client's config file cannot be changed safely; the file is left as it was."""

    exit_code = ExitCode.ERROR


class ConfigSyntaxError(ClientSetupError):
    """The config file does not parse; it is never treated as empty."""

    def __init__(self, path: Path, line: int, column: int, detail: str, fmt: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.detail = detail
        super().__init__(
            f"{path} is not valid {fmt} (line {line}, column {column}: {detail}). "
            "Grok MCP changed nothing. Fix that line (or restore the file from a backup) and try again."
        )


class ConfigShapeError(ClientSetupError):
    """The file parses, but the place for our entry holds something else."""


class ConfigUnreadableError(ClientSetupError):
    """The file is not read at all: too large, not a regular file, or a symbolic link that loops or dangles."""


class ConfigReadOnlyError(ClientSetupError):
    """The file is marked read-only; we respect that instead of replacing it."""


class ConfigLockTimeoutError(ClientSetupError):
    """Another process kept the file's lock for too long."""


class ConfigWriteError(ClientSetupError):
    """Writing failed or the file did not read back as written (the previous content was restored)."""


class NothingToUndoError(ClientSetupError):
    """There is no backup to restore."""


class UnknownClientError(ClientSetupError):
    """The client name is not one of ours."""

    exit_code = ExitCode.BAD_USAGE


class UnsupportedModeError(ClientSetupError):
    """The client cannot be configured the way that was asked."""

    exit_code = ExitCode.BAD_USAGE
