"""A tool result too large for one MCP reply, cut into parts that each fit, with nothing lost or repeated.

MCP clients refuse a result past about a mebibyte (Claude Desktop: "result exceeds maximum length of
1048576"). `split_result` moves a result's long fields (long strings, long lists) out into pieces, in order,
and leaves a small skeleton: the same result with those fields emptied. Every piece names where it goes
(`path`, from the top of the result: `["structuredContent", "results"]`) and where it starts (a list item's
or a character's position), so the parts together rebuild the result exactly: list pieces extend the list at
their path, text pieces extend the string. The content track (the text people read) and the
structuredContent track are cut apart and zipped, so part k holds a stretch of each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import BaseModel, Field

RESULT_LIMIT_BYTES = 1_000_000
"""No tool result's JSON (text and structuredContent) is larger when it leaves the server (DESIGN.md §3).

Claude Desktop refuses results past 1 MiB (1,048,576 bytes); the rest of that mebibyte is the margin for
the JSON-RPC envelope around the result and for clients that count a little differently."""

PIECE_BYTES = 250_000
"""The most JSON bytes a part carries from each track. A part's text repeats its content pieces for the
reader, so a part's whole result stays near three times this, well inside RESULT_LIMIT_BYTES."""

KEEP_BYTES = 50_000
"""How large the structuredContent left in the small result may stay (its long fields move to the parts)."""

ITEM_KEEP_BYTES = 4_000
"""How large one list item too big for a piece may stay in its piece; its own long fields get pieces after it."""

Path = list[str | int]


def json_size(value: Any) -> int:
    """The bytes of `value` as compact UTF-8 JSON, as the SDK writes a result on the wire."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


class ResultPiece(BaseModel):
    """A stretch of one long field of a result that was too large for one reply."""

    path: Path = Field(
        description="Where the field is in the whole result: keys and list positions from its top, e.g. "
        '["structuredContent", "results"] or ["content", 0, "text"].'
    )
    start: int = Field(description="The position in that field of the first list item or character here.")
    items: list[Any] | None = Field(default=None, description="Consecutive items of a list field.")
    text: str | None = Field(default=None, description="Consecutive characters of a string field.")


@dataclass(frozen=True)
class SplitResult:
    """A result's skeleton (the small result, long fields emptied) and its parts, each a list of pieces."""

    skeleton: dict[str, Any]
    parts: list[list[ResultPiece]]

    @property
    def moved(self) -> list[str]:
        """The fields whose contents are in the parts, as dotted paths, in order, each once."""
        seen: dict[str, None] = {}
        for part in self.parts:
            for piece in part:
                seen.setdefault(".".join(str(step) for step in piece.path), None)
        return list(seen)


@dataclass
class _Splitter:
    """Moves the long fields of a value into pieces of at most `piece_bytes` JSON bytes each."""

    piece_bytes: int
    pieces: list[ResultPiece] = field(default_factory=list[ResultPiece])

    def shrink(self, value: Any, path: Path, keep: int) -> Any:
        """`value` with long strings and lists moved into pieces until it is at most `keep` bytes."""
        size = json_size(value)
        if size <= keep:
            return value
        if isinstance(value, str):
            self.text(value, path)
            return ""
        if isinstance(value, list):
            self.items(cast(list[Any], value), path)
            return []
        if isinstance(value, dict):
            return self._members(cast(dict[str, Any], value), path, keep, size)
        return value

    def _members(self, value: dict[str, Any], path: Path, keep: int, size: int) -> dict[str, Any]:
        """The object with its largest members shrunk first, until it fits in `keep`."""
        kept = dict(value)
        sizes = {key: json_size(member) for key, member in value.items()}
        for key in sorted(sizes, key=lambda name: sizes[name], reverse=True):
            if size <= keep:
                break
            room = max(0, keep - (size - sizes[key]))
            kept[key] = self.shrink(value[key], [*path, key], room)
            size += json_size(kept[key]) - sizes[key]
        return kept

    def text(self, text: str, path: Path) -> None:
        start = 0
        while start < len(text):
            end = _cut(text, start, self.piece_bytes)
            self.pieces.append(ResultPiece(path=path, start=start, text=text[start:end]))
            start = end

    def items(self, items: list[Any], path: Path) -> None:
        """Consecutive items in pieces; an item too big for a piece goes in shrunk, its long fields after it."""
        group: list[Any] = []
        start = 0
        group_size = 2

        def flush(next_start: int) -> None:
            nonlocal group, start, group_size
            if group:
                self.pieces.append(ResultPiece(path=path, start=start, items=group))
            group, start, group_size = [], next_start, 2

        for index, whole in enumerate(items):
            item, inner = self._fitted(whole, [*path, index])
            size = json_size(item)
            if group and group_size + size + 1 > self.piece_bytes:
                flush(index)
            group.append(item)
            group_size += size + 1
            if inner:  # the item's own pieces need the item in place first
                flush(index + 1)
                self.pieces.extend(inner)
        flush(len(items))

    def _fitted(self, item: Any, path: Path) -> tuple[Any, list[ResultPiece]]:
        """A list item as it goes into a piece, and the pieces of its long fields when it was too big for one."""
        if json_size(item) <= self.piece_bytes:
            return item, []
        nested = _Splitter(self.piece_bytes)
        return nested.shrink(item, path, ITEM_KEEP_BYTES), nested.pieces


