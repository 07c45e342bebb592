"""MCP tasks (protocol 2025-11-25): a client may run a long tool call as a task, kept as a job in the store.

A `tools/call` carrying `params.task` gets a CreateTaskResult at once; the call itself runs on in the
server's long-lived task group as job `task:<uuid>` (the task id is the job id), so its result survives
the connection and the process, and `job_result` reads it too. `tasks/get`, `tasks/result`, `tasks/list`
and `tasks/cancel` read and end those jobs, from whichever server process asks.

The SDK knows task types but serves no tasks, so `TaskSupport` is a server middleware (the one seam that
sees `initialize`, `tools/list` and methods no handler serves, and may answer without the handler): it
adds `capabilities.tasks` and each task tool's `execution.taskSupport` for 2025-11-25 sessions, and
answers a task-augmented call before the SDK validates the result as a CallToolResult. Other protocol
versions pass through untouched; a `task` there is ignored, as the spec requires of a server that did
not offer tasks. (Protocol 2026-07-28 moved tasks to an extension the SDK does not serve yet.)

Isolation: Grok MCP has one user and no per-user authorization, so a task is bound to the client name
it was started under (clientInfo.name): other clients neither list it nor read it. Task ids carry 122
random bits. Tasks are kept like jobs, a week from the end; the ttl a client asks for is not shortened.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar, cast

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    CancelTaskRequestParams,
    ErrorData,
    GetTaskPayloadRequestParams,
    GetTaskRequestParams,
    PaginatedRequestParams,
    Task,
    TaskStatus,
)
from pydantic import BaseModel, ValidationError

from grok_mcp.calls import JobEnding, is_stale
from grok_mcp.calls.pipeline import JOBS_KEPT_S
from grok_mcp.context import AppContext
from grok_mcp.store import JobRecord
from grok_mcp.tools.boundary import bug_notice
from grok_mcp.tools.jobs import TASK_JOB_KIND

logger = logging.getLogger(__name__)

TASKS_PROTOCOL_VERSION = "2025-11-25"
"""The protocol version whose sessions are offered tasks."""

TASKS_CAPABILITY: dict[str, Any] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}

RELATED_TASK_META = "io.modelcontextprotocol/related-task"
IMMEDIATE_RESPONSE_META = "io.modelcontextprotocol/model-immediate-response"

POLL_INTERVAL_MS = 2000
"""What tasks/get suggests between polls: answers take seconds to minutes."""

TASK_TTL_MS = int(JOBS_KEPT_S * 1000)
"""How long a task is kept at least, from its creation (jobs are dropped a week after they end)."""

TASKS_PAGE_SIZE = 50

ELSEWHERE_POLL_S = 1.0
"""How often tasks/result looks at the store for a task another server process runs."""

CANCELLED_MESSAGE = "Cancelled at the client's request (tasks/cancel)."

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R")


class TaskSupport:
    """The server middleware that offers MCP tasks for `tools` on 2025-11-25 sessions."""

    def __init__(self, tools: Collection[str]) -> None:
        self.tools = frozenset(tools)
        self._methods: dict[str, Callable[[ServerRequestContext[Any, Any]], Awaitable[dict[str, Any]]]] = {
            "tasks/get": self._get,
            "tasks/result": self._result,
            "tasks/list": self._list,
            "tasks/cancel": self._cancel,
        }

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:  # a notification
            return await call_next(ctx)
        if ctx.method == "initialize":
            return _advertised(await call_next(ctx))
        if ctx.protocol_version != TASKS_PROTOCOL_VERSION or ctx.session.client_params is None:
            return await call_next(ctx)
        if ctx.method == "tools/list":
            return self._marked(await call_next(ctx))
        if ctx.method == "tools/call" and isinstance(ctx.params, Mapping) and ctx.params.get("task") is not None:
            return await self._create(ctx, call_next)
        method = self._methods.get(ctx.method)
        if method is not None:
            return await method(ctx)
        return await call_next(ctx)

    def _marked(self, listed: HandlerResult) -> HandlerResult:
        """tools/list with `execution.taskSupport: optional` on every task tool (absent means forbidden)."""
        if not isinstance(listed, dict) or not isinstance(listed.get("tools"), list):
            return listed
        tools = cast(list[dict[str, Any]], listed["tools"])
        marked = [
            {**tool, "execution": {"taskSupport": "optional"}} if tool.get("name") in self.tools else tool
            for tool in tools
        ]
        return {**listed, "tools": marked}

    async def _create(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> dict[str, Any]:
        """Store the task, start the tool call as its job and answer with the task (CreateTaskResult)."""
        params = cast(Mapping[str, Any], ctx.params)
        name = params.get("name")
        if not isinstance(name, str) or name not in self.tools:
            raise MCPError(
                code=METHOD_NOT_FOUND,
                message=f"The tool {name!r} cannot run as a task (its execution.taskSupport is forbidden). "
                f"Call it without `task`; these tools can run as tasks: {', '.join(sorted(self.tools))}.",
            )
        app = _app(ctx)
        host = app.pipeline.host
        if host is None:  # pragma: no cover - every served app hosts its pipeline
            raise MCPError(code=INTERNAL_ERROR, message="This Grok MCP cannot run tasks. Call the tool without `task`.")
        if app.inflight.is_draining:
            raise MCPError(
                code=INTERNAL_ERROR, message="Grok MCP is shutting down and takes no new tasks. Try again in a moment."
            )

        async def work() -> JobEnding:
            return await _ending_of_call(call_next, ctx)

        try:
            job = await app.pipeline.jobs.start(
                host,
                app.store,
                kind=TASK_JOB_KIND,
                tool=name,
                client=_client(ctx),
                work=work,
                describe=_describe_failure,
                on_start=lambda task: app.inflight.enter(task.scope),
                on_end=lambda task: app.inflight.leave(task.scope),
            )
        except Exception:
            logger.exception("Could not store a new task for %s", name)
            raise MCPError(code=INTERNAL_ERROR, message=f"The task was not started. {_STORE_TROUBLE}") from None
        now = app.pipeline.now()
        immediate = (
            f"Grok is working on this as task {job.id}. Its result comes from tasks/result, or from job_result "
            f'with job_id "{job.id}".'
        )
        return {"task": _task(job, now=now), "_meta": {IMMEDIATE_RESPONSE_META: immediate}}

    async def _get(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        params = _params(GetTaskRequestParams, ctx)
        app = _app(ctx)
        job = await _own_task(ctx, params.task_id)
        return _task(job, now=app.pipeline.now())

    async def _result(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        """The tool call's own result once the task has ended (waiting for it), marked with the task's id."""
        params = _params(GetTaskPayloadRequestParams, ctx)
        app = _app(ctx)
        job = await _own_task(ctx, params.task_id)
        while job.status == "running" and not is_stale(job, now=app.pipeline.now()):
            if not await app.pipeline.jobs.wait(job.id):
                await anyio.sleep(ELSEWHERE_POLL_S)  # another process runs it: its row says when it ends
            job = await _own_task(ctx, params.task_id)
        return _payload(job, now=app.pipeline.now())

    async def _list(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        params = _params(PaginatedRequestParams, ctx)
        app = _app(ctx)
        after = _decode_cursor(params.cursor) if params.cursor is not None else None
        client = _client(ctx)
        page = await _in_store(
            lambda: app.store.list_jobs(kind=TASK_JOB_KIND, client=client, after=after, limit=TASKS_PAGE_SIZE + 1)
        )
        now = app.pipeline.now()
        listed: dict[str, Any] = {"tasks": [_task(job, now=now) for job in page[:TASKS_PAGE_SIZE]]}
        if len(page) > TASKS_PAGE_SIZE:
            last = page[TASKS_PAGE_SIZE - 1]
            listed["nextCursor"] = _encode_cursor(last)
        return listed

    async def _cancel(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        """Cancel a working task: its row says cancelled before this answers, and its work stops."""
        params = _params(CancelTaskRequestParams, ctx)
        app = _app(ctx)
        job = await _own_task(ctx, params.task_id)
        status, _ = _status(job, now=app.pipeline.now())
        cancelled = False
        if status == "working":
            try:
                cancelled = await app.pipeline.jobs.cancel(app.store, job.id, message=CANCELLED_MESSAGE)
            except Exception:
                logger.exception("Could not cancel task %s", job.id)
                raise MCPError(code=INTERNAL_ERROR, message=_STORE_TROUBLE) from None
        job = await _own_task(ctx, params.task_id)
        if not cancelled:  # terminal already (perhaps it ended a moment ago, on its own): it stays as it ended
            status, _ = _status(job, now=app.pipeline.now())
            raise MCPError(code=INVALID_PARAMS, message=f"Cannot cancel task {job.id}: it is already {status}.")
        return _task(job, now=app.pipeline.now())


def _advertised(initialized: HandlerResult) -> HandlerResult:
    """The initialize result with `capabilities.tasks` when the session speaks 2025-11-25."""
    if not isinstance(initialized, dict) or initialized.get("protocolVersion") != TASKS_PROTOCOL_VERSION:
        return initialized
    capabilities = cast(dict[str, Any], initialized.get("capabilities") or {})
    return {**initialized, "capabilities": {**capabilities, "tasks": TASKS_CAPABILITY}}


def _app(ctx: ServerRequestContext[Any, Any]) -> AppContext:
    return cast(AppContext, ctx.lifespan_context)


def _client(ctx: ServerRequestContext[Any, Any]) -> str | None:
    """The client's own name (clientInfo.name), which its tasks are bound to."""
    params = ctx.session.client_params
    return (params.client_info.name or None) if params is not None else None


