"""How much of an upstream reply Grok MCP reads, and for how long: size caps, total deadlines, the bounded read.

A read timeout alone bounds silence, not size or duration: an upstream that keeps sending (a 500 MB body,
a body that never ends, a stream of deltas that never stops) would hold memory and a worker for good.
Every reply is therefore read against a byte cap and inside a total deadline, and hitting either is a
Failure whose message names the limit and the settings.toml key that changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from grok_mcp.config import MAX_REPLY_BYTES, MAX_STREAM_BYTES, MB, REPLY_DEADLINE_S, STREAM_DEADLINE_S
from grok_mcp.grok.errors import Failure
from grok_mcp.grok.parsing import as_optional_int

# Where an error reply stops being read: xAI's error bodies are a few hundred bytes.
MAX_ERROR_BODY_BYTES = 64 * 1024


def megabytes(size: int) -> str:
    """A byte count as a limit reads in a message: `64 MB`, `0.5 MB`."""
    return f"{size / MB:g} MB"


def seconds(value: float) -> str:
    return f"{value:g} s"


@dataclass(frozen=True)
class ReplyLimits:
    """The caps and total deadlines of one GrokClient's replies (settings.toml `[limits]`)."""

    max_reply_bytes: int = MAX_REPLY_BYTES
    max_stream_bytes: int = MAX_STREAM_BYTES
    reply_deadline_s: float = REPLY_DEADLINE_S
    stream_deadline_s: float = STREAM_DEADLINE_S

    def too_large(self, *, stream: bool, mid_stream: bool = False) -> Failure:
        """The Failure of a reply (or stream) that passed its byte cap."""
        if stream:
            reason = f"the {megabytes(self.max_stream_bytes)} limit for one stream (`[limits] stream_mb`)"
        else:
            reason = f"the {megabytes(self.max_reply_bytes)} limit for one reply (`[limits] reply_mb`)"
        return Failure(transport="too_large", reason=reason, mid_stream=mid_stream)

    def past_deadline(self, *, stream: bool, mid_stream: bool = False) -> Failure:
        """The Failure of a reply (or stream) still arriving when its total deadline passed."""
        if stream:
            reason = f"the {seconds(self.stream_deadline_s)} limit for one stream (`[limits] stream_seconds`)"
        else:
            reason = f"the {seconds(self.reply_deadline_s)} limit for one reply (`[limits] reply_seconds`)"
        return Failure(transport="deadline", reason=reason, mid_stream=mid_stream)


async def read_capped(response: httpx2.Response, max_bytes: int, *, truncate: bool = False) -> bytearray | None:
    """The (decoded) body of a streamed response, read no further than `max_bytes`.

    A body declared or found to be larger is None, or with `truncate` its first `max_bytes`; either way
    reading stops there, so memory stays bounded by the cap. Raises httpx2.RequestError when the
    connection fails mid-body.
    """
    declared = as_optional_int(response.headers.get("content-length"))
    if declared is not None and declared > max_bytes and not truncate:
        return None
    body = bytearray()
    async for chunk in response.aiter_bytes():
        room = max_bytes - len(body)
        if len(chunk) > room:
            if not truncate:
                return None
            body += chunk[:room]
            break
        body += chunk
    return body
