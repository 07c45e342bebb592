"""Fitting a conversation's history to a context window, sharing out billed prompt tokens, titles, transcripts."""

from __future__ import annotations

import pytest
from grok_mcp.conversation_history import (
    DEFAULT_ANSWER_RESERVE_TOKENS,
    HistoryMessage,
    answer_reserve,
    attribute_prompt_tokens,
    estimate_tokens,
    fit_history,
    title_from,
    transcript_markdown,
)
from grok_mcp.errors import InputError
from grok_mcp.store.conversations import Conversation, Message


def msg(role: str, tokens: int, text: str | None = None) -> HistoryMessage:
    return HistoryMessage(role, text or f"{role} of {tokens}", tokens)


def turns(count: int, *, user: int = 10, answer: int = 10) -> list[HistoryMessage]:
    history: list[HistoryMessage] = []
    for n in range(count):
        history += [msg("user", user, f"question {n}"), msg("assistant", answer, f"answer {n}")]
    return history


def test_everything_is_sent_when_it_fits() -> None:
    fitted = fit_history(msg("system", 5), turns(3), msg("user", 10), budget_tokens=75)
    assert fitted.dropped == 0
    assert fitted.prompt_tokens == 75
    assert [m.role for m in fitted.messages] == ["system"] + ["user", "assistant"] * 3 + ["user"]


def test_the_oldest_turns_are_dropped_first_and_the_system_prompt_is_kept() -> None:
    fitted = fit_history(msg("system", 5), turns(3), msg("user", 10, "now"), budget_tokens=74)
    assert fitted.dropped == 2
    assert [m.content for m in fitted.messages] == [
        "system of 5",
        "question 1",
        "answer 1",
        "question 2",
        "answer 2",
        "now",
    ]
    assert fitted.prompt_tokens == 55


def test_whole_turns_are_dropped_so_the_history_never_starts_with_an_answer() -> None:
    history = [msg("user", 10, "q0"), msg("assistant", 30, "a0"), msg("user", 10, "q1"), msg("assistant", 10, "a1")]
    fitted = fit_history(None, history, msg("user", 10, "now"), budget_tokens=59)
    assert [m.content for m in fitted.messages] == ["q1", "a1", "now"]
    assert fitted.dropped == 2


def test_a_newer_turn_that_does_not_fit_drops_every_older_one_too() -> None:
    history = [msg("user", 5, "q0"), msg("assistant", 5, "a0"), msg("user", 50, "q1"), msg("assistant", 50, "a1")]
    fitted = fit_history(None, history, msg("user", 10, "now"), budget_tokens=40)
    assert [m.content for m in fitted.messages] == ["now"]
    assert fitted.dropped == 4


def test_stored_system_messages_in_the_history_are_not_sent_twice() -> None:
    system = msg("system", 5, "rules")
    fitted = fit_history(system, [system, *turns(1)], msg("user", 10), budget_tokens=100)
    assert [m.role for m in fitted.messages] == ["system", "user", "assistant", "user"]


def test_a_message_that_alone_exceeds_the_window_is_refused_with_what_to_do() -> None:
    with pytest.raises(InputError, match=r"about 1,005 tokens.*1,000.*larger context"):
        fit_history(msg("system", 5), [], msg("user", 1000), budget_tokens=1000)


def test_unmeasured_messages_count_by_a_conservative_estimate() -> None:
    text = "word " * 300
    assert estimate_tokens(text) >= 300
    fitted = fit_history(None, [HistoryMessage("user", text), msg("assistant", 1)], msg("user", 1), budget_tokens=300)
    assert fitted.dropped == 2


def test_the_answer_keeps_max_tokens_free_or_a_default_capped_at_a_quarter_of_the_window() -> None:
    assert answer_reserve(131_072, 2000) == 2000
    assert answer_reserve(131_072, None) == DEFAULT_ANSWER_RESERVE_TOKENS
    assert answer_reserve(8000, None) == 2000


def test_billed_prompt_tokens_go_to_the_unmeasured_messages_in_proportion() -> None:
    sent = [HistoryMessage("system", "a" * 30), msg("user", 40), msg("assistant", 20), HistoryMessage("user", "b" * 90)]
    shares = attribute_prompt_tokens(160, sent)
    assert shares[1:3] == [40, 20]
    assert sum(shares) == 160
    assert shares[3] > shares[0] > 0


def test_impossible_usage_falls_back_to_the_estimates() -> None:
    sent = [msg("user", 40), HistoryMessage("user", "hello there")]
    assert attribute_prompt_tokens(10, sent) == [40, estimate_tokens("hello there")]


def test_a_title_is_the_first_message_on_one_line_cut_at_a_word() -> None:
    assert title_from("  What is\n\n a  cat? ") == "What is a cat?"
    long = "Please explain " + "the history of the Roman empire " * 5
    title = title_from(long)
    assert len(title) <= 80 and title.endswith("…")
    assert long.startswith(title[:-1])


def test_the_transcript_puts_the_system_prompt_first_and_names_each_speaker() -> None:
    def m(i: int, role: str, content: str, model: str | None = None) -> Message:
        return Message(i, "c1", role, content, None, model, 1_700_000_000.0 + i, None)

    conversation = Conversation(
        id="c1",
        title="Cats",
        model="grok-4",
        created_at=1_700_000_000.0,
        updated_at=1_700_000_100.0,
        client="claude-ai",
        messages=[
            m(1, "user", "What is a cat?"),
            m(2, "assistant", "A small feline.", "grok-4"),
            m(3, "system", "Be brief."),
        ],
    )
    text = transcript_markdown(conversation)
    assert text.startswith("# Cats\n")
    assert "- id: `c1`" in text
    assert text.index("## System prompt") < text.index("## User") < text.index("## Grok")
    assert "Be brief." in text and "A small feline." in text
    assert ", grok-4" in text
