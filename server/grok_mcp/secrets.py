"""The OS keychain, the only code that touches keyring: the xAI API key (active, previous), the HTTP token.

Every keyring failure becomes a `KeychainError` whose message says what to do; a key never appears in a
message, an exception chain or a log record, and no key ever falls back to being stored in plain text. The one
file-held secret is a per-run HTTP token, made when there is no keychain to keep one: readable only by its
owner (0600) and removed when the server that made it stops.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import secrets as _random
import stat
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, TypeVar, cast

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

from grok_mcp.errors import (
    ConfigError,
    InputError,
    KeychainError,
    KeychainLockedError,
    KeychainUnavailableError,
    NoApiKeyError,
)

SERVICE = "grok-mcp"
API_KEY_ITEM = "xai-api-key"
PREVIOUS_API_KEY_ITEM = "xai-api-key-previous"
HTTP_TOKEN_ITEM = "http-token"  # noqa: S105 (an item name, not a token)
# Present while the active key was stored without asking xAI: it holds the key's SHA-256, so a key stored
# later by any other path is never mistaken for the unchecked one.
UNVALIDATED_ITEM = "xai-api-key-unvalidated"

API_KEY_ENV = "XAI_API_KEY"
HTTP_TOKEN_ENV = "GROK_MCP_HTTP_TOKEN"  # noqa: S105 (a variable name, not a token)
BACKEND_ENV = "PYTHON_KEYRING_BACKEND"

KEY_PREFIX = "xai-"
_MIN_KEY_LENGTH = 12
_MAX_KEY_LENGTH = 256
_KEY_BODY = re.compile(r"[A-Za-z0-9_-]+")
_REVEAL_FROM_LENGTH = 20
# Anything that looks like an xAI key, for scrubbing text that came from a keyring backend.
_KEY_LIKE = re.compile(r"xai-[A-Za-z0-9_-]{4,}")

_ITEM_LABELS = {
    API_KEY_ITEM: "the xAI API key",
    PREVIOUS_API_KEY_ITEM: "the previous xAI API key",
    HTTP_TOKEN_ITEM: "the local HTTP token",
    UNVALIDATED_ITEM: "the note that the xAI API key is not checked yet",
}
_PLAINTEXT_MODULES = "keyrings.alt"

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


# --- presentation ------------------------------------------------------------------------------------


def redact(secret: str | None) -> str:
    """Show a secret as its public prefix and last 4 characters (`xai-…k9Qz`); short ones as `…` only."""
    if not secret:
        return ""
    text = secret.strip()
    if len(text) < _REVEAL_FROM_LENGTH:
        return "…"
    prefix = KEY_PREFIX if text.startswith(KEY_PREFIX) else ""
    return f"{prefix}…{text[-4:]}"


def check_key_format(key: str) -> str:
    """Return the key without surrounding whitespace if it can be an xAI API key.

    Raises InputError saying what is wrong with it (never quoting it) and where to get a good one.
    """
    candidate = key.strip()
    where = "Copy the key again from https://console.x.ai (API Keys)."
    if not candidate:
        raise InputError(f"The API key is empty. {where}")
    if candidate[0] in "\"'" or candidate[-1] in "\"'":
        raise InputError("The API key is wrapped in quotes; paste the key alone, without quotes.")
    if any(char.isspace() for char in candidate):
        raise InputError(f"The API key contains spaces or line breaks; paste it as one line. {where}")
    if not candidate.startswith(KEY_PREFIX):
        hint = ""
        if candidate.startswith("sk-ant-"):
            hint = " This looks like an Anthropic key."
        elif candidate.startswith("sk-"):
            hint = " This looks like an OpenAI key."
        elif candidate.lower().startswith(KEY_PREFIX):
            hint = " The prefix must be lowercase."
        raise InputError(f"xAI API keys start with `{KEY_PREFIX}`; this one does not.{hint} {where}")
    if len(candidate) < _MIN_KEY_LENGTH:
        raise InputError(f"The API key is too short to be an xAI key; it was probably cut off. {where}")
    if len(candidate) > _MAX_KEY_LENGTH:
        raise InputError(
            f"The API key is longer than {_MAX_KEY_LENGTH} characters, so it is not a single xAI key. {where}"
        )
    if not _KEY_BODY.fullmatch(candidate[len(KEY_PREFIX) :]):
        raise InputError(f"The API key contains characters an xAI key never has. {where}")
    return candidate


# --- the backend -------------------------------------------------------------------------------------


def _qualified_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def session_bus_address(environ: Mapping[str, str], *, uid: int, runtime_root: Path = Path("/run/user")) -> str | None:
    """The D-Bus session bus address to use when the environment names none, or None.

    MCP clients start stdio servers with a handful of variables (HOME, PATH, USER …), so a server started
    by Claude Desktop on Linux has no DBUS_SESSION_BUS_ADDRESS and would find no Secret Service. A systemd
    user session keeps its bus at `$XDG_RUNTIME_DIR/bus`, else `/run/user/<uid>/bus`: use it when it is
    really there (a socket), and nothing otherwise.
    """
    if environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    candidates = [Path(environ["XDG_RUNTIME_DIR"]) / "bus"] if environ.get("XDG_RUNTIME_DIR") else []
    candidates.append(runtime_root / str(uid) / "bus")
    for candidate in candidates:
        try:
            if stat.S_ISSOCK(candidate.stat().st_mode):
                return f"unix:path={candidate}"
        except OSError:
            continue
    return None


def _find_session_bus() -> None:
    """On Linux, point keyring at the user's session bus when the client that started us did not."""
    if not sys.platform.startswith("linux") or os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return
    address = session_bus_address(os.environ, uid=os.getuid())
    if address is not None:
        logger.debug("No DBUS_SESSION_BUS_ADDRESS in the environment; using the session bus at %s", address)
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address


