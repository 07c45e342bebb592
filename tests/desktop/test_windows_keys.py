"""The Keys page against the real `grok-mcp keys` CLI, the simulated xAI API and a real keychain."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from grok_mcp import secrets
from grok_mcp.clients.launch import grok_mcp_command
from grok_mcp_desktop.cli_runner import CliOutcome
from grok_mcp_desktop.windows.keys import KEYCHAIN_HINT, KeysPage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.desktop.pages import signal_args
from tests.support.keychain import KeychainSession
from tests.support.processes import free_port
from tests.support.simulator import TEST_KEY, RunningSimulator

CLI_TIMEOUT_MS = 60_000
OTHER_KEY = "xai-second-simulator-key-0002"


@pytest.fixture
def make_page(qtbot: QtBot) -> Iterator[Callable[[dict[str, str]], KeysPage]]:
    made: list[KeysPage] = []

    def make(environ: dict[str, str]) -> KeysPage:
        page = KeysPage(grok_mcp_command(), environ=environ)
        qtbot.addWidget(page)
        made.append(page)
        return page

    yield make
    for page in made:
        page.shutdown()


@pytest.fixture
def page(
    make_page: Callable[[dict[str, str]], KeysPage], simulator: RunningSimulator, clean_keychain: KeychainSession
) -> KeysPage:
    return make_page({**os.environ, "GROK_MCP_BASE_URL": simulator.base_url})


def _finish(qtbot: QtBot, page: KeysPage, action: Callable[[], None]) -> CliOutcome:
    with qtbot.waitSignal(page.action_finished, timeout=CLI_TIMEOUT_MS) as blocker:
        action()
    outcome = signal_args(blocker)[0]
    assert isinstance(outcome, CliOutcome)
    return outcome


def _shown_text(page: KeysPage) -> str:
    labels = [page.active_label, page.source_label, page.previous_label, page.banner, *page.info_labels.values()]
    return "\n".join(label.text() for label in labels)


def _refresh(qtbot: QtBot, page: KeysPage) -> dict[str, object]:
    with qtbot.waitSignal(page.keys_loaded, timeout=CLI_TIMEOUT_MS) as blocker:
        page.refresh()
    return signal_args(blocker)[0]


def test_with_no_key_the_page_says_how_to_add_one(qtbot: QtBot, page: KeysPage) -> None:
    data = _refresh(qtbot, page)
    assert data["key"] is None
    assert "No key yet" in page.active_label.text()
    assert not page.remove_button.isEnabled()
    assert not page.rotate_button.isEnabled()


def test_adding_a_key_validates_it_and_shows_what_xai_said(qtbot: QtBot, page: KeysPage) -> None:
    page.key_edit.setText(TEST_KEY)
    with qtbot.waitSignal(page.key_saved, timeout=CLI_TIMEOUT_MS) as saved:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
        assert page.is_busy and not page.save_button.isEnabled()
    data = signal_args(saved)[0]
    assert data["validated"] is True
    assert data["key_info"]["acls"]
    assert page.info_labels["Name"].text() == data["key_info"]["name"]
    assert page.info_labels["ACLs"].text() == ", ".join(data["key_info"]["acls"])
    assert page.info_labels["Status"].text() == "active"
    assert page.key_edit.text() == ""
    with qtbot.waitSignal(page.keys_loaded, timeout=CLI_TIMEOUT_MS):
        pass
    assert page.active_label.text() == secrets.redact(TEST_KEY)
    assert "OS keychain" in page.source_label.text()
    assert TEST_KEY not in _shown_text(page)
    assert secrets.get_api_key() == TEST_KEY
    assert page.remove_button.isEnabled()


def test_a_key_xai_rejects_is_not_stored_and_the_reason_is_shown(qtbot: QtBot, page: KeysPage) -> None:
    page.key_edit.setText("xai-this-key-is-invalid-0001")
    outcome = _finish(qtbot, page, page.save_key)
    assert not outcome.is_ok
    assert not page.banner.isHidden()
    assert page.banner.text() == outcome.message
    assert "rejected the API key" in page.banner.text()
    assert "xai-this-key-is-invalid-0001" not in _shown_text(page)
    assert secrets.get_api_key() is None


def test_a_blocked_key_is_refused_with_its_flags(qtbot: QtBot, page: KeysPage) -> None:
    page.key_edit.setText("xai-this-key-is-blocked-0001")
    outcome = _finish(qtbot, page, page.save_key)
    assert not outcome.is_ok
    assert "blocked" in page.banner.text().lower()
    assert secrets.get_api_key() is None


def test_rotating_keeps_the_old_key_until_the_grace_period_is_ended(qtbot: QtBot, page: KeysPage) -> None:
    secrets.store_api_key(TEST_KEY)
    _refresh(qtbot, page)
    assert page.rotate_button.isEnabled() is False  # nothing typed yet
    page.key_edit.setText(OTHER_KEY)
    page.grace_minutes.setValue(30)
    with qtbot.waitSignal(page.key_saved, timeout=CLI_TIMEOUT_MS):
        page.rotate_key()
    with qtbot.waitSignal(page.keys_loaded, timeout=CLI_TIMEOUT_MS) as loaded:
        pass
    assert signal_args(loaded)[0]["key"] == secrets.redact(OTHER_KEY)
    assert page.previous_label.text().startswith(secrets.redact(TEST_KEY))
    assert secrets.previous_api_key() is not None
    assert page.end_grace_button.isEnabled()
    with qtbot.waitSignal(page.keys_loaded, timeout=CLI_TIMEOUT_MS):
        page.end_grace_button.click()
    assert page.previous_label.text() == "none"
    assert secrets.previous_api_key() is None
    assert secrets.get_api_key() == OTHER_KEY


def _answer_remove(qtbot: QtBot, page: KeysPage, *, remove: bool) -> None:
    page.remove_button.click()
    qtbot.waitUntil(lambda: page.confirm_box is not None and page.confirm_box.isVisible(), timeout=5_000)
    box = page.confirm_box
    assert box is not None
    if remove:
        button = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole)
    else:
        button = box.button(QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_remove_asks_first_then_deletes_the_key(qtbot: QtBot, page: KeysPage) -> None:
    secrets.store_api_key(TEST_KEY)
    _refresh(qtbot, page)
    _answer_remove(qtbot, page, remove=False)
    qtbot.waitUntil(lambda: page.confirm_box is None, timeout=5_000)
    assert not page.is_busy
    assert secrets.get_api_key() == TEST_KEY
    with qtbot.waitSignal(page.keys_loaded, timeout=CLI_TIMEOUT_MS):
        _answer_remove(qtbot, page, remove=True)
    assert secrets.get_api_key() is None
    assert "No key yet" in page.active_label.text()


def test_a_locked_keychain_shows_the_actionable_message(
    qtbot: QtBot, make_page: Callable[[dict[str, str]], KeysPage], locked_collection_env: dict[str, str]
) -> None:
    page = make_page(locked_collection_env)
    outcome = _finish(qtbot, page, page.refresh)
    assert outcome.is_keychain_unavailable
    assert outcome.message in page.banner.text()
    assert KEYCHAIN_HINT in page.banner.text()


def test_when_xai_cannot_be_reached_save_anyway_stores_the_key_unchecked_and_it_is_checked_later(
    qtbot: QtBot,
    make_page: Callable[[dict[str, str]], KeysPage],
    simulator: RunningSimulator,
    clean_keychain: KeychainSession,
) -> None:
    offline = make_page({**os.environ, "GROK_MCP_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"})
    assert offline.save_anyway_button.isHidden()
    offline.key_edit.setText(TEST_KEY)
    outcome = _finish(qtbot, offline, offline.save_key)
    assert not outcome.is_ok
    assert "could not be reached" in offline.banner.text()
    assert "grok-mcp" not in offline.banner.text()  # no command-line advice in the window
    assert not offline.save_anyway_button.isHidden()
    assert secrets.get_api_key() is None

    with qtbot.waitSignal(offline.key_saved, timeout=CLI_TIMEOUT_MS) as saved:
        offline.save_anyway_button.click()
    assert signal_args(saved)[0]["validated"] is False
    assert "not checked with xAI yet" in offline.banner.text()
    assert offline.save_anyway_button.isHidden()
    with qtbot.waitSignal(offline.keys_loaded, timeout=CLI_TIMEOUT_MS):
        pass
    assert offline.active_label.text() == f"{secrets.redact(TEST_KEY)} (not checked with xAI yet)"
    # The page asks xAI at once; still offline, it says so and keeps the key.
    qtbot.waitUntil(lambda: "still not checked" in offline.status_label.text(), timeout=CLI_TIMEOUT_MS)
    assert secrets.get_api_key() == TEST_KEY
    assert not secrets.is_api_key_validated(TEST_KEY)
    assert TEST_KEY not in _shown_text(offline)

    # The network is back: the page checks the key and shows it as checked.
    online = make_page({**os.environ, "GROK_MCP_BASE_URL": simulator.base_url})
    online.refresh()
    qtbot.waitUntil(lambda: online.active_label.text() == secrets.redact(TEST_KEY), timeout=CLI_TIMEOUT_MS)
    assert secrets.is_api_key_validated(TEST_KEY)
    assert online.info_labels["Status"].text() == "active"
