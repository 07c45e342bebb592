"""`analyze_image` and local files an attacker points it at: a file swapped for a FIFO while it is read, a PNG
signature in front of a secret, a symlink out of the allowed folders, the data directory's own files.

Each one is refused before anything is uploaded, without hanging a worker thread, and the error says no
more than the user needs (not whether a file outside the allowed folders exists).
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from grok_mcp.errors import InputError
from grok_mcp.imaging import LocalImageFolders, load_image_input
from mcp import Client
from PIL import Image

from tests.support.simulator import TEST_KEY, RunningSimulator
from tests.tools.conftest import text_of

pytestmark = pytest.mark.anyio

SECRET = b"SECRET-MARKER-7f3a: -----BEGIN OPENSSH PRIVATE KEY----- not for xAI"
DID_NOT_HANG_S = 30


def png_bytes(size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    folder = tmp_path / "allowed"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(
    isolated_home: Path, allowed: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    # The data dir sits inside the allowed folder, as it sits inside the home folder by default.
    return Settings(
        home=isolated_home, base_url=simulator.base_url, transport="test", local_image_folders=(allowed.parent,)
    )


async def analyze(settings: Settings, *images: str) -> tuple[bool, str]:
    async with Client(build_server(settings)) as client:
        with anyio.fail_after(DID_NOT_HANG_S):
            result = await client.call_tool("analyze_image", {"images": list(images)})
    return bool(result.is_error), text_of(result)


def uploads(simulator: RunningSimulator) -> int:
    return simulator.request_count("/v1/chat/completions")


async def test_a_png_signature_in_front_of_a_secret_file_is_refused_and_never_uploaded(
    settings: Settings, allowed: Path, simulator: RunningSimulator
) -> None:
    disguised = allowed / "id_rsa.png"
    disguised.write_bytes(b"\x89PNG\r\n\x1a\n" + SECRET)

    failed, message = await analyze(settings, str(disguised))

    assert failed and "cannot be decoded" in message
    assert "SECRET" not in message
    assert uploads(simulator) == 0


async def test_a_real_image_with_a_secret_appended_is_refused_and_never_uploaded(
    settings: Settings, allowed: Path, simulator: RunningSimulator
) -> None:
    polyglot = allowed / "holiday.png"
    polyglot.write_bytes(png_bytes() + SECRET)

    failed, message = await analyze(settings, str(polyglot))

    assert failed and "data after the image" in message
    assert uploads(simulator) == 0


async def test_a_file_outside_the_allowed_folders_is_refused_without_saying_whether_it_exists(
    tmp_path: Path, isolated_home: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    only = tmp_path / "pictures"
    only.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "real.png").write_bytes(png_bytes())
    settings = Settings(home=isolated_home, base_url=simulator.base_url, transport="test", local_image_folders=(only,))

    _, existing = await analyze(settings, str(elsewhere / "real.png"))
    _, missing = await analyze(settings, str(elsewhere / "missing.png"))

    assert "local_folders" in existing
    assert existing.replace("real.png", "X") == missing.replace("missing.png", "X")
    assert uploads(simulator) == 0


async def test_a_symlink_in_an_allowed_folder_cannot_reach_a_file_outside_it(
    tmp_path: Path, allowed: Path, isolated_home: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    secret_folder = tmp_path / "secret"
    secret_folder.mkdir()
    (secret_folder / "scan.png").write_bytes(png_bytes())
    (allowed / "link.png").symlink_to(secret_folder / "scan.png")
    settings = Settings(
        home=isolated_home, base_url=simulator.base_url, transport="test", local_image_folders=(allowed,)
    )

    failed, message = await analyze(settings, str(allowed / "link.png"))

    assert failed and "local_folders" in message
    assert str(secret_folder) not in message
    assert uploads(simulator) == 0


@pytest.mark.parametrize("inside", ["grok-mcp.db", "logs/screenshot.png", "exports/chart.png"])
async def test_the_data_directorys_own_files_are_never_read(
    settings: Settings, isolated_home: Path, simulator: RunningSimulator, inside: str
) -> None:
    target = isolated_home / inside
    if inside != "grok-mcp.db":  # the database is the server's own, made when it starts
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png_bytes())

    failed, message = await analyze(settings, str(target))

    assert failed and "local_folders" in message
    assert uploads(simulator) == 0


async def test_a_generated_image_in_the_data_directory_can_be_analyzed(settings: Settings, isolated_home: Path) -> None:
    picture = isolated_home / "images" / "2026-01-01" / "made.png"
    picture.parent.mkdir(parents=True)
    picture.write_bytes(png_bytes())

    failed, message = await analyze(settings, str(picture))

    assert not failed, message


async def test_a_fifo_or_a_device_is_refused_at_once(settings: Settings, allowed: Path) -> None:
    fifo = allowed / "pipe.png"
    os.mkfifo(fifo)

    failed, message = await analyze(settings, str(fifo))

    assert failed and "not a file" in message


@contextlib.contextmanager
def swapping(target: Path, picture: Path, fifo: Path) -> Iterator[threading.Event]:
    """A thread that keeps replacing `target` with the picture, then the FIFO, then the picture… (by rename)."""
    stop = threading.Event()
    spare = target.with_name(".swap")

    def swap() -> None:
        while not stop.is_set():
            for source in (picture, fifo):
                with contextlib.suppress(FileNotFoundError, FileExistsError):
                    os.link(source, spare)
                    os.replace(spare, target)

    thread = threading.Thread(target=swap, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=10)


def release_blocked_readers(fifo: Path) -> None:
    """Open the FIFO for writing (and close it), so a reader blocked on opening it returns."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def test_a_file_swapped_for_a_fifo_while_it_is_opened_never_blocks_the_reader(allowed: Path) -> None:
    picture, fifo, target = allowed / "master.png", allowed / "master.fifo", allowed / "photo.png"
    picture.write_bytes(png_bytes())
    os.mkfifo(fifo)
    target.write_bytes(png_bytes())
    folders = LocalImageFolders(allowed=(allowed,))
    outcomes: set[str] = set()
    hung = threading.Event()

    def read_many() -> None:
        for _ in range(3000):
            try:
                load_image_input(str(target), max_bytes=1_000_000, folders=folders)
                outcomes.add("read")
            except InputError as exc:
                outcomes.add("not a file" if "not a file" in str(exc) else str(exc))

    with swapping(target, picture, fifo):
        reader = threading.Thread(target=read_many, daemon=True)
        reader.start()
        reader.join(timeout=DID_NOT_HANG_S)
        if reader.is_alive():
            hung.set()
    while reader.is_alive():
        release_blocked_readers(fifo)
        reader.join(timeout=0.1)

    assert not hung.is_set(), "a read blocked on the FIFO"
    assert outcomes <= {"read", "not a file"} | {o for o in outcomes if "changed while" in o or "no file" in o.lower()}


def test_a_data_uri_must_hold_an_image_that_decodes() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + SECRET).decode()
    with pytest.raises(InputError, match="cannot be decoded"):
        load_image_input(uri, max_bytes=1_000_000, folders=LocalImageFolders(allowed=()))


def test_a_png_that_would_decode_to_too_many_pixels_is_refused_before_decoding(allowed: Path) -> None:
    bomb = allowed / "bomb.png"
    Image.new("1", (6000, 6000)).save(bomb, format="PNG")  # a few KB on disk, 36 million pixels
    with pytest.raises(InputError, match="million pixels"):
        load_image_input(str(bomb), max_bytes=10_000_000, folders=LocalImageFolders(allowed=(allowed,)))
