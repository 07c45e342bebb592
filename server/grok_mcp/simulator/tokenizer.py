"""Deterministic tokenization shared by usage counting and `/v1/tokenize-text`.

Not Grok's tokenizer, but the same spirit: a word with its leading space is one token (long words
are split into pieces of at most eight characters), digits go in groups of three, and every other
character stands alone. Token ids are a stable hash of the token's text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

VOCABULARY_SIZE = 131_072
_MAX_WORD_PIECE = 8
_TOKEN = re.compile(r" ?[^\W\d_]+| ?\d{1,3}|\s+(?!\S)|\s| ?[^\s\w]|_", re.UNICODE)


@dataclass(frozen=True)
class Token:
    """One token: its id, its text and its UTF-8 bytes."""

    token_id: int
    string_token: str

    @property
    def token_bytes(self) -> list[int]:
        return list(self.string_token.encode("utf-8"))

    def to_json(self) -> dict[str, object]:
        """The token as `/v1/tokenize-text` returns it."""
        return {"token_id": self.token_id, "string_token": self.string_token, "token_bytes": self.token_bytes}


def _token_id(piece: str) -> int:
    digest = hashlib.blake2b(piece.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % VOCABULARY_SIZE


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        while len(word) > _MAX_WORD_PIECE:
            pieces.append(word[:_MAX_WORD_PIECE])
            word = word[_MAX_WORD_PIECE:]
        pieces.append(word)
    return pieces


def tokenize(text: str) -> list[Token]:
    """Split text into tokens; joining their `string_token`s gives the text back."""
    return [Token(_token_id(piece), piece) for piece in _pieces(text)]


def count_tokens(text: str) -> int:
    """How many tokens `tokenize(text)` yields."""
    return len(_pieces(text))


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of text made of at most `max_tokens` whole tokens."""
    return "".join(_pieces(text)[: max(max_tokens, 0)])


def split_tokens(text: str, per_chunk: int) -> list[str]:
    """Text cut into consecutive pieces of `per_chunk` tokens (the last may be shorter)."""
    pieces = _pieces(text)
    return ["".join(pieces[i : i + per_chunk]) for i in range(0, len(pieces), per_chunk)]
