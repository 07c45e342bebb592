"""A caller's JSON Schema made safe to use: bounded in size, resolved only inside itself, checked in bounded time.

The schema is a tool argument, which a model that read hostile text may have written (DESIGN.md §5). So it is
measured before anything else looks at it; a `$ref` resolves only inside it (a registry that retrieves
nothing: no URL is fetched, no file is read); a reference that leads back to itself without entering the
answer is refused (JSON Schema 2020-12 §9.4.1); and an answer is checked on a clock: `pattern` and
`patternProperties` run on the `regex` engine with a timeout (it releases the GIL while it matches), and every
keyword looks at the clock first. These functions block: callers run them off the event loop.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import regex
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from grok_mcp.errors import InputError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

MAX_SCHEMA_BYTES = 100_000
MAX_SCHEMA_DEPTH = 32
MAX_SCHEMA_KEYWORDS = 5_000
CHECK_TIMEOUT_S = 2.0
"""How long checking one answer against a schema may take, regexes included."""

# referencing's Resolver, as Registry.resolver_with_root returns it; the package does not export it by name.
Resolver = Any

_SHOWN_CHARS = 200  # of a `$ref` or a pattern quoted in an error
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_ONES = ("not", "if", "then", "else")
_REFERENCES = ("$ref", "$dynamicRef")


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


# ------------------------------------------------------------------------------------------- bounds


def measure(schema: object) -> None:
    """Raise InputError when the schema is nested too deep, has too many keywords or is too large.

    Depth and count come first, without recursion, so serializing it for its size cannot run away.
    """
    stack: list[tuple[object, int]] = [(schema, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[object] = cast(dict[str, object], node).values()
        elif isinstance(node, list):
            children = cast(list[object], node)
        else:
            continue
        if depth > MAX_SCHEMA_DEPTH:
            raise InputError(
                f"`json_schema` is nested more than {MAX_SCHEMA_DEPTH} levels deep (objects and arrays). "
                "Flatten it, or move repeated parts under `$defs`."
            )
        items = list(children)
        count += len(items)
        if count > MAX_SCHEMA_KEYWORDS:
            raise InputError(
                f"`json_schema` has more than {MAX_SCHEMA_KEYWORDS:,} keywords and values. "
                "Simplify it: fewer properties or enum values, or several smaller calls."
            )
        stack.extend((child, depth + 1) for child in items)
    size = len(json.dumps(schema, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_SCHEMA_BYTES:
        raise InputError(
            f"`json_schema` is {size:,} bytes as JSON; Grok MCP accepts schemas up to {MAX_SCHEMA_BYTES:,} bytes. "
            "Simplify it: fewer properties, shorter descriptions."
        )


# --------------------------------------------------------------------------------------- references


def _refuse_retrieval(uri: str) -> Resource[Any]:
    """The registry's retrieval: nothing outside the schema is ever fetched or read."""
    raise NoSuchResource(ref=uri)


def closed_registry() -> Registry[Any]:
    """A registry that resolves only what the schema itself holds (its root and its `$id`s)."""
    return Registry(retrieve=_refuse_retrieval)  # pyright: ignore[reportCallIssue]


@dataclass(frozen=True)
class _Node:
    """One subschema and the resolver its references resolve with (its base URI)."""

    contents: Mapping[str, Any]
    resolver: Resolver = field(repr=False)


def _outside(ref: str) -> InputError:
    return InputError(
        f"`json_schema` has a `$ref` to `{_shown(ref)}`, which is not inside the schema: Grok MCP resolves "
        "references only within the schema it is given (`#/$defs/name`, an anchor, or a subschema's `$id`) and "
        "never fetches a URL or reads a file. Put the referenced schema under `$defs` and refer to it as "
        "`#/$defs/name`."
    )


