"""The schema guard: references stay inside the schema, loops are refused, regexes are checked on a clock."""

from __future__ import annotations

import time
from typing import Any

import pytest
from grok_mcp.errors import InputError
from grok_mcp.structured import TOO_DEEP, check_answer, check_schema
from grok_mcp.structured.guard import CHECK_TIMEOUT_S, OutOfTimeError

pytestmark = pytest.mark.anyio

SLOW_PATTERN = "(a|aa)+$"
SLOW_TEXT = "a" * 40 + "!"


@pytest.mark.parametrize(
    "schema",
    [
        {"allOf": [{"$ref": "#"}]},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
        {"properties": {"x": {"$ref": "#/properties/x"}}},
        {"$defs": {"n": {"$anchor": "n", "not": {"$ref": "#n"}}}},
        {"if": {"$ref": "#"}, "then": True},
    ],
)
async def test_a_reference_loop_that_never_enters_the_answer_is_refused(schema: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="refers to itself without end"):
        await check_schema(schema)


async def test_a_recursive_schema_that_descends_into_the_answer_is_accepted_and_checked() -> None:
    tree = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["name"],
    }
    await check_schema(tree)

    checked = await check_answer('{"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]}', tree)

    assert checked.errors == ["at children/0/children/0/name: 3 is not of type 'string'"]


@pytest.mark.parametrize("ref", ["#/$defs/missing", "other.json", "urn:example:thing", "#nowhere"])
async def test_a_reference_to_nothing_inside_the_schema_is_refused(ref: str) -> None:
    with pytest.raises(InputError, match="not inside the schema"):
        await check_schema({"$defs": {"here": {"type": "string"}}, "properties": {"x": {"$ref": ref}}})


async def test_the_json_schema_meta_schema_is_not_fetched_either() -> None:
    with pytest.raises(InputError, match="not inside the schema"):
        await check_schema({"$ref": "https://json-schema.org/draft/2020-12/schema"})


async def test_unevaluated_properties_with_pattern_properties_is_refused() -> None:
    with pytest.raises(InputError, match="additionalProperties"):
        await check_schema({"patternProperties": {"^a": True}, "unevaluatedProperties": False})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": SLOW_PATTERN},
        {"type": "object", "patternProperties": {SLOW_PATTERN: True}},
        {"type": "object", "patternProperties": {SLOW_PATTERN: True}, "additionalProperties": False},
        {"type": "object", "propertyNames": {"pattern": SLOW_PATTERN}},
    ],
)
async def test_a_pattern_too_slow_for_the_clock_names_the_limit_and_the_pattern(schema: dict[str, Any]) -> None:
    answer = f'"{SLOW_TEXT}"' if schema["type"] == "string" else f'{{"{SLOW_TEXT}": 1}}'

    with pytest.raises(OutOfTimeError) as caught:
        await check_answer(answer, schema)

    assert caught.value.pattern == SLOW_PATTERN
    assert f"{CHECK_TIMEOUT_S:g} s limit" in str(caught.value)


async def test_pattern_properties_and_additional_properties_keep_their_meaning() -> None:
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}},
        "patternProperties": {"^x-": {"type": "string"}},
        "additionalProperties": False,
    }
    await check_schema(schema)

    assert (await check_answer('{"id": 1, "x-a": "ok"}', schema)).is_valid
    wrong = await check_answer('{"id": 1, "x-a": 2, "other": true}', schema)
    assert any("'other' does not match any of the regexes: '^x-'" in e for e in wrong.errors), wrong.errors
    assert any(e.startswith("at x-a: 2 is not of type 'string'") for e in wrong.errors), wrong.errors


async def test_an_answer_nested_deeper_than_python_can_follow_is_a_problem_to_repair() -> None:
    tree = {"type": "array", "items": {"$ref": "#"}}

    checked = await check_answer("[" * 5000 + "]" * 5000, tree)

    assert checked.errors == [TOO_DEEP]


def test_when_time_runs_out_after_a_pattern_that_spent_most_of_it_that_pattern_is_named() -> None:
    # On a loaded machine a backtracking pattern can finish just inside the limit; the clock then runs out at the
    # next keyword, and the error must still name the pattern, not only the limit (seen in a CI-like run).
    from grok_mcp.structured.guard import _Clock  # pyright: ignore[reportPrivateUsage]

    clock = _Clock(deadline=time.monotonic() - 0.001)
    clock.timed("^a$", 0.01)
    clock.timed(SLOW_PATTERN, CHECK_TIMEOUT_S * 0.9)
    with pytest.raises(OutOfTimeError) as caught:
        clock.remaining()
    assert caught.value.pattern == SLOW_PATTERN

    quick = _Clock(deadline=time.monotonic() - 0.001)
    quick.timed("^a$", 0.01)
    with pytest.raises(OutOfTimeError) as unnamed:
        quick.remaining()
    assert unnamed.value.pattern is None
