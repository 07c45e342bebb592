"""The `batch_chat` tool: many chat requests in one call, run here in parallel or handed to xAI's Batch API."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from grok_mcp.context import AppContext
from grok_mcp.errors import InputError, NotFoundError, UpstreamCall, UserFacingError, XAIError
from grok_mcp.grok import Batch, BatchItemOutcome, ChatCompletion, Page
from grok_mcp.store import RequestRecord
from grok_mcp.store.units import ticks_to_usd
from grok_mcp.structured import check_schema
from grok_mcp.tools.annotations import ASKS_GROK
from grok_mcp.tools.boundary import bug_notice, tool_call
from grok_mcp.tools.chat import ChatMessage, ReasoningEffort, build_chat_body, build_messages
from grok_mcp.tools.long_calls import run_long_call
from grok_mcp.tools.models import resolve_chat_model
from grok_mcp.tools.results import TokenUsage, answer_facts, parsed_json, tool_result, with_notes
from grok_mcp.tools.scope import CallScope

logger = logging.getLogger(__name__)

TOOL = "batch_chat"
BATCH_JOB_KIND = "batch"
MAX_ITEMS = 1000
MAX_CONCURRENCY = 64
SUBMIT_CHUNK = 100  # requests per `POST /v1/batches/{id}/requests`
RESULTS_PAGE = 100
MAX_PAGES = 100  # 100 pages of 100 cover the largest batch this tool submits, ten times over
TEXT_PREVIEW_CHARS = 2000  # per item in the text content; structuredContent has every answer whole

ItemStatus = Literal["succeeded", "failed", "cancelled"]
BatchMode = Literal["parallel", "batch_api"]


class BatchItem(BaseModel):
    """One request of a batch: the arguments of `chat`, plus an optional label echoed in its result."""

    id: str | None = Field(default=None, max_length=64, description="Your label for this item, echoed in its result.")
    prompt: str | None = Field(default=None, description="A single question or instruction for Grok.")
    messages: list[ChatMessage] | None = Field(default=None, description="A whole conversation instead of `prompt`.")
    model: str | None = Field(default=None, description="Model id or alias; the configured default if omitted.")
    system: str | None = Field(default=None, description="System prompt.")
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, description="Cap on the visible answer's tokens.")
    reasoning_effort: ReasoningEffort | None = None
    json_schema: dict[str, Any] | None = Field(default=None, description="A JSON Schema the answer must follow.")
    cache: bool | None = Field(
        default=None,
        description="Answer from Grok MCP's cache when an identical request was answered before (parallel mode).",
    )


class BatchItemResult(BaseModel):
    """The outcome of one item, at its input position: an answer, or what went wrong."""

    index: int = Field(description="The item's position in `requests`, from 0.")
    id: str | None = Field(default=None, description="The item's own `id`, if it had one.")
    status: ItemStatus
    text: str | None = None
    model: str | None = Field(default=None, description="The canonical model id that answered.")
    request_id: str | None = None
    usage: TokenUsage | None = None
    cost_usd: float = 0.0
    finish_reason: str | None = None
    data: Any | None = Field(default=None, description="The parsed JSON answer when a json_schema was given.")
    error: str | None = Field(default=None, description="Why the item failed, and what to do about it.")
    cached: bool = Field(default=False, description="True when answered from Grok MCP's cache at no cost.")


class BatchTotals(BaseModel):
    """Counts, tokens and cost summed over a batch's items."""

    items: int
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    pending: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0


class BatchChatResult(BaseModel):
    """What `batch_chat` returns: every item's result in input order, or a job id for `job_result`."""

    mode: BatchMode
    status: Literal["done", "pending"]
    job_id: str | None = Field(
        default=None,
        description="Pass it to job_result: set in mode batch_api, and when a parallel batch was still running "
        "after the job threshold (it runs on; job_result gives its results when it is done), and when the results "
        "were too large for one reply (a `result:` job: job_result gives them a part at a time).",
    )
    results: list[BatchItemResult]
    totals: BatchTotals
    simulated: bool = False
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class BatchJobReport:
    """Where a Batch API job stands; `results` and `totals` are set once no request is pending."""

    status: Literal["pending", "done", "cancelled"]
    message: str
    totals: BatchTotals
    results: list[BatchItemResult] | None = None


