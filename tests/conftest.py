"""Shared test setup: asyncio for anyio tests, an isolated data dir and environment for every test.

After each test the garbage collector runs, so a leaked socket or process is reported (ResourceWarnings
are errors) by the test that leaked it rather than by whichever test runs when the collector does.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.simulator", "tests.support.keychain"]

_OUR_VARIABLES = (
    "XAI_API_KEY",
    "GROK_MCP_HOME",
    "GROK_MCP_BASE_URL",
    "GROK_MCP_HTTP_TOKEN",
    "GROK_MCP_PORT",
    "GROK_MCP_LOG_LEVEL",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own empty data dir and none of the developer's Grok MCP variables."""
    for name in _OUR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "grok-home"
    home.mkdir()
    monkeypatch.setenv("GROK_MCP_HOME", str(home))
    yield home


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """Code under test that configures logging in this process (a CLI main, the tray's set-up) must not leave
    its handlers behind: the redaction filter on them rewrites every later record, caplog's included."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)  # configure_logging turns it on; nothing here runs with it on before


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    yield
    gc.collect()
