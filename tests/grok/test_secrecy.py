"""The API key never leaks: not into exception text, repr, chain or attributes, nor into any log record."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

import pytest
from grok_mcp.errors import XAIError
from grok_mcp.grok import GrokClient, ModelCatalog

from tests.grok.conftest import ClientFactory
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"


def canary() -> str:
    return f"xai-CANARY-{uuid.uuid4()}"


def assert_clean(exc: BaseException, secret: str) -> None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        assert secret not in str(current)
        assert secret not in repr(current)
        assert secret not in repr(vars(current))
        request = getattr(current, "request", None)
        if request is not None:
            assert secret not in repr(dict(request.headers))
        current = current.__cause__ or current.__context__
    assert secret not in "".join(traceback.format_exception(exc))


def assert_logs_clean(caplog: pytest.LogCaptureFixture, secret: str) -> None:
    assert caplog.records, "the failure paths should have logged something at DEBUG"
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.args)
        assert secret not in (record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            assert secret not in "".join(traceback.format_exception(record.exc_info[1]))


async def stream_all(client: GrokClient, body: dict[str, Any]) -> None:
    async with aclosing(client.chat_stream(body)) as stream:
        async for _ in stream:
            pass


async def test_a_canary_key_appears_in_no_error_and_no_log_record_across_the_failure_paths(
    make_client: ClientFactory,
    simulator: RunningSimulator,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = canary()
    client = make_client(key=secret, timeout_s=0.3)
    model = (await ModelCatalog(client).default_chat_model()).id
    body = {"model": model, "messages": [{"role": "user", "content": "Tell me a story."}]}

    faults: list[dict[str, Any]] = [
        {"kind": "status", "status": 400},
        {"kind": "status", "status": 401},
        {"kind": "status", "status": 403},
        {"kind": "status", "status": 404},
        {"kind": "status", "status": 422},
        {"kind": "status", "status": 502, "count": 4},
        {"kind": "rate_limit", "count": 4},
        {"kind": "credits"},
        {"kind": "error_200", "count": 4},
        {"kind": "drop"},
        {"kind": "stall", "seconds": 30},
    ]
    failures = 0
    for fault in faults:
        simulator.add_faults({**fault, "path": CHAT})
        with pytest.raises(XAIError) as caught:
            await client.chat(body)
        assert_clean(caught.value, secret)
        failures += 1

    for fault in (
        {"kind": "midstream", "after_chunks": 2},
        {"kind": "drop", "after_chunks": 2},
        {"kind": "stall", "seconds": 30, "after_chunks": 2},
        {"kind": "rate_limit", "count": 4},
    ):
        simulator.add_faults({**fault, "path": CHAT})
        with pytest.raises(XAIError) as caught:
            await stream_all(client, body)
        assert_clean(caught.value, secret)
        failures += 1

    invalid = f"xai-CANARY-invalid-{uuid.uuid4()}"
    calls: list[tuple[str, Callable[[GrokClient], Awaitable[object]]]] = [
        (invalid, lambda c: c.chat(body)),
        (invalid, lambda c: c.api_key_info()),
        (secret, lambda c: c.chat({"model": "grok-nonexistent", "messages": body["messages"]})),
    ]
    for key, call in calls:
        with pytest.raises(XAIError) as caught:
            await call(make_client(key=key))
        assert_clean(caught.value, key)
        assert_logs_clean(caplog, key)
        failures += 1

    unreachable = make_client(key=secret, base_url=f"http://127.0.0.1:{closed_port}/v1")
    with pytest.raises(XAIError) as caught:
        await unreachable.chat(body)
    assert_clean(caught.value, secret)

    assert failures == 18
    assert_logs_clean(caplog, secret)


async def test_debug_logs_name_method_path_status_and_request_id(
    client: GrokClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="grok_mcp.grok")
    info = await client.api_key_info()

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("grok_mcp.grok")]
    assert any("GET /v1/api-key → 200" in line and str(info.call.request_id) in line for line in lines)
