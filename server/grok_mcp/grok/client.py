"""The async xAI REST client: one connection pool per process, retries, streaming and typed results."""

from __future__ import annotations

import json
import logging
import random
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self

import anyio
import httpx2

from grok_mcp import __version__
from grok_mcp.errors import InvalidKeyError, NoApiKeyError, UpstreamCall
from grok_mcp.grok.batches import (
    Batch,
    BatchItemOutcome,
    BatchRequestInfo,
    Page,
    batch_requests_payload,
    parse_batch,
    parse_batch_list,
    parse_batch_requests,
    parse_batch_results,
)
from grok_mcp.grok.errors import CallContext, Failure, error_in_body, failure_from_body, make_error, transport_failure
from grok_mcp.grok.keys import key_ready
from grok_mcp.grok.limits import MAX_ERROR_BODY_BYTES, ReplyLimits, read_capped
from grok_mcp.grok.parsing import (
    JSON,
    as_object,
    as_optional_int,
    as_str,
    parse_api_key_info,
    parse_chat_completion,
    parse_image_generation,
    parse_image_models,
    parse_language_models,
    parse_model_list,
    parse_response,
    parse_tokens,
)
from grok_mcp.grok.retry import Attempts, RetryBudget, Retrying, RetryPolicy, parse_retry_after
from grok_mcp.grok.sse import DONE, MalformedEventError, StreamLimitError, is_event_stream, iter_json_events
from grok_mcp.grok.stream import ChatStreamAssembler
from grok_mcp.grok.types import (
    ApiKeyInfo,
    ChatCompletion,
    ImageGeneration,
    ImageModel,
    LanguageModel,
    ModelInfo,
    ReasoningDelta,
    ResponseResult,
    StreamDone,
    StreamEvent,
    TextDelta,
    Tokenization,
)

logger = logging.getLogger(__name__)

POOL_TIMEOUT_S = 60.0
MAX_CONNECTIONS = 100
MAX_KEEPALIVE_CONNECTIONS = 20
_SIMULATED_HEADER = "x-simulated"
# A reply body larger than this is parsed on a worker thread, so the event loop keeps serving others.
_PARSE_OFF_LOOP_BYTES = 256 * 1024


@dataclass
class _StreamEnd:
    """How an event stream ended: None while it ended well."""

    failure: Failure | None = None


