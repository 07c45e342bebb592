"""xAI's error shapes on the wire, and a strict reader for JSON bodies that fails the way xAI does.

Inference errors are a flat `{"code", "error"}` object whose code is the gRPC status sentence; a body
that does not deserialize is a 422 with a text/plain serde message (reference/xai-api.md §15).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from starlette.responses import JSONResponse, PlainTextResponse, Response

STATUS_CODES: dict[int, str] = {
    400: "Client specified an invalid argument",
    401: "The request does not have valid authentication credentials for the operation",
    403: "The caller does not have permission to execute the specified operation",
    404: "Some requested entity was not found",
    405: "The request method is not supported for this path",
    410: "The requested feature has been removed",
    415: "Unsupported media type",
    429: "Some resource has been exhausted",
    500: "Internal error",
    502: "Bad gateway",
    503: "The service is currently unavailable",
    504: "The deadline expired before the operation could complete",
}

_DESERIALIZE = "Failed to deserialize the JSON body into the target type: "
_U32_MAX = 2**32 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def code_for(status: int) -> str:
    """The `code` sentence xAI puts next to an error of this HTTP status."""
    return STATUS_CODES.get(status, "Unknown error")


class XAIFailure(Exception):
    """An error the simulated API answers with, in xAI's shape for its status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else code_for(status)
        self.headers = dict(headers or {})
        self.http_status = status if http_status is None else http_status

    def to_response(self) -> Response:
        """The HTTP response: text/plain for 422 and 415, a flat JSON object otherwise."""
        if self.status in (415, 422):
            return PlainTextResponse(self.message, status_code=self.http_status, headers=self.headers)
        body = {"code": self.code, "error": self.message}
        return JSONResponse(body, status_code=self.http_status, headers=self.headers)


def _position(raw: str, needle: str | None) -> tuple[int, int]:
    index = raw.find(needle) if needle else -1
    end = len(raw) if index < 0 else index + len(needle or "")
    before = raw[:end]
    return before.count("\n") + 1, end - (before.rfind("\n") + 1)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "a sequence"
    return "a map"


