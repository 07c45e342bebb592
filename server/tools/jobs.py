"""The `job_result` tool: the status and, when ready, the result of work that outlives one tool call.

A job id is `<kind>:<reference>`; each kind has one fetcher below. Today: `batch:<xAI batch id>`
(batch_chat with mode "batch_api"). Another kind plugs in by adding its fetcher to `JOB_KINDS`
and, if it needs them, optional fields to `JobResult`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from server.context import AppContext
from server.errors import InputError
from server.tools.batch import (
    BATCH_JOB_KIND,
    BatchItemResult,
    BatchJobReport,
    BatchTotals,
    batch_job_report,
    results_text,
)
from server.tools.common import SIMULATED_NOTE, ToolCall, tool_call, tool_result

JobStatus = Literal["pending", "done", "cancelled"]

JobFetcher = Callable[[ToolCall, str], Awaitable[BatchJobReport]]
"""Fetches where a job stands from its reference (the part of the job id after `<kind>:`)."""

JOB_KINDS: dict[str, JobFetcher] = {BATCH_JOB_KIND: batch_job_report}


class JobResult(BaseModel):
    """Where a job stands and, once it is done, its results."""

    job_id: str
    kind: str = Field(description="What made the job: `batch` for batch_chat in batch_api mode.")
    status: JobStatus = Field(description="`pending` (ask again later), `done`, or `cancelled`.")
    message: str
    totals: BatchTotals | None = Field(default=None, description="Counts (pending ones too), tokens and cost.")
    results: list[BatchItemResult] | None = Field(
        default=None, description="Every item's answer or error in input order, once nothing is pending."
    )
    simulated: bool = False


def parse_job_id(job_id: str) -> tuple[str, str]:
    """(kind, reference) of a job id.

    Raises InputError for an id that no job kind of this server made.
    """
    kind, sep, reference = job_id.strip().partition(":")
    if not sep or not reference or kind not in JOB_KINDS:
        known = ", ".join(f"`{name}:…`" for name in JOB_KINDS)
        raise InputError(
            f"{job_id!r} is not a job id of Grok MCP. Job ids look like {known}, as returned by "
            'batch_chat with mode "batch_api".'
        )
    return kind, reference


def register(server: MCPServer[AppContext]) -> None:
    """Add `job_result` to the server."""

    @server.tool(
        title="Get a job's result",
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True, idempotent_hint=True),
    )
    async def job_result(
        ctx: Context,
        job_id: Annotated[str, Field(min_length=1, max_length=300, description="The job id a tool returned.")],
    ) -> Annotated[CallToolResult, JobResult]:
        """Check on a job (such as a batch_chat sent to xAI's Batch API): whether it is still running and,
        when it is done, its results."""
        async with tool_call(ctx, "job_result") as call:
            kind, reference = parse_job_id(job_id)
            report = await JOB_KINDS[kind](call, reference)
            app = call.app
            simulated = app.is_simulated or app.grok.simulated
            result = JobResult(
                job_id=job_id.strip(),
                kind=kind,
                status=report.status,
                message=report.message,
                totals=report.totals,
                results=report.results,
                simulated=simulated,
            )
            text = report.message
            if report.results:
                text += "\n\n" + results_text(report.results)
            if simulated:
                text += "\n\n" + SIMULATED_NOTE
            return tool_result(text, result)
