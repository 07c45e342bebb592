"""Structured output that holds: an answer is checked against the caller's JSON Schema, with one repair.

xAI follows `response_format: json_schema` closely but does not promise it (xai-api.md §3.1), so an
answer is parsed and validated here; on failure, one more round asks Grok to fix exactly what the
validator found. A second failure is a clear error, never silent bad data. The schema is a tool argument, so
it is bounded and checked by grok_mcp.structured.guard before anything is sent, and answers are checked off the
event loop on a clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from grok_mcp.errors import InputError, UserFacingError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# jsonschema, referencing and regex (through grok_mcp.structured.guard) are imported where they are used: only calls
# with a json_schema pay for them (~100 ms), not startup.

MAX_REPORTED_ERRORS = 8
MAX_SHOWN_CHARS = 500  # of one validation message: it quotes the answer, which may be long
CHECK_GRACE_S = 1.0
TOO_DEEP = "the answer is nested too deeply to check against the schema"


class StructuredOutputError(UserFacingError):
    """Grok's answer did not match the JSON Schema, even after one repair round."""


@dataclass(frozen=True)
class Checked:
    """The outcome of checking an answer: the parsed data when it is valid, else what is wrong."""

    data: Any = None
    errors: list[str] = field(default_factory=list[str])

    @property
    def is_valid(self) -> bool:
        return not self.errors


async def check_schema(schema: dict[str, Any]) -> None:
    """Raise InputError when the caller's schema is unusable, before anything is sent: too large, not a valid
    JSON Schema, a `$ref` outside it or in a circle, a `pattern` the regex engine cannot compile.

    Runs off the event loop; the work is bounded by the schema limits, which are checked first.
    """
    await anyio.to_thread.run_sync(_check_schema_now, schema)


def _check_schema_now(schema: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    from grok_mcp.structured.guard import check_references, measure, regex_format_checker

    measure(schema)
    try:
        Draft202012Validator.check_schema(schema, format_checker=regex_format_checker())
    except SchemaError as exc:
        raise InputError(f"`json_schema` is not a valid JSON Schema: {_shown(exc.message)}") from None
    check_references(schema)


def _shown(message: str) -> str:
    return message if len(message) <= MAX_SHOWN_CHARS else message[:MAX_SHOWN_CHARS] + "…"


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        first_newline = stripped.find("\n")
        if first_newline != -1 and stripped.endswith("```"):
            return stripped[first_newline + 1 : -3].strip()
    return stripped


async def check_answer(text: str, schema: dict[str, Any]) -> Checked:
    """Parse an answer as JSON (tolerating a Markdown code fence) and validate it against the schema.

    Runs off the event loop within CHECK_TIMEOUT_S. Raises OutOfTimeError (an InputError naming the limit, and
    the pattern when one was too slow) when the check takes longer. References resolve only inside the schema.
    """
    from grok_mcp.structured.guard import CHECK_TIMEOUT_S, OutOfTimeError

    # The clock inside the thread ends the check; this bound is for a single keyword that overruns it.
    with anyio.move_on_after(CHECK_TIMEOUT_S + CHECK_GRACE_S):
        return await anyio.to_thread.run_sync(_check_answer_now, text, schema, abandon_on_cancel=True)
    raise OutOfTimeError()


def _check_answer_now(text: str, schema: dict[str, Any]) -> Checked:
    try:
        data = json.loads(_strip_fences(text))
    except json.JSONDecodeError as exc:
        return Checked(errors=[f"the answer is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"])
    except RecursionError:
        return Checked(errors=[TOO_DEEP])
    from grok_mcp.structured.guard import errors_within_time

    try:
        found: list[ValidationError] = errors_within_time(schema, data)
    except RecursionError:
        return Checked(errors=[TOO_DEEP])
    problems = sorted(found, key=lambda e: [str(p) for p in e.absolute_path])
    if not problems:
        return Checked(data=data)
    errors = [f"at {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {_shown(e.message)}" for e in problems]
    return Checked(errors=errors[:MAX_REPORTED_ERRORS])


def repair_messages(messages: list[dict[str, Any]], answer: str, checked: Checked) -> list[dict[str, Any]]:
    """The conversation for the repair round: the failed answer, then exactly what was wrong with it."""
    problems = "\n".join(f"- {e}" for e in checked.errors)
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": "Your answer does not match the required JSON Schema:\n"
            f"{problems}\nReply again with only the corrected JSON, nothing else.",
        },
    ]


def failure(checked: Checked) -> StructuredOutputError:
    """The error a user sees when the repaired answer still does not match."""
    return StructuredOutputError(
        "Grok's answer did not match the JSON Schema, even after one repair round: "
        + "; ".join(checked.errors)
        + ". Simplify the schema or make the prompt more specific."
    )
