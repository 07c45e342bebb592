"""A conversation's history as Grok sees it: fitting it to a context window by tokens, and as a transcript."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from grok_mcp.errors import InputError
from grok_mcp.store.conversations import Conversation

MESSAGE_OVERHEAD_TOKENS = 4
"""Tokens a message costs beyond its text (role and separators), a little above what xAI's template adds."""

DEFAULT_ANSWER_RESERVE_TOKENS = 8192
"""Room left for the answer when the caller sets no max_tokens (at most a quarter of the window)."""

FALLBACK_CONTEXT_TOKENS = 131_072
"""The window assumed for a model whose catalog entry states none (the smallest xAI has served lately)."""

TITLE_MAX_CHARS = 80


@dataclass(frozen=True)
class HistoryMessage:
    """A message that may be sent back: role, text, and its prompt tokens when xAI's usage told us."""

    role: str
    content: str
    tokens: int | None = None
    message_id: int | None = None

    @property
    def cost(self) -> int:
        """Its tokens in the prompt: the measured count, else a conservative estimate."""
        return self.tokens if self.tokens is not None else estimate_tokens(self.content)


@dataclass(frozen=True)
class FittedHistory:
    """What one request sends: the system prompt (if any), the newest turns that fit, the new message."""

    messages: list[HistoryMessage]
    dropped: int
    """How many earlier messages were left out to fit the window."""
    prompt_tokens: int
    """The (measured or conservatively estimated) prompt size of `messages`."""


def estimate_tokens(text: str) -> int:
    """A conservative token count for text xAI has not measured: one token per three UTF-8 bytes, plus overhead.

    English runs about four bytes per token in xAI's tokenizer and CJK about three, so this errs large;
    the tool measures exactly (tokenize) before it drops anything on the strength of an estimate.
    """
    return math.ceil(len(text.encode("utf-8")) / 3) + MESSAGE_OVERHEAD_TOKENS


def answer_reserve(context_tokens: int, max_tokens: int | None) -> int:
    """Tokens kept free for the answer: `max_tokens` when given, else the default, capped at a quarter."""
    if max_tokens is not None:
        return max_tokens
    return min(DEFAULT_ANSWER_RESERVE_TOKENS, context_tokens // 4)


def split_turns(history: Sequence[HistoryMessage]) -> list[list[HistoryMessage]]:
    """Earlier messages (system prompts excluded) grouped into turns, each starting at a user message."""
    turns: list[list[HistoryMessage]] = []
    for message in history:
        if message.role == "system":
            continue
        if message.role == "user" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def fit_history(
    system: HistoryMessage | None,
    history: Sequence[HistoryMessage],
    new_message: HistoryMessage,
    *,
    budget_tokens: int,
) -> FittedHistory:
    """The request's messages: the system prompt and the new message always, then as many of the newest
    earlier turns as fit in `budget_tokens`, dropping whole turns, oldest first.

    Raises InputError when the system prompt and the new message alone exceed the budget.
    """
    fixed = new_message.cost + (system.cost if system else 0)
    if fixed > budget_tokens:
        raise InputError(
            f"The message{' and the system prompt' if system else ''} come to about {fixed:,} tokens, more than "
            f"the {budget_tokens:,} this model's context window leaves after room for the answer. Shorten the "
            "message, lower max_tokens, or choose a model with a larger context (see list_models)."
        )
    turns = split_turns(history)
    used = fixed
    kept: list[list[HistoryMessage]] = []
    for turn in reversed(turns):
        size = sum(m.cost for m in turn)
        if used + size > budget_tokens:
            break
        kept.append(turn)
        used += size
    kept.reverse()
    sent = [m for turn in kept for m in turn]
    dropped = sum(len(turn) for turn in turns) - len(sent)
    return FittedHistory(
        messages=([system] if system else []) + sent + [new_message], dropped=dropped, prompt_tokens=used
    )


def attribute_prompt_tokens(prompt_tokens: int, sent: Sequence[HistoryMessage]) -> list[int]:
    """Each sent message's share of the prompt xAI billed: measured counts stay, and the rest of the
    prompt is split among the unmeasured messages in proportion to their estimates.

    Falls back to the estimates when the usage cannot be right (no usage, or less than the measured part).
    """
    measured = sum(m.tokens for m in sent if m.tokens is not None)
    unmeasured = [estimate_tokens(m.content) for m in sent if m.tokens is None]
    remainder = prompt_tokens - measured
    if not unmeasured:
        return [m.cost for m in sent]
    if remainder < len(unmeasured):
        return [m.cost for m in sent]
    total_estimate = sum(unmeasured)
    shares: list[int] = []
    given = 0
    for index, estimate in enumerate(unmeasured):
        share = remainder - given if index == len(unmeasured) - 1 else max(1, remainder * estimate // total_estimate)
        shares.append(share)
        given += share
    result: list[int] = []
    pending = iter(shares)
    for message in sent:
        result.append(message.tokens if message.tokens is not None else next(pending))
    return result


def title_from(message: str) -> str:
    """A conversation's title: its first message on one line, cut at a word near TITLE_MAX_CHARS."""
    line = " ".join(message.split())
    if len(line) <= TITLE_MAX_CHARS:
        return line
    cut = line[: TITLE_MAX_CHARS - 1]
    if " " in cut[TITLE_MAX_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def local_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


_ROLE_HEADINGS = {"system": "System prompt", "user": "User", "assistant": "Grok", "developer": "Developer"}


def transcript_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: a heading with its facts, the system prompt first, then every message."""
    lines = [
        f"# {conversation.title}",
        "",
        f"- id: `{conversation.id}`",
        f"- started: {local_time(conversation.created_at)}",
        f"- updated: {local_time(conversation.updated_at)}",
    ]
    if conversation.model:
        lines.append(f"- model: {conversation.model}")
    if conversation.client:
        lines.append(f"- client: {conversation.client}")
    ordered = [m for m in conversation.messages if m.role == "system"]
    ordered += [m for m in conversation.messages if m.role != "system"]
    for message in ordered:
        heading = _ROLE_HEADINGS.get(message.role, message.role.capitalize())
        facts = local_time(message.created_at) + (f", {message.model}" if message.model else "")
        lines += ["", f"## {heading} · {facts}", "", message.content]
    if not conversation.messages:
        lines += ["", "(No messages yet.)"]
    return "\n".join(lines) + "\n"
