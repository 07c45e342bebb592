"""Builds the MCP server: the lifespan that opens the store and the xAI client, and every tool family."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
from mcp.server.mcpserver import MCPServer

from grok_mcp import __version__
from grok_mcp.calls import CallPipeline
from grok_mcp.calls.request_log import RequestLog
from grok_mcp.config import Settings
from grok_mcp.context import AppContext
from grok_mcp.grok import GrokClient, ModelCatalog
from grok_mcp.grok.limits import ReplyLimits
from grok_mcp.hosting import startup
from grok_mcp.hosting.tasks import TaskSupport
from grok_mcp.hosting.unknown_names import UnknownNames
from grok_mcp.secrets import ApiKeyProvider
from grok_mcp.store import Store
from grok_mcp.tools import batch, chat, conversations, images, jobs, models, resources, search, usage
from grok_mcp.tools.result_limit import ResultLimit

logger = logging.getLogger(__name__)

TASK_TOOLS = (
    "chat",
    "chat_stream",
    "chat_with_context",
    "batch_chat",
    "analyze_image",
    "generate_image",
    "web_search",
    "x_search",
)
"""The tools offered as MCP tasks (`execution.taskSupport: optional`): every one that can outlast a client's timeout."""

INSTRUCTIONS = """\
Grok MCP gives you xAI's Grok models. Use `chat` (or `chat_stream` for long answers) to ask Grok,
`chat_with_context` to hold a conversation Grok remembers (list, search, read and delete them with
the conversation tools), `batch_chat` to run many prompts at once (`job_result` fetches a batch
submitted to xAI's Batch API), `analyze_image` for images, `generate_image` to make images,
`web_search` and `x_search` for current information with sources, `list_models` for models and
prices, `count_tokens` to measure text, and `usage_summary` for what calls have cost. Every result
says which model answered and what it cost."""


@asynccontextmanager
async def open_app_context(
    settings: Settings, *, api_key: Callable[[], str] | None = None
) -> AsyncGenerator[AppContext]:
    """Open what a server process shares: the store, the pooled xAI client and the catalog.

    In demo mode (`settings.simulate`) the simulated xAI API runs in this process on a loopback port.
    Raises DatabaseTooNewError when the store was written by a newer Grok MCP.
    """
    async with AsyncExitStack() as stack:
        base_url = settings.base_url
        key: Callable[[], str] = api_key or ApiKeyProvider()
        if settings.simulate:
            from grok_mcp.hosting.demo import DEMO_KEY, embedded_simulator

            base_url = await stack.enter_async_context(embedded_simulator())
            key = lambda: DEMO_KEY  # noqa: E731
        store = await anyio.to_thread.run_sync(Store.open, settings.db_path)
        stack.callback(store.close)
        grok = GrokClient(
            base_url=base_url,
            api_key=key,
            timeout_s=settings.request_timeout_s,
            connect_timeout_s=settings.connect_timeout_s,
            max_attempts=settings.max_attempts,
            limits=ReplyLimits(
                max_reply_bytes=settings.max_reply_bytes,
                max_stream_bytes=settings.max_stream_bytes,
                reply_deadline_s=settings.reply_deadline_s,
                stream_deadline_s=settings.stream_deadline_s,
            ),
        )
        stack.push_async_callback(grok.aclose)
        catalog = ModelCatalog(grok, ttl_s=settings.catalog_ttl_s)
        # Entered after the client and the store, so its background work stops before they close.
        pipeline = CallPipeline(api_key=key, demo=settings.simulate)
        await stack.enter_async_context(pipeline.hosting(store))
        logger.info(
            "Grok MCP %s serving over %s against %s%s",
            __version__,
            settings.transport,
            base_url,
            " (demo mode)" if settings.simulate else "",
        )
        request_log = RequestLog(settings.logs_dir, with_content=settings.log_content)
        stack.callback(request_log.close)
        yield AppContext(
            settings=settings,
            grok=grok,
            catalog=catalog,
            store=store,
            is_simulated=settings.simulate,
            pipeline=pipeline,
            request_log=request_log,
        )


def build_server(settings: Settings, *, context: AppContext | None = None) -> MCPServer[AppContext]:
    """The MCP server. With `context` it serves that shared state; without, it opens its own when it starts."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppContext]) -> AsyncGenerator[AppContext]:
        if context is not None:
            yield context
            return
        async with open_app_context(settings) as opened:
            yield opened

    server: MCPServer[AppContext] = MCPServer(
        name="grok",
        title="Grok MCP",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        debug=settings.debug,
        log_level="DEBUG" if settings.debug else "INFO",
    )
    # Outermost first. Unknown tool and prompt names are refused before anything else sees them.
    # ResultLimit comes before TaskSupport, so it also sees what tasks/result returns: no result larger
    # than an MCP client takes leaves the server. MCP tasks are served by a middleware because the SDK's
    # tool registration has no `execution`, and its tools/call result check would refuse a CreateTaskResult.
    server.middleware.extend([UnknownNames(server), ResultLimit(), TaskSupport(TASK_TOOLS)])
    for family in (chat, conversations, images, search, models, usage, resources, batch, jobs):
        family.register(server)
    startup.server_built()
    return server
