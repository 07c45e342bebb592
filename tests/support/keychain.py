"""Fixtures for a real Secret Service: private D-Bus session buses with gnome-keyring, unlocked or locked.

`keychain` (session) points this process and its children at an unlocked gnome-keyring on a private bus;
`clean_keychain` (function) adds empty Grok MCP items. `locked_keychain_env`, `locked_collection_env` and
`no_keychain_env` are environments for child processes that meet a locked keychain or none at all (keyring
picks its backend once per process, so those cases run in children).
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import keyring
import keyring.backend
import keyring.core
import pytest
import secretstorage
from grok_mcp import secrets
from jeepney import Message
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from tests.support.processes import stop_process

APT_PACKAGES = ("dbus-daemon", "gnome-keyring")
SECRET_SERVICE_NAME = "org.freedesktop.secrets"
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
# Variables that would let keyring or D-Bus reach something other than the bus we chose.
_ROUTING_VARIABLES = ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")

# A session bus with no service activation, so nothing but our daemon can own org.freedesktop.secrets and
# gnome-keyring's prompter is never started (its prompts are dismissed at once, like on a headless box).
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={runtime_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class KeychainSetupError(RuntimeError):
    """The private bus or gnome-keyring could not be started."""


def missing_programs() -> list[str]:
    return [name for name in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(name) is None]


class KeychainSession:
    """One private D-Bus session bus with one gnome-keyring-daemon on it; owns both processes.

    `unlocked=True` gives an unlocked login keyring; `unlocked=False` starts the daemon without a password,
    so the first use tries to create the login keyring, the prompt is dismissed and keyring raises InitError.
    `lock()` locks an existing collection, so keyring raises KeyringLocked.
    """

    def __init__(self, root: Path, *, unlocked: bool, password: str = "grok-mcp-tests") -> None:
        self.root = root
        self.unlocked = unlocked
        self._password = password
        self.home = root / "home"
        self.address = ""
        # Socket paths are limited to about 108 bytes, so the runtime dir is short and lives in /tmp.
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="gmk-"))
        self._bus: subprocess.Popen[bytes] | None = None
        self._daemon: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        """The variables that point keyring (and any D-Bus client) at this session."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A full environment for a child process: `base` (default os.environ) pointed at this session."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _ROUTING_VARIABLES}
        env.update(self.env)
        return env

    @property
    def log_text(self) -> str:
        texts: list[str] = []
        for name in ("dbus-daemon.log", "gnome-keyring.log"):
            path = self.root / name
            if path.exists():
                texts.append(f"--- {name}\n{path.read_text(encoding='utf-8', errors='replace')}")
        return "\n".join(texts)

    def start(self) -> None:
        """Start the bus, then the daemon, and return once the daemon owns org.freedesktop.secrets."""
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            self._start_bus()
            self._start_daemon()
        except BaseException:
            self.stop()
            raise

    def _log(self, name: str) -> IO[bytes]:
        log = (self.root / name).open("wb")
        self._logs.append(log)
        return log

    def _start_bus(self) -> None:
        config = self.root / "bus.conf"
        config.write_text(_BUS_CONFIG.format(runtime_dir=self.runtime_dir), encoding="utf-8")
        self._bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log("dbus-daemon.log"),
            env=self._daemon_env(),
        )
        assert self._bus.stdout is not None
        # dbus-daemon prints its address once it listens: wait for that line, with a bound.
        line = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        with selectors.DefaultSelector() as selector:
            selector.register(self._bus.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise KeychainSetupError(f"dbus-daemon printed no address.\n{self.log_text}")
                chunk = os.read(self._bus.stdout.fileno(), 4096)
                if not chunk:
                    raise KeychainSetupError(f"dbus-daemon exited early.\n{self.log_text}")
                line += chunk
        self.address = line.decode().strip()

    def _daemon_env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
        }
        if self.address:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        return env

    def _start_daemon(self) -> None:
        rule = MatchRule(
            type="signal",
            sender=message_bus.bus_name,
            interface=message_bus.interface,
            member="NameOwnerChanged",
        )
        rule.add_arg_condition(0, SECRET_SERVICE_NAME)
        with open_dbus_connection(self.address) as connection, connection.filter(rule) as owners:
            # Subscribe before starting the daemon so its NameOwnerChanged signal cannot be missed.
            connection.send_and_get_reply(message_bus.AddMatch(rule))
            log = self._log("gnome-keyring.log")
            self._daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
                + (["--unlock"] if self.unlocked else []),
                stdin=subprocess.PIPE if self.unlocked else subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self._daemon_env(),
            )
            if self._daemon.stdin is not None:
                self._daemon.stdin.write(self._password.encode())
                self._daemon.stdin.close()
            self._wait_for_owner(connection, owners)

    def _wait_for_owner(self, connection: DBusConnection, owners: deque[Message]) -> None:
        assert self._daemon is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _has_owner(connection, SECRET_SERVICE_NAME):
            if self._daemon.poll() is not None:
                raise KeychainSetupError(
                    f"gnome-keyring-daemon exited with {self._daemon.returncode}.\n{self.log_text}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KeychainSetupError(f"gnome-keyring-daemon did not take the bus name.\n{self.log_text}")
            try:
                # Short slices so a daemon that dies is noticed before the bound.
                connection.recv_until_filtered(owners, timeout=min(remaining, 0.5))
            except TimeoutError:
                continue

    def lock(self) -> None:
        """Lock the default collection (creating it first if needed), as a screen lock or a timeout would."""
        with secretstorage.dbus_init() as connection:
            collection = secretstorage.get_default_collection(connection)
            collection.lock()
            assert collection.is_locked()

    def stop(self) -> None:
        """Stop the daemon, then the bus; by PID, gracefully first, and reap both."""
        for process in (self._daemon, self._bus):
            if process is None:
                continue
            if process.poll() is None:
                stop_process(process, timeout_s=STOP_TIMEOUT_S)
            for pipe in (process.stdin, process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
        self._daemon = self._bus = None
        for log in self._logs:
            log.close()
        self._logs.clear()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


def _has_owner(connection: DBusConnection, name: str) -> bool:
    reply = connection.send_and_get_reply(message_bus.NameHasOwner(name))
    return bool(reply.body[0])


def _missing_message() -> str:
    return (
        f"The real-keychain tests need {' and '.join(missing_programs())} on PATH. Install them with: "
        f"apt-get install -y --no-install-recommends {' '.join(APT_PACKAGES)} libsecret-tools"
    )


def start_session(root: Path, *, unlocked: bool) -> KeychainSession:
    """Start a KeychainSession or fail the test with a message naming what to install or what went wrong."""
    if missing_programs():
        pytest.fail(_missing_message(), pytrace=False)
    session = KeychainSession(root, unlocked=unlocked)
    try:
        session.start()
    except KeychainSetupError as exc:
        pytest.fail(f"Could not start a private keychain: {exc}", pytrace=False)
    return session


def redetect_keyring_backend() -> keyring.backend.KeyringBackend:
    """Make keyring choose its backend again from the current environment, as a new process would.

    keyring remembers which backends were viable the first time it looked; forget that too.
    """
    vars(keyring.backend.get_all_keyring).pop("saved_result", None)
    keyring.core.init_backend()
    return keyring.get_keyring()


def remove_our_items() -> None:
    """Delete every Grok MCP item (keyring removes one match per call, so repeat until none is left)."""
    for item in (
        secrets.API_KEY_ITEM,
        secrets.PREVIOUS_API_KEY_ITEM,
        secrets.HTTP_TOKEN_ITEM,
        secrets.UNVALIDATED_ITEM,
    ):
        while keyring.get_password(secrets.SERVICE, item) is not None:
            keyring.delete_password(secrets.SERVICE, item)


@pytest.fixture(scope="session")
def keychain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeychainSession]:
    """An unlocked gnome-keyring on a private bus, used by this process and every child it starts."""
    session = start_session(tmp_path_factory.mktemp("keychain"), unlocked=True)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
            patch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
            redetect_keyring_backend()
            backend = secrets.backend_name()
            if backend != SECRET_SERVICE_BACKEND:
                pytest.fail(
                    f"keyring chose {backend}, not {SECRET_SERVICE_BACKEND}, on the private bus; check "
                    "for a keyringrc.cfg in ~/.config/python_keyring and that SecretStorage is installed.",
                    pytrace=False,
                )
            yield session
        redetect_keyring_backend()
    finally:
        session.stop()


@pytest.fixture
def clean_keychain(keychain: KeychainSession) -> Iterator[KeychainSession]:
    """The unlocked keychain with no Grok MCP items, before and after the test."""
    if secrets.backend_name() != SECRET_SERVICE_BACKEND:
        redetect_keyring_backend()  # a previous test replaced the backend and did not put it back
    remove_our_items()
    yield keychain
    remove_our_items()


@pytest.fixture(scope="session")
def _locked_keychain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeychainSession]:
    session = start_session(tmp_path_factory.mktemp("locked-keychain"), unlocked=False)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def _locked_collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeychainSession]:
    session = start_session(tmp_path_factory.mktemp("locked-collection"), unlocked=True)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
            session.lock()
    except BaseException:
        session.stop()
        raise
    yield session
    session.stop()


@pytest.fixture
def locked_keychain_env(_locked_keychain: KeychainSession) -> dict[str, str]:
    """os.environ for a child whose gnome-keyring was started without a password (keyring: InitError)."""
    return _locked_keychain.environ()


@pytest.fixture
def locked_collection_env(_locked_collection: KeychainSession) -> dict[str, str]:
    """os.environ for a child whose login keyring exists but is locked (keyring: KeyringLocked)."""
    return _locked_collection.environ()


@pytest.fixture
def no_keychain_env(tmp_path: Path) -> dict[str, str]:
    """os.environ for a child with no D-Bus session at all (keyring: fail.Keyring, NoKeyringError)."""
    runtime_dir = tmp_path / "no-keychain-runtime"
    runtime_dir.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in _ROUTING_VARIABLES}
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)  # no $XDG_RUNTIME_DIR/bus for D-Bus libraries to find
    return env