# ------------------------------------------------------------------------------------------ helpers


def _request_body(item: BatchItem, model: str) -> dict[str, Any]:
    return build_chat_body(
        model=model,
        messages=build_messages(item.prompt, item.messages, item.system),
        temperature=item.temperature,
        max_tokens=item.max_tokens,
        reasoning_effort=item.reasoning_effort,
        json_schema=item.json_schema,
    )


def _answer(index: int, label: str | None, completion: ChatCompletion, cost: int, wants_json: bool) -> BatchItemResult:
    return BatchItemResult(
        index=index,
        id=label,
        status="succeeded",
        **answer_facts(completion, cost),
        finish_reason=completion.finish_reason,
        data=parsed_json(completion.text, wanted=wants_json),
    )


def _failure(index: int, label: str | None, message: str, *, cost: int = 0) -> BatchItemResult:
    return BatchItemResult(index=index, id=label, status="failed", error=message, cost_usd=ticks_to_usd(cost))


def totals_of(results: list[BatchItemResult], *, items: int, pending: int = 0) -> BatchTotals:
    """Counts, tokens and cost of the results (`items` counts those not listed too)."""
    totals = BatchTotals(items=items, pending=pending)
    for result in results:
        if result.status == "succeeded":
            totals.succeeded += 1
        elif result.status == "failed":
            totals.failed += 1
        else:
            totals.cancelled += 1
        totals.cost_usd += result.cost_usd
        if result.usage is not None:
            totals.prompt_tokens += result.usage.prompt_tokens
            totals.cached_tokens += result.usage.cached_tokens
            totals.completion_tokens += result.usage.completion_tokens
            totals.reasoning_tokens += result.usage.reasoning_tokens
    totals.cost_usd = round(totals.cost_usd, 10)
    return totals


def summary_line(totals: BatchTotals) -> str:
    parts = [f"{totals.succeeded} of {totals.items} succeeded"]
    others = {"failed": totals.failed, "cancelled": totals.cancelled, "pending": totals.pending}
    parts += [f"{count} {outcome}" for outcome, count in others.items() if count]
    tokens = totals.prompt_tokens + totals.completion_tokens + totals.reasoning_tokens
    return f"{', '.join(parts)}; {tokens:,} tokens, ${totals.cost_usd:.6f}."


def results_text(results: list[BatchItemResult]) -> str:
    """Each item's answer (cut at TEXT_PREVIEW_CHARS) or error, numbered in input order."""
    lines: list[str] = []
    for result in results:
        label = f"[{result.index + 1}{f' {result.id}' if result.id else ''}]"
        if result.status == "succeeded":
            text = result.text or ""
            if len(text) > TEXT_PREVIEW_CHARS:
                text = text[:TEXT_PREVIEW_CHARS] + " … (cut here; the whole answer is in structuredContent)"
            lines.append(f"{label} {text}")
        elif result.status == "failed":
            lines.append(f"{label} FAILED: {result.error}")
        else:
            lines.append(f"{label} cancelled")
    return "\n\n".join(lines)


# ------------------------------------------------------------------------------------ parallel mode


