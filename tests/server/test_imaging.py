"""Image inputs: real types from the bytes, limits before upload, and previews small enough for a result."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from grok_mcp.errors import InputError
from grok_mcp.imaging import LocalImageFolders, image_size, load_image_input, make_preview, sniff_image_type
from PIL import Image


def encoded(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_the_type_comes_from_the_bytes(fmt: str, mime: str) -> None:
    assert sniff_image_type(encoded(fmt)) == mime


def test_a_misnamed_file_is_sent_with_its_real_type(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(encoded("JPEG"))
    loaded = load_image_input(str(path), max_bytes=10_000_000, folders=LocalImageFolders((tmp_path,)))
    assert loaded.mime_type == "image/jpeg"
    assert loaded.url.startswith("data:image/jpeg;base64,")


def test_file_urls_and_home_paths_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a b ü.png"
    path.write_bytes(encoded("PNG"))
    folders = LocalImageFolders((tmp_path,))
    assert load_image_input(path.as_uri(), max_bytes=10**7, folders=folders).size_bytes == path.stat().st_size
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_image_input("~/a b ü.png", max_bytes=10**7, folders=folders).mime_type == "image/png"


def test_a_data_uri_over_the_limit_is_refused_before_decoding() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\0" * 5000).decode()
    with pytest.raises(InputError, match="accepts images up to"):
        load_image_input(uri, max_bytes=1000, folders=LocalImageFolders(()))


@pytest.mark.parametrize("spec", ["", "data:image/png,notbase64", "data:;base64,AAAA"])
def test_malformed_inputs_are_explained(spec: str) -> None:
    with pytest.raises(InputError):
        load_image_input(spec, max_bytes=10**7, folders=LocalImageFolders(()))


def test_a_directory_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a file"):
        load_image_input(str(tmp_path), max_bytes=10**7, folders=LocalImageFolders((tmp_path,)))


def test_previews_are_small_jpegs_of_at_most_256_pixels() -> None:
    preview, mime = make_preview(encoded("PNG", (2048, 1024)))
    assert mime == "image/jpeg"
    assert image_size(preview) == (256, 128)
    assert len(preview) < 20_000


def test_undecodable_bytes_have_no_preview_and_no_size() -> None:
    with pytest.raises(InputError):
        make_preview(b"not an image at all")
    assert image_size(b"nope") is None
