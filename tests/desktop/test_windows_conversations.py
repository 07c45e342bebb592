"""The Conversations page over a real SQLite file: lazy paging, search as you type, transcript, export, delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from grok_mcp.store import Store
from grok_mcp_desktop.windows.conversations import PAGE_SIZE, ConversationsPage
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.desktop.pages import price_answer, seed_conversations, signal_args, store_access
from tests.support.conversations import add_message, create_conversation

DB = "grok-mcp.db"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / DB


@pytest.fixture
def page(qtbot: QtBot, db_path: Path, tmp_path: Path) -> Iterator[ConversationsPage]:
    with store_access(db_path) as access:
        widget = ConversationsPage(access, exports_dir=tmp_path / "exports")
        qtbot.addWidget(widget)
        widget.resize(1000, 600)
        yield widget


def _open(qtbot: QtBot, page: ConversationsPage) -> None:
    with qtbot.waitSignal(page.model.page_loaded, timeout=10_000):
        page.show()
        page.activate()


def test_a_hundred_thousand_conversations_load_a_page_at_a_time(
    qtbot: QtBot, db_path: Path, page: ConversationsPage
) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 100_000, with_messages=False)
    _open(qtbot, page)
    assert page.model.rowCount() == PAGE_SIZE
    assert page.model.data(page.model.index(0, 0)) == "conversation 99999"
    qtbot.waitUntil(lambda: page.count_label.text() == "100,000 conversations", timeout=10_000)
    assert page.model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(page.model.page_loaded, timeout=10_000):
        page.model.fetchMore(QModelIndex())
    assert page.model.rowCount() == 2 * PAGE_SIZE
    assert page.model.data(page.model.index(PAGE_SIZE, 0)) == f"conversation {99_999 - PAGE_SIZE}"
    # Scrolling to the end of what is loaded asks the model for the next page, as a user would.
    with qtbot.waitSignal(page.model.page_loaded, timeout=10_000):
        page.list_view.scrollToBottom()
    assert page.model.rowCount() == 3 * PAGE_SIZE


def test_the_list_ends_when_every_conversation_is_loaded(qtbot: QtBot, db_path: Path, page: ConversationsPage) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 5)
    _open(qtbot, page)
    assert page.model.rowCount() == 5
    assert page.model.is_exhausted
    assert not page.model.canFetchMore(QModelIndex())
    assert page.model.data(page.model.index(0, 2)) == "2"


def test_typing_a_search_shows_ranked_matches(qtbot: QtBot, db_path: Path, page: ConversationsPage) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 40)
        best = create_conversation(store, title="orchard notes", model="grok-4", client=None)
        add_message(store, best, role="user", content="apples apples apples, all kinds of apples")
    _open(qtbot, page)
    with qtbot.waitSignal(page.search_finished, timeout=10_000) as blocker:
        qtbot.keyClicks(page.search_box, "appl")
    assert signal_args(blocker) == ["appl", 41]
    assert page.lists.currentWidget() is page.hits_view
    assert page.hits.data(page.hits.index(0, 0)) == "orchard notes"
    assert "«apples»" in page.hits.data(page.hits.index(0, 2))
    assert page.count_label.text() == "41 matches"
    # Clearing the box brings the full list back.
    page.search_box.clear()
    assert page.lists.currentWidget() is page.list_view


def test_a_search_with_no_match_says_so(qtbot: QtBot, db_path: Path, page: ConversationsPage) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 3)
    _open(qtbot, page)
    with qtbot.waitSignal(page.search_finished, timeout=10_000) as blocker:
        qtbot.keyClicks(page.search_box, 'zebra" OR *')
    assert signal_args(blocker)[1] == 0
    assert page.count_label.text() == "0 matches"


def _select_first(qtbot: QtBot, page: ConversationsPage) -> str:
    conversation_id = page.model.conversation_at(0).id
    with qtbot.waitSignal(page.transcript_shown, timeout=10_000):
        page.list_view.selectRow(0)
    return conversation_id


def test_selecting_a_conversation_shows_its_transcript_with_cost_per_turn(
    qtbot: QtBot, db_path: Path, page: ConversationsPage
) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 3)
        price_answer(store, 2, cost_ticks=1_234_000_000)
    _open(qtbot, page)
    _select_first(qtbot, page)
    text = page.viewer.toPlainText()
    assert "conversation 2" in text
    assert "question 2 about apples" in text
    assert "answer 2 about pears" in text
    assert "$0.12" in text
    assert "grok-4" in text
    assert page.delete_button.isEnabled()


def test_export_writes_markdown_and_json(qtbot: QtBot, db_path: Path, page: ConversationsPage, tmp_path: Path) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 1)
        price_answer(store, 0, cost_ticks=5_000_000_000)
    _open(qtbot, page)
    _select_first(qtbot, page)
    markdown = tmp_path / "out" / "c.md"
    with qtbot.waitSignal(page.exported, timeout=10_000):
        page.export_current(markdown, "md")
    text = markdown.read_text(encoding="utf-8")
    assert text.startswith("# conversation 0\n")
    assert "## User (" in text and "question 0 about apples" in text
    assert "## Assistant (" in text and "grok-4, $0.50)" in text
    as_json = tmp_path / "out" / "c.json"
    with qtbot.waitSignal(page.exported, timeout=10_000):
        page.export_current(as_json, "json")
    document = json.loads(as_json.read_text(encoding="utf-8"))
    assert document["title"] == "conversation 0"
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
    assert document["messages"][1]["cost_usd"] == pytest.approx(0.5)
    assert document["messages"][0]["cost_usd"] is None
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left behind


def _answer(qtbot: QtBot, page: ConversationsPage, *, delete: bool) -> None:
    page.delete_button.click()
    qtbot.waitUntil(lambda: page.confirm_box is not None and page.confirm_box.isVisible(), timeout=5_000)
    box = page.confirm_box
    assert box is not None
    assert "cannot be undone" in box.text()
    if delete:
        button = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole)
    else:
        button = box.button(QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_delete_asks_first_and_cancel_keeps_the_conversation(
    qtbot: QtBot, db_path: Path, page: ConversationsPage
) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 2)
    _open(qtbot, page)
    conversation_id = _select_first(qtbot, page)
    _answer(qtbot, page, delete=False)
    qtbot.waitUntil(lambda: page.confirm_box is None, timeout=5_000)
    assert page.model.rowCount() == 2
    with Store.open(db_path) as store:
        assert store.get_conversation(conversation_id) is not None


def test_delete_after_confirmation_removes_it_everywhere(qtbot: QtBot, db_path: Path, page: ConversationsPage) -> None:
    with Store.open(db_path) as store:
        seed_conversations(store, 2)
    _open(qtbot, page)
    conversation_id = _select_first(qtbot, page)
    with qtbot.waitSignal(page.conversation_deleted, timeout=10_000) as blocker:
        _answer(qtbot, page, delete=True)
    assert signal_args(blocker) == [conversation_id]
    assert page.model.rowCount() == 1
    assert page.viewer.toPlainText() == ""
    assert not page.delete_button.isEnabled()
    with Store.open(db_path) as store:
        assert store.get_conversation(conversation_id) is None
        assert store.search_messages("question 1", limit=5) == []


def test_an_unreadable_database_shows_what_went_wrong(qtbot: QtBot, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    with store_access(broken) as access:
        page = ConversationsPage(access, exports_dir=tmp_path)
        qtbot.addWidget(page)
        with qtbot.waitSignal(page.model.load_failed, timeout=10_000):
            page.activate()
        assert page.banner.isVisible() is False or page.banner.text()
        assert "not a usable Grok MCP database" in page.banner.text()


def test_search_hits_show_a_one_line_snippet_with_the_full_snippet_as_tooltip(qapp: object) -> None:
    from grok_mcp.store import SearchHit
    from grok_mcp_desktop.windows.conversations import SearchHitModel
    from PySide6.QtCore import Qt

    hit = SearchHit(
        conversation_id="c1",
        conversation_title="",
        message_id=7,
        role="user",
        snippet="a «lighthouse»\nkeeper",
        created_at=1_790_000_000.0,
        score=1.0,
    )
    model = SearchHitModel()
    model.set_hits([hit])
    cell = model.index(0, 2)
    assert model.data(model.index(0, 0)) == "(untitled)"
    assert model.data(cell) == "a «lighthouse» keeper"
    assert model.data(cell, Qt.ItemDataRole.ToolTipRole) == "a «lighthouse»\nkeeper"
    assert model.headerData(3, Qt.Orientation.Horizontal) == "When"
    model.remove_conversation("c1")
    assert model.rowCount() == 0