def backend_name() -> str:
    """The active keyring backend's dotted class name, or a description of why there is none. Never raises."""
    _find_session_bus()
    try:
        import keyring

        return _qualified_name(keyring.get_keyring())
    except Exception as exc:  # keyring raises whatever loading PYTHON_KEYRING_BACKEND raised
        return f"unavailable ({type(exc).__name__})"


def _is_plaintext(backend: KeyringBackend) -> bool:
    module = type(backend).__module__
    return module == _PLAINTEXT_MODULES or module.startswith(_PLAINTEXT_MODULES + ".")


def _unavailable_message(detail: str, variable: str) -> str:
    return (
        f"No OS keychain is available ({detail}). On Linux install and unlock gnome-keyring or KWallet "
        "(a Secret Service in your D-Bus session); on macOS and Windows the system keychain is used. "
        f"On a headless machine, in Docker or in CI, set {variable} instead."
    )


def _refusal(backend: KeyringBackend, variable: str) -> str | None:
    """Why `backend` must not hold our secrets, or None if it may."""
    from keyring.backends import fail, null

    name = _qualified_name(backend)
    if isinstance(backend, fail.Keyring | null.Keyring):
        return _unavailable_message(f"keyring backend: {name}", variable)
    if _is_plaintext(backend) and os.environ.get(BACKEND_ENV) != name:
        detail = f"the only keyring backend, {name}, stores secrets in a plain file"
        return _unavailable_message(detail, variable) + (f" To use that backend anyway, set {BACKEND_ENV}={name}.")
    return None


def _active_backend(variable: str) -> KeyringBackend:
    """The backend to use, refusing ones that cannot keep a secret safely.

    Raises KeychainUnavailableError for the fail and null backends, for a backend that cannot be loaded,
    and for a plaintext backend nobody chose explicitly with PYTHON_KEYRING_BACKEND.
    """
    _find_session_bus()
    # keyring is imported here, not at the top: a process that has XAI_API_KEY never pays for it.
    import keyring
    from keyring.backends import chainer, fail

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a bad PYTHON_KEYRING_BACKEND raises ImportError, RuntimeError, …
        detail = f"the keyring backend could not be loaded: {type(exc).__name__}"
        reason = _unavailable_message(detail, variable) + f" Check {BACKEND_ENV} if you set it."
    else:
        if isinstance(backend, chainer.ChainerBackend):
            # A chain would fall back to any plaintext backend in it when the keychain fails: skip those.
            backend = next((ring for ring in backend.backends if not _is_plaintext(ring)), fail.Keyring())
        refusal = _refusal(backend, variable)
        if refusal is None:
            return backend
        reason = refusal
    raise KeychainUnavailableError(reason)


