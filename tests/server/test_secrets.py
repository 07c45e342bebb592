"""grok_mcp.secrets against a real gnome-keyring on a private D-Bus session (see tests/support/keychain.py)."""

from __future__ import annotations

import json
import logging
import stat
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import keyring
import keyring.errors
import pytest
from grok_mcp import secrets
from grok_mcp.errors import InputError, KeychainError, KeychainLockedError, KeychainUnavailableError, NoApiKeyError
from grok_mcp.grok.keys import key_ready
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.compat import properties

from tests.support.keychain import SECRET_SERVICE_BACKEND, KeychainSession
from tests.support.processes import run_to_end

KEY_A = "xai-" + "A" * 40 + "1111"
KEY_B = "xai-" + "B" * 40 + "2222"
FROM_ENV = "http-token-from-the-environment-0001"


@pytest.fixture
def canary() -> str:
    return f"xai-CANARY-{uuid.uuid4().hex}"


def assert_no_canary(text: str, canary: str) -> None:
    """Neither the canary nor any 8-character piece of it is in `text` (goal K1)."""
    for start in range(len(canary) - 7):
        piece = canary[start : start + 8]
        assert piece not in text, f"{piece!r} of the canary leaked"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- keyring backends that cannot be had for real here ------------------------------------------------
# priority -1: keyring's detection never picks them (a fake with priority > 0 turns the active backend
# into a ChainerBackend); tests install them explicitly with keyring.set_keyring.


class MemoryKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("No such password!")


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt.file.PlaintextKeyring (keyrings.alt is not installed)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"
PLAINTEXT_NAME = "keyrings.alt.file.PlaintextKeyring"


class RaisingKeyring(KeyringBackend):
    """A backend whose every call fails the way a real one does on macOS, Windows or a broken D-Bus."""

    priority = -1  # type: ignore[assignment]

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error or keyring.errors.KeyringError("unused")

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error

    def delete_password(self, service: str, username: str) -> None:
        raise self.error