async def _run_item(call: CallScope, index: int, item: BatchItem, limiter: anyio.CapacityLimiter) -> BatchItemResult:
    """One item start to finish; every failure becomes the item's error, never the batch's."""
    try:
        model = await resolve_chat_model(call.app, item.model)
        if item.json_schema is not None:
            await check_schema(item.json_schema)
        body = _request_body(item, model)
    except UserFacingError as exc:
        return _failure(index, item.id, str(exc))
    try:
        # Only the upstream call holds a slot: the ledger write below overlaps the next item's request.
        async with limiter:
            completion = await call.chat(body, cache=item.cache)
    except XAIError as exc:
        if exc.call is not None:
            cost = exc.call.cost_ticks
            await call.record(exc.call, model=model, cost_ticks=cost, error=f"{type(exc).__name__}: {exc}")
            return _failure(index, item.id, str(exc), cost=cost)
        return _failure(index, item.id, str(exc))
    except UserFacingError as exc:
        return _failure(index, item.id, str(exc))
    except Exception as exc:
        return _failure(index, item.id, bug_notice("This item", exc, logged_as=f"batch_chat item {index}"))
    cost = await call.cost_ticks(completion.model, completion.usage)
    await call.record(completion.call, model=completion.model, usage=completion.usage, cost_ticks=cost)
    return _answer(index, item.id, completion, cost, item.json_schema is not None)


async def run_parallel(
    ctx: Context, call: CallScope, items: list[BatchItem], concurrency: int
) -> list[BatchItemResult]:
    """Run the items at most `concurrency` at a time, reporting progress as each finishes; input order kept.

    Cancelling the caller cancels every request still running or waiting.
    """
    total = len(items)
    results: list[BatchItemResult | None] = [None] * total
    limiter = anyio.CapacityLimiter(concurrency)
    done = 0

    async def run(index: int, item: BatchItem) -> None:
        nonlocal done
        results[index] = await _run_item(call, index, item, limiter)
        done += 1
        await ctx.report_progress(done, total, f"{done}/{total} done")

    async with anyio.create_task_group() as tasks:
        for index, item in enumerate(items):
            tasks.start_soon(run, index, item)
    return [result for result in results if result is not None]


# ----------------------------------------------------------------------------------- Batch API mode


def batch_request_id(index: int, label: str | None) -> str:
    """The id an item has inside its xAI batch: its input position, then its own label."""
    return str(index) if label is None else f"{index}:{label}"


def _position(request_id: str) -> tuple[int, str | None]:
    """(input position, label) from a batch_request_id; position -1 for ids this tool did not make."""
    head, sep, label = request_id.partition(":")
    try:
        return int(head), (label if sep else None)
    except ValueError:
        return -1, request_id


