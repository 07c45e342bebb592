"""Maps what xAI sent back (status, error body, broken connection) onto the error tree of `grok_mcp.errors`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx2

from grok_mcp.errors import (
    CreditsExhaustedError,
    GoneError,
    InvalidKeyError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    StreamInterruptedError,
    UpstreamCall,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    XAIError,
)

TransportKind = Literal[
    "connect",  # no TCP/TLS connection could be made
    "connect_timeout",  # the connection was not made within the connect timeout
    "dropped",  # the connection closed before any response arrived
    "read_timeout",  # no bytes within the read timeout
    "write_timeout",  # the request could not be sent within the timeout
    "pool_timeout",  # no free connection in our own pool
    "broken",  # the connection broke while the body was being read
    "protocol",  # the reply could not be read (bad JSON, malformed stream, bad URL)
    "too_large",  # the reply passed its byte cap (grok_mcp.grok.limits); `reason` names the limit
    "deadline",  # the reply was still arriving when its total deadline passed; `reason` names the limit
]
LIMIT_KINDS: frozenset[TransportKind] = frozenset({"too_large", "deadline"})

CONSOLE_URL = "https://console.x.ai"
_MAX_UPSTREAM_CHARS = 500

# gRPC status descriptions xAI puts in `code`, for errors that arrive with HTTP 200 or mid-stream.
_CODE_TO_STATUS = {
    "client specified an invalid argument": 400,
    "the request does not have valid authentication credentials for the operation": 401,
    "the caller does not have permission to execute the specified operation": 403,
    "some requested entity was not found": 404,
    "some resource has been exhausted": 429,
    "internal error": 500,
    "the service is currently unavailable": 503,
    "the operation was cancelled": 499,
    "the deadline expired before the operation could complete": 504,
    "invalid-argument": 400,
    "invalid_argument": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    "not_found": 404,
    "resource_exhausted": 429,
    "internal": 500,
    "unavailable": 503,
    "deadline_exceeded": 504,
}
_GRPC_NUMBER_TO_STATUS = {3: 400, 5: 404, 7: 403, 8: 429, 13: 500, 14: 503, 16: 401, 4: 504}

_CREDITS = re.compile(r"credit|spending limit|licen[cs]e|billing|insufficient (funds|balance)", re.I)
_BAD_KEY = re.compile(r"api key|api-key|apikey|authentication|bearer", re.I)
_REDACTED_KEY = re.compile(r"\b[\w-]{1,8}\*{3}[\w-]{1,8}\b")
_MODEL_MISSING = re.compile(r"model not found|model .{0,80}(does not exist|deprecated|no longer)", re.I)
_GRAMMAR = re.compile(r"grammar is too complex", re.I)
_LIVE_SEARCH = re.compile(r"live search|search_parameters", re.I)
_HTML_TITLE = re.compile(r"<title>(.*?)</title>", re.I | re.S)


@dataclass(frozen=True)
class Failure:
    """One failed attempt, before it becomes an exception: what xAI or the connection said."""

    status: int | None = None
    implied_status: int | None = None  # what an error sent with HTTP 200 (or mid-stream) stands for
    code: str | None = None
    upstream_message: str | None = None
    retry_after: float | None = None
    transport: TransportKind | None = None
    reason: str | None = None
    request_id: str | None = None
    cost_ticks: int | None = None
    mid_stream: bool = False

    @property
    def effective_status(self) -> int | None:
        return self.implied_status or self.status


@dataclass(frozen=True)
class CallContext:
    """What the request was about, so a message can name it: the model, Live Search, the timeout."""

    endpoint: str
    host: str = "xAI"
    model: str | None = None
    uses_live_search: bool = False
    timeout_s: float | None = None
    connect_timeout_s: float | None = None


def status_for_code(code: object) -> int | None:
    """The HTTP status an error body's `code` stands for (gRPC descriptions, names or numbers)."""
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code if code >= 100 else _GRPC_NUMBER_TO_STATUS.get(code)
    if isinstance(code, str):
        text = code.strip()
        if text.isdigit():
            return status_for_code(int(text))
        return _CODE_TO_STATUS.get(text.lower().rstrip("."))
    return None