def _scrub(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, redact(secret))
    return _KEY_LIKE.sub(lambda match: redact(match.group(0)), text)


def _translate(
    exc: Exception, action: str, backend: KeyringBackend, *, secret: str | None, variable: str
) -> KeychainError:
    """The KeychainError a user should see for a backend failure while doing `action`."""
    import keyring.errors

    name = _qualified_name(backend)
    detail = _scrub(str(exc), secret)
    logger.debug("Keychain failed to %s (%s): %s: %s", action, name, type(exc).__name__, detail)
    if isinstance(exc, keyring.errors.NoKeyringError):
        return KeychainUnavailableError(_unavailable_message(f"keyring backend: {name}", variable))
    lowered = detail.lower()
    if isinstance(exc, keyring.errors.KeyringLocked) or (
        isinstance(exc, keyring.errors.InitError) and ("prompt dismissed" in lowered or "locked" in lowered)
    ):
        return KeychainLockedError(
            f"The keychain is locked; unlock it and try again (could not {action}). On Linux unlock the "
            "login keyring in Passwords and Keys (Seahorse) or start gnome-keyring-daemon with --unlock; on "
            f"macOS unlock it in Keychain Access. Or set {variable} instead of using the keychain."
        )
    if isinstance(exc, keyring.errors.InitError):
        return KeychainUnavailableError(_unavailable_message(f"{name} could not {action}: {detail}", variable))
    return KeychainError(
        f"The OS keychain ({name}) failed to {action}: {type(exc).__name__}: {detail}. "
        f"Check that the keychain is unlocked and working (`grok-mcp doctor`), or set {variable}."
    )


def _with_keychain(item: str, verb: str, operation: Callable[[KeyringBackend], _T], secret: str = "") -> _T:
    """Run `operation` on the backend; any exception it raises becomes a KeychainError with no chain."""
    variable = HTTP_TOKEN_ENV if item == HTTP_TOKEN_ITEM else API_KEY_ENV
    backend = _active_backend(variable)
    try:
        return operation(backend)
    except Exception as exc:  # every backend failure is translated, never leaked raw
        error = _translate(exc, f"{verb} {_ITEM_LABELS[item]}", backend, secret=secret, variable=variable)
    # Raised outside the except block so neither __cause__ nor __context__ reaches the backend's
    # exception, whose frames hold the secret being written.
    raise error


def _read(item: str) -> str | None:
    def read(backend: KeyringBackend) -> str | None:
        try:
            return backend.get_password(SERVICE, item)
        except Exception as exc:
            if not _is_vanished_item(exc):
                raise
        # Another process deleted the item between the Secret Service finding it and handing it over.
        return backend.get_password(SERVICE, item)

    return _with_keychain(item, "read", read)


def _is_vanished_item(exc: Exception) -> bool:
    try:
        from secretstorage.exceptions import ItemNotFoundException
    except ImportError:  # not Linux: no Secret Service
        return False
    return isinstance(exc, ItemNotFoundException)


def _write(item: str, value: str) -> None:
    def store(backend: KeyringBackend) -> None:
        # keyring's decorator on set_password hides its signature from the type checker.
        backend.set_password(SERVICE, item, value)  # pyright: ignore[reportUnknownMemberType]

    _with_keychain(item, "store", store, secret=value)


def _delete(item: str) -> bool:
    def delete(backend: KeyringBackend) -> bool:
        import keyring.errors

        try:
            backend.delete_password(SERVICE, item)
        except keyring.errors.PasswordDeleteError:
            # Backends say "not found" with this error too; only an item still there is a failure.
            if backend.get_password(SERVICE, item) is None:
                return False
            raise
        return True

    return _with_keychain(item, "delete", delete)


# --- the xAI API key ---------------------------------------------------------------------------------


def _env_value(environ: Mapping[str, str] | None, name: str) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    return value or None