def _params(model: type[P], ctx: ServerRequestContext[Any, Any]) -> P:
    try:
        return model.model_validate(ctx.params or {}, by_name=False)
    except ValidationError:
        raise MCPError(code=INVALID_PARAMS, message=f"{ctx.method} needs a `taskId` string in its params.") from None


async def _own_task(ctx: ServerRequestContext[Any, Any], task_id: str) -> JobRecord:
    """The task `task_id` of the asking client. Raises MCPError (invalid params) for any other id."""
    app = _app(ctx)
    job = await _in_store(lambda: app.store.get_job(task_id))
    if job is None or job.kind != TASK_JOB_KIND or job.client != _client(ctx):
        raise MCPError(
            code=INVALID_PARAMS,
            message=f"Failed to retrieve task: no task {task_id!r} for this client. Task ids come from a tools/call "
            "sent with `task`; ended tasks are kept for a week.",
        )
    return job


_STORE_TROUBLE = (
    "Grok MCP could not use its database just now (the server log says why). Try again in a moment; "
    "`grok-mcp doctor` checks the database."
)


async def _in_store(work: Callable[[], R]) -> R:
    """`work` on the store, in a worker thread. Raises MCPError (internal error) when the store fails."""
    try:
        return await anyio.to_thread.run_sync(work)
    except Exception:
        logger.exception("A task request could not use the store")
        raise MCPError(code=INTERNAL_ERROR, message=_STORE_TROUBLE) from None


