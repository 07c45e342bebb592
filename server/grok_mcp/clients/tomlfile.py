"""Edits of TOML configs (Codex): tomlkit keeps comments and layout; a new table is appended as plain text.

A new `[container.name]` table goes at the end of the file as text and an old one is cut out the same
way, so removing what we added gives the file back byte for byte; every splice is checked by parsing the
result, and tomlkit's own (comment-preserving) edit takes over where a splice would not be valid TOML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import tomlkit
import tomlkit.exceptions
from tomlkit.items import InlineTable, Table

from grok_mcp.clients.errors import ConfigShapeError, ConfigSyntaxError

_HEADER = re.compile(r"^[ \t]*\[\[?[ \t]*([^\]\r\n]*?)[ \t]*\]\]?[ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _key_path(header: str) -> list[str]:
    return [part.strip().strip('"').strip("'") for part in header.split(".")]


@dataclass(frozen=True)
class TomlFormat:
    """A TOML config whose servers are tables under one top-level key (`[mcp_servers.<name>]`)."""

    label: str = "TOML"

    @property
    def is_keyed_list(self) -> bool:
        return False

    def _parse(self, text: str, path: Path) -> tomlkit.TOMLDocument:
        try:
            return tomlkit.parse(text)
        except tomlkit.exceptions.ParseError as exc:
            detail = str(exc).split(" at line ")[0]
            raise ConfigSyntaxError(path, exc.line, exc.col, detail, "TOML") from None

    def load(self, text: str, path: Path) -> dict[str, Any]:
        """The document as plain data (a blank file is empty). Raises ConfigSyntaxError."""
        return self._parse(text, path).unwrap()

    def _servers(self, doc: tomlkit.TOMLDocument, path: Path, container: str) -> dict[str, Any] | None:
        document: Any = doc  # tomlkit's containers are only partly typed
        servers: Any = document.get(container)
        if servers is not None and not isinstance(servers, dict):
            raise ConfigShapeError(f"`{container}` in {path} is not a table. Grok MCP changed nothing.")
        return cast(dict[str, Any] | None, servers)

    def _block(self, text: str, container: str, name: str) -> tuple[int, int] | None:
        """The span of the `[container.name]` table and its sub-tables, if it is written as one."""
        headers = list(_HEADER.finditer(text))
        for index, header in enumerate(headers):
            if _key_path(header.group(1)) != [container, name]:
                continue
            end = len(text)
            for later in headers[index + 1 :]:
                if _key_path(later.group(1))[:2] != [container, name]:
                    end = later.start()
                    break
            return header.start(), end
        return None

    def set_entry(self, text: str, path: Path, container: str, name: str, entry: dict[str, Any]) -> tuple[str, bool]:
        """Add or replace `[container.name]`; returns the new text and whether `container` was created."""
        doc = self._parse(text, path)
        servers = self._servers(doc, path, container)
        created = servers is None
        table = tomlkit.table()
        for key, value in entry.items():
            table.add(key, value)
        if servers is None or name not in servers:
            newline = _newline(text)
            block = f"[{container}.{name}]{newline}" + tomlkit.dumps(table).replace("\n", newline)
            if not text.strip():
                candidate = block
            else:
                separator = newline if text.endswith("\n") else newline * 2
                candidate = text + separator + block
            if self._is_valid_splice(candidate, container, name, entry):
                return candidate, created
        if servers is None:
            doc.add(container, tomlkit.table(is_super_table=True))
        target = doc[container]
        if isinstance(target, InlineTable):  # an inline table can only hold inline tables
            inline = tomlkit.inline_table()
            for key, value in entry.items():
                inline.append(key, value)
            target[name] = inline
        else:
            cast(Table, target)[name] = table
        return tomlkit.dumps(doc), created

    def _is_valid_splice(self, candidate: str, container: str, name: str, entry: dict[str, Any] | None) -> bool:
        try:
            data = tomlkit.parse(candidate).unwrap()
        except tomlkit.exceptions.TOMLKitError:
            return False
        servers = data.get(container)
        if entry is None:
            return not isinstance(servers, dict) or name not in servers
        return isinstance(servers, dict) and cast(dict[str, Any], servers).get(name) == entry

    def remove_entry(self, text: str, path: Path, container: str, name: str, *, drop_empty_container: bool) -> str:
        """Remove `[container.name]` (and an emptied `container` when asked)."""
        doc = self._parse(text, path)
        servers = self._servers(doc, path, container)
        if servers is None or name not in servers:
            return text
        span = self._block(text, container, name)
        if span is not None:
            start, end = span
            before, after = text[:start], text[end:]
            newline = _newline(text)
            if not after and before.endswith(newline * 2):
                before = before[: -len(newline)]  # the blank line `set_entry` put in front of the table
            candidate = before + after
            if self._is_valid_splice(candidate, container, name, None) and self._same_rest(
                text, candidate, container, name
            ):
                return candidate
        del cast(Table | InlineTable, doc[container])[name]
        if drop_empty_container and not cast(Table | InlineTable, doc[container]):
            del doc[container]
        return tomlkit.dumps(doc)

    def _same_rest(self, old: str, new: str, container: str, name: str) -> bool:
        before = tomlkit.parse(old).unwrap()
        cast(dict[str, Any], before[container]).pop(name, None)
        if not before[container]:
            before.pop(container)
        after = tomlkit.parse(new).unwrap()
        if not after.get(container, True):
            after.pop(container)
        return before == after
