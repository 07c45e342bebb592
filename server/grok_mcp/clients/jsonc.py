"""Surgical edits of JSON and JSONC files: a real parse that records where every value sits, then text splices.

Only the bytes of our own member change: comments, trailing commas, key order, indentation, CRLF line
endings and a UTF-8 BOM elsewhere in the file stay exactly as they were. Strict JSON files (read by
clients with `JSON.parse`) refuse comments and trailing commas instead of carrying them forward.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grok_mcp.clients.errors import ConfigShapeError, ConfigSyntaxError, line_and_column, too_long_number

_WHITESPACE = " \t\r\n"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass
class JsonMember:
    """One `"key": value` pair of an object, with the offset of the comma that follows it (if any)."""

    key: str
    key_start: int
    value: JsonNode
    comma: int | None = None


@dataclass
class JsonNode:
    """A parsed value and its span `[start, end)` in the text; objects keep their members in order."""

    value: Any
    start: int
    end: int
    members: list[JsonMember] = field(default_factory=list[JsonMember])
    is_object: bool = False

    def member(self, key: str) -> JsonMember | None:
        """The last member named `key` (the one `JSON.parse` keeps), or None."""
        found = [m for m in self.members if m.key == key]
        return found[-1] if found else None


class _Problem(Exception):
    def __init__(self, position: int, detail: str) -> None:
        super().__init__(detail)
        self.position = position
        self.detail = detail


class _Parser:
    def __init__(self, text: str, *, is_jsonc: bool) -> None:
        self.text = text
        self.pos = 0
        self.is_jsonc = is_jsonc

    def skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in _WHITESPACE:
                self.pos += 1
            elif char == "/" and text.startswith(("//", "/*"), self.pos):
                if not self.is_jsonc:
                    raise _Problem(self.pos, "comments are not allowed in this file")
                if text.startswith("//", self.pos):
                    end = text.find("\n", self.pos)
                    self.pos = len(text) if end < 0 else end
                else:
                    end = text.find("*/", self.pos + 2)
                    if end < 0:
                        raise _Problem(self.pos, "a /* comment is never closed")
                    self.pos = end + 2
            else:
                return

    def document(self) -> JsonNode:
        self.skip()
        if self.pos >= len(self.text):
            raise _Problem(self.pos, "the file holds no JSON value")
        node = self.value()
        self.skip()
        if self.pos < len(self.text):
            raise _Problem(self.pos, f"unexpected {self.text[self.pos]!r} after the end of the document")
        return node

    def value(self) -> JsonNode:
        text, start = self.text, self.pos
        if start >= len(text):
            raise _Problem(start, "the file ends where a value should be")
        char = text[start]
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char == '"':
            match = _STRING.match(text, start)
            if match is None:
                raise _Problem(start, "a string is not closed or has a bad escape")
            self.pos = match.end()
            return JsonNode(json.loads(match.group()), start, self.pos)
        match = _NUMBER.match(text, start)
        if match:
            self.pos = match.end()
            try:
                number = json.loads(match.group())
            except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits())
                raise _Problem(start, too_long_number(match.group())) from None
            return JsonNode(number, start, self.pos)
        for word, literal in _LITERALS.items():
            if text.startswith(word, start):
                self.pos = start + len(word)
                return JsonNode(literal, start, self.pos)
        raise _Problem(start, f"unexpected {char!r} where a value should be")

    def _separator(self, closer: str, what: str) -> tuple[int | None, bool]:
        """After an item: the comma's offset (or None) and whether the container closed."""
        self.skip()
        if self.pos >= len(self.text):
            raise _Problem(self.pos, f"the file ends inside an {what}")
        char = self.text[self.pos]
        if char == closer:
            self.pos += 1
            return None, True
        if char != ",":
            raise _Problem(self.pos, f"expected ',' or {closer!r} in an {what}, found {char!r}")
        comma = self.pos
        self.pos += 1
        self.skip()
        if self.pos < len(self.text) and self.text[self.pos] == closer:
            if not self.is_jsonc:
                raise _Problem(comma, "a trailing comma is not allowed in this file")
            self.pos += 1
            return comma, True
        return comma, False

    def object(self) -> JsonNode:
        start = self.pos
        self.pos += 1
        members: list[JsonMember] = []
        values: dict[str, Any] = {}
        self.skip()
        if self.pos < len(self.text) and self.text[self.pos] == "}":
            self.pos += 1
            return JsonNode(values, start, self.pos, members, is_object=True)
        while True:
            self.skip()
            key_start = self.pos
            if self.pos >= len(self.text) or self.text[self.pos] != '"':
                raise _Problem(self.pos, "expected a quoted key in an object")
            key = self.value().value
            self.skip()
            if self.pos >= len(self.text) or self.text[self.pos] != ":":
                raise _Problem(self.pos, f"expected ':' after the key {key!r}")
            self.pos += 1
            self.skip()
            node = self.value()
            member = JsonMember(key, key_start, node)
            members.append(member)
            values[key] = node.value
            member.comma, closed = self._separator("}", "object")
            if closed:
                return JsonNode(values, start, self.pos, members, is_object=True)

    def array(self) -> JsonNode:
        start = self.pos
        self.pos += 1
        items: list[Any] = []
        self.skip()
        if self.pos < len(self.text) and self.text[self.pos] == "]":
            self.pos += 1
            return JsonNode(items, start, self.pos)
        while True:
            self.skip()
            items.append(self.value().value)
            _, closed = self._separator("]", "array")
            if closed:
                return JsonNode(items, start, self.pos)