def _status(job: JobRecord, *, now: float) -> tuple[TaskStatus, str]:
    """The task status of a job's row and what to tell a person about it."""
    if job.status == "running":
        if is_stale(job, now=now):
            return "failed", (
                f"The Grok MCP server process running this task (pid {job.owner_pid}) stopped before it "
                "finished. Ask again."
            )
        return "working", f"Grok is working on it ({now - job.created_at:.0f} s so far)."
    if job.status == "done":
        return "completed", "Done: tasks/result has the answer."
    if job.status == "cancelled":
        return "cancelled", job.error or "Cancelled."
    return "failed", job.error or "The call failed."


def _task(job: JobRecord, *, now: float) -> dict[str, Any]:
    """The wire Task of a job's row."""
    status, message = _status(job, now=now)
    updated = job.finished_at or (job.heartbeat_at if status == "failed" else job.created_at)
    task = Task(
        task_id=job.id,
        status=status,
        status_message=message,
        created_at=_iso(job.created_at),
        last_updated_at=_iso(updated),
        ttl=TASK_TTL_MS,
        poll_interval=POLL_INTERVAL_MS if status == "working" else None,
    )
    return task.model_dump(by_alias=True, mode="json", exclude_none=True)


def _payload(job: JobRecord, *, now: float) -> dict[str, Any]:
    """What tasks/result returns for an ended task: what the tools/call would have returned, or its error.

    Raises MCPError for a call that ended in a JSON-RPC error (the same error).
    """
    stored: dict[str, Any] = {}
    if job.result_json is not None:
        try:
            stored = cast(dict[str, Any], json.loads(job.result_json))
        except ValueError:  # pragma: no cover - rows are written by _ending_of_call only
            logger.error("Task %s has an unreadable result", job.id)
    error = stored.get("error")
    if isinstance(error, dict):
        raise MCPError.from_error_data(ErrorData.model_validate(error))
    result = stored.get("result")
    if not isinstance(result, dict):  # cancelled, lost, or failed without a result: say so as a tool error
        _, message = _status(job, now=now)
        result = {"content": [{"type": "text", "text": message}], "isError": True}
    result = cast(dict[str, Any], result)
    meta = cast(dict[str, Any], result.get("_meta") or {})
    return {**result, "_meta": {**meta, RELATED_TASK_META: {"taskId": job.id}}}


