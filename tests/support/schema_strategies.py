"""Hypothesis strategies for the values a tool's input schema allows, read from the schema the server lists.

hypothesis-jsonschema would be the library for this, but its last release (0.23.1) relies on Hypothesis
internals that Hypothesis 6.1xx removed (`many.more`), so it fails on the first object schema. This covers
the keywords the SDK's pydantic schemas use, and refuses any other keyword instead of ignoring it, so a new
kind of schema cannot silently be fuzzed with values it does not allow.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

KNOWN_KEYWORDS = frozenset(
    {
        "$defs", "$ref", "additionalProperties", "anyOf", "default", "description", "enum", "items", "maxItems",
        "maxLength", "maximum", "minItems", "minLength", "minimum", "properties", "required", "title", "type",
    }
)  # fmt: skip
MAX_DRAWN_ITEMS = 4
"""Lists are drawn with at most this many items (within the schema's own bounds): calls stay small and fast."""
MAX_DRAWN_CHARS = 60


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against `schema` (a tool's input schema, with its `$defs`)."""
    return _strategy(schema, schema.get("$defs", {}))


def _strategy(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    unknown = set(schema) - KNOWN_KEYWORDS
    if unknown:
        raise ValueError(f"no strategy for the schema keywords {sorted(unknown)}: {schema}")
    if "$ref" in schema:
        return _strategy(defs[schema["$ref"].removeprefix("#/$defs/")], defs)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([_strategy(option, defs) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _object(schema, defs)
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + MAX_DRAWN_ITEMS), low + MAX_DRAWN_ITEMS)
        return st.lists(_strategy(schema.get("items", {}), defs), min_size=low, max_size=high)
    if kind == "string":
        low = schema.get("minLength", 0)
        return st.text(min_size=low, max_size=max(low, min(schema.get("maxLength", MAX_DRAWN_CHARS), MAX_DRAWN_CHARS)))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind is None:
        return _any_json()
    raise ValueError(f"no strategy for the schema type {kind!r}")


def _object(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = st.fixed_dictionaries(
        {name: _strategy(properties[name], defs) for name in properties if name in required},
        optional={name: _strategy(properties[name], defs) for name in properties if name not in required},
    )
    if properties:
        return fixed  # named properties only: extra names are what the fuzz's outside-the-schema calls try
    extra = schema.get("additionalProperties", True)
    if extra is False:
        return st.just({})
    values = _strategy(extra, defs) if isinstance(extra, dict) else _any_json()
    return st.dictionaries(st.text(max_size=12), values, max_size=MAX_DRAWN_ITEMS)


def _any_json() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
        max_leaves=8,
    )
