"""The `job_result` tool: the status and, when ready, the result of work that outlives one tool call.

A job id is `<kind>:<reference>`; each kind has one fetcher below. Today: `batch:<xAI batch id>`
(batch_chat with mode "batch_api"), `chat:<uuid>` (a chat-like call that outlived the job threshold) and
`task:<uuid>` (a tool call a client ran as an MCP task, grok_mcp.hosting.tasks), the last two with their
results in the store's jobs table. Another kind plugs in by adding its fetcher to `JOB_KINDS` and, if it
needs them, optional fields to `JobResult`. `result:<uuid>` (a result too large for one reply,
grok_mcp.tools.result_limit) is read a part at a time: `part` picks which.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from grok_mcp.calls import is_stale
from grok_mcp.context import AppContext
from grok_mcp.errors import InputError
from grok_mcp.tools.annotations import READS_JOB
from grok_mcp.tools.batch import (
    BATCH_JOB_KIND,
    BatchItemResult,
    BatchJobReport,
    BatchTotals,
    batch_job_report,
    results_text,
)
from grok_mcp.tools.boundary import tool_call
from grok_mcp.tools.long_calls import CALL_JOB_KIND
from grok_mcp.tools.result_limit import RESULT_JOB_KIND
from grok_mcp.tools.result_parts import ResultPiece, describe_pieces, readable_text
from grok_mcp.tools.results import tool_result, with_notes
from grok_mcp.tools.scope import CallScope

JobStatus = Literal["pending", "done", "failed", "cancelled"]

MAX_PARTS = 100_000
"""The largest part number job_result takes (more than any result this server keeps has)."""

TASK_JOB_KIND = "task"
"""Job ids of tool calls run as MCP tasks (the task id is the job id): `task:<uuid>`."""


@dataclass(frozen=True)
class CallJobReport:
    """Where a chat-like call running as a job stands; `text` and `answer` are its result once done."""

    status: JobStatus
    message: str
    tool: str
    text: str | None = None
    answer: dict[str, Any] | None = None


JobFetcher = Callable[[CallScope, str], Awaitable[BatchJobReport | CallJobReport]]
"""Fetches where a job stands from its reference (the part of the job id after `<kind>:`)."""


async def call_job_report(call: CallScope, reference: str) -> CallJobReport:
    """Where the chat-like call job `chat:<reference>` stands, from the store (any process may have run it).

    Raises InputError for a job id the store does not know.
    """
    return await stored_job_report(call, f"{CALL_JOB_KIND}:{reference}")


async def task_job_report(call: CallScope, reference: str) -> CallJobReport:
    """Where the MCP task `task:<reference>` stands, from the store (any process may have run it).

    Raises InputError for a job id the store does not know.
    """
    return await stored_job_report(call, f"{TASK_JOB_KIND}:{reference}")


async def stored_job_report(call: CallScope, job_id: str) -> CallJobReport:
    """Where a job kept in the store's jobs table stands. Raises InputError for a job id the store does not know."""
    app = call.app
    job = await anyio.to_thread.run_sync(app.store.get_job, job_id)
    if job is None:
        raise InputError(
            f"No job has the id {job_id!r} in this Grok MCP's data folder. Job ids come from a chat-like call "
            "that ran long or a tool call run as an MCP task; finished jobs are kept for a week."
        )
    now = app.pipeline.now()
    if job.status == "running":
        if is_stale(job, now=now):
            return CallJobReport(
                "failed",
                f"Job {job_id} ({job.tool}) was lost: the Grok MCP server process running it "
                f"(pid {job.owner_pid}) stopped before it finished. Ask again.",
                job.tool,
            )
        return CallJobReport(
            "pending",
            f"Job {job_id} ({job.tool}) is still running ({now - job.created_at:.0f} s so far). Call job_result "
            "again in a little while.",
            job.tool,
        )
    if job.status == "done" and job.result_json is not None:
        stored = cast(dict[str, Any], json.loads(job.result_json))
        structured = stored.get("structured")
        return CallJobReport(
            "done",
            f"Job {job_id} ({job.tool}) is done.",
            job.tool,
            text=str(stored.get("text") or ""),
            answer=cast(dict[str, Any], structured) if isinstance(structured, dict) else None,
        )
    status: JobStatus = "cancelled" if job.status == "cancelled" else "failed"
    return CallJobReport(status, f"Job {job_id} ({job.tool}) {status}: {job.error or 'no details'}", job.tool)


JOB_KINDS: dict[str, JobFetcher] = {
    BATCH_JOB_KIND: batch_job_report,
    CALL_JOB_KIND: call_job_report,
    TASK_JOB_KIND: task_job_report,
}


