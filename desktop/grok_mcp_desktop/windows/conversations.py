"""The Conversations page: a lazily paged list, search as you type, the transcript, export and delete."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from grok_mcp.store import ConversationPage, ConversationSummary, PageCursor, SearchHit, Store
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from grok_mcp_desktop.exports import (
    Transcript,
    conversation_json,
    conversation_markdown,
    image_references,
)
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.widgets.formatting import count, usd, when
from grok_mcp_desktop.widgets.page import SPACING, spaced_row
from grok_mcp_desktop.widgets.tables import Column, RecordTableModel, record_view
from grok_mcp_desktop.windows.exporting import ExportingPage
from grok_mcp_desktop.worker import Task

log = logging.getLogger(__name__)

PAGE_SIZE = 200
SEARCH_DEBOUNCE_MS = 40
SEARCH_LIMIT = 200
SEARCH_WINDOW = 2000

_Index = QModelIndex | QPersistentModelIndex


class ConversationListModel(RecordTableModel[ConversationSummary]):
    """Conversations, newest first, loaded a page at a time off the GUI thread as the view scrolls (fetchMore).

    Its view does not sort: rows stay in the store's order, which the page cursor continues from.
    """

    page_loaded = Signal(int)
    """A page arrived; the argument is how many rows the model holds now."""

    load_failed = Signal(str)

    def __init__(self, store: StoreAccess, *, page_size: int = PAGE_SIZE, parent: QWidget | None = None) -> None:
        super().__init__(
            [
                Column("Title", lambda item: item.title or "(untitled)", tooltip=lambda item: item.title),
                Column("Model", lambda item: item.model or "–"),
                Column("Messages", lambda item: item.message_count, text=count, is_numeric=True),
                Column("Updated", lambda item: item.updated_at, text=when),
            ],
            parent,
        )
        self._store = store
        self._page_size = page_size
        self._cursor: PageCursor | None = None
        self._is_exhausted = False
        self._is_started = False
        self._loading: Task | None = None

    @property
    def is_loading(self) -> bool:
        return self._loading is not None

    @property
    def is_exhausted(self) -> bool:
        return self._is_exhausted

    def conversation_at(self, row: int) -> ConversationSummary:
        return self.records[row]

    def canFetchMore(self, parent: _Index) -> bool:
        # Nothing is read before `start()`: views ask as soon as they are built, before the page is shown.
        return self._is_started and not parent.isValid() and not self._is_exhausted and self._loading is None

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent):
            return
        after = self._cursor
        size = self._page_size
        self._loading = self._store.query(
            "conversation page",
            lambda store: store.conversation_page(after=after, limit=size),
            on_success=self._on_page_loaded,
            on_failure=self._on_page_failed,
        )

    def start(self) -> None:
        """Load the first page unless loading already started."""
        if not self._is_started:
            self._is_started = True
            self.fetchMore(QModelIndex())

    def reload(self) -> None:
        """Forget every row and load the first page again."""
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None
        self.beginResetModel()
        self.records = []
        self._cursor = None
        self._is_exhausted = False
        self.endResetModel()
        self._is_started = False
        self.start()

    def remove_conversation(self, conversation_id: str) -> None:
        for row, item in enumerate(self.records):
            if item.id == conversation_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.records[row]
                self.endRemoveRows()
                return

    def _on_page_loaded(self, page: ConversationPage) -> None:
        self._loading = None
        known = {item.id for item in self.records[-self._page_size :]}
        fresh = [item for item in page.conversations if item.id not in known]
        if fresh:
            self.beginInsertRows(QModelIndex(), len(self.records), len(self.records) + len(fresh) - 1)
            self.records.extend(fresh)
            self.endInsertRows()
        self._cursor = page.next_cursor
        self._is_exhausted = page.next_cursor is None
        self.page_loaded.emit(len(self.records))

    def _on_page_failed(self, error: Exception) -> None:
        self._loading = None
        self._is_exhausted = True  # stop the view from asking again at once; reload() tries afresh
        self.load_failed.emit(str(error))


class SearchHitModel(RecordTableModel[SearchHit]):
    """Search results, best first: the conversation, who said it, and a snippet around the match."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            [
                Column("Conversation", lambda hit: hit.conversation_title or "(untitled)"),
                Column("Role", lambda hit: hit.role),
                Column("Match", lambda hit: " ".join(hit.snippet.split()), tooltip=lambda hit: hit.snippet),
                Column("When", lambda hit: hit.created_at, text=when),
            ],
            parent,
        )

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.set_records(hits)

    def remove_conversation(self, conversation_id: str) -> None:
        self.set_records([hit for hit in self.records if hit.conversation_id != conversation_id])

    def hit_at(self, row: int) -> SearchHit:
        return self.records[row]


