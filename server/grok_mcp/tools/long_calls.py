"""Long calls: a chat-like tool call still running after the job threshold continues as a job for job_result."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult

from grok_mcp.calls import Detached, running_as_job
from grok_mcp.errors import UserFacingError
from grok_mcp.tools.boundary import bug_notice
from grok_mcp.tools.results import ChatResult, TokenUsage, result_text, tool_result
from grok_mcp.tools.scope import CallScope

CALL_JOB_KIND = "chat"
"""Job ids of chat-like calls that outlived the job threshold: `chat:<uuid>`."""


def encode_job_result(result: CallToolResult) -> str:
    """A finished call's result as stored for job_result: its text and its structuredContent."""
    return json.dumps({"text": result_text(result), "structured": result.structured_content}, ensure_ascii=False)


def describe_job_failure(exc: BaseException) -> str:
    """What job_result says about a job that failed: the user-facing message, or a bug notice (logged)."""
    if isinstance(exc, UserFacingError | ToolError):
        return str(exc)
    return bug_notice("This call", exc, logged_as="A long call")


def job_started_result(
    call: CallScope, job_id: str, shape: type[ChatResult] = ChatResult, **extra: Any
) -> CallToolResult:
    """The result of a chat-like call that became a job: the job id and what to do with it."""
    threshold = call.app.settings.job_threshold_s
    text = (
        f"Grok is still working on this after {threshold:g} s, so the answer will come later: it is running as job "
        f'{job_id}. Call job_result with job_id "{job_id}" to get it (it says when it is still running). '
        "The answer is kept, so nothing is lost if you ask later."
    )
    structured = shape(
        text=text,
        model=call.model or "",
        request_id=None,
        usage=TokenUsage(),
        cost_usd=0.0,
        simulated=call.app.answers_are_simulated,
        conversation_id=call.conversation_id,
        job_id=job_id,
        **extra,
    )
    return tool_result(text, structured)


async def run_long_call(
    call: CallScope,
    work: Callable[[], Awaitable[CallToolResult]],
    *,
    started: Callable[[str], CallToolResult] | None = None,
) -> CallToolResult:
    """Run a chat-like tool's work; if it is still running after settings.job_threshold_s it continues as a job.

    The work runs in the pipeline's long-lived task group: when the threshold passes, the caller gets
    `started(job_id)` (by default a ChatResult naming the job) and the work's result goes to the store for
    job_result. A shutdown drains running jobs like calls. Work that already runs as a job (an MCP task) runs
    to its end here: its caller waits for it without a timeout. Raises what `work` raises when it ends in time.
    """
    app = call.app
    pipeline = app.pipeline
    host = pipeline.host
    threshold = app.settings.job_threshold_s
    if host is None or threshold <= 0 or running_as_job():
        return await work()
    outcome = await pipeline.jobs.run_or_detach(
        host,
        app.store,
        kind=CALL_JOB_KIND,
        tool=call.tool,
        client=call.client,
        threshold_s=threshold,
        work=work,
        encode=encode_job_result,
        describe=describe_job_failure,
        on_detach=lambda task: app.inflight.enter(task.scope),
        on_end=lambda task: app.inflight.leave(task.scope),
    )
    if isinstance(outcome, Detached):
        return started(outcome.job_id) if started is not None else job_started_result(call, outcome.job_id)
    return outcome
