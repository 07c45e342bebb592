"""Downloading image URLs: size limits enforced while reading, and no API key for anyone but xAI."""

from __future__ import annotations

import pytest
from grok_mcp.errors import InputError, UpstreamUnavailableError
from grok_mcp.grok import GrokClient
from grok_mcp.imaging import fetch_image_bytes

from tests.grok.conftest import PNG_BYTES, ClientFactory, ForeignHost, RecordingSleep

pytestmark = pytest.mark.anyio


async def test_an_image_from_another_host_is_downloaded_without_the_api_key(
    client: GrokClient, foreign_host: ForeignHost
) -> None:
    data, content_type = await fetch_image_bytes(client, f"{foreign_host.base_url}/image.png", max_bytes=1_000)

    assert data == PNG_BYTES
    assert content_type == "image/png"
    assert foreign_host.seen_headers and "authorization" not in foreign_host.seen_headers[0]


async def test_the_base_url_origin_gets_the_api_key(make_client: ClientFactory, foreign_host: ForeignHost) -> None:
    client = make_client(base_url=f"{foreign_host.base_url}/v1", key="xai-origin-check-key-0001")

    await fetch_image_bytes(client, f"{foreign_host.base_url}/image.png", max_bytes=1_000)

    assert foreign_host.seen_headers[0]["authorization"] == "Bearer xai-origin-check-key-0001"


async def test_a_body_declared_too_large_is_refused_before_reading(
    client: GrokClient, foreign_host: ForeignHost
) -> None:
    with pytest.raises(InputError, match="larger than"):
        await fetch_image_bytes(client, f"{foreign_host.base_url}/big-declared.png", max_bytes=1_000)


async def test_a_body_that_turns_out_too_large_is_refused_while_streaming(
    client: GrokClient, foreign_host: ForeignHost
) -> None:
    with pytest.raises(InputError, match="larger than"):
        await fetch_image_bytes(client, f"{foreign_host.base_url}/big-undeclared.png", max_bytes=3_000)


async def test_a_missing_image_is_an_input_error_naming_the_status(
    client: GrokClient, foreign_host: ForeignHost, sleeps: RecordingSleep
) -> None:
    with pytest.raises(InputError, match="HTTP 404"):
        await fetch_image_bytes(client, f"{foreign_host.base_url}/nothing-here.png", max_bytes=1_000)
    assert sleeps.delays == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.png", "not a url at all"])
async def test_only_http_urls_are_fetched(client: GrokClient, url: str) -> None:
    with pytest.raises(InputError):
        await fetch_image_bytes(client, url, max_bytes=1_000)


async def test_an_unreachable_image_host_is_retried_then_reported(
    client: GrokClient, closed_port: int, sleeps: RecordingSleep
) -> None:
    with pytest.raises(UpstreamUnavailableError, match="after 4 attempts"):
        await fetch_image_bytes(client, f"http://127.0.0.1:{closed_port}/a.png", max_bytes=1_000)
    assert sleeps.delays == [0.5, 1.0, 2.0]