def get_api_key(environ: Mapping[str, str] | None = None) -> str | None:
    """The xAI API key: XAI_API_KEY if set, else the keychain's, else None.

    Raises KeychainError (a subclass saying why) when the variable is unset and the keychain cannot be read.
    """
    return _env_value(environ, API_KEY_ENV) or _read(API_KEY_ITEM)


def api_key_source(environ: Mapping[str, str] | None = None) -> Literal["env", "keychain"] | None:
    """Where get_api_key would find the key. Raises KeychainError like get_api_key."""
    if _env_value(environ, API_KEY_ENV):
        return "env"
    return "keychain" if _read(API_KEY_ITEM) else None


def ensure_keychain() -> None:
    """Check that the keychain can be read, before asking for a key it would have to keep.

    Raises KeychainError (a subclass saying why, and naming XAI_API_KEY as the way around it).
    """
    _read(API_KEY_ITEM)


def store_api_key(key: str, *, validated: bool = True) -> None:
    """Store `key` as the active xAI API key; `validated=False` notes that xAI has not seen it yet.

    Raises InputError for a malformed key, KeychainError.
    """
    key = check_key_format(key)
    _write(API_KEY_ITEM, key)
    _note_validation(key, validated=validated)
    logger.info("Stored the xAI API key %s in the keychain (%s).", redact(key), backend_name())


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _note_validation(key: str, *, validated: bool) -> None:
    if validated:
        _delete(UNVALIDATED_ITEM)
    else:
        _write(UNVALIDATED_ITEM, _fingerprint(key))


def is_api_key_validated(key: str) -> bool:
    """False while `key` is the keychain's key stored with `keys set --no-validate` and not checked since.

    Raises KeychainError.
    """
    return _read(UNVALIDATED_ITEM) != _fingerprint(key)


def mark_api_key_validated(key: str) -> bool:
    """xAI accepted `key`: if it is the keychain's unchecked key, it is checked now. True if that changed.

    Never raises: a keychain that fails here leaves the note for the next check.
    """
    try:
        if is_api_key_validated(key):
            return False
        _delete(UNVALIDATED_ITEM)
    except KeychainError as exc:
        logger.info("Could not note that xAI accepted the key: %s", exc)
        return False
    logger.info("xAI accepted the xAI API key %s, stored unchecked earlier.", redact(key))
    return True


def delete_api_key() -> bool:
    """Remove the active and any previous xAI API key; True if something was removed. Raises KeychainError."""
    removed = _delete(API_KEY_ITEM)
    removed = _delete(PREVIOUS_API_KEY_ITEM) or removed
    _delete(UNVALIDATED_ITEM)
    if removed:
        logger.info("Removed the xAI API key from the keychain.")
    return removed


def rotate_api_key(
    new_key: str, *, grace_seconds: float = 3600, now: float | None = None, validated: bool = True
) -> None:
    """Make `new_key` the active key and keep the old one as the previous key for `grace_seconds`.

    Validating the new key against xAI is the caller's job and must happen before this call (`validated=False`
    notes that it did not). Raises InputError for a malformed key or grace period, KeychainError when the
    keychain fails.
    """
    new_key = check_key_format(new_key)
    if not math.isfinite(grace_seconds) or grace_seconds < 0:
        raise InputError("The grace period must be zero or more seconds.")
    if _env_value(None, API_KEY_ENV):
        logger.warning("%s is set in this environment and still overrides the rotated key.", API_KEY_ENV)
    old_key = _read(API_KEY_ITEM)
    if old_key and old_key != new_key:
        expires_at = (time.time() if now is None else now) + grace_seconds
        # The previous key is written first: if storing the new key then fails, the old key stays active.
        _write(PREVIOUS_API_KEY_ITEM, json.dumps({"key": old_key, "expires_at": expires_at}))
        _write(API_KEY_ITEM, new_key)
        logger.info(
            "Rotated the xAI API key: %s is active, %s stays previous for %.0f s.",
            redact(new_key),
            redact(old_key),
            grace_seconds,
        )
    else:
        _write(API_KEY_ITEM, new_key)
        logger.info("Stored the xAI API key %s in the keychain (nothing to rotate from).", redact(new_key))
    _note_validation(new_key, validated=validated)