def transcript_html(transcript: Transcript) -> str:
    """The transcript as simple HTML for a QTextBrowser: each message with role, model, time and cost."""
    conversation = transcript.conversation
    parts = [f"<h2>{html.escape(conversation.title or '(untitled)')}</h2>"]
    facts = [f"started {when(conversation.created_at)}"]
    if conversation.model:
        facts.append(f"model {html.escape(conversation.model)}")
    if conversation.client:
        facts.append(f"via {html.escape(conversation.client)}")
    if transcript.requests:
        facts.append(f"cost {usd(transcript.total_cost_ticks)}")
    parts.append(f"<p><i>{' · '.join(facts)}</i></p>")
    for message in conversation.messages:
        details = [when(message.created_at)]
        if message.model:
            details.append(html.escape(message.model))
        record = transcript.request_of(message)
        if record is not None:
            details.append(usd(record.cost_ticks))
            details.append(f"{count(record.prompt_tokens)} in / {count(record.completion_tokens)} out tokens")
        parts.append(f"<h4>{html.escape(message.role.capitalize())} <small>({' · '.join(details)})</small></h4>")
        body = html.escape(message.content).replace("\n", "<br>")
        parts.append(f"<p>{body}</p>")
        for reference in image_references(message):
            path = Path(reference)
            if path.is_absolute() and path.exists():
                parts.append(f'<p><img src="{QUrl.fromLocalFile(str(path)).toString()}" width="320"></p>')
            else:
                parts.append(f'<p><a href="{html.escape(reference)}">{html.escape(reference)}</a></p>')
    return "\n".join(parts)


def _load_transcript(store: Store, conversation_id: str) -> Transcript | None:
    conversation = store.get_conversation(conversation_id)
    if conversation is None:
        return None
    ids = [message.request_id for message in conversation.messages if message.request_id]
    return Transcript(conversation, store.requests_by_id(ids) if ids else {})


