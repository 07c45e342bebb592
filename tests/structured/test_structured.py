"""Structured output: answers are validated against the schema, with exactly what is wrong reported."""

from __future__ import annotations

import pytest
from grok_mcp.errors import InputError
from grok_mcp.structured import check_answer, check_schema, failure, repair_messages

pytestmark = pytest.mark.anyio

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 0}},
    "required": ["city", "population"],
    "additionalProperties": False,
}


async def test_a_valid_answer_is_parsed_even_inside_a_code_fence() -> None:
    checked = await check_answer('```json\n{"city": "Tokyo", "population": 37000000}\n```', SCHEMA)
    assert checked.is_valid
    assert checked.data == {"city": "Tokyo", "population": 37000000}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Tokyo, 37 million", "not JSON"),
        ('{"city": "Tokyo"}', "'population' is a required property"),
        ('{"city": "Tokyo", "population": -1}', "at population"),
        ('{"city": 3, "population": 1, "extra": true}', "Additional properties"),
    ],
)
async def test_what_is_wrong_with_an_answer_is_named(answer: str, expected: str) -> None:
    checked = await check_answer(answer, SCHEMA)
    assert not checked.is_valid
    assert any(expected in e for e in checked.errors), checked.errors


async def test_the_repair_round_shows_grok_its_answer_and_the_problems() -> None:
    checked = await check_answer('{"city": "Tokyo"}', SCHEMA)
    messages = repair_messages([{"role": "user", "content": "Largest city?"}], '{"city": "Tokyo"}', checked)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "population" in messages[-1]["content"]
    assert "Simplify the schema" in str(failure(checked))


async def test_an_invalid_schema_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(InputError, match="not a valid JSON Schema"):
        await check_schema({"type": "objekt"})
    await check_schema(SCHEMA)