def error_in_body(body: object) -> tuple[str | None, str, int | None] | None:
    """(code, message, HTTP status it implies) when a JSON body is an xAI error object, else None.

    Knows the flat inference shape `{"code", "error"}`, OpenAI's `{"error": {"code", "message"}}`,
    the Responses stream's `{"type": "error", …}` and the management API's `{"code": int, "message"}`.
    """
    if not isinstance(body, dict):
        return None
    obj: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
    error = obj.get("error")
    if isinstance(error, str) and error:
        return _text(obj.get("code")), error, status_for_code(obj.get("code")) or _status_of(obj)
    if isinstance(error, dict) and error:
        inner: dict[str, Any] = error  # pyright: ignore[reportUnknownVariableType]
        message = inner.get("message") or inner.get("error") or json.dumps(inner)[:_MAX_UPSTREAM_CHARS]
        code = inner.get("code", obj.get("code"))
        return _text(code), str(message), _status_of(obj) or status_for_code(code)
    if obj.get("type") == "error" and isinstance(obj.get("message"), str):
        return (
            _text(obj.get("code")),
            str(obj["message"]),
            _status_of(obj) or status_for_code(obj.get("code")),
        )
    if isinstance(obj.get("code"), int) and isinstance(obj.get("message"), str) and "choices" not in obj:
        return str(obj["code"]), str(obj["message"]), status_for_code(obj["code"])
    return None


def _status_of(obj: dict[str, Any]) -> int | None:
    status = obj.get("status")
    return status if isinstance(status, int) and not isinstance(status, bool) and status >= 400 else None


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value)


def failure_from_body(
    status: int,
    content: bytes | bytearray,
    content_type: str | None,
    *,
    retry_after: float | None,
    request_id: str | None,
) -> Failure:
    """The Failure an HTTP error reply describes: JSON error object, text/plain (422), or an HTML page."""
    text = content.decode("utf-8", errors="replace").strip()
    mime = (content_type or "").split(";")[0].strip().lower()
    code: str | None = None
    message: str | None = None
    cost: int | None = None
    parsed: object = None
    if text.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    found = error_in_body(parsed)
    if found is not None:
        code, message, _ = found
        body: dict[str, Any] = parsed  # pyright: ignore[reportAssignmentType]
        usage = body.get("usage")
        if isinstance(usage, dict):
            ticks = usage.get("cost_in_usd_ticks")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            cost = ticks if isinstance(ticks, int) and not isinstance(ticks, bool) else None
        if request_id is None and isinstance(body.get("id"), str):
            request_id = body["id"]
    elif mime == "text/html" or text.lower().startswith(("<!doctype", "<html")):
        title = _HTML_TITLE.search(text)
        message = f"an error page from xAI's edge ({_clip(title.group(1).strip()) if title else 'HTML'})"
    elif text:
        message = text
    return Failure(
        status=status,
        code=code,
        upstream_message=_clip(message) if message else None,
        retry_after=retry_after,
        request_id=request_id,
        cost_ticks=cost,
    )


# Which TransportKind a connection error is, most specific first (ConnectTimeout is a TimeoutException).
_TRANSPORT_KINDS: tuple[tuple[tuple[type[Exception], ...], TransportKind], ...] = (
    ((httpx2.ConnectTimeout,), "connect_timeout"),
    ((httpx2.PoolTimeout,), "pool_timeout"),
    ((httpx2.WriteTimeout,), "write_timeout"),
    ((httpx2.TimeoutException,), "read_timeout"),
    ((httpx2.ConnectError,), "connect"),
    ((httpx2.SSEError, httpx2.DecodingError, httpx2.UnsupportedProtocol, httpx2.TooManyRedirects), "protocol"),
)


def transport_failure(exc: httpx2.RequestError, *, after_headers: bool, mid_stream: bool = False) -> Failure:
    """The Failure a connection error stands for: its TransportKind and a secret-free reason.

    An error no more specific kind covers is `broken` once the reply's headers arrived, else `dropped`.
    """
    kind: TransportKind = "broken" if after_headers else "dropped"
    for types, specific in _TRANSPORT_KINDS:
        if isinstance(exc, types):
            kind = specific
            break
    return Failure(transport=kind, reason=_describe(exc), mid_stream=mid_stream)