async def _ending_of_call(call_next: CallNext, ctx: ServerRequestContext[Any, Any]) -> JobEnding:
    """Run the tools/call (the SDK's handler, as if answered now) and say how it ended, with its wire result.

    A result with `isError` ends the task as failed (the spec's rule); its result is kept all the same, so
    tasks/result returns it unchanged. A JSON-RPC error is kept to be returned as that error.
    """
    try:
        answered = await call_next(ctx)
    except MCPError as exc:
        return _error_ending(exc.error)
    except ValidationError:
        return _error_ending(ErrorData(code=INVALID_PARAMS, message="Invalid request parameters"))
    result = _wire(answered)
    text = "\n".join(
        str(block.get("text", ""))
        for block in cast(list[dict[str, Any]], result.get("content") or [])
        if block.get("type") == "text"
    )
    stored = json.dumps(
        {"text": text, "structured": result.get("structuredContent"), "result": result}, ensure_ascii=False
    )
    if result.get("isError"):
        return JobEnding("failed", result_json=stored, error=text or "The tool call failed.")
    return JobEnding("done", result_json=stored)


def _error_ending(error: ErrorData) -> JobEnding:
    stored = json.dumps({"error": error.model_dump(by_alias=True, mode="json", exclude_none=True)})
    return JobEnding("failed", result_json=stored, error=error.message)


def _wire(answered: HandlerResult) -> dict[str, Any]:
    if isinstance(answered, BaseModel):
        return answered.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dict(answered or {})


def _describe_failure(exc: BaseException) -> str:
    return bug_notice("This call", exc, logged_as="A task")


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode_cursor(job: JobRecord) -> str:
    raw = json.dumps([job.created_at, job.id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    """The (created_at, id) a tasks/list cursor stands for. Raises MCPError (invalid params) for a foreign one."""
    try:
        created, job_id = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        return float(created), str(job_id)
    except (binascii.Error, ValueError, TypeError, UnicodeError):
        raise MCPError(
            code=INVALID_PARAMS, message="This tasks/list cursor was not made by Grok MCP: list again without one."
        ) from None
