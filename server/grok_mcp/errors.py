"""The error tree: which failures are the world's fault (and what the user should do) and which are ours.

    GrokMCPError                      anything we raise on purpose; `str()` is safe to show a user
    ├── UserFacingError               the world's fault; the message says what happened and what to do
    │   ├── ConfigError               settings.toml or an environment variable is unusable   (exit 2)
    │   ├── InputError                a tool argument is unusable (image too big, not an image, …) (exit 2)
    │   │   └── OutOfTimeError             an answer's check against a JSON Schema ran past its clock
    │   │                                  (grok_mcp/structured/guard.py)
    │   ├── NoApiKeyError             no key in the environment or the keychain        (exit 3)
    │   ├── DatabaseTooNewError       the SQLite file was written by a newer Grok MCP   (exit 4)
    │   ├── DatabaseBusyError         another process kept the database locked too long
    │   ├── DatabaseUnusableError     the file is damaged, not SQLite, or cannot be written
    │   ├── PortInUseError            the HTTP port is taken                            (exit 5)
    │   ├── BudgetExceededError       a paid call refused: the daily or monthly limit is used up
    │   │                             (grok_mcp/calls/budget.py)
    │   ├── StructuredOutputError     an answer did not match the caller's JSON Schema after one repair
    │   │                             (grok_mcp/structured/)
    │   ├── ConversationsOffError     chat_with_context refused: saving conversations is turned off
    │   │                             (grok_mcp/tools/conversations.py)
    │   ├── ClientSetupError          an MCP client's config cannot be changed safely (grok_mcp/clients/errors.py)
    │   │   ├── ConfigSyntaxError          the file does not parse (line and column given)
    │   │   ├── ConfigShapeError           it parses, but not into the shape the client documents
    │   │   ├── ConfigUnreadableError      not read: over 1 MiB, not a regular file, a looping or dangling link
    │   │   ├── ConfigReadOnlyError        the file or its folder cannot be written
    │   │   ├── ConfigLockTimeoutError     another writer held the file's lock too long
    │   │   ├── ConfigWriteError           the atomic write failed (disk full, …)
    │   │   ├── NothingToUndoError         no backup to restore
    │   │   ├── UnknownClientError         not one of our client names               (exit 2)
    │   │   └── UnsupportedModeError       the client cannot be set up that way      (exit 2)
    │   ├── KeychainError             the OS keychain cannot be used                    (exit 6)
    │   │   ├── KeychainUnavailableError   no keychain backend (headless Linux, no D-Bus)
    │   │   └── KeychainLockedError        the keychain is locked and cannot prompt
    │   └── XAIError                  xAI (or the simulator) refused or failed a call
    │       ├── InvalidKeyError            wrong, revoked or missing key (xAI says 400, or 401)
    │       ├── PermissionDeniedError      403: ACLs, blocked key or team, no licence
    │       ├── CreditsExhaustedError      429/403 whose message speaks of credits or spending limits
    │       ├── RateLimitedError           429 rate limits and capacity (retried first)
    │       ├── InvalidRequestError        400 and 422: the request itself is wrong
    │       ├── ModelNotFoundError         404 for a model, or 400 "Model not found"
    │       ├── NotFoundError              404 for anything else
    │       ├── GoneError                  410: a removed feature (Live Search, /v1/messages)
    │       ├── UpstreamUnavailableError   500, 502, 503, 504 and connection failures (retried first)
    │       ├── UpstreamTimeoutError       no answer or no bytes within the timeout
    │       └── StreamInterruptedError     a stream that carried an error or broke off midway
    └── (a bug)                       any other exception: logged with its traceback at the boundary

Every GrokMCPError carries the `ExitCode` a command ends with (1 unless drawn otherwise above).

Messages never carry secrets: an API key is shown only in xAI's own redacted form (`xa***yz`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    """How a `grok-mcp` command ends (DESIGN.md §3); the tray reads its server child's exit code by these names."""

    OK = 0
    ERROR = 1
    BAD_USAGE = 2
    NO_API_KEY = 3
    DATABASE_TOO_NEW = 4
    PORT_IN_USE = 5
    KEYCHAIN_UNAVAILABLE = 6
    SERVICE_UNAVAILABLE = 7