def _cut(text: str, start: int, budget: int) -> int:
    """Where the piece of `text` from `start` ends: at most `budget` JSON bytes, at a line end when one is near."""
    length = min(len(text) - start, budget)
    while length > 1:
        size = json_size(text[start : start + length])
        if size <= budget:
            break
        length = max(1, min(length - 1, length * (budget - 2) // size))
    end = start + length
    if end < len(text):
        newline = text.rfind("\n", start + length // 2, end)
        if newline >= 0:
            end = newline + 1
    return end


def _packed(pieces: list[ResultPiece], budget: int) -> list[list[ResultPiece]]:
    """Consecutive pieces grouped into parts of at most `budget` JSON bytes (a piece is never split)."""
    parts: list[list[ResultPiece]] = []
    current: list[ResultPiece] = []
    size = 0
    for piece in pieces:
        piece_size = json_size(piece.model_dump(mode="json", exclude_none=True))
        if current and size + piece_size > budget:
            parts.append(current)
            current, size = [], 0
        current.append(piece)
        size += piece_size
    if current:
        parts.append(current)
    return parts


def split_result(
    result: dict[str, Any], *, piece_bytes: int = PIECE_BYTES, keep_bytes: int = KEEP_BYTES
) -> SplitResult:
    """`result` (a CallToolResult's wire dict) as a skeleton and parts: every content block moves to the
    parts, and structuredContent's long fields until what is left fits in `keep_bytes`."""
    content = _Splitter(piece_bytes)
    content.items(cast(list[Any], result.get("content") or []), ["content"])
    structured = _Splitter(piece_bytes)
    skeleton = {key: value for key, value in result.items() if key != "content"}
    skeleton["content"] = []
    if isinstance(result.get("structuredContent"), dict):
        skeleton["structuredContent"] = structured.shrink(
            result["structuredContent"], ["structuredContent"], keep_bytes
        )
    tracks = (_packed(content.pieces, piece_bytes), _packed(structured.pieces, piece_bytes))
    count = max(len(tracks[0]), len(tracks[1]))
    parts = [
        [*(tracks[0][i] if i < len(tracks[0]) else []), *(tracks[1][i] if i < len(tracks[1]) else [])]
        for i in range(count)
    ]
    return SplitResult(skeleton=skeleton, parts=parts)


def readable_text(pieces: list[ResultPiece]) -> str:
    """The text people read in these pieces: the stretches of the result's text content they hold."""
    texts: list[str] = []
    for piece in pieces:
        if piece.path[:1] != ["content"]:
            continue
        if piece.text is not None:
            texts.append(piece.text)
        for item in piece.items or []:
            if isinstance(item, dict):
                block = cast(dict[str, Any], item)
                if block.get("type") == "text" and block.get("text"):
                    texts.append(str(block["text"]))
    return "".join(texts)


def describe_pieces(pieces: list[ResultPiece]) -> str:
    """What these pieces hold, for a person: 'structuredContent.results items 120–239; …'."""
    spans: list[str] = []
    for piece in pieces:
        where = ".".join(str(step) for step in piece.path)
        if piece.items is not None:
            spans.append(f"{where} items {piece.start}–{piece.start + len(piece.items) - 1}")
        elif piece.text is not None:
            spans.append(f"{where} characters {piece.start:,}–{piece.start + len(piece.text) - 1:,}")
    return "; ".join(spans)
