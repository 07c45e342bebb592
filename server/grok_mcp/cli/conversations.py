"""`grok-mcp conversations list|show|search|export|delete`: the stored conversations from the command line."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grok_mcp.cli.common import AddCommand, out
from grok_mcp.config import Settings, load_settings
from grok_mcp.errors import ExitCode, InputError
from grok_mcp.logs import configure_logging

if TYPE_CHECKING:  # every `grok-mcp` command builds this parser; only these commands need the store
    from grok_mcp.store import Conversation, Store


def add_conversations_parser(sub: Any, add: AddCommand) -> argparse.ArgumentParser:
    """Add `conversations` and its actions; `sub` is build_parser's subparsers, which `add` already adds to."""
    del sub
    conversations = add("conversations", cmd_conversations, "list, show, search, export and delete conversations")
    actions = conversations.add_subparsers(dest="conversations_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list conversations, most recently updated first")
    listing.add_argument("--limit", type=_positive, default=20)
    listing.add_argument("--offset", type=_not_negative, default=0)
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="print a conversation")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    search = actions.add_parser("search", help="full-text search over every message, best first")
    search.add_argument("query")
    search.add_argument("--limit", type=_positive, default=10)
    search.add_argument("--json", action="store_true")
    export = actions.add_parser("export", help="write a conversation to a Markdown or JSON file")
    export.add_argument("id")
    export.add_argument("--format", choices=["markdown", "json"], default="markdown")
    export.add_argument("--output", type=Path, default=None, help="file to write (default: the data dir's exports/)")
    delete = actions.add_parser("delete", help="delete a conversation and its messages")
    delete.add_argument("id")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return conversations


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _unknown(conversation_id: str) -> InputError:
    return InputError(
        f"No conversation has the id {conversation_id!r}. `grok-mcp conversations list` shows the ids there are."
    )


def _conversation(store: Store, conversation_id: str) -> Conversation:
    """The stored conversation. Raises InputError naming the command that lists the ids."""
    found = store.get_conversation(conversation_id)
    if found is None:
        raise _unknown(conversation_id)
    return found


def cmd_conversations(args: argparse.Namespace) -> int:
    from grok_mcp.store import Store

    configure_logging("DEBUG" if args.debug else "WARNING")
    settings = load_settings()
    store = Store.open(settings.db_path)
    try:
        return _ACTIONS[args.conversations_action](args, store, settings)
    finally:
        store.close()


def _list(args: argparse.Namespace, store: Store, _: Settings) -> int:
    from grok_mcp.tools.conversations import ConversationList, conversation_info, list_text

    found = store.list_conversations(limit=args.limit + 1, offset=args.offset)
    listing = ConversationList(
        conversations=[conversation_info(s) for s in found[: args.limit]],
        offset=args.offset,
        has_more=len(found) > args.limit,
    )
    out(listing.model_dump_json(indent=2) if args.json else list_text(listing))
    return ExitCode.OK


def _show(args: argparse.Namespace, store: Store, _: Settings) -> int:
    from grok_mcp.conversation_history import transcript_markdown
    from grok_mcp.tools.conversations import conversation_detail

    found = _conversation(store, args.id)
    out(conversation_detail(found).model_dump_json(indent=2) if args.json else transcript_markdown(found).rstrip())
    return ExitCode.OK


def _search(args: argparse.Namespace, store: Store, _: Settings) -> int:
    from grok_mcp.tools.conversations import SearchResults, search_result, search_text

    if not args.query.strip():
        raise InputError("The search query is empty. Give the words to search for.")
    hits = store.search_messages(args.query, limit=args.limit)
    results = SearchResults(query=args.query, results=[search_result(h) for h in hits])
    out(results.model_dump_json(indent=2) if args.json else search_text(results))
    return ExitCode.OK


def _export(args: argparse.Namespace, store: Store, settings: Settings) -> int:
    from grok_mcp.conversation_history import transcript_markdown
    from grok_mcp.tools.conversations import conversation_detail

    found = _conversation(store, args.id)
    is_json = args.format == "json"
    text = conversation_detail(found).model_dump_json(indent=2) + "\n" if is_json else transcript_markdown(found)
    path: Path = (
        args.output or settings.exports_dir / f"{_slug(found.title)}-{found.id[:8]}.{'json' if is_json else 'md'}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out(str(path))
    return ExitCode.OK


def _delete(args: argparse.Namespace, store: Store, _: Settings) -> int:
    found = _conversation(store, args.id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise InputError(
                f"Not deleting {found.title!r} without confirmation: stdin is not a terminal. Pass --yes to delete."
            )
        answer = input(f"Delete the conversation {found.title!r} ({len(found.messages)} messages)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            out("Kept it.")
            return ExitCode.OK
    if not store.delete_conversation(found.id):
        raise _unknown(args.id)
    out(f"Deleted the conversation {found.title!r} ({len(found.messages)} messages).")
    return ExitCode.OK


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-") or "conversation"


_ACTIONS: dict[str, Callable[[argparse.Namespace, Store, Settings], int]] = {
    "list": _list,
    "show": _show,
    "search": _search,
    "export": _export,
    "delete": _delete,
}