class GrokMCPError(Exception):
    """Base of every error we raise on purpose."""

    exit_code: ExitCode = ExitCode.ERROR


class UserFacingError(GrokMCPError):
    """The world's fault; the message tells the user what happened and what to do next."""


class ConfigError(UserFacingError):
    """A setting in settings.toml or the environment cannot be used."""

    exit_code = ExitCode.BAD_USAGE


class InputError(UserFacingError):
    """A tool argument cannot be used as given."""

    exit_code = ExitCode.BAD_USAGE


class NoApiKeyError(UserFacingError):
    """No xAI API key is configured."""

    exit_code = ExitCode.NO_API_KEY

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "No xAI API key is configured. Run `grok-mcp keys set` to store one in the OS keychain, "
            "set XAI_API_KEY, or start with `--simulate` to try Grok MCP on the built-in simulator."
        )


class DatabaseTooNewError(UserFacingError):
    """The database was written by a newer version of Grok MCP; it is left untouched."""

    exit_code = ExitCode.DATABASE_TOO_NEW


class DatabaseBusyError(UserFacingError):
    """Another process kept the database locked for longer than we are willing to wait."""


class DatabaseUnusableError(UserFacingError):
    """The database file is damaged, is not a Grok MCP database, or cannot be created or written."""


class PortInUseError(UserFacingError):
    """The TCP port for HTTP mode is already taken."""

    exit_code = ExitCode.PORT_IN_USE


class KeychainError(UserFacingError):
    """The OS keychain cannot be used; we never fall back to storing keys in plain text."""

    exit_code = ExitCode.KEYCHAIN_UNAVAILABLE


class KeychainUnavailableError(KeychainError):
    """No keychain backend is available (for example headless Linux without a Secret Service)."""


class KeychainLockedError(KeychainError):
    """The keychain is locked and could not be unlocked without a prompt."""


@dataclass(frozen=True)
class UpstreamCall:
    """What we know of one HTTP exchange with xAI, for the usage ledger, even when it failed."""

    endpoint: str
    status: int | None = None
    request_id: str | None = None
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    attempts: int = 1
    cost_ticks: int = 0
    extra: dict[str, object] = field(default_factory=dict[str, object])


class XAIError(UserFacingError):
    """xAI refused or failed a call. `status` is the HTTP status (None for transport failures)."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        upstream_message: str | None = None,
        call: UpstreamCall | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.upstream_message = upstream_message
        self.call = call
        self.retry_after = retry_after


class InvalidKeyError(XAIError):
    """xAI rejected the API key."""


class PermissionDeniedError(XAIError):
    """The key or team may not do this (ACLs, blocked, no licence)."""


class CreditsExhaustedError(XAIError):
    """The team has no credits left or reached its spending limit; retrying will not help."""


class RateLimitedError(XAIError):
    """xAI is rate-limiting us or is at capacity."""

    retryable = True


class InvalidRequestError(XAIError):
    """xAI rejected the request as malformed or unsupported for the model."""


class ModelNotFoundError(XAIError):
    """The model does not exist, was retired, or the team has no access to it."""


class NotFoundError(XAIError):
    """Something other than a model was not found (a response id, a deferred request)."""


class GoneError(XAIError):
    """xAI removed this feature."""


class UpstreamUnavailableError(XAIError):
    """xAI failed or could not be reached."""

    retryable = True


class UpstreamTimeoutError(XAIError):
    """xAI sent nothing within the timeout."""

    retryable = True


class StreamInterruptedError(XAIError):
    """A stream carried an error event or broke off before it finished."""
