"""`POST /v1/images/generations`: small real PNGs whose pixel size follows aspect ratio and resolution."""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid
import zlib

from starlette.responses import JSONResponse, Response

from grok_mcp.simulator.catalog import ImageModel
from grok_mcp.simulator.gateway import Exchange
from grok_mcp.simulator.policy import deprecated, no_such_model
from grok_mcp.simulator.wire import XAIFailure

ASPECT_RATIOS = (
    "1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2",
    "9:19.5", "19.5:9", "9:20", "20:9", "1:2", "2:1", "auto",
)  # fmt: skip
RESOLUTIONS = ("1k", "2k")
RESPONSE_FORMATS = ("url", "b64_json")
LONG_SIDE_PX = {"1k": 128, "2k": 256}
DEFAULT_IMAGE_MODEL = "grok-imagine-image"
MAX_IMAGES = 10
_BAND_ROWS = 8


def image_size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """Width and height in pixels: the long side by resolution, the short side by the ratio."""
    long_side = LONG_SIDE_PX[resolution]
    if aspect_ratio == "auto":
        return long_side, long_side
    width_part, height_part = (float(part) for part in aspect_ratio.split(":"))
    if width_part >= height_part:
        return long_side, max(round(long_side * height_part / width_part), 1)
    return max(round(long_side * width_part / height_part), 1), long_side


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_png(width: int, height: int, seed: str) -> bytes:
    """A gradient PNG (8-bit RGB) whose colours come from the seed: the same seed, the same picture."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    base = digest[:3]
    bands: list[bytes] = []
    for band in range(max(height // _BAND_ROWS, 1) + 1):
        row = bytearray(b"\x00")
        shade = (band * 16 + digest[3]) % 256
        for x in range(width):
            ramp = x * 255 // max(width - 1, 1)
            row += bytes(((base[0] + ramp) % 256, (base[1] + shade) % 256, (base[2] + ramp // 2) % 256))
        bands.append(bytes(row))
    raw = b"".join(bands[y // _BAND_ROWS] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")
    )


def _image_model(exchange: Exchange, name: str) -> ImageModel:
    catalog = exchange.state.catalog
    model = catalog.image_model(name)
    if model is not None:
        return model
    retired = catalog.retired_image_model(name)
    if retired is not None:
        replacement = catalog.image_model(retired.replacement)
        if exchange.config.retired_mode == "redirect" and replacement is not None:
            return replacement
        raise deprecated(name, retired.retired_on, retired.replacement)
    if catalog.language_model(name) is not None:
        raise XAIFailure(400, f"Model {name} does not generate images; use grok-imagine-image.")
    raise no_such_model(name, exchange.key.team_id)


async def generate(exchange: Exchange) -> Response:
    """`POST /v1/images/generations`."""
    reader, body = exchange.reader, exchange.body
    prompt = reader.string(body, "prompt") or ""
    name = reader.string(body, "model") or DEFAULT_IMAGE_MODEL
    n = reader.integer(body, "n")
    response_format = reader.variant(body, "response_format", RESPONSE_FORMATS) or "url"
    aspect_ratio = reader.variant(body, "aspect_ratio", ASPECT_RATIOS) or "auto"
    resolution = reader.variant(body, "resolution", RESOLUTIONS) or "1k"
    model = _image_model(exchange, name)
    count = 1 if n is None else n
    if not 1 <= count <= MAX_IMAGES:
        raise XAIFailure(400, f"n must be between 1 and {MAX_IMAGES}, but {count} was provided.")
    if not prompt.strip():
        raise XAIFailure(400, "The image prompt cannot be empty.")
    if len(prompt) > model.max_prompt_length:
        raise XAIFailure(
            400,
            f"The image prompt is {len(prompt)} characters long; the maximum is {model.max_prompt_length}.",
        )
    width, height = image_size(aspect_ratio, resolution)
    data: list[dict[str, object]] = []
    for index in range(count):
        png = render_png(width, height, f"{model.id}\n{prompt}\n{index}")
        item: dict[str, object] = {"mime_type": "image/png", "revised_prompt": ""}
        if response_format == "b64_json":
            item = {"b64_json": base64.b64encode(png).decode("ascii")} | item
        else:
            filename = f"xai-tmp-imgen-{uuid.uuid4()}.png"
            exchange.state.store_file(filename, png)
            item = {"url": f"{exchange.root_url}/_sim/files/{filename}"} | item
        data.append(item)
    await exchange.pause(exchange.config.latency_ms)
    return JSONResponse({"data": data, "usage": {"cost_in_usd_ticks": count * model.image_price}})
