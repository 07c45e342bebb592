"""No name from outside data reaches the file system: a generated image is saved under a name Grok MCP makes,
inside images/, whatever request id the upstream sends (`x-request-id: ../../../tmp/PWN`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from grok_mcp.app import build_server
from grok_mcp.config import Settings
from mcp import Client

from tests.support.hostile import HostileUpstream, hostile_upstream
from tests.support.simulator import TEST_KEY, RunningSimulator
from tests.tools.conftest import text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def upstream(simulator: RunningSimulator) -> Iterator[tuple[HostileUpstream, str]]:
    with hostile_upstream(simulator.root_url) as running:
        yield running


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize(
    "forged_id",
    [
        "../../../escaped/PWN",
        "..\\..\\..\\escaped\\PWN",
        "{outside}/absolute/PWN",
        "..",
        "CON",
        "a" * 300,
    ],
)
async def test_a_request_id_that_is_a_path_cannot_place_a_generated_image(
    tmp_path: Path,
    isolated_home: Path,
    upstream: tuple[HostileUpstream, str],
    monkeypatch: pytest.MonkeyPatch,
    forged_id: str,
) -> None:
    hostile, base_url = upstream
    outside = tmp_path / "outside"
    outside.mkdir()
    hostile.request_ids["/v1/images/generations"] = forged_id.format(outside=outside)
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    settings = Settings(home=isolated_home, base_url=base_url, transport="test")
    before = files_under(tmp_path) - files_under(isolated_home)

    async with Client(build_server(settings)) as client:
        with anyio.fail_after(30):
            result = await client.call_tool("generate_image", {"prompt": "a lighthouse", "n": 2})

    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    saved = [Path(image["path"]) for image in result.structured_content["images"]]
    images_dir = settings.images_dir.resolve()
    for path in saved:
        assert path.resolve().is_relative_to(images_dir)
        assert path.is_file()
        assert "PWN" not in path.name and ".." not in path.name and "aaaa" not in path.name
    # Nothing was written anywhere else: not beside the data dir, not in the folder the id pointed at.
    assert files_under(tmp_path) - files_under(isolated_home) == before
    assert not list(outside.iterdir())
    assert files_under(isolated_home / "images") == set(saved)


async def test_a_symlink_planted_as_the_days_folder_cannot_lead_the_write_outside(
    tmp_path: Path, isolated_home: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    settings = Settings(home=isolated_home, base_url=simulator.base_url, transport="test")
    settings.images_dir.mkdir(parents=True)
    (settings.images_dir / dt.date.today().isoformat()).symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)

    async with Client(build_server(settings)) as client:
        result = await client.call_tool("generate_image", {"prompt": "a lighthouse"})

    assert result.is_error
    assert "saves images only inside" in text_of(result)
    assert not list(outside.iterdir())
