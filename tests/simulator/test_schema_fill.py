"""Generated structured output validates against the schemas structured-output users write."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from grok_mcp.simulator.schema_fill import fill

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
    {"type": "object", "properties": {"n": {"type": "integer", "exclusiveMinimum": 100, "multipleOf": 7}}},
    {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}},
    {"type": "object", "properties": {"x": {"type": "number", "minimum": -5, "exclusiveMaximum": -1}}},
    {"type": "object", "properties": {"x": {"type": "number", "exclusiveMinimum": 2}}},
    {"type": "array", "items": {"type": "boolean"}, "minItems": 3, "maxItems": 4},
    {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
    {"type": "string", "enum": ["red", "green"]},
    {"const": 7},
    {"type": "string", "maxLength": 5},
    {"type": "string", "minLength": 200},
    {"type": "string", "format": "date-time"},
    {"type": ["null", "integer"]},
    {"type": "null"},
    {"anyOf": [{"type": "null"},
               {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]}]},
    {"oneOf": [{"type": "integer"}]},
    {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
               {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]},
    {
        "$defs": {"Item": {"type": "object", "properties": {"name": {"type": "string"}},
                           "required": ["name"]}},
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
        "required": ["items"],
    },
    {"type": "object", "required": ["only_required"]},
    {"type": "object"},
    {"properties": {"inferred": {"items": {"type": "integer"}}}},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_generated_value_validates_against_the_schema(schema: dict[str, Any]) -> None:
    jsonschema.validate(fill(schema, "hint"), schema)


def test_the_same_schema_and_hint_give_the_same_value() -> None:
    schema = SCHEMAS[-4]

    assert fill(schema, "hint") == fill(schema, "hint")
    assert fill({"type": "string"}, "one") != fill({"type": "string"}, "two")


def test_a_dangling_or_remote_ref_yields_an_unconstrained_string() -> None:
    assert fill({"$ref": "#/$defs/Missing"}, "h") == "simulated value for h"
    assert fill({"$ref": "https://example.com/schema.json"}, "h") == "simulated value for h"
    assert fill({"$ref": "#/a/b", "a": "not a mapping"}, "h") == "simulated value for h"