def previous_api_key(*, now: float | None = None) -> tuple[str, float] | None:
    """The key replaced by the last rotation and when its grace period ends (epoch seconds), while it lasts.

    An expired or unreadable previous key is removed and None returned. Raises KeychainError.
    """
    raw = _read(PREVIOUS_API_KEY_ITEM)
    if raw is None:
        return None
    parsed = _parse_previous(raw)
    current = time.time() if now is None else now
    if parsed is None or parsed[1] <= current:
        if parsed is None:
            logger.warning("The previous xAI API key in the keychain is unreadable; removing it.")
        else:
            logger.info("The grace period of the previous xAI API key %s is over.", redact(parsed[0]))
        _delete(PREVIOUS_API_KEY_ITEM)
        return None
    return parsed


def _parse_previous(raw: str) -> tuple[str, float] | None:
    try:
        data: object = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    fields = cast(dict[str, object], data)
    key, expires_at = fields.get("key"), fields.get("expires_at")
    if not isinstance(key, str) or isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        return None
    return key, float(expires_at)


def end_grace_period() -> None:
    """Forget the previous key now. Raises KeychainError."""
    if _delete(PREVIOUS_API_KEY_ITEM):
        logger.info("Ended the grace period of the previous xAI API key.")


# --- the local HTTP token ----------------------------------------------------------------------------


MIN_HTTP_TOKEN_LENGTH = 32  # a bearer token any shorter can be guessed; DESIGN.md §3 says ≥ 32
MAKE_A_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'  # noqa: S105 (a command, not a token)
_HTTP_TOKEN_PLACE = f"service {SERVICE}, account {HTTP_TOKEN_ITEM}"


def get_http_token(
    environ: Mapping[str, str] | None = None, *, create: bool = True, run_token_file: Path | None = None
) -> str | None:
    """The bearer token for HTTP mode: GROK_MCP_HTTP_TOKEN, else the keychain's, else a new one stored there.

    When the keychain cannot be used and `run_token_file` holds the token of a server running without one
    (see create_run_token), that token. With create=False a missing token gives None. Raises KeychainError,
    and ConfigError (exit 2) for a token shorter than MIN_HTTP_TOKEN_LENGTH characters.
    """
    from_env = _env_value(environ, HTTP_TOKEN_ENV)
    if from_env:
        return _strong_token(
            from_env,
            f"{HTTP_TOKEN_ENV} is",
            f"Make one with `{MAKE_A_TOKEN}` and set {HTTP_TOKEN_ENV} to it, or unset {HTTP_TOKEN_ENV} to use "
            "the token Grok MCP keeps in the OS keychain.",
        )
    try:
        stored = _read(HTTP_TOKEN_ITEM)
    except KeychainError:
        from_file = read_run_token(run_token_file) if run_token_file is not None else None
        if from_file is None:
            raise
        return from_file
    if stored:
        return _strong_token(
            stored,
            f"The local HTTP token in the OS keychain ({_HTTP_TOKEN_PLACE}) is",
            "Delete that keychain item and Grok MCP creates a strong one, or set "
            f"{HTTP_TOKEN_ENV} to a token made with `{MAKE_A_TOKEN}`.",
        )
    if not create:
        return None
    _write(HTTP_TOKEN_ITEM, _random.token_urlsafe(MIN_HTTP_TOKEN_LENGTH))
    # Read back: when two processes create a token at once, both end up with whichever was stored last.
    stored = _read(HTTP_TOKEN_ITEM)
    if not stored:
        raise KeychainError(
            f"The OS keychain ({backend_name()}) did not keep the local HTTP token it was given. "
            f"Set {HTTP_TOKEN_ENV} instead, or check the keychain with `grok-mcp doctor`."
        )
    logger.info("Created the local HTTP token %s in the keychain.", redact(stored))
    return stored


def run_token_path(home: Path, port: int) -> Path:
    """The file where a server on `port` keeps its per-run HTTP token when there is no keychain to keep one."""
    return home / f"http-token-{port}"


