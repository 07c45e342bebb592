"""Injected faults: what can go wrong on purpose, and the queue that hands them to matching requests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

FaultKind = Literal["status", "rate_limit", "credits", "error_200", "midstream", "drop", "stall", "bad_json"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
DEFAULT_AFTER_CHUNKS = 2


class FaultError(ValueError):
    """A fault description that cannot be used; the message says which field is wrong."""


@dataclass(frozen=True)
class Fault:
    """One failure to inject into the next `count` requests whose path starts with `path`."""

    kind: FaultKind
    count: int = 1
    path: str | None = None
    status: int | None = None
    message: str | None = None
    retry_after: float | None = None
    after_chunks: int | None = None
    seconds: float = 0.0

    @property
    def is_midstream(self) -> bool:
        """True when the fault strikes inside a stream rather than before the response."""
        return self.kind == "midstream" or (self.kind in ("drop", "stall") and self.after_chunks is not None)

    @property
    def chunks_before(self) -> int:
        return DEFAULT_AFTER_CHUNKS if self.after_chunks is None else self.after_chunks

    def matches(self, path: str, *, is_stream: bool, is_structured: bool) -> bool:
        """Whether this fault applies: the path prefix, plus a stream or structured output if it needs one."""
        if self.path is not None and not path.startswith(self.path):
            return False
        if self.is_midstream and not is_stream:
            return False
        return not (self.kind == "bad_json" and not is_structured)

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _number(raw: dict[str, Any], name: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"fault field {name!r} must be a non-negative number, not {value!r}")
    return float(value)


def parse_fault(raw: object) -> Fault:
    """A Fault from its JSON description.

    Raises FaultError when the kind is unknown or a field has the wrong type.
    """
    if not isinstance(raw, dict):
        raise FaultError("a fault must be a JSON object with a 'kind'")
    fields = cast(dict[str, Any], raw)
    kind = fields.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
    count = _number(fields, "count")
    status = _number(fields, "status")
    after_chunks = _number(fields, "after_chunks")
    if kind == "status" and (status is None or not 400 <= status <= 599):
        raise FaultError("a 'status' fault needs a 'status' from 400 to 599")
    path = fields.get("path")
    message = fields.get("message")
    if path is not None and not isinstance(path, str):
        raise FaultError("fault field 'path' must be a string")
    if message is not None and not isinstance(message, str):
        raise FaultError("fault field 'message' must be a string")
    return Fault(
        kind=cast(FaultKind, kind),
        count=1 if count is None else max(int(count), 1),
        path=path,
        status=None if status is None else int(status),
        message=message,
        retry_after=_number(fields, "retry_after"),
        after_chunks=None if after_chunks is None else int(after_chunks),
        seconds=_number(fields, "seconds") or 0.0,
    )


def parse_fault_header(value: str) -> Fault:
    """A Fault from the `x-sim-fault` header's JSON.

    Raises FaultError when the header is not valid JSON or not a valid fault.
    """
    try:
        raw: object = json.loads(value)
    except json.JSONDecodeError as exc:
        raise FaultError(f"x-sim-fault is not valid JSON: {exc}") from None
    return parse_fault(raw)


class FaultQueue:
    """Faults waiting for requests, first in first out; each is used up after `count` hits."""

    def __init__(self) -> None:
        self._pending: list[tuple[Fault, int]] = []

    def extend(self, faults: list[Fault]) -> None:
        self._pending.extend((fault, fault.count) for fault in faults)

    def clear(self) -> None:
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._pending)

    def take(self, path: str, *, is_stream: bool, is_structured: bool) -> Fault | None:
        """The first queued fault matching this request, counting one hit against it."""
        for index, (fault, remaining) in enumerate(self._pending):
            if fault.matches(path, is_stream=is_stream, is_structured=is_structured):
                if remaining <= 1:
                    del self._pending[index]
                else:
                    self._pending[index] = (fault, remaining - 1)
                return fault
        return None

    def describe(self) -> list[dict[str, object]]:
        return [fault.to_json() | {"remaining": remaining} for fault, remaining in self._pending]
