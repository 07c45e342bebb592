"""uvicorn runs inside our event loop without taking the signals: the one private use, watched."""

from __future__ import annotations

import inspect
import signal

import httpx2
import pytest
import uvicorn
from grok_mcp.hosting.demo import embedded_simulator

pytestmark = pytest.mark.anyio

_WHY = (
    "grok_mcp.hosting.uvicorn_serve wraps it to serve without uvicorn's signal capture; "
    "find another way there (a public API, or a Server subclass) before upgrading uvicorn"
)


def test_uvicorn_still_has_the_private_serve_that_the_helper_wraps() -> None:
    serve = getattr(uvicorn.Server, "_serve", None)
    assert inspect.iscoroutinefunction(serve), f"uvicorn {uvicorn.__version__} has no coroutine Server._serve: {_WHY}"
    parameters = list(inspect.signature(serve).parameters)
    assert parameters == ["self", "sockets"], (
        f"uvicorn {uvicorn.__version__} changed Server._serve's parameters to {parameters}: {_WHY}"
    )


async def test_a_server_run_through_the_helper_answers_and_leaves_the_signal_handlers_alone() -> None:
    handled = (signal.SIGTERM, signal.SIGINT)
    before = {sig: signal.getsignal(sig) for sig in handled}
    async with embedded_simulator() as base_url, httpx2.AsyncClient(timeout=10) as client:
        response = await client.get(f"{base_url}/models")
        during = {sig: signal.getsignal(sig) for sig in handled}
    assert response.status_code == 401  # the simulated API answers; no key was sent
    assert during == before