@pytest.fixture
def use_backend() -> Iterator[Callable[[KeyringBackend], None]]:
    """Install a backend for one test and put the detected one back afterwards."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


# --- presentation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (None, ""),
        ("", ""),
        ("xai-short", "…"),
        ("xai-0123456789abcdef", "xai-…cdef"),
        ("  xai-0123456789abcdefk9Qz\n", "xai-…k9Qz"),
        ("Zk3_token-value-long-enough", "…ough"),
    ],
)
def test_redact_shows_the_prefix_and_last_four_characters_only(secret: str | None, shown: str) -> None:
    assert secrets.redact(secret) == shown


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
def test_redact_never_reveals_more_than_the_last_four_characters(secret: str) -> None:
    text = secret.strip()
    assert secrets.redact(secret) in {"", "…", f"…{text[-4:]}", f"xai-…{text[-4:]}"}
    if len(text) < 20:
        assert secrets.redact(secret) in {"", "…"}


def test_check_key_format_strips_whitespace_around_a_good_key() -> None:
    assert secrets.check_key_format(f"  {KEY_A}\n") == KEY_A


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("", "The API key is empty"),
        ("   \n", "The API key is empty"),
        (f'"{KEY_A}"', "without quotes"),
        ("xai-abcdef ghijklmnop", "spaces or line breaks"),
        ("sk-proj-abcdefghijklmnop", "looks like an OpenAI key"),
        ("sk-ant-api03-abcdefghijkl", "looks like an Anthropic key"),
        ("XAI-abcdefghijklmnop", "prefix must be lowercase"),
        ("abcdefghijklmnopqrst", "start with `xai-`"),
        ("xai-abc", "too short"),
        ("xai-" + "a" * 300, "longer than 256"),
        ("xai-abcdefgh/ijkl", "characters an xAI key never has"),
        ("xai-ключключключ", "characters an xAI key never has"),
    ],
)
def test_check_key_format_says_what_is_wrong_without_quoting_the_key(key: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        secrets.check_key_format(key)
    message = str(caught.value)
    assert says in message
    assert "console.x.ai" in message or "quotes" in message
    if len(key.strip()) >= 8:
        assert key.strip() not in message


# --- the real keychain --------------------------------------------------------------------------------


def test_the_backend_is_the_secret_service(clean_keychain: KeychainSession) -> None:
    assert secrets.backend_name() == SECRET_SERVICE_BACKEND


def test_a_stored_key_is_read_back_and_removed(clean_keychain: KeychainSession) -> None:
    assert secrets.get_api_key({}) is None
    secrets.store_api_key(f" {KEY_A} ")
    assert secrets.get_api_key({}) == KEY_A
    assert keyring.get_password(secrets.SERVICE, secrets.API_KEY_ITEM) == KEY_A
    assert secrets.api_key_source({}) == "keychain"
    assert secrets.delete_api_key() is True
    assert secrets.get_api_key({}) is None
    assert secrets.api_key_source({}) is None
    assert secrets.delete_api_key() is False


def test_a_child_process_reads_the_key_stored_by_this_one(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    child = run_to_end(
        [sys.executable, "-c", "from grok_mcp import secrets; print(secrets.redact(secrets.get_api_key({})))"]
    )
    assert (child.returncode, child.stdout.strip()) == (0, "xai-…1111"), child.stderr


def test_a_malformed_key_is_refused_and_the_stored_one_kept(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    with pytest.raises(InputError):
        secrets.store_api_key("sk-not-an-xai-key-at-all")
    assert secrets.get_api_key({}) == KEY_A


def test_xai_api_key_in_the_environment_wins_over_the_keychain(
    clean_keychain: KeychainSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets.store_api_key(KEY_A)
    assert secrets.get_api_key({"XAI_API_KEY": f"{KEY_B}\n"}) == KEY_B
    assert secrets.api_key_source({"XAI_API_KEY": KEY_B}) == "env"
    assert secrets.get_api_key({"XAI_API_KEY": "  "}) == KEY_A
    monkeypatch.setenv("XAI_API_KEY", KEY_B)
    assert secrets.get_api_key() == KEY_B
    assert secrets.api_key_source() == "env"


def test_the_provider_picks_up_a_changed_key_after_the_refresh_interval(
    clean_keychain: KeychainSession,
) -> None:
    clock = FakeClock()
    provider = secrets.ApiKeyProvider(environ={}, refresh_seconds=2.0, clock=clock)
    secrets.store_api_key(KEY_A)
    assert provider() == KEY_A
    secrets.store_api_key(KEY_B)
    clock.now += 1.9
    assert provider() == KEY_A
    clock.now += 0.1
    assert provider() == KEY_B


def test_the_provider_rereads_at_once_when_invalidated(clean_keychain: KeychainSession) -> None:
    provider = secrets.ApiKeyProvider(environ={}, clock=FakeClock())
    secrets.store_api_key(KEY_A)
    assert provider() == KEY_A
    secrets.store_api_key(KEY_B)
    provider.invalidate()
    assert provider() == KEY_B


def test_the_provider_stops_using_a_removed_key(clean_keychain: KeychainSession) -> None:
    clock = FakeClock()
    provider = secrets.ApiKeyProvider(environ={}, clock=clock)
    with pytest.raises(NoApiKeyError, match="grok-mcp keys set"):
        provider()
    secrets.store_api_key(KEY_A)
    clock.now += 2
    assert provider() == KEY_A
    secrets.delete_api_key()
    clock.now += 2
    with pytest.raises(NoApiKeyError):
        provider()


def test_the_provider_prefers_xai_api_key(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    provider = secrets.ApiKeyProvider(environ={"XAI_API_KEY": KEY_B})
    assert provider() == KEY_B


def test_the_provider_keeps_the_last_key_while_the_keychain_fails(
    clean_keychain: KeychainSession,
    use_backend: Callable[[KeyringBackend], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    provider = secrets.ApiKeyProvider(environ={}, clock=clock)
    secrets.store_api_key(KEY_A)
    assert provider() == KEY_A
    use_backend(fail.Keyring())
    clock.now += 2
    with caplog.at_level(logging.WARNING, logger="grok_mcp.secrets"):
        assert provider() == KEY_A
    assert "Keeping the last xAI API key" in caplog.text
    assert KEY_A not in caplog.text


def test_the_provider_raises_the_keychain_error_when_it_never_had_a_key(
    use_backend: Callable[[KeyringBackend], None],
) -> None:
    use_backend(fail.Keyring())
    provider = secrets.ApiKeyProvider(environ={}, clock=FakeClock())
    for _ in range(2):  # the second call answers from the remembered error
        with pytest.raises(KeychainUnavailableError, match="XAI_API_KEY"):
            provider()


def test_the_provider_serves_many_threads_while_the_key_rotates(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    provider = secrets.ApiKeyProvider(environ={}, refresh_seconds=0)
    start = threading.Barrier(9)

    def requests() -> set[str]:
        start.wait()
        return {provider() for _ in range(10)}

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(requests) for _ in range(8)]
        start.wait()
        secrets.rotate_api_key(KEY_B)
        seen = set[str]().union(*(future.result() for future in futures))
    assert seen <= {KEY_A, KEY_B}
    assert provider() == KEY_B


def test_rotation_keeps_the_previous_key_for_the_grace_period(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    secrets.rotate_api_key(KEY_B, grace_seconds=60, now=1000.0)
    assert secrets.get_api_key({}) == KEY_B
    assert secrets.previous_api_key(now=1030.0) == (KEY_A, 1060.0)
    assert secrets.previous_api_key(now=1060.0) is None
    assert keyring.get_password(secrets.SERVICE, secrets.PREVIOUS_API_KEY_ITEM) is None
    assert secrets.get_api_key({}) == KEY_B


def test_rotation_uses_the_wall_clock_by_default(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    secrets.rotate_api_key(KEY_B)
    previous = secrets.previous_api_key()
    assert previous is not None
    assert previous[0] == KEY_A


def test_ending_the_grace_period_forgets_the_previous_key(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    secrets.rotate_api_key(KEY_B, grace_seconds=3600)
    secrets.end_grace_period()
    assert secrets.previous_api_key() is None
    secrets.end_grace_period()  # nothing left to end is fine
    assert secrets.get_api_key({}) == KEY_B


def test_rotating_with_no_active_key_or_the_same_key_keeps_no_previous(
    clean_keychain: KeychainSession,
) -> None:
    secrets.rotate_api_key(KEY_A)
    assert secrets.get_api_key({}) == KEY_A
    secrets.rotate_api_key(KEY_A)
    assert secrets.previous_api_key() is None


def test_rotating_while_xai_api_key_is_set_warns_that_the_variable_still_wins(
    clean_keychain: KeychainSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secrets.store_api_key(KEY_A)
    monkeypatch.setenv("XAI_API_KEY", KEY_A)
    with caplog.at_level(logging.WARNING, logger="grok_mcp.secrets"):
        secrets.rotate_api_key(KEY_B)
    assert "XAI_API_KEY is set" in caplog.text
    assert secrets.get_api_key({}) == KEY_B


@pytest.mark.parametrize("grace", [-1.0, float("nan"), float("inf")])
def test_rotation_refuses_a_bad_grace_period_before_touching_the_keychain(
    clean_keychain: KeychainSession, grace: float
) -> None:
    secrets.store_api_key(KEY_A)
    with pytest.raises(InputError, match="grace period"):
        secrets.rotate_api_key(KEY_B, grace_seconds=grace)
    assert secrets.get_api_key({}) == KEY_A


def test_rotation_refuses_a_malformed_key(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    with pytest.raises(InputError):
        secrets.rotate_api_key("not a key")
    assert (secrets.get_api_key({}), secrets.previous_api_key()) == (KEY_A, None)


@pytest.mark.parametrize(
    "stored", ["not json", "[1, 2]", '{"key": 1, "expires_at": 5}', '{"key": "xai-x", "expires_at": true}']
)
def test_an_unreadable_previous_key_is_removed(clean_keychain: KeychainSession, stored: str) -> None:
    keyring.set_password(secrets.SERVICE, secrets.PREVIOUS_API_KEY_ITEM, stored)
    assert secrets.previous_api_key() is None
    assert keyring.get_password(secrets.SERVICE, secrets.PREVIOUS_API_KEY_ITEM) is None


def test_removing_the_key_also_removes_the_previous_one(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A)
    secrets.rotate_api_key(KEY_B)
    assert secrets.delete_api_key() is True
    assert keyring.get_password(secrets.SERVICE, secrets.PREVIOUS_API_KEY_ITEM) is None
    assert secrets.get_api_key({}) is None


def test_the_http_token_is_created_once_and_then_stable(clean_keychain: KeychainSession) -> None:
    assert secrets.get_http_token({}, create=False) is None
    token = secrets.get_http_token({})
    assert token is not None
    assert len(token) >= 43
    assert secrets.get_http_token({}) == token
    assert secrets.get_http_token({}, create=False) == token
    assert keyring.get_password(secrets.SERVICE, secrets.HTTP_TOKEN_ITEM) == token


def test_grok_mcp_http_token_overrides_the_stored_token(clean_keychain: KeychainSession) -> None:
    stored = secrets.get_http_token({})
    assert secrets.get_http_token({"GROK_MCP_HTTP_TOKEN": f" {FROM_ENV} "}) == FROM_ENV
    assert secrets.get_http_token({}) == stored


# --- backends that must not be used -------------------------------------------------------------------


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_keychain_backend_means_keychain_unavailable(
    backend: KeyringBackend, use_backend: Callable[[KeyringBackend], None], canary: str
) -> None:
    use_backend(backend)
    for operation, variable in (
        (lambda: secrets.store_api_key(canary), "XAI_API_KEY"),
        (lambda: secrets.get_api_key({}), "XAI_API_KEY"),
        (secrets.delete_api_key, "XAI_API_KEY"),
        (lambda: secrets.get_http_token({}), "GROK_MCP_HTTP_TOKEN"),
    ):
        with pytest.raises(KeychainUnavailableError) as caught:
            operation()
        message = str(caught.value)
        assert "No OS keychain is available" in message
        assert "gnome-keyring or KWallet" in message
        assert f"set {variable} instead" in message
        assert_no_canary(message, canary)


def test_the_environment_key_works_without_any_keychain(
    use_backend: Callable[[KeyringBackend], None],
) -> None:
    use_backend(fail.Keyring())
    assert secrets.get_api_key({"XAI_API_KEY": KEY_A}) == KEY_A
    assert secrets.ApiKeyProvider(environ={"XAI_API_KEY": KEY_A})() == KEY_A


def test_a_plaintext_backend_is_refused_unless_chosen_explicitly(
    use_backend: Callable[[KeyringBackend], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    plaintext = PlaintextKeyring()
    use_backend(plaintext)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    with pytest.raises(KeychainUnavailableError, match="plain file") as caught:
        secrets.store_api_key(KEY_A)
    assert f"PYTHON_KEYRING_BACKEND={PLAINTEXT_NAME}" in str(caught.value)
    assert plaintext.items == {}

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", PLAINTEXT_NAME)
    secrets.store_api_key(KEY_A)
    assert secrets.get_api_key({}) == KEY_A


def test_a_chain_never_falls_back_to_a_plaintext_backend(
    use_backend: Callable[[KeyringBackend], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    plaintext, safe = PlaintextKeyring(), MemoryKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plaintext, safe])
    use_backend(chainer.ChainerBackend())
    secrets.store_api_key(KEY_A)
    assert (plaintext.items, secrets.get_api_key({})) == ({}, KEY_A)

    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plaintext])
    with pytest.raises(KeychainUnavailableError):
        secrets.get_api_key({})


@pytest.mark.parametrize(
    ("error", "expected", "says"),
    [
        (keyring.errors.KeyringLocked("Failed to unlock the collection!"), KeychainLockedError, "locked"),
        (
            keyring.errors.InitError("Failed to create the collection: Prompt dismissed.."),
            KeychainLockedError,
            "unlock it",
        ),
        (keyring.errors.InitError("Failed to connect: {canary}"), KeychainUnavailableError, "gnome-keyring"),
        (keyring.errors.NoKeyringError("No recommended backend"), KeychainUnavailableError, "XAI_API_KEY"),
        (keyring.errors.PasswordSetError("Can't store {canary}"), KeychainError, "failed to"),
        (keyring.errors.PasswordDeleteError("error 1783"), KeychainError, "failed to"),
        (keyring.errors.KeyringError("Keychain error -25293 for {canary}"), KeychainError, "grok-mcp doctor"),
        (RuntimeError("D-Bus went away while holding {canary}"), KeychainError, "RuntimeError"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_every_backend_failure_becomes_an_actionable_keychain_error_without_the_key(
    error: Exception,
    expected: type[KeychainError],
    says: str,
    canary: str,
    use_backend: Callable[[KeyringBackend], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    error.args = (str(error).format(canary=canary),)
    use_backend(RaisingKeyring(error))
    for operation in (
        lambda: secrets.store_api_key(canary),
        lambda: secrets.rotate_api_key(canary),
        lambda: secrets.get_api_key({}),
        secrets.delete_api_key,
    ):
        with pytest.raises(KeychainError) as caught:
            operation()
        raised = caught.value
        assert type(raised) is expected
        assert says in str(raised)
        assert (raised.__cause__, raised.__context__) == (None, None)
        assert_no_canary(str(raised), canary)
        assert_no_canary("".join(traceback.format_exception(raised)), canary)
    assert_no_canary(caplog.text, canary)


def test_deleting_an_item_that_stays_behind_is_an_error(
    use_backend: Callable[[KeyringBackend], None],
) -> None:
    class StickyKeyring(MemoryKeyring):
        def delete_password(self, service: str, username: str) -> None:
            raise keyring.errors.PasswordDeleteError("Access denied")

    sticky = StickyKeyring()
    sticky.set_password(secrets.SERVICE, secrets.API_KEY_ITEM, KEY_A)
    use_backend(sticky)
    with pytest.raises(KeychainError, match="failed to delete the xAI API key"):
        secrets.delete_api_key()


def test_a_token_the_keychain_does_not_keep_is_an_error(
    use_backend: Callable[[KeyringBackend], None],
) -> None:
    class ForgetfulKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            pass

    use_backend(ForgetfulKeyring())
    with pytest.raises(KeychainError, match="did not keep the local HTTP token"):
        secrets.get_http_token({})


def test_backend_name_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> KeyringBackend:
        raise ModuleNotFoundError("No module named 'nowhere'")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    assert secrets.backend_name() == "unavailable (ModuleNotFoundError)"
    with pytest.raises(KeychainUnavailableError, match="PYTHON_KEYRING_BACKEND"):
        secrets.get_api_key({})


# --- the canary across every path (goal K1) -----------------------------------------------------------


def test_the_key_never_reaches_a_log_or_an_error_on_the_happy_paths(
    clean_keychain: KeychainSession, canary: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    texts: list[str] = []
    secrets.store_api_key(canary)
    provider = secrets.ApiKeyProvider(environ={}, clock=clock)
    assert provider() == canary
    secrets.rotate_api_key(KEY_A, grace_seconds=10, now=0.0)
    clock.now += 5
    assert provider() == KEY_A
    assert secrets.previous_api_key(now=1.0) == (canary, 10.0)
    assert secrets.previous_api_key(now=11.0) is None
    secrets.rotate_api_key(canary)
    secrets.end_grace_period()
    for bad in (canary + " trailing", canary + "/", f"'{canary}'", canary.upper()):
        with pytest.raises(InputError) as caught:
            secrets.store_api_key(bad)
        texts.append(str(caught.value))
    assert secrets.delete_api_key() is True
    clock.now += 5
    with pytest.raises(NoApiKeyError) as missing:
        provider()
    texts.append(str(missing.value))
    texts.append(caplog.text)
    assert_no_canary("\n".join(texts), canary)
    assert "xai-…" in caplog.text  # the redacted form is what the logs show


# --- child processes: keyring picks its backend once per process -------------------------------------

_CHILD = r"""
import json, logging, sys, traceback
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
from grok_mcp import secrets
canary = sys.stdin.read().strip()
operations = {
    "store": lambda: secrets.store_api_key(canary),
    "rotate": lambda: secrets.rotate_api_key(canary),
    "get": secrets.get_api_key,
    "source": secrets.api_key_source,
    "delete": secrets.delete_api_key,
    "previous": secrets.previous_api_key,
    "end_grace": secrets.end_grace_period,
    "http_token": secrets.get_http_token,
    "provider": lambda: secrets.ApiKeyProvider()(),
}
results = {"backend": secrets.backend_name()}
for name, operation in operations.items():
    try:
        value = operation()
    except Exception as exc:
        traceback.print_exc()
        results[name] = {
            "error": [cls.__name__ for cls in type(exc).__mro__],
            "message": str(exc),
            "chain": [repr(exc.__cause__), repr(exc.__context__)],
        }
    else:
        shown = value if name == "source" else None if isinstance(value, str) else repr(value)
        results[name] = {"is_canary": value == canary, "value": shown}
