"""The simulator's deterministic tokenizer."""

from __future__ import annotations

import pytest
from grok_mcp.simulator.tokenizer import VOCABULARY_SIZE, count_tokens, split_tokens, tokenize, truncate

TEXTS = [
    "Hello world!",
    "",
    "  indented\n\ttabs",
    "naïve café 12345678",
    "supercalifragilisticexpialidocious",
    "a_b-c",
]


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_join_back_into_the_text_and_count_consistently(text: str) -> None:
    tokens = tokenize(text)

    assert "".join(token.string_token for token in tokens) == text
    assert count_tokens(text) == len(tokens)
    assert all(0 <= token.token_id < VOCABULARY_SIZE for token in tokens)
    assert all(bytes(token.token_bytes).decode("utf-8") == token.string_token for token in tokens)


def test_the_same_piece_always_gets_the_same_id() -> None:
    first = tokenize("the cat and the dog")
    assert first[0].token_id != first[1].token_id
    assert tokenize(" cat")[0].token_id == first[1].token_id


def test_long_words_are_split_and_digits_grouped_by_three() -> None:
    assert [t.string_token for t in tokenize(" 1234567")] == [" 123", "456", "7"]
    assert max(len(t.string_token) for t in tokenize("x" * 30)) == 8


def test_truncate_and_split_work_on_whole_tokens() -> None:
    text = "one two three four five"

    assert truncate(text, 2) == "one two"
    assert truncate(text, 0) == ""
    assert split_tokens(text, 2) == ["one two", " three four", " five"]
