"""Assembles Chat Completions stream chunks into deltas as they come and one ChatCompletion at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grok_mcp.errors import UpstreamCall
from grok_mcp.grok.parsing import JSON, as_int, as_list, as_object, as_str, parse_chat_usage
from grok_mcp.grok.types import ChatCompletion, Citation, FunctionCall, ReasoningDelta, TextDelta, Usage


@dataclass
class _PartialToolCall:
    id: str = ""
    type: str = "function"
    name: str = ""
    arguments: list[str] = field(default_factory=list[str])


class ChatStreamAssembler:
    """Feed it each chunk of the first choice; it returns the deltas to show and remembers the rest.

    Tool calls are accumulated by `index` (xAI sends each whole in one chunk, but OpenAI-style
    fragments work too); usage comes from the final `choices: []` chunk.
    """

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.system_fingerprint: str | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._tool_calls: dict[int, _PartialToolCall] = {}
        self._citations: list[Citation] = []

    @property
    def has_content(self) -> bool:
        """True once any text, reasoning or tool call has arrived."""
        return bool(self._text or self._reasoning or self._tool_calls)

    def feed(self, chunk: JSON) -> list[TextDelta | ReasoningDelta]:
        """Take one chunk; return the fragments of text and reasoning it carried, in order."""
        self.id = self.id or as_str(chunk.get("id"))
        self.model = as_str(chunk.get("model")) or self.model
        self.system_fingerprint = as_str(chunk.get("system_fingerprint")) or self.system_fingerprint
        if chunk.get("usage"):
            self.usage = parse_chat_usage(chunk["usage"])
        for url in as_list(chunk.get("citations")):
            if isinstance(url, str) and all(c.url != url for c in self._citations):
                self._citations.append(Citation(url=url))
        deltas: list[TextDelta | ReasoningDelta] = []
        for raw_choice in as_list(chunk.get("choices")):
            choice = as_object(raw_choice)
            if as_int(choice.get("index")) != 0:
                continue
            delta = as_object(choice.get("delta"))
            reasoning = as_str(delta.get("reasoning_content"))
            if reasoning:
                self._reasoning.append(reasoning)
                deltas.append(ReasoningDelta(reasoning))
            text = as_str(delta.get("content"))
            if text:
                self._text.append(text)
                deltas.append(TextDelta(text))
            for raw_call in as_list(delta.get("tool_calls")):
                self._add_tool_call(as_object(raw_call))
            self.finish_reason = as_str(choice.get("finish_reason")) or self.finish_reason
        return deltas

    def _add_tool_call(self, fragment: dict[str, Any]) -> None:
        index = as_int(fragment.get("index"), len(self._tool_calls))
        partial = self._tool_calls.setdefault(index, _PartialToolCall())
        partial.id = as_str(fragment.get("id")) or partial.id
        partial.type = as_str(fragment.get("type")) or partial.type
        function = as_object(fragment.get("function"))
        partial.name = partial.name + (as_str(function.get("name")) or "")
        arguments = as_str(function.get("arguments"))
        if arguments:
            partial.arguments.append(arguments)

    def completion(self, call: UpstreamCall) -> ChatCompletion:
        """The whole answer so far as a ChatCompletion."""
        return ChatCompletion(
            id=self.id or call.request_id or "",
            model=self.model or "",
            text="".join(self._text),
            reasoning="".join(self._reasoning) or None,
            finish_reason=self.finish_reason,
            tool_calls=[
                FunctionCall(id=p.id, name=p.name, arguments="".join(p.arguments), type=p.type)
                for _, p in sorted(self._tool_calls.items())
            ],
            citations=list(self._citations),
            usage=self.usage or Usage(),
            call=call,
            system_fingerprint=self.system_fingerprint,
        )
