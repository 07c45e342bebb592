"""Deterministic JSON values that satisfy a JSON Schema, for simulated structured output and tool calls.

Covers what structured-output schemas use in practice: object (properties, required), array (items,
minItems, maxItems), string (enum, const, minLength, maxLength, a few formats), number and integer
(minimum, maximum, exclusive bounds, multipleOf), boolean, null, anyOf/oneOf/allOf, type lists, and
local `$ref`s into `$defs`/`definitions`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

_MAX_DEPTH = 12
_FORMATS: dict[str, str] = {
    "date": "2026-10-01",
    "date-time": "2026-10-01T12:00:00Z",
    "time": "12:00:00Z",
    "email": "grok@example.com",
    "uri": "https://example.com/simulated",
    "url": "https://example.com/simulated",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}


class SchemaFiller:
    """Builds one value for a schema; `hint` seeds the strings so different questions read differently."""

    def __init__(self, root: Mapping[str, Any], hint: str) -> None:
        self.root = root
        self.hint = hint

    def value(self, schema: object, name: str = "value", depth: int = 0) -> object:
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return self._string({}, name)
        node = cast(Mapping[str, Any], schema)
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self.value(self._resolve(ref), name, depth + 1)
        if "const" in node:
            return node["const"]
        enum = node.get("enum")
        if isinstance(enum, list) and enum:
            return cast(list[object], enum)[0]
        for combinator in ("anyOf", "oneOf"):
            options = node.get(combinator)
            if isinstance(options, list) and options:
                return self.value(_first_not_null(cast(list[object], options)), name, depth + 1)
        all_of = node.get("allOf")
        if isinstance(all_of, list):
            merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
            for part in cast(list[object], all_of):
                if isinstance(part, Mapping):
                    merged = _merge(merged, cast(Mapping[str, Any], part))
            return self.value(merged, name, depth + 1)
        return self._typed(node, name, depth)

    def _typed(self, node: Mapping[str, Any], name: str, depth: int) -> object:
        """A value of the node's own `type` (a string when it has none)."""
        match _type_of(node):
            case "object":
                return self._object(node, depth)
            case "array":
                return self._array(node, name, depth)
            case "integer":
                return self._integer(node)
            case "number":
                return self._number(node)
            case "boolean":
                return True
            case "null":
                return None
            case _:
                return self._string(node, name)

    def _resolve(self, ref: str) -> object:
        if not ref.startswith("#/"):
            return {}
        node: object = self.root
        for part in ref[2:].split("/"):
            if not isinstance(node, Mapping):
                return {}
            node = cast(Mapping[str, object], node).get(part.replace("~1", "/").replace("~0", "~"), {})
        return node

    def _object(self, node: Mapping[str, Any], depth: int) -> dict[str, object]:
        properties = node.get("properties")
        props: Mapping[str, Any] = cast(Mapping[str, Any], properties) if isinstance(properties, Mapping) else {}
        required = node.get("required")
        extra = [str(r) for r in cast(list[object], required)] if isinstance(required, list) else []
        names = list(props) + [name for name in extra if name not in props]
        result: dict[str, object] = {}
        for key in names:
            result[key] = self.value(props.get(key, {}), key, depth + 1)
        if not result and node.get("additionalProperties") is not False:
            result = {"answer": self._string({}, "answer"), "simulated": True}
        return result

    def _array(self, node: Mapping[str, Any], name: str, depth: int) -> list[object]:
        low = _int(node.get("minItems"), 1)
        high = _int(node.get("maxItems"), max(low, 2))
        size = min(max(low, 2), high) if high >= low else low
        items = node.get("prefixItems")
        if isinstance(items, list):
            prefix = [self.value(item, name, depth + 1) for item in cast(list[object], items)]
            return prefix[: max(size, len(prefix))]
        return [self.value(node.get("items", {}), f"{name}_{i + 1}", depth + 1) for i in range(size)]

    def _integer(self, node: Mapping[str, Any]) -> int:
        low = _bound(node, "minimum", "exclusiveMinimum", 1)
        high = _bound(node, "maximum", "exclusiveMaximum", -1)
        value = 42 if low is None else math.ceil(low)
        if high is not None and value > high:
            value = math.floor(high)
        step = node.get("multipleOf")
        if isinstance(step, int) and step > 0 and value % step:
            value += step - value % step
        return value

    def _number(self, node: Mapping[str, Any]) -> float:
        low = _bound(node, "minimum", "exclusiveMinimum", 0.5)
        high = _bound(node, "maximum", "exclusiveMaximum", -0.5)
        value = 4.2 if low is None else low
        if high is not None and value > high:
            value = high if low is None else (low + high) / 2
        return value

    def _string(self, node: Mapping[str, Any], name: str) -> str:
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        text = f"simulated {name.replace('_', ' ')} for {self.hint}"
        low = _int(node.get("minLength"), 0)
        high = _int(node.get("maxLength"), 10_000)
        while len(text) < low:
            text += " more"
        return text[: max(high, 0)]


def _first_not_null(options: list[object]) -> object:
    for option in options:
        if not isinstance(option, Mapping):
            continue
        mapping = cast(Mapping[str, Any], option)
        if mapping.get("type") != "null":
            return mapping
    return options[0]


def _merge(base: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in part.items():
        if key == "properties" and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**cast(Mapping[str, Any], merged[key]), **cast(Mapping[str, Any], value)}
        elif key == "required" and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*cast(list[object], merged[key]), *cast(list[object], value)]
        else:
            merged[key] = value
    return merged


def _type_of(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        names = [str(k) for k in cast(list[object], kind) if k != "null"]
        return names[0] if names else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    return "string"


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _bound(node: Mapping[str, Any], inclusive: str, exclusive: str, nudge: float) -> float | None:
    value = node.get(inclusive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    value = node.get(exclusive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) + nudge
    return None


def fill(schema: Mapping[str, Any], hint: str) -> object:
    """A value valid against `schema`, the same for the same schema and hint."""
    return SchemaFiller(schema, hint).value(schema)
