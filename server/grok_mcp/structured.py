"""Structured output that holds: an answer is checked against the caller's JSON Schema, with one repair.

xAI follows `response_format: json_schema` closely but does not promise it (xai-api.md §3.1), so an
answer is parsed and validated here; on failure, one more round asks Grok to fix exactly what the
validator found. A second failure is a clear error, never silent bad data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grok_mcp.errors import InputError, UserFacingError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# jsonschema is imported where it is used: only calls with a json_schema pay for it (~20 ms), not startup.

MAX_REPORTED_ERRORS = 8


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


def check_schema(schema: dict[str, Any]) -> None:
    """Raise InputError when the caller's schema is not a valid JSON Schema (before anything is sent)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InputError(f"`json_schema` is not a valid JSON Schema: {exc.message}") from None


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        first_newline = stripped.find("\n")
        if first_newline != -1 and stripped.endswith("```"):
            return stripped[first_newline + 1 : -3].strip()
    return stripped


def check_answer(text: str, schema: dict[str, Any]) -> Checked:
    """Parse an answer as JSON (tolerating a Markdown code fence) and validate it against the schema."""
    try:
        data = json.loads(_strip_fences(text))
    except json.JSONDecodeError as exc:
        return Checked(errors=[f"the answer is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"])
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    found: list[ValidationError] = list(validator.iter_errors(data))  # pyright: ignore[reportUnknownMemberType]
    problems = sorted(found, key=lambda e: [str(p) for p in e.absolute_path])
    if not problems:
        return Checked(data=data)
    errors = [f"at {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in problems]
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
