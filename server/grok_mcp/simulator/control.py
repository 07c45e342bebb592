"""The simulator's own control API under `/_sim`: faults, pacing, reset, the request log, in-flight counts, files."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from grok_mcp.simulator.config import RETIRED_MODES
from grok_mcp.simulator.faults import FaultError, parse_fault
from grok_mcp.simulator.gateway import simulator_state

_PACING_FIELDS = ("latency_ms", "ttft_ms", "chunk_ms")


def sim_error(status: int, message: str) -> JSONResponse:
    """An error from the control API itself (not an xAI shape: nobody's client parses these)."""
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body: object = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError:
        return None
    return cast(dict[str, Any], body) if isinstance(body, dict) else None


async def add_faults(request: Request) -> Response:
    """`POST /_sim/faults {"faults": [...]}`: queue faults for the next matching requests."""
    body = await _json(request)
    raw_faults: object = None if body is None else body.get("faults")
    if not isinstance(raw_faults, list):
        return sim_error(400, 'send {"faults": [{"kind": ...}, ...]}')
    try:
        faults = [parse_fault(raw) for raw in cast(list[object], raw_faults)]
    except FaultError as exc:
        return sim_error(400, str(exc))
    state = simulator_state(request)
    state.faults.extend(faults)
    return JSONResponse({"queued": len(state.faults), "faults": state.faults.describe()})


async def list_faults(request: Request) -> Response:
    """`GET /_sim/faults`: the faults still waiting."""
    return JSONResponse({"faults": simulator_state(request).faults.describe()})


async def configure(request: Request) -> Response:
    """`POST /_sim/config`: change pacing, the retired-model mode or whether replies are marked, at run time."""
    body = await _json(request)
    if body is None:
        return sim_error(400, "send a JSON object")
    overrides: dict[str, object] = {}
    for name, value in body.items():
        if name in _PACING_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                return sim_error(400, f"{name} must be a non-negative number")
            overrides[name] = float(value)
        elif name == "marks_replies":
            if not isinstance(value, bool):
                return sim_error(400, "marks_replies must be true or false")
            overrides[name] = value
        elif name == "retired_mode":
            if value not in RETIRED_MODES:
                return sim_error(400, f"retired_mode must be one of {', '.join(RETIRED_MODES)}")
            overrides[name] = value
        else:
            return sim_error(400, f"unknown setting {name!r}")
    config = simulator_state(request).configure(**overrides)
    return JSONResponse(asdict(config))


async def reset(request: Request) -> Response:
    """`POST /_sim/reset`: forget faults, the log, responses, jobs, files, the cache and config overrides."""
    state = simulator_state(request)
    state.reset()
    return JSONResponse(asdict(state.config))


async def request_log(request: Request) -> Response:
    """`GET /_sim/requests`: every `/v1` request since the last reset (never the key)."""
    state = simulator_state(request)
    return JSONResponse({"count": state.request_count, "requests": [entry.to_json() for entry in state.log]})


async def in_flight(request: Request) -> Response:
    """`GET /_sim/in-flight`: `/v1` requests being served now, and the most at once since the last reset."""
    state = simulator_state(request)
    return JSONResponse({"in_flight": state.in_flight, "max_in_flight": state.max_in_flight})


async def file_download(request: Request) -> Response:
    """`GET /_sim/files/{name}`: a generated image behind a returned `url`."""
    name = str(request.path_params["name"])
    data = simulator_state(request).files.get(name)
    if data is None:
        return JSONResponse(
            {"code": "Some requested entity was not found", "error": f"File {name} not found"},
            status_code=404,
        )
    return Response(data, media_type="image/png")