def _subschemas(resource: Resource[Any], resolver: Resolver) -> Iterator[_Node]:
    """Every subschema that is an object (the schema's own included), each with its resolver."""
    contents = cast(object, resource.contents)
    if isinstance(contents, Mapping):
        yield _Node(cast(Mapping[str, Any], contents), resolver)
    for sub in resource.subresources():
        yield from _subschemas(sub, resolver.in_subresource(sub))


def _referenced(node: _Node) -> Iterator[tuple[str, _Node | None]]:
    """The node's references and where each leads (None: to a boolean schema). Raises InputError for one that
    leads outside the schema."""
    for keyword in _REFERENCES:
        ref = node.contents.get(keyword)
        if not isinstance(ref, str):
            continue
        try:
            resolved = node.resolver.lookup(ref)
        except Unresolvable:
            raise _outside(ref) from None
        target = resolved.contents
        yield ref, _Node(cast(Mapping[str, Any], target), resolved.resolver) if isinstance(target, Mapping) else None


def _in_place(node: _Node) -> Iterator[tuple[str, _Node]]:
    """The subschemas that apply to the same part of the answer as `node`, each with how it is reached."""
    contents = node.contents
    children: list[object] = []
    for keyword in _IN_PLACE_LISTS:
        value = contents.get(keyword)
        if isinstance(value, list):
            children.extend(cast(list[object], value))
    children.extend(contents.get(keyword) for keyword in _IN_PLACE_ONES)
    dependent = contents.get("dependentSchemas")
    if isinstance(dependent, Mapping):
        children.extend(cast(Mapping[str, object], dependent).values())
    for child in children:
        if isinstance(child, Mapping):
            subschema = cast(Mapping[str, Any], child)
            sub = DRAFT202012.create_resource(subschema)
            yield "", _Node(subschema, node.resolver.in_subresource(sub))
    for ref, target in _referenced(node):
        if target is not None:
            yield ref, target


def _refuse_endless_references(nodes: list[_Node]) -> None:
    """Raise InputError when references lead in a circle without entering the answer (`{"$ref": "#"}`)."""
    done: set[int] = set()
    for start in nodes:
        if id(start.contents) in done:
            continue
        on_path: set[int] = {id(start.contents)}
        stack: list[tuple[_Node, Iterator[tuple[str, _Node]]]] = [(start, _in_place(start))]
        while stack:
            node, edges = stack[-1]
            step = next(edges, None)
            if step is None:
                stack.pop()
                on_path.discard(id(node.contents))
                done.add(id(node.contents))
                continue
            via, target = step
            key = id(target.contents)
            if key in on_path:
                raise InputError(
                    f"`json_schema` refers to itself without end (through `$ref` `{_shown(via or '#')}`): a reference "
                    "must lead into a property or an item of the answer before it leads back. Remove the loop, e.g. "
                    "refer to `#/$defs/node` from inside `properties` or `items` only."
                )
            if key not in done:
                on_path.add(key)
                stack.append((target, _in_place(target)))


def check_references(schema: Mapping[str, Any]) -> None:
    """Raise InputError when a reference leads outside the schema or in a circle, or when the schema combines
    `unevaluatedProperties` with `patternProperties` (which cannot be checked on the clock)."""
    resource = DRAFT202012.create_resource(schema)
    resolver = closed_registry().resolver_with_root(resource)
    nodes = list(_subschemas(resource, resolver))
    for node in nodes:
        for _ in _referenced(node):
            pass
    keywords = {keyword for node in nodes for keyword in node.contents}
    if {"unevaluatedProperties", "patternProperties"} <= keywords:
        raise InputError(
            "`json_schema` uses `unevaluatedProperties` together with `patternProperties`, which Grok MCP cannot "
            "check within its time bound. Use `additionalProperties` instead of `unevaluatedProperties`."
        )
    _refuse_endless_references(nodes)


# ---------------------------------------------------------------------------------------- the clock