print(json.dumps(results))
"""


def run_child(env: dict[str, str], canary: str) -> tuple[dict[str, dict[str, object]], str]:
    """Run every grok_mcp.secrets operation in a new process; the canary travels on stdin, never argv."""
    child = run_to_end([sys.executable, "-c", _CHILD], env=env, stdin=canary, timeout=120)
    assert child.returncode == 0, child.stderr
    assert_no_canary(child.stdout + child.stderr, canary)
    results: dict[str, dict[str, object]] = json.loads(child.stdout)
    return results, child.stderr


@pytest.mark.parametrize(
    ("env_fixture", "error", "says"),
    [
        ("locked_keychain_env", "KeychainLockedError", "The keychain is locked; unlock it"),
        ("locked_collection_env", "KeychainLockedError", "The keychain is locked; unlock it"),
        ("no_keychain_env", "KeychainUnavailableError", "No OS keychain is available"),
    ],
)
def test_a_process_that_meets_a_locked_or_missing_keychain_gets_an_actionable_error(
    env_fixture: str, error: str, says: str, canary: str, request: pytest.FixtureRequest
) -> None:
    env: dict[str, str] = request.getfixturevalue(env_fixture)
    results, _ = run_child(env, canary)
    backend = results.pop("backend")
    assert backend in {SECRET_SERVICE_BACKEND, "keyring.backends.fail.Keyring"}
    for operation, result in results.items():
        assert result.get("error"), f"{operation} did not fail: {result}"
        classes = result["error"]
        assert isinstance(classes, list)
        assert classes[0] == error, operation
        assert "KeychainError" in classes
        assert says in str(result["message"]), operation
        variable = "GROK_MCP_HTTP_TOKEN" if operation == "http_token" else "XAI_API_KEY"
        assert variable in str(result["message"]), operation
        assert result["chain"] == ["None", "None"], operation


def test_a_process_without_a_keychain_runs_on_xai_api_key(no_keychain_env: dict[str, str], canary: str) -> None:
    results, _ = run_child({**no_keychain_env, "XAI_API_KEY": canary}, canary)
    assert results["get"] == {"is_canary": True, "value": None}
    assert results["provider"] == {"is_canary": True, "value": None}
    assert results["source"] == {"is_canary": False, "value": "env"}


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        ("keyring.backends.null.Keyring", "keyring backend: keyring.backends.null.Keyring"),
        ("nowhere.Keyring", "could not be loaded: ModuleNotFoundError"),
    ],
)
def test_a_process_whose_python_keyring_backend_is_unusable_gets_keychain_unavailable(
    no_keychain_env: dict[str, str], canary: str, backend: str, says: str
) -> None:
    results, _ = run_child({**no_keychain_env, "PYTHON_KEYRING_BACKEND": backend}, canary)
    assert results["get"]["error"] == [
        "KeychainUnavailableError",
        "KeychainError",
        "UserFacingError",
        "GrokMCPError",
        "Exception",
        "BaseException",
        "object",
    ]
    assert says in str(results["store"]["message"])


def test_a_child_process_uses_the_unlocked_keychain_of_the_fixture(
    clean_keychain: KeychainSession, canary: str
) -> None:
    results, _ = run_child(clean_keychain.environ(), canary)
    assert results["backend"] == SECRET_SERVICE_BACKEND
    assert "error" not in results["store"]
    assert results["get"] == {"is_canary": True, "value": None}
    assert results["delete"] == {"is_canary": False, "value": "True"}


def test_the_provider_says_when_its_next_call_would_read_the_keychain(clean_keychain: KeychainSession) -> None:
    clock = FakeClock()
    provider = secrets.ApiKeyProvider(environ={}, refresh_seconds=2.0, clock=clock)
    secrets.store_api_key(KEY_A)
    assert provider.refresh_due()
    provider.refresh()
    assert not provider.refresh_due()
    assert provider() == KEY_A
    clock.now += 2
    assert provider.refresh_due()
    assert not secrets.ApiKeyProvider(environ={"XAI_API_KEY": KEY_B}).refresh_due()


class _HeldKeyring(KeyringBackend):
    """A keychain whose reads wait until the test releases them (at most 5 s), noting the reading thread."""

    @properties.classproperty
    def priority(cls) -> float:  # pyright: ignore[reportIncompatibleVariableOverride]
        raise RuntimeError("a test double: never chosen by keyring itself")  # (installed with use_backend)

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.readers: list[int] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.readers.append(threading.get_ident())
        return KEY_A if self.release.wait(5) else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


@pytest.mark.anyio
async def test_a_keychain_read_before_a_request_happens_off_the_event_loop(
    use_backend: Callable[[KeyringBackend], None],
) -> None:
    backend = _HeldKeyring()
    use_backend(backend)
    provider = secrets.ApiKeyProvider(environ={}, clock=FakeClock())

    async with anyio.create_task_group() as tg:
        tg.start_soon(key_ready, provider)
        # Runs only while the read waits in a worker thread: a read on the event loop would time out first.
        while not backend.readers:
            await anyio.sleep(0.01)
        backend.release.set()

    assert provider() == KEY_A
    assert backend.readers and threading.get_ident() not in backend.readers


# --- a key stored unchecked ----------------------------------------------------------------------------


def test_a_key_stored_unchecked_stays_unchecked_until_xai_accepts_it(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A, validated=False)
    assert not secrets.is_api_key_validated(KEY_A)
    assert secrets.is_api_key_validated(KEY_B)  # the note is about that key only
    assert not secrets.mark_api_key_validated(KEY_B)
    assert not secrets.is_api_key_validated(KEY_A)
    assert secrets.mark_api_key_validated(KEY_A)
    assert secrets.is_api_key_validated(KEY_A)
    assert not secrets.mark_api_key_validated(KEY_A)  # nothing left to note


def test_storing_a_checked_key_or_removing_the_key_clears_the_unchecked_note(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A, validated=False)
    secrets.rotate_api_key(KEY_B, grace_seconds=60)
    assert secrets.is_api_key_validated(KEY_B)
    secrets.rotate_api_key(KEY_A, grace_seconds=60, validated=False)
    assert not secrets.is_api_key_validated(KEY_A)
    secrets.delete_api_key()
    assert keyring.get_password(secrets.SERVICE, secrets.UNVALIDATED_ITEM) is None


def test_the_unchecked_note_holds_no_key(clean_keychain: KeychainSession) -> None:
    secrets.store_api_key(KEY_A, validated=False)
    note = keyring.get_password(secrets.SERVICE, secrets.UNVALIDATED_ITEM)
    assert note is not None
    assert "AAAA" not in note and "1111" not in note


# --- the per-run HTTP token ------------------------------------------------------------------------------


def test_a_per_run_token_is_a_strong_token_in_a_file_only_its_owner_reads(tmp_path: Path) -> None:
    path = secrets.run_token_path(tmp_path / "home", 8765)
    token = secrets.create_run_token(path)
    assert len(token) >= secrets.MIN_HTTP_TOKEN_LENGTH
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.read_run_token(path) == token
    again = secrets.create_run_token(path)  # the next run replaces it
    assert again != token
    assert secrets.read_run_token(path) == again
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left behind


def test_a_stopping_server_removes_only_its_own_run_token(tmp_path: Path) -> None:
    path = secrets.run_token_path(tmp_path, 8765)
    old = secrets.create_run_token(path)
    new = secrets.create_run_token(path)
    secrets.remove_run_token(path, old)  # a newer server owns the file now
    assert secrets.read_run_token(path) == new
    secrets.remove_run_token(path, new)
    assert not path.exists()


@pytest.mark.parametrize("content", ["", "short", "x" * 5000], ids=["empty", "weak", "huge"])
def test_a_run_token_file_without_a_usable_token_is_ignored(tmp_path: Path, content: str) -> None:
    path = tmp_path / "http-token-8765"
    path.write_text(content, encoding="utf-8")
    assert secrets.read_run_token(path) is None


def test_without_a_keychain_the_http_token_comes_from_the_running_servers_file(
    tmp_path: Path, use_backend: Callable[[KeyringBackend], None]
) -> None:
    use_backend(fail.Keyring())
    path = secrets.run_token_path(tmp_path, 8765)
    with pytest.raises(KeychainUnavailableError):
        secrets.get_http_token({}, run_token_file=path)  # no server running: still the keychain's error
    token = secrets.create_run_token(path)
    assert secrets.get_http_token({}, run_token_file=path) == token
    assert secrets.get_http_token({secrets.HTTP_TOKEN_ENV: FROM_ENV}, run_token_file=path) == FROM_ENV


class VanishingKeyring(MemoryKeyring):
    """Stands for the Secret Service when another process deletes an item while this one reads it."""

    def get_password(self, service: str, username: str) -> str | None:
        from secretstorage.exceptions import ItemNotFoundException

        if self.items.pop((service, username), None) is not None:
            raise ItemNotFoundException("Item does not exist!")
        return None


def test_an_item_deleted_while_it_is_read_reads_as_absent(use_backend: Callable[[KeyringBackend], None]) -> None:
    backend = VanishingKeyring()
    backend.items[secrets.SERVICE, secrets.UNVALIDATED_ITEM] = "a note another process is deleting"
    use_backend(backend)
    assert secrets.is_api_key_validated(KEY_A)
