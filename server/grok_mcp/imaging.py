"""Images in and out: what an image argument points at, its real type and size, small previews, and
downloading the images xAI hands back as URLs."""

from __future__ import annotations

import base64
import binascii
import errno
import io
import os
import re
import stat
import struct
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import anyio
import httpx2

from grok_mcp.config import IMAGE_DOWNLOAD_DEADLINE_S
from grok_mcp.errors import InputError, UpstreamCall, UpstreamTimeoutError, UpstreamUnavailableError
from grok_mcp.grok.errors import Failure, transport_failure
from grok_mcp.grok.limits import megabytes, read_capped, seconds
from grok_mcp.grok.retry import parse_retry_after

if TYPE_CHECKING:
    from grok_mcp.grok import GrokClient

# What xAI's image understanding accepts (xai-api.md §3.1; WebP is accepted by the image endpoints).
ACCEPTED_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
PREVIEW_MAX_PX = 256
# A PNG or WebP is decoded whole before upload; this many pixels take up to ~100 MB while decoding (RGBA).
# JPEGs are decoded at 1/8 scale (every block is still read), so Pillow's own bomb limit bounds them.
MAX_DECODED_PIXELS = 25_000_000
_PNG_END = b"IEND\xaeB`\x82"
_DATA_URI = re.compile(r"^data:(?P<mime>[\w/+.-]*)?(?P<params>(;[\w=.-]+)*?)(?P<b64>;base64)?,(?P<data>.*)$", re.S)


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type the bytes really are (PNG, JPEG, GIF, WebP), whatever their name says."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


@dataclass(frozen=True)
class ImageInput:
    """An image ready for xAI: an https URL xAI fetches itself, or a data URI of checked bytes."""

    url: str
    source: str
    mime_type: str | None
    size_bytes: int | None


@dataclass(frozen=True)
class LocalImageFolders:
    """Where local image files may be read from: inside one of `allowed`, and never inside `data_dir`
    (Grok MCP's database, logs and exports) except its own `images/`, where generated images are saved."""

    allowed: tuple[Path, ...]
    data_dir: Path | None = None

    def permits(self, path: Path) -> bool:
        """Whether the file at `path` (already resolved: no symlink left in it) may be read."""
        if self.data_dir is not None:
            data_dir = _real(self.data_dir)
            if path.is_relative_to(data_dir) and not path.is_relative_to(data_dir / "images"):
                return False
        return any(path.is_relative_to(_real(folder)) for folder in self.allowed)

    def refusal(self, spec: str) -> InputError:
        """The error for a file outside these folders: the same whether or not it exists."""
        where = ", ".join(str(folder) for folder in self.allowed) or "none"
        return InputError(
            f"{spec} is not in a folder Grok MCP may read images from ({where}). Move the image into one, "
            "or add its folder to `[images] local_folders` in settings.toml."
        )


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _check_bytes(data: bytes, source: str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise InputError(
            f"{source} is {_megabytes(len(data))}; xAI accepts images up to {_megabytes(max_bytes)}. "
            "Resize or compress it and try again."
        )
    mime = sniff_image_type(data)
    if mime is None:
        raise InputError(f"{source} is not an image (its bytes are not PNG, JPEG or WebP).")
    if mime not in ACCEPTED_TYPES:
        raise InputError(
            f"{source} is a {mime.split('/')[1].upper()}; xAI accepts PNG, JPEG and WebP. Convert it first."
        )
    _decode_fully(data, mime, source)
    return mime


def _decode_fully(data: bytes, mime: str, source: str) -> None:
    """Decode every pixel, so only a whole image is ever uploaded; raises InputError naming `source` otherwise.

    Five right bytes at the start prove nothing (a PNG signature can sit in front of any file), and a real
    image can carry a secret after its end: PNG must end at IEND and WebP at its RIFF size.
    """
    from PIL import Image, UnidentifiedImageError

    unreadable = InputError(f"{source} cannot be decoded as a PNG, JPEG or WebP image. Check that the file is one.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[mime]]) as image:
                width, height = image.size
                if mime != "image/jpeg" and width * height > MAX_DECODED_PIXELS:
                    raise InputError(
                        f"{source} is {width}×{height} pixels; Grok MCP decodes PNG and WebP images of up to "
                        f"{MAX_DECODED_PIXELS // 1_000_000} million pixels. Resize it and try again."
                    )
                if mime == "image/jpeg":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))  # every block, at 1/8 scale
                image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise unreadable from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error):  # what Pillow's decoders raise on junk
        raise unreadable from None
    if (mime == "image/png" and not data.endswith(_PNG_END)) or (
        mime == "image/webp" and int.from_bytes(data[4:8], "little") + 8 < len(data) - 1
    ):
        raise InputError(f"{source} has data after the image; save it again as a plain image and retry.")


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def load_image_input(spec: str, *, max_bytes: int, folders: LocalImageFolders) -> ImageInput:
    """Turn an `images` entry (https URL, data URI or local file path) into something xAI accepts.

    Local files (only inside `folders`) and data URIs are read, size-checked and fully decoded before
    any upload; https URLs are passed to xAI, which fetches them itself (we never fetch URLs for a
    client). Raises InputError with what is wrong and what to do.
    """
    spec = spec.strip()
    if not spec:
        raise InputError("An entry of `images` is empty. Give an https URL, a data URI or a file path.")
    if spec.startswith("data:"):
        return _from_data_uri(spec, max_bytes)
    parsed = urlparse(spec)
    if parsed.scheme in ("http", "https"):
        if parsed.scheme == "http":
            raise InputError(f"{spec} is a plain-http URL; xAI fetches images over https only.")
        return ImageInput(url=spec, source=spec, mime_type=None, size_bytes=None)
    if parsed.scheme not in ("", "file") and not (len(parsed.scheme) == 1 and spec[1:3] in (":\\", ":/")):
        raise InputError(f"{spec!r} is not an https URL, a data URI or a file path.")
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(spec).expanduser()
    if not path.is_absolute():
        raise InputError(f"{spec!r} is a relative path; give the image's absolute path.")
    return _from_file(path, max_bytes, folders)