class OutOfTimeError(InputError):
    """Checking an answer took longer than CHECK_TIMEOUT_S (`pattern` names the regex that did, if one did)."""

    def __init__(self, pattern: str | None = None) -> None:
        self.pattern = pattern
        limit = f"{CHECK_TIMEOUT_S:g} s"
        if pattern is None:
            super().__init__(
                f"Checking Grok's answer against `json_schema` took longer than the {limit} limit. "
                "Simplify the schema, or ask for a shorter answer."
            )
        else:
            super().__init__(
                f"Checking Grok's answer against the `pattern` `{_shown(pattern)}` of `json_schema` took longer than "
                f"the {limit} limit: the pattern backtracks too much. Use a simpler pattern, without nested or "
                "overlapping repetition such as `(a+)+` or `(a|aa)+`."
            )


@dataclass
class _Clock:
    deadline: float
    slowest: tuple[float, str] | None = None
    """The pattern whose search took longest so far, and how long: the one to name when time runs out after it."""

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            # On a loaded machine a backtracking pattern can finish just inside the limit and leave the clock
            # to run out at the next keyword: the pattern that spent most of the time is still the one to name.
            spent_most = self.slowest is not None and self.slowest[0] >= CHECK_TIMEOUT_S / 2
            raise OutOfTimeError(self.slowest[1] if spent_most and self.slowest is not None else None)
        return left

    def timed(self, pattern: str, seconds: float) -> None:
        if self.slowest is None or seconds > self.slowest[0]:
            self.slowest = (seconds, pattern)


_CLOCK: ContextVar[_Clock] = ContextVar("grok_mcp_schema_clock")


def _search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text`, within the time the check has left."""
    clock = _CLOCK.get()
    started = time.monotonic()
    try:
        return regex.search(pattern, text, timeout=clock.remaining()) is not None
    except TimeoutError:
        raise OutOfTimeError(pattern) from None
    finally:
        clock.timed(pattern, time.monotonic() - started)


Keyword = Callable[[Any, Any, Any, Any], Any]


def _on_the_clock(keyword: Keyword) -> Keyword:
    def checked(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        _CLOCK.get().remaining()
        return keyword(validator, value, instance, schema)

    return checked


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's additionalProperties, with patternProperties matched on the clock."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [name for name in instance if name not in known and not any(_search(p, name) for p in patterns)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        names = ", ".join(repr(extra) for extra in sorted(extras))
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            yield ValidationError(
                f"{names} {verb} not match any of the regexes: {', '.join(map(repr, sorted(patterns)))}"
            )
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({names} {verb} unexpected)")


@functools.cache
def _validator_class() -> type[Validator]:
    """Draft 2020-12 with regexes on the `regex` engine and every keyword on the clock (built once)."""
    from jsonschema import Draft202012Validator, validators

    keywords: dict[str, Keyword] = dict(Draft202012Validator.VALIDATORS)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    keywords |= {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    }
    bounded = {name: _on_the_clock(keyword) for name, keyword in keywords.items()}
    extended = validators.extend(Draft202012Validator, bounded)  # pyright: ignore[reportUnknownMemberType, reportArgumentType, reportUnknownVariableType]
    return cast("type[Validator]", extended)


def errors_within_time(schema: Mapping[str, Any], data: object) -> list[Any]:
    """Every ValidationError of `data` against `schema`, found within CHECK_TIMEOUT_S.

    Raises OutOfTimeError past the limit, RecursionError for an answer nested deeper than Python can follow.
    """
    token = _CLOCK.set(_Clock(time.monotonic() + CHECK_TIMEOUT_S))
    try:
        validator = _validator_class()(schema, registry=closed_registry())  # pyright: ignore[reportCallIssue]
        return list(validator.iter_errors(cast(Any, data)))
    finally:
        _CLOCK.reset(token)


def regex_format_checker() -> Any:
    """A FormatChecker whose `regex` format compiles with the engine answers are checked with."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("regex", raises=regex.error)
    def is_regex(instance: object) -> bool:  # pyright: ignore[reportUnusedFunction]
        if isinstance(instance, str):
            regex.compile(instance)
        return True

    return checker