class JobResult(BaseModel):
    """Where a job stands and, once it is done, its results."""

    job_id: str
    kind: str = Field(
        description="What made the job: `batch` for batch_chat in batch_api mode, `chat` for a chat-like call "
        "that ran long, `task` for a tool call run as an MCP task."
    )
    status: JobStatus = Field(description="`pending` (ask again later), `done`, `failed` or `cancelled`.")
    message: str
    totals: BatchTotals | None = Field(default=None, description="Counts (pending ones too), tokens and cost.")
    results: list[BatchItemResult] | None = Field(
        default=None, description="Every item's answer or error in input order, once nothing is pending."
    )
    tool: str | None = Field(default=None, description="For a `chat` or `task` job: the tool that was called.")
    answer: dict[str, Any] | None = Field(
        default=None,
        description="For a `chat` or `task` job that is done: the tool's result, as it would have returned it.",
    )
    part: int | None = Field(default=None, description="For a `result` job: which part this is, from 1.")
    parts: int | None = Field(default=None, description="For a `result` job: how many parts it has.")
    pieces: list[ResultPiece] | None = Field(
        default=None,
        description="For a `result` job: this part's stretches of the whole result, in order. Together the parts "
        "rebuild it: list pieces extend the list at their path, text pieces the string.",
    )
    simulated: bool = False


async def result_part(call: CallScope, job_id: str, part: int) -> CallToolResult:
    """Part `part` of job `job_id`, a result too large for one reply.

    Raises InputError for an unknown job and for a part it does not have, naming how many it has.
    """
    store = call.app.store
    job = await anyio.to_thread.run_sync(store.get_job, job_id)
    if job is None or job.kind != RESULT_JOB_KIND or job.result_json is None:
        raise InputError(
            f"No job has the id {job_id!r} in this Grok MCP's data folder. `result:` job ids come from a result "
            "too large for one reply; they are kept for a week."
        )
    count = int(json.loads(job.result_json)["parts"])
    body = await anyio.to_thread.run_sync(store.get_job_part, job_id, part) if part <= count else None
    if body is None:
        raise InputError(f"Job {job_id} has {count} parts: ask for a part from 1 to {count}.")
    pieces = [ResultPiece.model_validate(piece) for piece in json.loads(body)]
    message = f"Part {part} of {count} of the result of {job.tool} (job {job_id})."
    if part < count:
        message += f" Ask for part {part + 1} next."
    held = describe_pieces([piece for piece in pieces if piece.path[:1] != ["content"]])
    readable = readable_text(pieces)
    text = message + (f" This part also holds {held} of structuredContent." if held else "")
    structured = JobResult(
        job_id=job_id,
        kind=RESULT_JOB_KIND,
        status="done",
        message=message,
        tool=job.tool,
        part=part,
        parts=count,
        pieces=pieces,
        simulated=call.app.answers_are_simulated,
    )
    return tool_result(f"{text}\n\n{readable}" if readable else text, structured)


def parse_job_id(job_id: str) -> tuple[str, str]:
    """(kind, reference) of a job id.

    Raises InputError for an id that no job kind of this server made.
    """
    kind, sep, reference = job_id.strip().partition(":")
    if not sep or not reference or (kind not in JOB_KINDS and kind != RESULT_JOB_KIND):
        known = ", ".join(f"`{name}:…`" for name in [*JOB_KINDS, RESULT_JOB_KIND])
        raise InputError(
            f"{job_id!r} is not a job id of Grok MCP. Job ids look like {known}, as returned by "
            'batch_chat with mode "batch_api", by a chat-like call that ran long, by a result too large for one '
            "reply, or as an MCP task id."
        )
    return kind, reference


async def job_result(
    ctx: Context,
    job_id: Annotated[str, Field(min_length=1, max_length=300, description="The job id a tool returned.")],
    part: Annotated[
        int | None,
        Field(
            ge=1,
            le=MAX_PARTS,
            description="For a `result:` job (a result too large for one reply): which part to get, from 1. "
            "Each reply says how many parts there are; read them in order for the whole result.",
        ),
    ] = None,
) -> Annotated[CallToolResult, JobResult]:
    """Check on a job (a chat-like call that ran long, or a batch_chat sent to xAI's Batch API): whether
    it is still running and, when it is done, its results. A result too large for one reply is a
    `result:` job: read it with `part` 1, 2, … up to the count each part gives."""
    async with tool_call(ctx, "job_result") as call:
        kind, reference = parse_job_id(job_id)
        if kind == RESULT_JOB_KIND:
            return await result_part(call, job_id.strip(), part or 1)
        if part is not None and part != 1:
            raise InputError(
                f"Job {job_id.strip()} comes in one piece: `part` is only for `result:` jobs. Ask without it."
            )
        report = await JOB_KINDS[kind](call, reference)
        simulated = call.app.answers_are_simulated
        stands: dict[str, Any] = {
            "job_id": job_id.strip(),
            "kind": kind,
            "status": report.status,
            "message": report.message,
            "simulated": simulated,
        }
        if isinstance(report, CallJobReport):
            result = JobResult(**stands, tool=report.tool, answer=report.answer)
            # The stored answer's text already carries its own notes (cached, simulated).
            text = report.message if report.text is None else f"{report.message}\n\n{report.text}"
            return tool_result(text, result)
        result = JobResult(**stands, totals=report.totals, results=report.results)
        text = report.message
        if report.results:
            text += "\n\n" + results_text(report.results)
        return tool_result(with_notes(text, simulated=simulated), result)


def register(server: MCPServer[AppContext]) -> None:
    """Add `job_result` to the server."""
    server.add_tool(job_result, title="Get a job's result", annotations=READS_JOB)