def _from_data_uri(spec: str, max_bytes: int) -> ImageInput:
    match = _DATA_URI.match(spec)
    if match is None or not match.group("b64"):
        raise InputError("The data URI is malformed; expected `data:image/png;base64,<data>`.")
    encoded = match.group("data")
    if len(encoded) * 3 // 4 > max_bytes + 3:
        raise InputError(
            f"The data URI holds about {_megabytes(len(encoded) * 3 // 4)}; xAI accepts images up to "
            f"{_megabytes(max_bytes)}. Resize or compress it and try again."
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("The data URI's base64 payload is corrupt.") from None
    mime = _check_bytes(data, "The data URI", max_bytes)
    return ImageInput(url=_data_uri(data, mime), source="data URI", mime_type=mime, size_bytes=len(data))


def _from_file(path: Path, max_bytes: int, folders: LocalImageFolders) -> ImageInput:
    real = _real(path)  # the symlinks followed now; what is opened below is checked again
    if not folders.permits(real):
        raise folders.refusal(str(path))
    data = _read_regular_file(real, str(path), max_bytes, folders)
    mime = _check_bytes(data, str(path), max_bytes)
    return ImageInput(url=_data_uri(data, mime), source=str(path), mime_type=mime, size_bytes=len(data))


# Open once, never blocking (a FIFO or device swapped in would hang the reading thread for good) and not
# through a symlink swapped in after the path was resolved.
_OPEN_FLAGS = os.O_RDONLY | sum(
    getattr(os, name, 0) for name in ("O_NOFOLLOW", "O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY")
)


def _read_regular_file(real: Path, source: str, max_bytes: int, folders: LocalImageFolders) -> bytes:
    """The bytes of the regular file at `real`, read through one descriptor; raises InputError naming `source`."""
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except FileNotFoundError:
        raise InputError(f"There is no file at {source}.") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{source} changed while it was being opened. Try again.") from None
        raise InputError(f"Cannot read {source}: {exc.strerror}.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{source} is not a file (folders, devices and pipes are never read).")
        opened = _opened_path(fd)
        if opened is not None and not folders.permits(opened):
            raise folders.refusal(source)
        if info.st_size > max_bytes:
            raise InputError(
                f"{source} is {_megabytes(info.st_size)}; xAI accepts images up to {_megabytes(max_bytes)}. "
                "Resize or compress it and try again."
            )
        return _read_at_most(fd, max_bytes + 1)
    except OSError as exc:
        raise InputError(f"Cannot read {source}: {exc.strerror}.") from None
    finally:
        os.close(fd)


def _opened_path(fd: int) -> Path | None:
    """Where an open descriptor really points (Linux: /proc/self/fd), or None where that cannot be told."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def _read_at_most(fd: int, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(1_048_576, limit - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def make_preview(data: bytes, *, max_px: int = PREVIEW_MAX_PX) -> tuple[bytes, str]:
    """A small JPEG thumbnail (at most max_px on its long side) of an image, for a tool result.

    Raises InputError when the bytes cannot be decoded as an image.
    """
    from PIL import Image, UnidentifiedImageError  # only image tools pay for Pillow's import

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((max_px, max_px))
            rgb = image.convert("RGB")
            out = io.BytesIO()
            rgb.save(out, format="JPEG", quality=70, optimize=True)
            return out.getvalue(), "image/jpeg"
    except (UnidentifiedImageError, OSError, ValueError):
        raise InputError("The generated image could not be decoded for a preview.") from None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of an image, or None when it cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def extension_for(mime: str | None) -> str:
    return ACCEPTED_TYPES.get(mime or "", "img")


async def fetch_image_bytes(
    grok: GrokClient, url: str, *, max_bytes: int, deadline_s: float = IMAGE_DOWNLOAD_DEADLINE_S
) -> tuple[bytes, str | None]:
    """Download `url` (an image xAI generated, typically) over `grok`'s connection pool.

    Returns the bytes and their content type. The API key is sent only when `url` has the origin of
    `grok`'s base URL; redirects are followed (without the key once they leave that origin). Failures
    are retried like xAI calls, but do not draw on xAI's retry budget; each attempt must end within
    `deadline_s`. Raises InputError for a URL that is not http(s), a reply larger than `max_bytes`
    (checked while reading) or a 4xx status, UpstreamTimeoutError for a download still arriving at its
    deadline, and UpstreamUnavailableError when the host cannot be reached or keeps failing after retries.
    """
    target = _image_url(url)
    host = target.host
    attempts = replace(grok.retrying, budget=None).attempts(
        "GET", host, idempotent=True, give_up=lambda failure, call: _unreachable(host, failure, call)
    )

    async def download() -> tuple[bytes, str | None] | Failure:
        headers = {"Accept": "*/*", **await grok.credentials_for(target)}
        try:
            request = grok.http.build_request("GET", target, headers=headers)
            response = await grok.http.send(request, stream=True, follow_redirects=True)
        except httpx2.RequestError as exc:
            return transport_failure(exc, after_headers=False)
        try:
            outcome = await _read_image(response, host, max_bytes)
        finally:
            with anyio.CancelScope(shield=True):
                await response.aclose()
        if not isinstance(outcome, Failure):
            attempts.succeeded(attempts.call(response.status_code, None))
        return outcome

    async def attempt() -> tuple[bytes, str | None] | Failure:
        with anyio.move_on_after(deadline_s):
            return await download()
        return Failure(
            transport="deadline", reason=f"the {seconds(deadline_s)} limit (`[limits] image_download_seconds`)"
        )

    return await attempts.run(attempt)


def _image_url(url: str) -> httpx2.URL:
    try:
        target = httpx2.URL(url)
    except httpx2.InvalidURL:
        raise InputError("The image address is not a valid URL.") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise InputError("Only http and https image URLs can be downloaded.")
    return target


async def _read_image(response: httpx2.Response, host: str, max_bytes: int) -> tuple[bytes, str | None] | Failure:
    """The body and content type of one download, or the Failure to retry; raises InputError for the rest."""
    status = response.status_code
    if status >= 400:
        if status < 500 and status not in (408, 429):
            raise InputError(f"Could not download the image from {host}: it answered HTTP {status}. Check the URL.")
        return Failure(status=status, retry_after=parse_retry_after(response.headers.get("retry-after")))
    try:
        body = await read_capped(response, max_bytes)
    except httpx2.RequestError as exc:
        return transport_failure(exc, after_headers=True)
    if body is None:
        raise InputError(
            f"The image from {host} is larger than {megabytes(max_bytes)} (`[limits] image_download_mb` in "
            "settings.toml); Grok MCP stopped downloading it. Ask for a smaller image, or raise the limit."
        )
    return bytes(body), response.headers.get("content-type")


def _unreachable(host: str, failure: Failure, call: UpstreamCall) -> UpstreamUnavailableError | UpstreamTimeoutError:
    if failure.transport == "deadline":
        return UpstreamTimeoutError(
            f"The image from {host} was still downloading at {failure.reason} in settings.toml, so Grok MCP "
            "stopped. Try again later, or raise the limit.",
            call=call,
        )
    what = f"HTTP {failure.status}" if failure.status else failure.reason or failure.transport
    return UpstreamUnavailableError(
        f"Could not download the image from {host} ({what}) after {call.attempts} "
        f"attempt{'s' if call.attempts != 1 else ''}. Try again later.",
        status=failure.status,
        call=call,
        retry_after=failure.retry_after,
    )
