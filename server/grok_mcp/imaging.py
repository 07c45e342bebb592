"""Images in and out: what an image argument points at, its real type and size, and small previews."""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from grok_mcp.errors import InputError

# What xAI's image understanding accepts (xai-api.md §3.1; WebP is accepted by the image endpoints).
ACCEPTED_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
PREVIEW_MAX_PX = 256
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
    return mime


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def load_image_input(spec: str, *, max_bytes: int) -> ImageInput:
    """Turn an `images` entry (https URL, data URI or local file path) into something xAI accepts.

    Local files and data URIs are read, size-checked before any upload and sniffed from their bytes;
    https URLs are passed to xAI, which fetches them itself (we never fetch URLs for a client).
    Raises InputError with what is wrong and what to do.
    """
    spec = spec.strip()
    if not spec:
        raise InputError("An entry of `images` is empty. Give an https URL, a data URI or a file path.")
    if spec.startswith("data:"):
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

    parsed = urlparse(spec)
    if parsed.scheme in ("http", "https"):
        if parsed.scheme == "http":
            raise InputError(f"{spec} is a plain-http URL; xAI fetches images over https only.")
        return ImageInput(url=spec, source=spec, mime_type=None, size_bytes=None)

    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(spec).expanduser()
    if parsed.scheme not in ("", "file") and not (len(parsed.scheme) == 1 and spec[1:3] in (":\\", ":/")):
        raise InputError(f"{spec!r} is not an https URL, a data URI or a file path.")
    if not path.is_absolute():
        raise InputError(f"{spec!r} is a relative path; give the image's absolute path.")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"There is no file at {path}.") from None
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from None
    if not path.is_file():
        raise InputError(f"{path} is not a file.")
    if size > max_bytes:
        raise InputError(
            f"{path} is {_megabytes(size)}; xAI accepts images up to {_megabytes(max_bytes)}. "
            "Resize or compress it and try again."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from None
    mime = _check_bytes(data, str(path), max_bytes)
    return ImageInput(url=_data_uri(data, mime), source=str(path), mime_type=mime, size_bytes=len(data))


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