class ConversationsPage(ExportingPage):
    """Every conversation in the store, searchable as you type; read, export or delete the selected one."""

    title = "Conversations"

    search_finished = Signal(str, int)
    """A search's results are shown: (query, number of hits)."""

    transcript_shown = Signal(str)
    """The transcript of a conversation (its id) is in the viewer."""

    conversation_deleted = Signal(str)

    def __init__(self, store: StoreAccess, *, exports_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(store, exports_dir=exports_dir, parent=parent)
        self._search_task: Task | None = None
        self._transcript_task: Task | None = None
        self._transcript: Transcript | None = None
        self._total: int | None = None
        self.confirm_box: QMessageBox | None = None

        self.body.addLayout(self._search_row())
        self.model = ConversationListModel(store, parent=self)
        self.list_view = self._table(self.model)
        self.hits = SearchHitModel(self)
        self.hits_view = self._table(self.hits)
        self.lists = QStackedWidget(self)
        self.lists.addWidget(self.list_view)
        self.lists.addWidget(self.hits_view)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.lists)
        splitter.addWidget(self._transcript_pane())
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.body.addWidget(splitter, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._connect_signals()
        self._add_shortcuts()

    def _search_row(self) -> QHBoxLayout:
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText("Search every message…  (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Search conversations")
        self.count_label = QLabel("", self)
        return spaced_row(self.search_box, self.count_label, expanding=self.search_box)

    def _transcript_pane(self) -> QWidget:
        """The transcript viewer with the export and delete buttons under it."""
        self.viewer = QTextBrowser(self)
        self.viewer.setOpenExternalLinks(True)
        self.viewer.setAccessibleName("Transcript")
        self.viewer.setPlaceholderText("Select a conversation to read it.")
        self.export_markdown_button = QPushButton("Export &Markdown…", self)
        self.export_json_button = QPushButton("Export &JSON…", self)
        self.delete_button = QPushButton("&Delete…", self)
        for button in (self.export_markdown_button, self.export_json_button, self.delete_button):
            button.setEnabled(False)
        pane = QWidget(self)
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        layout.addWidget(self.viewer, 1)
        layout.addLayout(spaced_row(None, self.export_markdown_button, self.export_json_button, self.delete_button))
        return pane

    def _connect_signals(self) -> None:
        self._debounce.timeout.connect(self._run_search)
        self.search_box.textChanged.connect(self._on_search_text_changed)
        self.model.page_loaded.connect(self._on_page_loaded)
        self.model.load_failed.connect(self._on_load_failed)
        self.list_view.selectionModel().selectionChanged.connect(self._on_list_selection_changed)
        self.hits_view.selectionModel().selectionChanged.connect(self._on_hit_selection_changed)
        self.export_markdown_button.clicked.connect(lambda: self._choose_export_path("md"))
        self.export_json_button.clicked.connect(lambda: self._choose_export_path("json"))
        self.delete_button.clicked.connect(self.request_delete)

    def _add_shortcuts(self) -> None:
        """Ctrl+F searches, Delete deletes the selected conversation; Tab goes search → lists → transcript."""
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.activated.connect(lambda: self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason))
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.lists)
        delete.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        delete.activated.connect(self.request_delete)
        self.setTabOrder(self.search_box, self.list_view)
        self.setTabOrder(self.list_view, self.hits_view)
        self.setTabOrder(self.hits_view, self.viewer)

    def _table(self, model: QAbstractTableModel) -> QTableView:
        view = record_view(model, self)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setWordWrap(False)
        # Fixed row heights and no per-row size computation keep 100,000 rows cheap to lay out.
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        return view

    # --- loading -------------------------------------------------------------------------------------

    def activate(self) -> None:
        self.model.start()
        self._store.query("count conversations", Store.count_conversations, on_success=self._on_counted)

    def refresh(self) -> None:
        """Reload the list (and the search results when searching)."""
        self.model.reload()
        self._store.query("count conversations", Store.count_conversations, on_success=self._on_counted)
        if self.search_box.text().strip():
            self._run_search()

    def _on_counted(self, total: int) -> None:
        self._total = total
        if not self.search_box.text().strip():
            self.count_label.setText(f"{count(total)} conversations")

    def _on_page_loaded(self, rows: int) -> None:
        self.banner.clear_message()

    def _on_load_failed(self, message: str) -> None:
        self.banner.show_error(f"Could not read the conversations: {message}")

    # --- search --------------------------------------------------------------------------------------

    def _on_search_text_changed(self, text: str) -> None:
        if not text.strip():
            self._debounce.stop()
            if self._search_task is not None:
                self._search_task.cancel()
                self._search_task = None
            self.hits.set_hits([])
            self.lists.setCurrentWidget(self.list_view)
            self.count_label.setText("" if self._total is None else f"{count(self._total)} conversations")
            return
        self._debounce.start()

    def _run_search(self) -> None:
        query = self.search_box.text()
        if not query.strip():
            return
        if self._search_task is not None:
            self._search_task.cancel()
        self._search_task = self._store.query(
            "search",
            lambda store: store.search_recent_messages(query, limit=SEARCH_LIMIT, window=SEARCH_WINDOW),
            on_success=lambda hits: self._on_search_results(query, hits),
            on_failure=self._on_search_failed,
        )

    def _on_search_results(self, query: str, hits: list[SearchHit]) -> None:
        self._search_task = None
        if query != self.search_box.text():
            return  # typing went on; the next search is on its way
        self.hits.set_hits(hits)
        self.lists.setCurrentWidget(self.hits_view)
        self.count_label.setText(f"{count(len(hits))}{'+' if len(hits) >= SEARCH_LIMIT else ''} matches")
        self.banner.clear_message()
        self.search_finished.emit(query, len(hits))

    def _on_search_failed(self, error: Exception) -> None:
        self._search_task = None
        self.banner.show_error(f"Search failed: {error}")

    # --- transcript ----------------------------------------------------------------------------------

    @property
    def current_transcript(self) -> Transcript | None:
        return self._transcript

    def _on_list_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        rows = self.list_view.selectionModel().selectedRows()
        if rows:
            self.show_conversation(self.model.conversation_at(rows[0].row()).id)

    def _on_hit_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        rows = self.hits_view.selectionModel().selectedRows()
        if rows:
            self.show_conversation(self.hits.hit_at(rows[0].row()).conversation_id)

    def show_conversation(self, conversation_id: str) -> None:
        """Load a conversation's transcript in the background and show it."""
        if self._transcript_task is not None:
            self._transcript_task.cancel()
        self._transcript_task = self._store.query(
            "transcript",
            lambda store: _load_transcript(store, conversation_id),
            on_success=lambda transcript: self._on_transcript_loaded(conversation_id, transcript),
            on_failure=lambda error: self.banner.show_error(f"Could not read the conversation: {error}"),
        )

    def _on_transcript_loaded(self, conversation_id: str, transcript: Transcript | None) -> None:
        self._transcript_task = None
        self._transcript = transcript
        has_one = transcript is not None
        for button in (self.export_markdown_button, self.export_json_button, self.delete_button):
            button.setEnabled(has_one)
        if transcript is None:
            self.viewer.setPlainText("This conversation no longer exists.")
            self.model.remove_conversation(conversation_id)
            return
        self.viewer.setHtml(transcript_html(transcript))
        self.transcript_shown.emit(conversation_id)

    # --- export --------------------------------------------------------------------------------------

    def _choose_export_path(self, kind: str) -> None:
        if self._transcript is None:
            return
        stem = "".join(ch if ch.isalnum() or ch in "-_ " else "_" for ch in self._transcript.conversation.title)
        filters = "Markdown (*.md)" if kind == "md" else "JSON (*.json)"
        chosen = self._ask_export_path("Export conversation", f"{stem.strip() or 'conversation'}.{kind}", filters)
        if chosen:
            self.export_current(chosen, kind)

    def export_current(self, path: Path, kind: str) -> Task | None:
        """Write the shown transcript to `path` as Markdown (`md`) or JSON (`json`) in the background."""
        transcript = self._transcript
        if transcript is None:
            return None
        text = conversation_markdown(transcript) if kind == "md" else conversation_json(transcript)
        return self._write_export("export conversation", path, text)

    # --- delete --------------------------------------------------------------------------------------

    def request_delete(self) -> None:
        """Ask for confirmation (a window-modal box), then delete the shown conversation."""
        transcript = self._transcript
        if transcript is None:
            return
        conversation = transcript.conversation
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete conversation",
            f"Delete “{conversation.title or '(untitled)'}” and its {len(conversation.messages)} messages? "
            "This cannot be undone.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("confirmDelete")
        self.confirm_box = box

        def answered() -> None:
            self.confirm_box = None
            clicked = box.clickedButton()
            if clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole:
                self._delete(conversation.id)
            box.deleteLater()

        box.finished.connect(answered)
        box.open()

    def _delete(self, conversation_id: str) -> None:
        self._store.query(
            "delete conversation",
            lambda store: store.delete_conversation(conversation_id),
            on_success=lambda _: self._on_deleted(conversation_id),
            on_failure=lambda error: self.banner.show_error(f"Could not delete the conversation: {error}"),
        )

    def _on_deleted(self, conversation_id: str) -> None:
        self.model.remove_conversation(conversation_id)
        self.hits.remove_conversation(conversation_id)
        if self._transcript is not None and self._transcript.conversation.id == conversation_id:
            self._transcript = None
            self.viewer.clear()
            for button in (self.export_markdown_button, self.export_json_button, self.delete_button):
                button.setEnabled(False)
        if self._total is not None:
            self._on_counted(max(self._total - 1, 0))
        self.banner.show_info("The conversation was deleted.")
        self.conversation_deleted.emit(conversation_id)