def parse(text: str, *, path: Path, is_jsonc: bool) -> JsonNode:
    """Parse a whole document (without its BOM). Raises ConfigSyntaxError naming the file, line and column."""
    try:
        return _Parser(text, is_jsonc=is_jsonc).document()
    except _Problem as problem:
        line, column = line_and_column(text, problem.position)
        raise ConfigSyntaxError(path, line, column, problem.detail, "JSONC" if is_jsonc else "JSON") from None
    except RecursionError:
        raise ConfigSyntaxError(path, 1, 1, "nested too deeply", "JSONC" if is_jsonc else "JSON") from None


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _indent_unit(text: str) -> str:
    match = re.search(r"\n([ \t]+)\S", text)
    return match.group(1) if match else "  "


def _line_indent(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    match = re.match(r"[ \t]*", text[line_start:])
    return match.group() if match else ""


def _starts_its_line(text: str, offset: int) -> bool:
    return text[text.rfind("\n", 0, offset) + 1 : offset].strip() == ""


def _serialize(value: Any, unit: str, indent: str, newline: str) -> str:
    dumped = json.dumps(value, indent=unit, ensure_ascii=False)
    return (newline + indent).join(dumped.split("\n"))


def _whitespace_start(text: str, offset: int) -> int:
    while offset > 0 and text[offset - 1] in _WHITESPACE:
        offset -= 1
    return offset


def _after_line_comment(text: str, offset: int) -> int:
    """Past a comment that ends the line at `offset`, so a new member never takes another's comment."""
    probe = offset
    while probe < len(text) and text[probe] in " \t":
        probe += 1
    if text.startswith("//", probe):
        end = text.find("\n", probe)
        end = len(text) if end < 0 else end
        return end - 1 if text[end - 1] == "\r" else end
    if text.startswith("/*", probe):
        end = text.find("*/", probe)
        if end >= 0 and "\n" not in text[probe:end]:
            return end + 2
    return offset


def set_member(text: str, obj: JsonNode, key: str, value: Any) -> str:
    """`obj[key] = value` as a text splice: replaces the old value in place, or appends a new member."""
    newline, unit = _newline(text), _indent_unit(text)
    existing = obj.member(key)
    if existing is not None:
        indent = _line_indent(text, existing.key_start)
        node = existing.value
        return text[: node.start] + _serialize(value, unit, indent, newline) + text[node.end :]
    if obj.members:
        first = obj.members[0]
        if _starts_its_line(text, first.key_start):
            indent = _line_indent(text, first.key_start)
        else:
            indent = _line_indent(text, obj.start) + unit
        member = json.dumps(key, ensure_ascii=False) + ": " + _serialize(value, unit, indent, newline)
        last = obj.members[-1]
        if last.comma is not None:  # keep the file's trailing-comma style
            at = _after_line_comment(text, last.comma + 1)
            return text[:at] + newline + indent + member + "," + text[at:]
        at = _after_line_comment(text, last.value.end)
        end = last.value.end
        return text[:end] + "," + text[end:at] + newline + indent + member + text[at:]
    outer = _line_indent(text, obj.start)
    indent = outer + unit
    member = json.dumps(key, ensure_ascii=False) + ": " + _serialize(value, unit, indent, newline)
    return text[: obj.start + 1] + newline + indent + member + newline + outer + text[obj.end - 1 :]


def remove_member(text: str, obj: JsonNode, key: str) -> str:
    """Delete every member named `key` as text splices, the exact inverse of `set_member`'s insertion."""
    for index in reversed([i for i, m in enumerate(obj.members) if m.key == key]):
        member = obj.members[index]
        start = _whitespace_start(text, member.key_start)
        if index > 0 and member.comma is None:
            previous = obj.members[index - 1]
            assert previous.comma is not None
            text = text[: previous.comma] + text[previous.comma + 1 : start] + text[member.value.end :]
        elif index == 0 and len(obj.members) == 1 and member.comma is None:
            # the only member: the object becomes `{}` unless comments remain inside it
            end = member.value.end
            inner_end = obj.end - 1
            if text[end:inner_end].strip() == "" and text[obj.start + 1 : member.key_start].strip() == "":
                text = text[: obj.start + 1] + text[inner_end:]
            else:
                text = text[:start] + text[end:]
        else:
            assert member.comma is not None
            text = text[:start] + text[member.comma + 1 :]
    return text


@dataclass(frozen=True)
class JsonFormat:
    """A JSON (`is_jsonc=False`) or JSONC config whose servers live in an object under one top-level key."""

    is_jsonc: bool

    @property
    def label(self) -> str:
        return "JSONC" if self.is_jsonc else "JSON"

    @property
    def is_keyed_list(self) -> bool:
        return False

    def load(self, text: str, path: Path) -> dict[str, Any]:
        """The document as plain data; a blank file is an empty document. Raises ConfigSyntaxError/ShapeError."""
        if not text.strip():
            return {}
        root = parse(text, path=path, is_jsonc=self.is_jsonc)
        if not root.is_object:
            raise ConfigShapeError(
                f"{path} holds a JSON {type(root.value).__name__}, not an object. Grok MCP changed nothing."
            )
        return dict(root.value)

    def _container(self, text: str, path: Path, container: str) -> tuple[JsonNode, JsonMember | None]:
        root = parse(text, path=path, is_jsonc=self.is_jsonc)
        if not root.is_object:
            raise ConfigShapeError(
                f"{path} holds a JSON {type(root.value).__name__}, not an object. Grok MCP changed nothing."
            )
        member = root.member(container)
        if member is not None and not member.value.is_object:
            line, _ = line_and_column(text, member.key_start)
            raise ConfigShapeError(
                f'"{container}" in {path} (line {line}) is not an object, so Grok MCP cannot add to it. '
                "Grok MCP changed nothing."
            )
        return root, member

    def set_entry(self, text: str, path: Path, container: str, name: str, entry: dict[str, Any]) -> tuple[str, bool]:
        """Add or replace `container.name`; returns the new text and whether the container was created."""
        if not text.strip():
            newline = _newline(text)
            skeleton = "{}"
            created = set_member(skeleton, parse(skeleton, path=path, is_jsonc=False), container, {name: entry})
            return created.replace("\n", newline) + newline, True
        root, member = self._container(text, path, container)
        if member is None:
            return set_member(text, root, container, {name: entry}), True
        return set_member(text, member.value, name, entry), False

    def remove_entry(self, text: str, path: Path, container: str, name: str, *, drop_empty_container: bool) -> str:
        """Remove `container.name` (and the container when asked and it is left empty)."""
        if not text.strip():
            return text
        _, member = self._container(text, path, container)
        if member is None or member.value.member(name) is None:
            return text
        text = remove_member(text, member.value, name)
        if drop_empty_container:
            root, member = self._container(text, path, container)
            if member is not None and not member.value.members:
                text = remove_member(text, root, container)
        return text