def _describe(exc: httpx2.RequestError) -> str:
    """A short, secret-free description of a transport error: its type and first line, never the request."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text[:200]}" if text else name


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_UPSTREAM_CHARS else text[: _MAX_UPSTREAM_CHARS - 1] + "…"


def is_credits_message(message: str | None) -> bool:
    """True when a 429/403 text speaks of credits, licences or spending limits (retrying will not help)."""
    return bool(message and _CREDITS.search(message))


# The error class of a failed attempt's HTTP status, where the status alone decides.
_CLASS_BY_STATUS: dict[int, type[XAIError]] = {401: InvalidKeyError, 404: NotFoundError, 410: GoneError}


def error_class(failure: Failure) -> type[XAIError]:
    """Which XAIError subclass a failed attempt is."""
    if failure.transport is not None:
        timed_out = failure.transport in (
            "connect_timeout",
            "read_timeout",
            "write_timeout",
            "pool_timeout",
            "deadline",
        )
        if failure.mid_stream:
            return StreamInterruptedError
        return UpstreamTimeoutError if timed_out else UpstreamUnavailableError
    if failure.mid_stream:
        return StreamInterruptedError
    return _status_class(failure.effective_status or 0, failure.upstream_message or "")


def _status_class(status: int, message: str) -> type[XAIError]:
    if status == 400:
        if _BAD_KEY.search(message) and ("incorrect" in message.lower() or "invalid" in message.lower()):
            return InvalidKeyError
        return ModelNotFoundError if _MODEL_MISSING.search(message) else InvalidRequestError
    if status == 404 and _MODEL_MISSING.search(message):
        return ModelNotFoundError
    if status in (403, 429):
        if is_credits_message(message):
            return CreditsExhaustedError
        return PermissionDeniedError if status == 403 else RateLimitedError
    if status == 503 and _GRAMMAR.search(message):
        return InvalidRequestError
    if status in _CLASS_BY_STATUS:
        return _CLASS_BY_STATUS[status]
    if status == 408 or status >= 500:
        return UpstreamUnavailableError
    return InvalidRequestError


def make_error(failure: Failure, call: UpstreamCall, context: CallContext) -> XAIError:
    """The exception for a call that failed for good after `call.attempts` attempts.

    The message says what happened and what to do; it quotes xAI's own text (which xAI already
    redacts) and never sees the API key.
    """
    cls = error_class(failure)
    message = _message(cls, failure, call.attempts, context)
    return cls(
        message,
        status=failure.status,
        code=failure.code,
        upstream_message=failure.upstream_message,
        call=call,
        retry_after=failure.retry_after,
    )


def _says(failure: Failure) -> str:
    return f" xAI said: {failure.upstream_message}" if failure.upstream_message else ""


def _retried(attempts: int) -> str:
    retries = attempts - 1
    if retries <= 0:
        return ""
    return f" Grok MCP retried {retries} time{'s' if retries != 1 else ''}."


@dataclass(frozen=True)
class _Ending:
    """How a call ended for good, as its message needs it: the last failure, the attempts, the context."""

    failure: Failure
    attempts: int
    context: CallContext


def _message(cls: type[XAIError], failure: Failure, attempts: int, context: CallContext) -> str:
    if failure.transport in LIMIT_KINDS:
        return _limit_message(failure)
    return _MESSAGES.get(cls, _unavailable_message)(_Ending(failure, attempts, context))


def _limit_message(failure: Failure) -> str:
    """A reply Grok MCP stopped reading at one of its limits (`failure.reason` names it and its setting)."""
    incomplete = " What arrived is incomplete." if failure.mid_stream else ""
    if failure.transport == "too_large":
        return (
            f"Grok MCP stopped reading xAI's reply: it passed {failure.reason} in settings.toml.{incomplete} "
            "Ask for less (a lower max_tokens, fewer images), or raise the limit if replies this large are expected."
        )
    return (
        f"xAI's reply was still arriving at {failure.reason} in settings.toml, so Grok MCP stopped waiting."
        f"{incomplete} Try again (stream long answers, or lower the reasoning effort), "
        "or raise the limit if calls this long are expected."
    )


def _invalid_key_message(end: _Ending) -> str:
    hint = _REDACTED_KEY.search(end.failure.upstream_message or "")
    which = f" ({hint.group(0)})" if hint else ""
    return (
        f"xAI rejected the API key{which}. Check it at {CONSOLE_URL} and store the right one with `grok-mcp keys set`."
    )


def _credits_message(end: _Ending) -> str:
    return (
        "Your xAI team has no credits left or reached its spending limit; retrying will not help. "
        f"Add credits or raise the limit under Billing at {CONSOLE_URL}.{_says(end.failure)}"
    )


def _permission_message(end: _Ending) -> str:
    return (
        "xAI refused this request for this API key or team (403). Check the key's permissions "
        f"and that the key and team are not blocked at {CONSOLE_URL}.{_says(end.failure)}"
    )


def _rate_limited_message(end: _Ending) -> str:
    wait = (
        f" xAI asked to wait {end.failure.retry_after:g} s."
        if end.failure.retry_after is not None
        else " Wait a minute before trying again."
    )
    return (
        f"xAI is rate-limiting this key (429).{_retried(end.attempts)}"
        f"{wait} Lower the concurrency (fewer parallel requests) if it keeps happening.{_says(end.failure)}"
    )


def _model_missing_message(end: _Ending) -> str:
    named = f" {end.context.model!r}" if end.context.model else ""
    return (
        f"xAI does not offer the model{named} to this key, or it was retired. "
        f"Call `list_models` to see the models you can use.{_says(end.failure)}"
    )


def _gone_message(end: _Ending) -> str:
    if end.context.uses_live_search or _LIVE_SEARCH.search(end.failure.upstream_message or ""):
        return (
            "xAI removed Live Search (`search_parameters`); it was replaced by the server-side "
            "web_search and x_search tools. Use the `web_search` or `x_search` tool instead."
            f"{_says(end.failure)}"
        )
    return f"xAI removed this feature (410).{_says(end.failure)}"


def _not_found_message(end: _Ending) -> str:
    return f"xAI found nothing at {end.context.endpoint} (404).{_says(end.failure)}"


def _invalid_request_message(end: _Ending) -> str:
    status = _status_note(end.failure)
    if _GRAMMAR.search(end.failure.upstream_message or ""):
        return (
            f"xAI could not use the JSON schema{status}: it is too complex. Simplify the schema "
            f"(fewer nested objects, enums or optional fields) and try again.{_says(end.failure)}"
        )
    if end.failure.status == 422:
        return f"xAI could not read the request (422): a field has the wrong name, type or value.{_says(end.failure)}"
    return f"xAI rejected the request{status}.{_says(end.failure)}"


def _interrupted_message(end: _Ending) -> str:
    if end.failure.transport in ("read_timeout", "connect_timeout"):
        what = f"xAI went silent for {end.context.timeout_s:g} s" if end.context.timeout_s else "xAI went silent"
    elif end.failure.transport is not None:
        what = f"the connection broke ({end.failure.reason or end.failure.transport})"
    else:
        what = "xAI sent an error"
    return f"The answer from xAI broke off midway: {what}. What arrived is incomplete; try again.{_says(end.failure)}"


def _timeout_message(end: _Ending) -> str:
    if end.failure.transport == "pool_timeout":
        return (
            "Too many requests to xAI are already running in this process; no connection became "
            "free in time. Lower the concurrency and try again."
        )
    if end.failure.transport == "connect_timeout":
        limit = f" within {end.context.connect_timeout_s:g} s" if end.context.connect_timeout_s else ""
        return (
            f"Could not connect to {end.context.host}{limit}.{_retried(end.attempts)} Check your internet "
            "connection, proxy or GROK_MCP_BASE_URL, and try again."
        )
    limit = f" within {end.context.timeout_s:g} s" if end.context.timeout_s else ""
    return (
        f"xAI sent no answer{limit}. Long reasoning can take minutes: try streaming, a lower "
        "reasoning effort, or a shorter prompt."
    )


def _unavailable_message(end: _Ending) -> str:
    if end.failure.transport in ("connect", "dropped"):
        return (
            f"Could not reach {end.context.host} ({end.failure.reason or 'connection failed'})."
            f"{_retried(end.attempts)} Check your internet connection, proxy or GROK_MCP_BASE_URL, and try again."
        )
    if end.failure.transport == "protocol":
        return (
            f"xAI sent a reply Grok MCP could not read ({end.failure.reason or 'malformed'}).{_retried(end.attempts)}"
        )
    if end.failure.transport == "broken":
        return (
            f"The connection to xAI broke while its reply was arriving ({end.failure.reason or 'closed'})."
            f"{_retried(end.attempts)} Try again."
        )
    status = _status_note(end.failure)
    return f"xAI is having trouble{status}.{_retried(end.attempts)} Try again in a few minutes.{_says(end.failure)}"


def _status_note(failure: Failure) -> str:
    return f" ({failure.effective_status})" if failure.effective_status else ""


# What to tell the user for each error class (UpstreamUnavailableError and anything new: unavailable).
_MESSAGES: dict[type[XAIError], Callable[[_Ending], str]] = {
    InvalidKeyError: _invalid_key_message,
    CreditsExhaustedError: _credits_message,
    PermissionDeniedError: _permission_message,
    RateLimitedError: _rate_limited_message,
    ModelNotFoundError: _model_missing_message,
    GoneError: _gone_message,
    NotFoundError: _not_found_message,
    InvalidRequestError: _invalid_request_message,
    StreamInterruptedError: _interrupted_message,
    UpstreamTimeoutError: _timeout_message,
}
