"""The SQLite store, the only code that touches SQL: usage ledger, conversations and response cache."""

from grok_mcp.store.conversations import (
    SNIPPET_END,
    SNIPPET_START,
    Conversation,
    ConversationNotFoundError,
    ConversationPage,
    ConversationSummary,
    ImportedConversation,
    Message,
    NewMessage,
    PageCursor,
    SearchHit,
)
from grok_mcp.store.db import DatabaseBusyError, StoreClosedError
from grok_mcp.store.jobs import JobRecord, JobStatus
from grok_mcp.store.ledger import TOTAL_KEY, UNKNOWN_KEY, GroupBy, RequestRecord, UsageCell, UsageGroup, UsageSummary
from grok_mcp.store.migrations import LATEST_SCHEMA_VERSION
from grok_mcp.store.store import Store

__all__ = [
    "LATEST_SCHEMA_VERSION",
    "SNIPPET_END",
    "SNIPPET_START",
    "TOTAL_KEY",
    "UNKNOWN_KEY",
    "Conversation",
    "ConversationNotFoundError",
    "ConversationPage",
    "ConversationSummary",
    "DatabaseBusyError",
    "GroupBy",
    "ImportedConversation",
    "JobRecord",
    "JobStatus",
    "Message",
    "NewMessage",
    "PageCursor",
    "RequestRecord",
    "SearchHit",
    "Store",
    "StoreClosedError",
    "UsageCell",
    "UsageGroup",
    "UsageSummary",
]
