"""A request's conversation as the simulator sees it: turns, the question to answer, and token counts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from grok_mcp.simulator.tokenizer import count_tokens
from grok_mcp.simulator.usage import MESSAGE_OVERHEAD_TOKENS, Segment, image_tokens


@dataclass(frozen=True)
class Turn:
    """One message or input item: who said it, its text, and the detail level of each attached image."""

    role: str
    text: str
    image_details: tuple[str, ...] = ()
    extra: str = ""

    @property
    def text_tokens(self) -> int:
        return MESSAGE_OVERHEAD_TOKENS + count_tokens(self.text)

    @property
    def image_tokens(self) -> int:
        return sum(image_tokens(detail) for detail in self.image_details)

    def segment(self) -> Segment:
        key = json.dumps([self.role, self.text, list(self.image_details), self.extra], ensure_ascii=False)
        return Segment.of(key, self.text_tokens, self.image_tokens)


@dataclass(frozen=True)
class Prompt:
    """The turns of a request, in order."""

    turns: tuple[Turn, ...] = field(default_factory=tuple[Turn, ...])

    @property
    def text_tokens(self) -> int:
        return sum(turn.text_tokens for turn in self.turns)

    @property
    def image_tokens(self) -> int:
        return sum(turn.image_tokens for turn in self.turns)

    @property
    def images(self) -> int:
        return sum(len(turn.image_details) for turn in self.turns)

    def segments(self) -> list[Segment]:
        return [turn.segment() for turn in self.turns]

    @property
    def question(self) -> str:
        """The text to answer: the last user turn's, else the last turn's."""
        for turn in reversed(self.turns):
            if turn.role == "user":
                return turn.text
        return self.turns[-1].text if self.turns else ""

    @property
    def tool_result(self) -> str | None:
        """The tool output the model is answering after, when the last turn is one."""
        if self.turns and self.turns[-1].role in ("tool", "function", "function_call_output"):
            return self.turns[-1].text
        return None

    @property
    def awaits_answer_to_user(self) -> bool:
        return bool(self.turns) and self.turns[-1].role == "user"