class BodyReader:
    """Reads typed fields from a parsed JSON body; each failure is the 422 serde message xAI sends."""

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def fail(self, path: str, detail: str, needle: str | None = None) -> XAIFailure:
        """A 422 for the field at `path` (`messages[0].role`), positioned like serde does."""
        line, column = _position(self.raw, needle)
        prefix = f"{path}: " if path else ""
        return XAIFailure(422, f"{_DESERIALIZE}{prefix}{detail} at line {line} column {column}")

    def missing(self, path: str, name: str) -> XAIFailure:
        return self.fail(path, f"missing field `{name}`")

    def wrong_type(self, path: str, value: object, expected: str) -> XAIFailure:
        needle = json.dumps(value) if isinstance(value, str | int | float | bool) else None
        return self.fail(path, f"invalid type: {_describe(value)}, expected {expected}", needle)

    def unknown_variant(self, path: str, value: str, variants: Sequence[str]) -> XAIFailure:
        expected = ", ".join(f"`{v}`" for v in variants)
        return self.fail(path, f"unknown variant `{value}`, expected one of {expected}", json.dumps(value))

    def object(self, body: object, path: str = "") -> dict[str, Any]:
        if not isinstance(body, dict):
            raise self.wrong_type(path, body, "a map")
        return cast(dict[str, Any], body)

    def string(self, obj: Mapping[str, Any], name: str, path: str = "", *, required: bool = False) -> str | None:
        value = obj.get(name)
        if value is None:
            if required:
                raise self.missing(path, name)
            return None
        if not isinstance(value, str):
            raise self.wrong_type(_join(path, name), value, "a string")
        return value

    def required_string(self, obj: Mapping[str, Any], name: str, path: str = "") -> str:
        value = self.string(obj, name, path, required=True)
        assert value is not None
        return value

    def integer(self, obj: Mapping[str, Any], name: str, path: str = "") -> int | None:
        """The field as a u32 (absent: None)."""
        return self._integer(obj, name, path, "u32", 0, _U32_MAX)

    def signed_integer(self, obj: Mapping[str, Any], name: str, path: str = "") -> int | None:
        """The field as an i64 (absent: None)."""
        return self._integer(obj, name, path, "i64", _I64_MIN, _I64_MAX)

    def _integer(self, obj: Mapping[str, Any], name: str, path: str, kind: str, low: int, high: int) -> int | None:
        value = obj.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.wrong_type(_join(path, name), value, kind)
        if not low <= value <= high:
            raise self.fail(_join(path, name), f"invalid value: integer `{value}`, expected {kind}", str(value))
        return value

    def number(self, obj: Mapping[str, Any], name: str, path: str = "") -> float | None:
        value = obj.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.wrong_type(_join(path, name), value, "f32")
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise self.fail(_join(path, name), "invalid value: a number too large for f32, expected f32") from None

    def boolean(self, obj: Mapping[str, Any], name: str, path: str = "") -> bool:
        value = obj.get(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.wrong_type(_join(path, name), value, "a boolean")
        return value

    def array(self, obj: Mapping[str, Any], name: str, path: str = "", *, required: bool = False) -> list[Any]:
        value = obj.get(name)
        if value is None:
            if required:
                raise self.missing(path, name)
            return []
        if not isinstance(value, list):
            raise self.wrong_type(_join(path, name), value, "a sequence")
        return cast(list[Any], value)

    def mapping(self, obj: Mapping[str, Any], name: str, path: str = "") -> dict[str, Any] | None:
        value = obj.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.wrong_type(_join(path, name), value, "a map")
        return cast(dict[str, Any], value)

    def required_mapping(self, obj: Mapping[str, Any], name: str, path: str = "") -> dict[str, Any]:
        value = self.mapping(obj, name, path)
        if value is None:
            raise self.missing(path, name)
        return value

    def variant(self, obj: Mapping[str, Any], name: str, variants: Sequence[str], path: str = "") -> str | None:
        value = self.string(obj, name, path)
        if value is not None and value not in variants:
            raise self.unknown_variant(_join(path, name), value, variants)
        return value

    def required_variant(self, obj: Mapping[str, Any], name: str, variants: Sequence[str], path: str = "") -> str:
        value = self.variant(obj, name, variants, path)
        if value is None:
            raise self.missing(path, name)
        return value

    def message_content(
        self, content: object, path: str, variants: Sequence[str], read_part: PartReader
    ) -> tuple[str, tuple[str, ...]]:
        """A message's `content` at `path` (a string, or an array of typed parts each read by `read_part`)
        as its text and the detail level of each attached image.

        Fails as xAI does when `content` is neither, a part no object, or its type missing or unknown.
        """
        if isinstance(content, str):
            return content, ()
        if not isinstance(content, list):
            raise self.wrong_type(f"{path}.content", content, "a string or an array of content parts")
        texts: list[str] = []
        details: list[str] = []
        for index, raw in enumerate(cast(list[Any], content)):
            part_path = f"{path}.content[{index}]"
            part = self.object(raw, part_path)
            kind = self.required_variant(part, "type", variants, part_path)
            text, detail = read_part(self, part, kind, part_path)
            if text is not None:
                texts.append(text)
            if detail is not None:
                details.append(detail)
        return "\n".join(texts), tuple(details)


PartReader = Callable[[BodyReader, dict[str, Any], str, str], tuple[str | None, str | None]]
"""Reads one content part (reader, part, its type, its path) into its text or its image's detail level."""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def parse_json_body(raw: bytes, content_type: str | None) -> tuple[BodyReader, dict[str, Any]]:
    """Parse a POST body the way xAI's front end does.

    Raises XAIFailure: 415 for a missing body or content type, 400 for malformed JSON (text/plain,
    like axum), 422 when the top level is not an object.
    """
    if not raw.strip():
        raise XAIFailure(415, "Expected request with `Content-Type: application/json` and a JSON body")
    if content_type is None or "json" not in content_type.lower():
        raise XAIFailure(415, "Expected request with `Content-Type: application/json`")
    try:
        text = raw.decode("utf-8")
        body: object = json.loads(text)
    except ValueError as exc:  # undecodable bytes, malformed JSON, an integer past Python's digit limit
        raise XAIFailure(
            400,
            f"Failed to parse the request body as JSON: {exc}",
            code="Client specified an invalid argument",
        ) from None
    reader = BodyReader(text)
    return reader, reader.object(body)
