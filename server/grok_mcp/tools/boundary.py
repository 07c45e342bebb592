"""The boundary of a tool call: draining for shutdown, the ledger row of a failure, and the error a user reads.

World-fault errors become a ToolError whose text says what to do; our own bugs are logged with their
traceback and reported in one notice (`bug_notice`), without internals, wherever work ends: a tool call,
a long call that became a job, an MCP task, one item of a batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import cast

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from grok_mcp.context import AppContext
from grok_mcp.errors import UserFacingError, XAIError
from grok_mcp.tools.scope import CallScope

logger = logging.getLogger(__name__)


def bug_notice(subject: str, exc: BaseException, *, logged_as: str) -> str:
    """Log a failure of our own code with its traceback; return what the user reads about it.

    `subject` names what failed for the user ("This call", a tool's name); `logged_as` for the log.
    """
    logger.error("%s failed unexpectedly", logged_as, exc_info=exc)
    return (
        f"{subject} failed because of a bug in Grok MCP. The details are in the server log "
        "(`grok-mcp doctor` shows where); please report it."
    )


def app_context(ctx: Context) -> AppContext:
    return cast(AppContext, ctx.request_context.lifespan_context)


def client_name(ctx: Context) -> str | None:
    """The MCP client's own name (e.g. "claude-ai"), when it told us."""
    try:
        params = ctx.session.client_params
    except Exception:  # no session outside a request, or a transport without one
        return None
    if params is None:
        return None
    return params.client_info.name or None


@asynccontextmanager
async def tool_call(ctx: Context, tool: str) -> AsyncGenerator[CallScope]:
    """The boundary of one tool call.

    Refuses new calls while the server drains for shutdown, writes a ledger row for an upstream
    failure, and turns every world-fault error into a ToolError whose text tells the user what to do.
    Our own bugs are logged with their traceback and reported without internals.
    """
    app = app_context(ctx)
    if app.inflight.is_draining:
        raise ToolError("Grok MCP is shutting down and takes no new calls. Try again in a moment.")
    call = CallScope(app=app, tool=tool, client=client_name(ctx))
    scope = anyio.CancelScope()
    app.inflight.enter(scope)
    ok = False
    try:
        with scope:
            yield call
        if scope.cancelled_caught:
            raise ToolError("Grok MCP was shut down before this call finished. Try again when it is back.")
        ok = True
    except XAIError as exc:
        await call.record_failure(exc)
        raise ToolError(str(exc)) from None
    except UserFacingError as exc:
        raise ToolError(str(exc)) from None
    except ToolError:
        raise
    except Exception as exc:
        raise ToolError(bug_notice(tool, exc, logged_as=f"Tool {tool}")) from None
    finally:
        app.inflight.leave(scope)
        if app.metrics is not None:
            app.metrics.observe_call(tool, ok=ok, seconds=time.monotonic() - call.started)
        call.log_timings()
