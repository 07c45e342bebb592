"""The `analyze_image` and `generate_image` tools: Grok looks at images, and Grok Imagine makes them."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ContentBlock, ImageContent
from pydantic import BaseModel, Field

from grok_mcp.context import AppContext
from grok_mcp.conversation_history import estimate_tokens
from grok_mcp.errors import InputError, UserFacingError
from grok_mcp.grok import ImageGeneration
from grok_mcp.imaging import (
    LocalImageFolders,
    extension_for,
    fetch_image_bytes,
    image_size,
    load_image_input,
    make_preview,
    sniff_image_type,
)
from grok_mcp.routing import RouteNeeds
from grok_mcp.store.units import ticks_to_usd
from grok_mcp.tools.annotations import ASKS_GROK, CREATES_WITH_GROK
from grok_mcp.tools.boundary import tool_call
from grok_mcp.tools.chat import CacheArgument, shape_chat_result
from grok_mcp.tools.long_calls import run_long_call
from grok_mcp.tools.models import resolve_chat_model, resolve_image_model
from grok_mcp.tools.results import ChatResult, tool_result, with_notes

MAX_IMAGES_PER_CALL = 10
AspectRatio = Literal[
    "1:1",
    "3:4",
    "4:3",
    "9:16",
    "16:9",
    "2:3",
    "3:2",
    "9:19.5",
    "19.5:9",
    "9:20",
    "20:9",
    "1:2",
    "2:1",
    "auto",
]


class SavedImage(BaseModel):
    path: str = Field(description="Where the image was saved on this computer.")
    mime_type: str
    width: int | None = None
    height: int | None = None
    bytes: int
    revised_prompt: str | None = None


class GeneratedImages(BaseModel):
    images: list[SavedImage]
    model: str
    request_id: str | None
    cost_usd: float
    simulated: bool


async def analyze_image(
    ctx: Context,
    images: Annotated[
        list[str],
        Field(
            min_length=1,
            max_length=MAX_IMAGES_PER_CALL,
            description="Images as https URLs, absolute file paths or data URIs (PNG, JPEG or WebP).",
        ),
    ],
    prompt: Annotated[str, Field(description="What to ask about the images.")] = "Describe this image in detail.",
    model: Annotated[str | None, Field(description="A model that accepts image input; default if omitted.")] = None,
    detail: Annotated[Literal["auto", "low", "high"], Field(description="Image detail level.")] = "auto",
    cache: CacheArgument = None,
) -> Annotated[CallToolResult, ChatResult]:
    """Ask Grok about one or more images: describe, read text, compare, answer questions. A call still
    running after a while (45 s by default) returns a job id for job_result instead."""
    started = time.monotonic()
    async with tool_call(ctx, "analyze_image") as call:
        app = call.app
        limit = app.settings.max_image_bytes
        folders = LocalImageFolders(allowed=app.settings.image_folders, data_dir=app.settings.home)
        loaded = [
            await anyio.to_thread.run_sync(lambda s=s: load_image_input(s, max_bytes=limit, folders=folders))
            for s in images
        ]
        needs = RouteNeeds(has_images=True, prompt_tokens=estimate_tokens(prompt))
        chosen = await resolve_chat_model(app, model, needs=needs, call=call)
        described = await app.catalog.resolve(chosen)
        if described is not None and not described.supports_images:
            raise InputError(
                f"{chosen} cannot look at images. Leave `model` out, "
                "or pick one that lists `image` input in list_models."
            )
        call.model = chosen
        parts: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
        parts += [{"type": "image_url", "image_url": {"url": i.url, "detail": detail}} for i in loaded]
        body = {"model": chosen, "messages": [{"role": "user", "content": parts}]}

        async def answer() -> CallToolResult:
            # The images are inside the body (data URIs, or URLs whose content may change): a cache key
            # over the body is exact for the former and as fresh as the TTL for the latter.
            completion = await call.chat(body, cache=cache, images=len(loaded))
            return await shape_chat_result(call, completion, wants_json=False, started=started, images=len(loaded))

        return await run_long_call(call, answer)


async def generate_image(
    ctx: Context,
    prompt: Annotated[str, Field(min_length=1, description="What the image should show.")],
    n: Annotated[int, Field(ge=1, le=10, description="How many images (each is billed).")] = 1,
    aspect_ratio: AspectRatio | None = None,
    resolution: Annotated[Literal["1k", "2k"] | None, Field(description="1k (default) or 2k.")] = None,
    model: Annotated[str | None, Field(description="Image model; the catalog's default if omitted.")] = None,
) -> Annotated[CallToolResult, GeneratedImages]:
    """Generate images from a prompt. They are saved as files (paths in the result) with small previews."""
    async with tool_call(ctx, "generate_image") as call:
        app = call.app
        chosen = await resolve_image_model(app, model)
        call.model = chosen
        body: dict[str, Any] = {"model": chosen, "prompt": prompt, "n": n, "response_format": "b64_json"}
        if aspect_ratio is not None:
            body["aspect_ratio"] = aspect_ratio
        if resolution is not None:
            body["resolution"] = resolution
        generation = await call.generate_images(body)
        cost = generation.cost_ticks
        if cost is None:
            cost = await app.catalog.image_cost_ticks(generation.model or chosen, len(generation.images))
        await call.record(
            generation.call,
            model=generation.model or chosen,
            cost_ticks=cost,
            images=len(generation.images),
        )

        saved, previews = await _save_images(app, generation)
        simulated = app.answers_are_simulated
        result = GeneratedImages(
            images=saved,
            model=generation.model or chosen,
            request_id=generation.call.request_id,
            cost_usd=ticks_to_usd(cost),
            simulated=simulated,
        )
        lines = [f"Generated {len(saved)} image(s) with {result.model} for ${result.cost_usd:.4f}:"]
        lines += [f"- {s.path} ({s.width}×{s.height})" for s in saved]
        return tool_result(with_notes("\n".join(lines), simulated=simulated), result, previews)


def register(server: MCPServer[AppContext]) -> None:
    """Add the image tools to the server."""
    server.add_tool(analyze_image, title="Ask Grok about images", annotations=ASKS_GROK)
    server.add_tool(generate_image, title="Generate images with Grok Imagine", annotations=CREATES_WITH_GROK)


async def _save_images(app: AppContext, generation: ImageGeneration) -> tuple[list[SavedImage], list[ContentBlock]]:
    """Save each generated image under today's folder of images_dir; its facts, and a small preview of each.

    File names are ours (a random id), never the upstream's request id or anything else it sent.
    """
    images_dir = app.settings.images_dir
    folder = images_dir / dt.date.today().isoformat()
    stem = uuid.uuid4().hex
    saved: list[SavedImage] = []
    previews: list[ContentBlock] = []
    for index, image in enumerate(generation.images):
        data = await _image_bytes(app, image.b64_json, image.url)
        mime = sniff_image_type(data) or "image/jpeg"
        path = folder / f"{stem}-{index + 1}.{extension_for(mime)}"
        await anyio.to_thread.run_sync(_write_file, images_dir, path, data)
        size = image_size(data)
        saved.append(
            SavedImage(
                path=str(path),
                mime_type=mime,
                width=size[0] if size else None,
                height=size[1] if size else None,
                bytes=len(data),
                revised_prompt=image.revised_prompt or None,
            )
        )
        preview, preview_mime = await anyio.to_thread.run_sync(make_preview, data)
        previews.append(
            ImageContent(type="image", data=base64.b64encode(preview).decode("ascii"), mime_type=preview_mime)
        )
    return saved, previews


async def _image_bytes(app: AppContext, b64_json: str | None, url: str | None) -> bytes:
    if b64_json:
        try:
            return base64.b64decode(b64_json, validate=True)
        except (binascii.Error, ValueError):
            raise InputError("xAI returned an image whose base64 data is corrupt. Try again.") from None
    if url:
        settings = app.settings
        data, _ = await fetch_image_bytes(
            app.grok, url, max_bytes=settings.max_image_download_bytes, deadline_s=settings.image_download_deadline_s
        )
        return data
    raise InputError("xAI returned an image entry with neither data nor a URL. Try again.")


def _write_file(images_dir: Path, path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, refusing any path that resolves outside `images_dir`.

    The temporary file is created exclusively and without following a symlink planted in its place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.resolve().is_relative_to(images_dir.resolve()):
        raise UserFacingError(
            f"Grok MCP saves images only inside {images_dir}, but {path.parent} leads elsewhere "
            "(a symbolic link?). Remove it and try again."
        )
    tmp = path.with_name(f".{path.name}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