class GrokClient:
    """Talks to xAI's REST API (or the simulator) over one pooled httpx2.AsyncClient.

    `api_key` is called before every attempt, so a key rotated in the keychain is picked up without
    a restart. The key is sent only to the origin of `base_url` and never appears in a log record or
    an exception. Every reply is read within `limits` (a byte cap and a total deadline per attempt).
    Use it as an async context manager, or call `aclose()`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: Callable[[], str],
        timeout_s: float = 900,
        connect_timeout_s: float = 10,
        max_attempts: int = 4,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        random: Callable[[], float] = random.random,
        transport: httpx2.AsyncBaseTransport | None = None,
        user_agent: str = f"grok-mcp/{__version__}",
        retry_budget: RetryBudget | None = None,
        limits: ReplyLimits | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        try:
            base = httpx2.URL(self._base_url)
        except httpx2.InvalidURL:
            raise ValueError(f"base_url {base_url!r} is not a URL") from None
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"base_url {base_url!r} must be an http(s) URL")
        self._base_origin = (base.scheme, base.host, base.port)
        self._base_path = base.path.rstrip("/")
        self._host = base.host
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._limits = limits or ReplyLimits()
        self._retrying = Retrying(
            policy=RetryPolicy(max_attempts=max(1, max_attempts)),
            sleep=sleep,
            random=random,
            budget=retry_budget or RetryBudget(),
        )
        self._simulated = False
        self._user_agent = user_agent
        self._transport = transport
        self._pool: httpx2.AsyncClient | None = None

    @property
    def http(self) -> httpx2.AsyncClient:
        """The one connection pool, made on first use: building its TLS context takes ~40 ms, which a
        server should not spend before it answers `initialize`."""
        if self._pool is None:
            self._pool = httpx2.AsyncClient(
                timeout=httpx2.Timeout(self._timeout_s, connect=self._connect_timeout_s, pool=POOL_TIMEOUT_S),
                limits=httpx2.Limits(
                    max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
                ),
                headers={"User-Agent": self._user_agent, "Accept": "application/json"},
                transport=self._transport,
                follow_redirects=False,
            )
        return self._pool

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._pool is not None:
            await self._pool.aclose()

    @property
    def simulated(self) -> bool:
        """True once any reply carried `x-simulated: true` (the simulator, not xAI, answered)."""
        return self._simulated

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def limits(self) -> ReplyLimits:
        """How much of a reply this client reads, and for how long."""
        return self._limits

    @property
    def retrying(self) -> Retrying:
        """How this client tries failed calls again (policy, retry budget, clock)."""
        return self._retrying

    async def credentials_for(self, url: httpx2.URL) -> dict[str, str]:
        """The Authorization header for a request to `url`: the API key for the base URL's origin only.

        Raises NoApiKeyError or InvalidKeyError when the key is unusable (only for that origin).
        """
        if (url.scheme, url.host, url.port) != self._base_origin:
            return {}
        await key_ready(self._api_key)
        return {"Authorization": f"Bearer {self._key()}"}

    # ----------------------------------------------------------------------------------------- calls

    async def chat(self, body: dict[str, Any]) -> ChatCompletion:
        """POST /chat/completions without streaming and return the first choice.

        Raises an XAIError subclass (see grok_mcp.errors) when xAI refuses or fails the call, after
        retrying what can be retried; NoApiKeyError or InvalidKeyError when the key is unusable.
        """
        payload = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        data, call = await self._request_json("POST", "chat/completions", json_body=payload, expect="choices")
        return parse_chat_completion(data, call)

    async def chat_stream(self, body: dict[str, Any]) -> AsyncGenerator[StreamEvent]:
        """Stream /chat/completions: TextDelta and ReasoningDelta as they come, then one StreamDone.

        Always asks for `stream_options.include_usage` so the final completion carries usage and cost.
        Failures before any content are retried like other calls; once content has been yielded a
        failure raises StreamInterruptedError and is never retried. Also raises the XAIError subclasses
        of `chat`. Close the generator (`contextlib.aclosing`) if you stop reading early.
        """
        payload = dict(body)
        payload["stream"] = True
        payload["stream_options"] = {**as_object(body.get("stream_options")), "include_usage": True}
        attempts = self._attempts("POST", self._context("chat/completions", body), idempotent=False)
        while True:
            await attempts.next()
            end = _StreamEnd()
            async with aclosing(self._stream_attempt(payload, attempts, end)) as events:
                async for event in events:
                    yield event
            if end.failure is None:
                return
            attempts.failed(end.failure)

    async def _stream_attempt(self, payload: JSON, attempts: Attempts, end: _StreamEnd) -> AsyncGenerator[StreamEvent]:
        """One attempt of `chat_stream`: its events as they arrive; how it failed, if it did, in `end`."""
        deadline = anyio.current_time() + self._limits.stream_deadline_s
        response: httpx2.Response | Failure = self._limits.past_deadline(stream=True)
        with anyio.CancelScope(deadline=deadline):
            response = await self._open("POST", "chat/completions", payload)
        if isinstance(response, Failure):
            end.failure = response
            return
        request_id = response.headers.get("x-request-id")
        try:
            if response.status_code != 200 or not is_event_stream(response):
                outcome: JSON | Failure = self._limits.past_deadline(stream=True)
                with anyio.CancelScope(deadline=deadline):
                    outcome = await self._read_reply(response, expect="choices")
                if isinstance(outcome, Failure):
                    end.failure = outcome
                    return
                # A server that ignored `stream` sent a whole completion: pass it on as one delta.
                completion = parse_chat_completion(outcome, _call_from_body(attempts, 200, request_id, outcome))
                if completion.text:
                    yield TextDelta(completion.text)
                yield StreamDone(completion)
                return
            assembler = ChatStreamAssembler()
            async with aclosing(self._relay(response, assembler, attempts, end, deadline)) as deltas:
                async for delta in deltas:
                    yield delta
            if end.failure is not None:
                end.failure = replace(end.failure, request_id=end.failure.request_id or request_id)
                return
            usage = assembler.usage
            call = attempts.call(200, request_id or assembler.id, cost_ticks=usage.cost_ticks if usage else None)
            yield StreamDone(assembler.completion(attempts.succeeded(call)))
        finally:
            await _close(response)

    async def _relay(
        self,
        response: httpx2.Response,
        assembler: ChatStreamAssembler,
        attempts: Attempts,
        end: _StreamEnd,
        deadline: float,
    ) -> AsyncGenerator[TextDelta | ReasoningDelta]:
        """Yield the deltas of an event stream as they arrive; record in `end` how the stream ended."""
        finished = False
        events = iter_json_events(response, max_bytes=self._limits.max_stream_bytes, deadline=deadline)
        try:
            async with aclosing(events):
                async for event in events:
                    if event == DONE:
                        finished = True
                        break
                    chunk = as_object(event)
                    found = error_in_body(chunk)
                    if found is not None and "choices" not in chunk:
                        code, message, implied = found
                        end.failure = Failure(
                            status=200,
                            implied_status=implied or 503,
                            code=code,
                            upstream_message=message,
                            mid_stream=assembler.has_content,
                        )
                        return
                    had_content = assembler.has_content
                    deltas = assembler.feed(chunk)
                    if not had_content and assembler.has_content:
                        attempts.ttft_ms = attempts.elapsed_ms()
                    for delta in deltas:
                        yield delta
        except httpx2.RequestError as exc:
            if assembler.finish_reason is None:
                end.failure = transport_failure(exc, after_headers=True, mid_stream=assembler.has_content)
                return
            # The answer was complete; only the usage chunk or [DONE] was lost.
            logger.warning(
                "%s: the stream broke after the answer finished (%s); usage may be lost",
                attempts.endpoint,
                type(exc).__name__,
            )
        except MalformedEventError as exc:
            end.failure = Failure(status=200, transport="protocol", reason=str(exc), mid_stream=assembler.has_content)
            return
        except StreamLimitError as exc:
            if assembler.finish_reason is None:
                limit = self._limits.too_large if exc.kind == "too_large" else self._limits.past_deadline
                end.failure = limit(stream=True, mid_stream=assembler.has_content)
                return
            # The answer was complete; whatever kept coming after it is not worth the answer.
            logger.warning("%s: the stream went on past its %s after the answer finished", attempts.endpoint, exc.kind)
        if not finished and assembler.finish_reason is None:
            end.failure = Failure(
                status=200,
                transport="broken",
                reason="the stream ended before the answer was complete",
                mid_stream=assembler.has_content,
            )

    async def responses(self, body: dict[str, Any]) -> ResponseResult:
        """POST /responses (the Responses API, which runs server-side tools such as web_search).

        Raises the XAIError subclasses of `chat`.
        """
        payload = {k: v for k, v in body.items() if k != "stream"}
        data, call = await self._request_json("POST", "responses", json_body=payload, expect="output")
        return parse_response(data, call)

    async def list_models(self) -> list[ModelInfo]:
        """GET /models: every model the key can see (chat, image, video). Raises XAIError subclasses."""
        data, _ = await self._request_json("GET", "models", expect="data", idempotent=True)
        return parse_model_list(data)

    async def language_models(self) -> list[LanguageModel]:
        """GET /language-models: chat models with aliases and prices. Raises XAIError subclasses."""
        data, _ = await self._request_json("GET", "language-models", expect="models", idempotent=True)
        return parse_language_models(data)

    async def image_generation_models(self) -> list[ImageModel]:
        """GET /image-generation-models: image models and prices. Raises XAIError subclasses."""
        data, _ = await self._request_json("GET", "image-generation-models", expect="models", idempotent=True)
        return parse_image_models(data)

    async def generate_images(self, body: dict[str, Any]) -> ImageGeneration:
        """POST /images/generations. Raises the XAIError subclasses of `chat`."""
        data, call = await self._request_json("POST", "images/generations", json_body=body, expect="data")
        return parse_image_generation(data, as_str(body.get("model")), call)

    async def tokenize(self, model: str, text: str) -> Tokenization:
        """POST /tokenize-text. Raises XAIError subclasses (ModelNotFoundError for an unknown model)."""
        data, call = await self._request_json(
            "POST",
            "tokenize-text",
            json_body={"model": model, "text": text},
            expect="token_ids",
            idempotent=True,
        )
        return Tokenization(tokens=parse_tokens(data), call=call)

    async def api_key_info(self) -> ApiKeyInfo:
        """GET /api-key: what xAI knows about the calling key. Raises XAIError subclasses."""
        data, call = await self._request_json("GET", "api-key", expect="api_key_id", idempotent=True)
        return parse_api_key_info(data, call)

    async def deferred_start(self, body: dict[str, Any]) -> str:
        """Start a deferred chat completion and return its request id. Raises XAIError subclasses."""
        payload = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        payload["deferred"] = True
        data, call = await self._request_json("POST", "chat/completions", json_body=payload, expect="request_id")
        request_id = as_str(data.get("request_id"))
        if not request_id:
            failure = Failure(status=call.status, transport="protocol", reason="no request_id in the reply")
            raise make_error(failure, call, self._context("chat/completions", body)) from None
        return request_id

    async def deferred_result(self, request_id: str) -> ChatCompletion | None:
        """The deferred completion, or None while xAI is still working on it (HTTP 202).

        xAI hands a result out exactly once within 24 h. Raises NotFoundError for an unknown, already
        fetched or expired id, and the other XAIError subclasses of `chat`.
        """
        path = f"chat/deferred-completion/{urllib.parse.quote(request_id, safe='')}"
        data, call = await self._request_json(
            "GET",
            path,
            expect="choices",
            endpoint=f"{self._base_path}/chat/deferred-completion",
            allow_202=True,
        )
        if call.status == 202:
            return None
        return parse_chat_completion(data, call)

    # ------------------------------------------------------------------------------------ batches

    async def create_batch(self, name: str) -> Batch:
        """POST /batches: a new, empty batch named `name`. Raises XAIError subclasses."""
        data, _ = await self._request_json("POST", "batches", json_body={"name": name}, expect="batch_id")
        return parse_batch(data)

    async def add_batch_requests(self, batch_id: str, requests: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """POST /batches/{id}/requests: add (batch_request_id, chat completion body) pairs.

        Raises XAIError subclasses (NotFoundError for an unknown batch, InvalidRequestError for a bad body).
        """
        await self._request_json(
            "POST",
            f"batches/{_segment(batch_id)}/requests",
            json_body=batch_requests_payload(requests),
            expect="batch_requests",
            endpoint=f"{self._base_path}/batches/requests",
            allow_null=True,
        )

    async def get_batch(self, batch_id: str) -> Batch:
        """GET /batches/{id}: the batch and its request counts. Raises XAIError subclasses (NotFoundError)."""
        data, _ = await self._request_json(
            "GET", f"batches/{_segment(batch_id)}", expect="batch_id", idempotent=True, endpoint=self._batches_path
        )
        return parse_batch(data)

    async def list_batch_requests(
        self, batch_id: str, *, limit: int = 100, pagination_token: str | None = None
    ) -> Page[BatchRequestInfo]:
        """GET /batches/{id}/requests: one page of the batch's requests and their states. Raises XAIError subclasses."""
        data, _ = await self._batch_page(batch_id, "requests", "batch_request_metadata", limit, pagination_token)
        return parse_batch_requests(data)

    async def batch_results(
        self, batch_id: str, *, limit: int = 100, pagination_token: str | None = None
    ) -> Page[BatchItemOutcome]:
        """GET /batches/{id}/results: one page of finished requests' completions or errors.

        Raises XAIError subclasses (NotFoundError for an unknown batch).
        """
        data, call = await self._batch_page(batch_id, "results", "results", limit, pagination_token)
        return parse_batch_results(data, call)

    async def cancel_batch(self, batch_id: str) -> Batch:
        """POST /batches/{id}:cancel: stop the batch's pending requests. Raises XAIError subclasses."""
        data, _ = await self._request_json(
            "POST",
            f"batches/{_segment(batch_id)}:cancel",
            expect="batch_id",
            idempotent=True,
            endpoint=f"{self._base_path}/batches/cancel",
        )
        return parse_batch(data)

    async def list_batches(self, *, limit: int = 100, pagination_token: str | None = None) -> Page[Batch]:
        """GET /batches: one page of the team's batches. Raises XAIError subclasses."""
        data, _ = await self._request_json(
            "GET",
            f"batches{_page_query(limit, pagination_token)}",
            expect="batches",
            idempotent=True,
            endpoint=self._batches_path,
        )
        return parse_batch_list(data)

    async def _batch_page(
        self, batch_id: str, part: str, expect: str, limit: int, pagination_token: str | None
    ) -> tuple[JSON, UpstreamCall]:
        """GET /batches/{id}/{part}: one page of a batch's requests or results, its body holding `expect`."""
        return await self._request_json(
            "GET",
            f"batches/{_segment(batch_id)}/{part}{_page_query(limit, pagination_token)}",
            expect=expect,
            idempotent=True,
            endpoint=f"{self._batches_path}/{part}",
        )

    @property
    def _batches_path(self) -> str:
        return f"{self._base_path}/batches"

    # ------------------------------------------------------------------------------------- machinery

    def _key(self) -> str:
        key = self._api_key().strip()
        if not key:
            raise NoApiKeyError()
        if not all("!" <= ch <= "~" for ch in key):
            # Never echo the key: a header error from the HTTP stack would quote it in full.
            raise InvalidKeyError(
                "The stored xAI API key contains spaces or characters that cannot be sent. "
                "Store it again with `grok-mcp keys set`."
            )
        return key

    def _build(self, method: str, path: str, json_body: JSON | None) -> httpx2.Request:
        headers = {"Authorization": f"Bearer {self._key()}"}
        url = f"{self._base_url}/{path}"
        if json_body is None:
            return self.http.build_request(method, url, headers=headers)
        headers["Content-Type"] = "application/json"
        content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self.http.build_request(method, url, headers=headers, content=content)

    def _context(self, path: str, body: dict[str, Any] | None) -> CallContext:
        body = body or {}
        return CallContext(
            endpoint=f"{self._base_path}/{path}",
            host=self._host,
            model=as_str(body.get("model")),
            uses_live_search="search_parameters" in body,
            timeout_s=self._timeout_s,
            connect_timeout_s=self._connect_timeout_s,
        )

    def _observe(self, response: httpx2.Response) -> None:
        if response.headers.get(_SIMULATED_HEADER, "").strip().lower() == "true":
            self._simulated = True

    async def _read_reply(
        self, response: httpx2.Response, *, expect: str, allow_202: bool = False, allow_null: bool = False
    ) -> JSON | Failure:
        """The JSON body of a successful reply, or the Failure it describes (error status or body, junk)."""
        request_id = response.headers.get("x-request-id")
        status = response.status_code
        try:
            if status >= 300:
                content = await read_capped(response, MAX_ERROR_BODY_BYTES, truncate=True)
            else:
                content = await read_capped(response, self._limits.max_reply_bytes)
        except httpx2.RequestError as exc:
            return replace(transport_failure(exc, after_headers=True), status=status)
        if content is None:
            return replace(self._limits.too_large(stream=False), status=status, request_id=request_id)
        if status >= 300:
            return failure_from_body(
                status,
                content,
                response.headers.get("content-type"),
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                request_id=request_id,
            )
        if status == 202 and allow_202:
            return {}
        try:
            if len(content) > _PARSE_OFF_LOOP_BYTES:
                body: object = await anyio.to_thread.run_sync(json.loads, content)
            else:
                body = json.loads(content)
        except ValueError:
            return Failure(status=status, transport="protocol", reason="the reply is not JSON", request_id=request_id)
        if body is None and allow_null:
            return {}  # the Batch API answers `null` when requests were added
        if not isinstance(body, dict):
            return Failure(status=status, transport="protocol", reason="the reply is not a JSON object")
        data: JSON = body  # pyright: ignore[reportUnknownVariableType]
        found = error_in_body(data)
        if found is not None and expect not in data:
            # xAI sometimes reports an error with HTTP 200.
            failure = failure_from_body(
                status, content, response.headers.get("content-type"), retry_after=None, request_id=request_id
            )
            return replace(failure, implied_status=found[2] or 500)
        return data

    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        expect: str,
        json_body: JSON | None = None,
        idempotent: bool = False,
        endpoint: str | None = None,
        allow_202: bool = False,
        allow_null: bool = False,
    ) -> tuple[JSON, UpstreamCall]:
        context = self._context(path, json_body)
        if endpoint is not None:
            context = replace(context, endpoint=endpoint)
        attempts = self._attempts(method, context, idempotent=idempotent)

        async def exchange() -> tuple[JSON, httpx2.Response] | Failure:
            response = await self._open(method, path, json_body)
            if isinstance(response, Failure):
                return response
            try:
                outcome = await self._read_reply(response, expect=expect, allow_202=allow_202, allow_null=allow_null)
            finally:
                await _close(response)
            return outcome if isinstance(outcome, Failure) else (outcome, response)

        async def attempt() -> tuple[JSON, UpstreamCall] | Failure:
            outcome: tuple[JSON, httpx2.Response] | Failure = self._limits.past_deadline(stream=False)
            with anyio.move_on_after(self._limits.reply_deadline_s):
                outcome = await exchange()
            if isinstance(outcome, Failure):
                return outcome
            data, response = outcome
            call = _call_from_body(attempts, response.status_code, response.headers.get("x-request-id"), data)
            return data, attempts.succeeded(call)

        return await attempts.run(attempt)

    def _attempts(self, method: str, context: CallContext, *, idempotent: bool) -> Attempts:
        """The attempt loop of one xAI call; its final failure becomes the XAIError `make_error` names."""
        return self._retrying.attempts(
            method,
            context.endpoint,
            idempotent=idempotent,
            give_up=lambda failure, call: make_error(failure, call, context),
        )

    async def _open(self, method: str, path: str, json_body: JSON | None) -> httpx2.Response | Failure:
        """Send one request and return the streamed response (headers read), or why it could not be sent."""
        await key_ready(self._api_key)
        try:
            response = await self.http.send(self._build(method, path, json_body), stream=True)
        except httpx2.RequestError as exc:
            return transport_failure(exc, after_headers=False)
        self._observe(response)
        return response


async def _close(response: httpx2.Response) -> None:
    """Close a streamed response, even while a deadline is cancelling the call (the connection is freed)."""
    with anyio.CancelScope(shield=True):
        await response.aclose()


def _call_from_body(attempts: Attempts, status: int | None, request_id: str | None, body: JSON) -> UpstreamCall:
    """The call record of a successful reply, with the request id and cost its body carries."""
    cost_ticks = as_optional_int(as_object(body.get("usage")).get("cost_in_usd_ticks"))
    return attempts.call(status, request_id or as_str(body.get("id")), cost_ticks=cost_ticks)


def _segment(value: str) -> str:
    """`value` quoted as one URL path segment."""
    return urllib.parse.quote(value, safe="")


def _page_query(limit: int, pagination_token: str | None) -> str:
    query = {"limit": str(limit)}
    if pagination_token:
        query["pagination_token"] = pagination_token
    return "?" + urllib.parse.urlencode(query)