def create_run_token(path: Path) -> str:
    """A new per-run HTTP token, written to `path` readable only by this user (0600), replacing an older one.

    For a server that cannot keep its token in the keychain: clients on this machine read it from the file
    (`grok-mcp clients install NAME --http` does), and remove_run_token deletes it when the server stops.
    Raises OSError when the file cannot be written.
    """
    token = _random.token_urlsafe(MIN_HTTP_TOKEN_LENGTH)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.unlink(missing_ok=True)
    # Created with its final mode and never followed through a link, then renamed over the old file at once.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(partial, flags, 0o600), "w", encoding="utf-8") as file:
        file.write(token + "\n")
    os.replace(partial, path)
    logger.info("Created the per-run HTTP token %s in %s (no keychain to keep one).", redact(token), path)
    return token


_MAX_RUN_TOKEN_BYTES = 1024


def read_run_token(path: Path) -> str | None:
    """The per-run HTTP token in `path`, or None when there is no such file or it holds no usable token."""
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_RUN_TOKEN_BYTES + 1)
    except OSError:
        return None
    token = raw.decode("utf-8", errors="replace").strip()
    if len(raw) > _MAX_RUN_TOKEN_BYTES or len(token) < MIN_HTTP_TOKEN_LENGTH:
        return None
    return token


def remove_run_token(path: Path, token: str) -> None:
    """Delete the per-run token file if it still holds `token` (a server started since may have replaced it)."""
    if read_run_token(path) == token:
        with contextlib.suppress(OSError):
            path.unlink()


def _strong_token(token: str, where: str, what_to_do: str) -> str:
    """`token` if it is long enough to serve as a bearer token; raises ConfigError (naming only its length)."""
    if len(token) >= MIN_HTTP_TOKEN_LENGTH:
        return token
    length = f"{len(token)} character{'' if len(token) == 1 else 's'}"
    raise ConfigError(
        f"{where} {length} long; the HTTP bearer token must be at least {MIN_HTTP_TOKEN_LENGTH} characters, "
        f"so that it cannot be guessed. {what_to_do}"
    )


# --- the key for every request -----------------------------------------------------------------------


class ApiKeyProvider:
    """The API key for each request: XAI_API_KEY, else the keychain, re-read at most every `refresh_seconds`.

    A key stored, rotated or removed by another process (the tray, `grok-mcp keys`) is picked up without a
    restart. If the keychain fails after a key was read, the last key keeps working (with a warning) until
    the keychain answers again. Safe to call from several threads.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._environ = environ
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._key: str | None = None
        self._error: KeychainError | None = None

    def __call__(self) -> str:
        """The key to send now. Raises NoApiKeyError when there is none, KeychainError when unreadable."""
        from_env = _env_value(self._environ, API_KEY_ENV)
        if from_env:
            return from_env
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._refresh_seconds:
                self._refresh(now)
            if self._key is not None:
                return self._key
            if self._error is not None:
                self._raise_error(self._error)
        raise NoApiKeyError()

    def refresh_due(self) -> bool:
        """Whether the next call would read the keychain (async callers then call `refresh` in a worker thread)."""
        if _env_value(self._environ, API_KEY_ENV):
            return False
        with self._lock:
            return self._read_at is None or self._clock() - self._read_at >= self._refresh_seconds

    def refresh(self) -> None:
        """Read the keychain now. Raises nothing: a failure is kept, and the next call raises it (or keeps the
        last key)."""
        with self._lock:
            self._refresh(self._clock())

    def invalidate(self) -> None:
        """Read the keychain again on the next call (for example after xAI rejected the key)."""
        with self._lock:
            self._read_at = None

    def _refresh(self, now: float) -> None:
        self._read_at = now
        try:
            key = _read(API_KEY_ITEM)
        except KeychainError as exc:
            if self._key is not None:
                logger.warning("Keeping the last xAI API key %s: %s", redact(self._key), exc)
            self._error = exc
            return
        self._error = None
        if key != self._key:
            if key is None:
                logger.info("The xAI API key was removed from the keychain.")
            elif self._key is not None:
                logger.info("The xAI API key changed in the keychain; now using %s.", redact(key))
        self._key = key

    @staticmethod
    def _raise_error(error: KeychainError) -> NoReturn:
        # A fresh exception each time, so tracebacks do not pile up on one shared object.
        raise type(error)(str(error))
