"""The one place every tool result passes before it leaves: one too large for an MCP reply becomes a job's parts.

`ResultLimit` is a server middleware: it sees every `tools/call` and `tasks/result` result, whichever tool
made it, over stdio and HTTP alike. A result whose JSON passes RESULT_LIMIT_BYTES is never sent: it is
stored whole as job `result:<uuid>` in parts that each fit (grok_mcp.tools.result_parts), and the client
gets the small result instead: the same structuredContent with its long fields emptied, `job_id`, a
`spilled` note with the part count, and a text that says so and how to page with job_result. What was
paid for is in the store before the small result is sent.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Mapping
from typing import Any, cast

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel

from grok_mcp.context import AppContext
from grok_mcp.store import JobRecord
from grok_mcp.tools.result_parts import RESULT_LIMIT_BYTES, SplitResult, json_size, readable_text, split_result

logger = logging.getLogger(__name__)

RESULT_JOB_KIND = "result"
"""Job ids of results too large for one reply: `result:<uuid>`; job_result pages through their parts."""

LIMITED_METHODS = frozenset({"tools/call", "tasks/result"})
"""The requests whose results are tool results."""

PREVIEW_CHARS = 2_000
"""How much of the result's text the small result shows."""


class ResultLimit:
    """The server middleware that keeps every tool result within RESULT_LIMIT_BYTES."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        answered = await call_next(ctx)
        if ctx.method not in LIMITED_METHODS or answered is None:
            return answered
        result = _wire(answered)
        if not isinstance(result.get("content"), list):  # not a tool result (a CreateTaskResult, say)
            return answered
        size = json_size(result)
        if size <= RESULT_LIMIT_BYTES:
            return answered
        return await spill(ctx, result, size)


async def spill(ctx: ServerRequestContext[Any, Any], result: dict[str, Any], size: int) -> dict[str, Any]:
    """Store `result` (`size` bytes of JSON) as a job's parts; the small result that names the job.

    When the store cannot keep it, a tool error saying so (the call's answer is then lost: logged).
    """
    app = cast(AppContext, ctx.lifespan_context)
    tool = _tool_name(ctx)
    job_id = f"{RESULT_JOB_KIND}:{uuid.uuid4().hex}"
    split = await anyio.to_thread.run_sync(split_result, result)
    now = app.pipeline.now()
    summary = {"tool": tool, "parts": len(split.parts), "bytes": size}
    job = JobRecord(
        id=job_id,
        kind=RESULT_JOB_KIND,
        tool=tool,
        status="done",
        created_at=now,
        heartbeat_at=now,
        finished_at=now,
        owner_pid=os.getpid(),
        client=_client_name(ctx),
        result_json=json.dumps(summary),
    )
    bodies = [json.dumps([piece.model_dump(mode="json", exclude_none=True) for piece in part]) for part in split.parts]
    try:
        with anyio.CancelScope(shield=True):  # the answer was paid for: keep it even if the caller goes
            await anyio.to_thread.run_sync(lambda: app.store.create_job_with_parts(job, bodies))
    except Exception:
        logger.exception("Could not keep a %d-byte result of %s as a job", size, tool)
        return _too_large_and_lost(tool, size)
    logger.info("%s's result (%d bytes) is kept as job %s in %d parts", tool, size, job_id, len(split.parts))
    return _small_result(tool, job_id, size, split, preview=readable_text([p for part in split.parts for p in part]))


def _small_result(tool: str, job_id: str, size: int, split: SplitResult, *, preview: str) -> dict[str, Any]:
    """What the client gets instead of a result too large for one reply."""
    count = len(split.parts)
    moved = split.moved
    shown = ", ".join(moved[:8]) + (f" and {len(moved) - 8} more" if len(moved) > 8 else "")
    text = (
        f"This result of {tool} is {size:,} bytes, more than the {RESULT_LIMIT_BYTES:,} bytes an MCP client takes "
        f"in one reply, so it is kept whole as job {job_id} in {count} parts; nothing is lost. "
        f'Call job_result with job_id "{job_id}" and part 1, then 2, up to {count} to read all of it. '
        f"structuredContent here has everything but its long fields ({shown}), which are in the parts."
    )
    if preview:
        cut = preview[:PREVIEW_CHARS]
        text += f"\n\nIt begins:\n\n{cut}" + (" …" if len(preview) > PREVIEW_CHARS else "")
    small = dict(split.skeleton)
    small["content"] = [{"type": "text", "text": text}]
    structured = small.get("structuredContent")
    if isinstance(structured, dict):
        small["structuredContent"] = {
            **cast(dict[str, Any], structured),
            "job_id": job_id,
            "spilled": {
                "job_id": job_id,
                "parts": count,
                "bytes": size,
                "limit_bytes": RESULT_LIMIT_BYTES,
                "moved": moved,
            },
        }
    return small


def _too_large_and_lost(tool: str, size: int) -> dict[str, Any]:
    text = (
        f"This result of {tool} is {size:,} bytes, more than the {RESULT_LIMIT_BYTES:,} bytes an MCP client takes "
        "in one reply, and Grok MCP could not keep it in its database to page through (the server log says why). "
        "Ask for less at a time (fewer batch items, a smaller max_tokens); `grok-mcp doctor` checks the database."
    )
    return {"content": [{"type": "text", "text": text}], "isError": True}


def _wire(answered: HandlerResult) -> dict[str, Any]:
    if isinstance(answered, BaseModel):
        return answered.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dict(cast(Mapping[str, Any], answered or {}))


def _tool_name(ctx: ServerRequestContext[Any, Any]) -> str:
    name = ctx.params.get("name") if isinstance(ctx.params, Mapping) else None
    return name if isinstance(name, str) else "a task"


def _client_name(ctx: ServerRequestContext[Any, Any]) -> str | None:
    params = ctx.session.client_params
    return (params.client_info.name or None) if params is not None else None