async def submit_batch(call: CallScope, items: list[BatchItem]) -> Batch:
    """Create an xAI batch holding every item; nothing is submitted when any item is unusable.

    Raises InputError naming the unusable items, BudgetExceededError past a spending limit, and XAIError
    subclasses when xAI refuses the batch (a half-filled batch is cancelled first).
    """
    requests: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            model = await resolve_chat_model(call.app, item.model)
            if item.json_schema is not None:
                await check_schema(item.json_schema)
            requests.append((batch_request_id(index, item.id), _request_body(item, model)))
        except InputError as exc:
            problems.append(f"item {index + 1}: {exc}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InputError("Nothing was submitted. " + "; ".join(problems[:5]) + more)
    await call.guard_budget()
    grok = call.app.grok
    batch = await grok.create_batch(f"grok-mcp batch_chat: {len(items)} requests")
    try:
        for start in range(0, len(requests), SUBMIT_CHUNK):
            await grok.add_batch_requests(batch.batch_id, requests[start : start + SUBMIT_CHUNK])
    except XAIError:
        with anyio.move_on_after(10, shield=True):
            try:
                await grok.cancel_batch(batch.batch_id)
            except XAIError:
                logger.warning("Could not cancel the half-filled batch %s", batch.batch_id)
        raise
    return batch


P = TypeVar("P")


async def _every_page(fetch: Callable[[str | None], Awaitable[Page[P]]]) -> list[P]:
    """The items of every page xAI lists (at most MAX_PAGES), following the pagination tokens."""
    items: list[P] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = await fetch(token)
        items.extend(page.items)
        token = page.pagination_token
        if token is None:
            break
    return items


async def _all_outcomes(call: CallScope, batch_id: str) -> list[BatchItemOutcome]:
    grok = call.app.grok
    return await _every_page(lambda token: grok.batch_results(batch_id, limit=RESULTS_PAGE, pagination_token=token))


async def _cancelled_ids(call: CallScope, batch_id: str) -> list[str]:
    grok = call.app.grok
    listed = await _every_page(
        lambda token: grok.list_batch_requests(batch_id, limit=RESULTS_PAGE, pagination_token=token)
    )
    return [info.batch_request_id for info in listed if info.state == "cancelled"]


def _ledger_row(call: CallScope, batch_id: str, outcome: BatchItemOutcome, cost: int) -> RequestRecord:
    completion = outcome.completion
    upstream: UpstreamCall | None = completion.call if completion is not None else None
    usage = completion.usage if completion is not None else None
    return RequestRecord(
        # A failed item has no xAI request id; the batch and item ids name it just as uniquely.
        id=(upstream.request_id if upstream else None) or f"{batch_id}:{outcome.batch_request_id}",
        ts=time.time(),
        tool=TOOL,
        model=completion.model if completion is not None else None,
        endpoint=upstream.endpoint if upstream else "/v1/batches/results",
        status=200 if completion is not None else (outcome.error_status or 0),
        error=None if completion is not None else f"BatchRequestError: {outcome.error_message}",
        prompt_tokens=usage.prompt_tokens if usage else 0,
        cached_tokens=usage.cached_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        reasoning_tokens=usage.reasoning_tokens if usage else 0,
        cost_ticks=cost,
        client=call.client,
        transport=call.app.settings.transport,
        simulated=call.app.answers_are_simulated,
    )


async def batch_job_report(call: CallScope, batch_id: str) -> BatchJobReport:
    """Where xAI batch `batch_id` stands; once nothing is pending, every item's result in input order.

    Finished items get one ledger row each, however often (and by whichever process) this is asked.
    Raises InputError for a batch xAI does not know, and XAIError subclasses when xAI fails.
    """
    try:
        batch = await call.app.grok.get_batch(batch_id)
    except NotFoundError:
        raise InputError(
            f"xAI has no batch {batch_id} for this API key: it may belong to another key or have expired."
        ) from None
    state = batch.state
    finished = state.num_success + state.num_error
    if not state.is_finished:
        totals = BatchTotals(
            items=state.num_requests,
            succeeded=state.num_success,
            failed=state.num_error,
            cancelled=state.num_cancelled,
            pending=state.num_pending,
        )
        message = (
            f"Batch {batch_id} is still running: {finished} of {state.num_requests} requests finished, "
            f"{state.num_pending} pending. Ask job_result again later; most batches finish within 24 hours."
        )
        return BatchJobReport("pending", message, totals)
    outcomes = await _all_outcomes(call, batch_id)
    results: list[BatchItemResult] = []
    rows: list[RequestRecord] = []
    for outcome in outcomes:
        index, label = _position(outcome.batch_request_id)
        cost = 0
        if outcome.completion is not None:
            cost = await call.cost_ticks(outcome.completion.model, outcome.completion.usage)
            # The request bodies live at xAI, so whether a schema was asked for is not known here: an
            # answer that looks like JSON is parsed.
            looks_json = outcome.completion.text.lstrip().startswith(("{", "["))
            result = _answer(index, label, outcome.completion, cost, looks_json)
        else:
            result = _failure(index, label, f"xAI refused this request: {outcome.error_message}")
        results.append(result)
        rows.append(_ledger_row(call, batch_id, outcome, cost))
    if state.num_cancelled:
        for request_id in await _cancelled_ids(call, batch_id):
            index, label = _position(request_id)
            results.append(BatchItemResult(index=index, id=label, status="cancelled"))
    results.sort(key=lambda result: (result.index < 0, result.index))
    added = await anyio.to_thread.run_sync(call.app.store.record_requests_once, rows)
    logger.debug("batch %s: %d results, %d new ledger rows", batch_id, len(results), added)
    totals = totals_of(results, items=max(state.num_requests, len(results)))
    status: Literal["done", "cancelled"] = "cancelled" if batch.is_cancelled else "done"
    verb = "was cancelled" if batch.is_cancelled else "is done"
    return BatchJobReport(status, f"Batch {batch_id} {verb}: {summary_line(totals)}", totals, results)


# ------------------------------------------------------------------------------------------- the tool


async def batch_chat(
    ctx: Context,
    requests: Annotated[
        list[BatchItem],
        Field(
            min_length=1,
            max_length=MAX_ITEMS,
            description="The chat requests (each takes the arguments of `chat`, plus an optional `id`).",
        ),
    ],
    concurrency: Annotated[
        int, Field(ge=1, le=MAX_CONCURRENCY, description="How many requests run at once (parallel mode).")
    ] = 8,
    mode: Annotated[
        Literal["parallel", "batch_api"],
        Field(
            description="`parallel` answers now; `batch_api` hands the requests to xAI's Batch API "
            "(cheaper, finishes within hours) and returns a job id for job_result."
        ),
    ] = "parallel",
) -> Annotated[CallToolResult, BatchChatResult]:
    """Ask Grok many questions in one call. Each result says what it answered or why it failed, in
    input order; one failure never sinks the batch. Progress is reported as each item finishes."""
    started = time.monotonic()
    async with tool_call(ctx, TOOL) as call:
        if mode == "batch_api":
            return await _submitted(call, requests, started)

        async def answer_all() -> CallToolResult:
            results = await run_parallel(ctx, call, requests, concurrency)
            totals = totals_of(results, items=len(requests))
            result = _batch_result(call, "parallel", "done", totals, started, results=results)
            text = f"{summary_line(totals)}\n\n{results_text(results)}"
            return tool_result(with_notes(text, simulated=result.simulated), result)

        def running_on(job_id: str) -> CallToolResult:
            threshold = call.app.settings.job_threshold_s
            text = (
                f"The batch is still running after {threshold:g} s, so its results will come later: it runs on "
                f'as job {job_id}. Call job_result with job_id "{job_id}" to get every result in input order '
                "(it says when the batch is still running). Nothing is lost if you ask later."
            )
            return tool_result(text, _pending(call, "parallel", job_id, len(requests), started))

        return await run_long_call(call, answer_all, started=running_on)


async def _submitted(call: CallScope, requests: list[BatchItem], started: float) -> CallToolResult:
    """batch_chat in mode batch_api: the requests handed to xAI's Batch API, and the job id to ask about."""
    batch = await submit_batch(call, requests)
    job_id = f"{BATCH_JOB_KIND}:{batch.batch_id}"
    count = f"{len(requests)} request{'s' if len(requests) != 1 else ''}"
    text = (
        f"Submitted {count} to xAI's Batch API as job {job_id}. "
        f'Call job_result with job_id "{job_id}" for its status and, once it is done, the answers '
        "in input order. Batch requests cost less than direct calls; most finish within 24 hours."
    )
    return tool_result(text, _pending(call, "batch_api", job_id, len(requests), started))


def _pending(call: CallScope, mode: BatchMode, job_id: str, items: int, started: float) -> BatchChatResult:
    return _batch_result(call, mode, "pending", BatchTotals(items=items, pending=items), started, job_id=job_id)


def _batch_result(
    call: CallScope,
    mode: BatchMode,
    status: Literal["done", "pending"],
    totals: BatchTotals,
    started: float,
    *,
    results: list[BatchItemResult] | None = None,
    job_id: str | None = None,
) -> BatchChatResult:
    return BatchChatResult(
        mode=mode,
        status=status,
        job_id=job_id,
        results=results or [],
        totals=totals,
        simulated=call.app.answers_are_simulated,
        elapsed_ms=round((time.monotonic() - started) * 1000, 1),
    )


def register(server: MCPServer[AppContext]) -> None:
    """Add `batch_chat` to the server."""
    server.add_tool(batch_chat, title="Ask Grok many questions", annotations=ASKS_GROK)
