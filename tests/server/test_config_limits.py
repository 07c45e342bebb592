"""settings.toml `[limits]` and `[images]`: caps and deadlines of upstream replies, where local images come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from grok_mcp.config import MAX_REPLY_BYTES, MB, REPLY_DEADLINE_S, Settings, load_settings
from grok_mcp.errors import ConfigError


def write_settings(home: Path, text: str) -> None:
    (home / "settings.toml").write_text(text, encoding="utf-8")


def test_the_limits_default_to_the_documented_caps_and_the_home_folder(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.max_reply_bytes == MAX_REPLY_BYTES == 64 * MB
    assert settings.reply_deadline_s == REPLY_DEADLINE_S
    assert settings.image_folders == (Path.home(),)


def test_limits_are_read_from_settings_toml_in_megabytes_and_seconds(isolated_home: Path) -> None:
    write_settings(
        isolated_home,
        "[limits]\nreply_mb = 8\nstream_mb = 0.5\nreply_seconds = 30\nstream_seconds = 60\n"
        "image_download_mb = 5\nimage_download_seconds = 10\n"
        '[images]\nlocal_folders = ["~/Pictures", "/srv/shared images"]\n',
    )
    settings = load_settings()
    assert (settings.max_reply_bytes, settings.max_stream_bytes) == (8 * MB, MB // 2)
    assert (settings.reply_deadline_s, settings.stream_deadline_s) == (30, 60)
    assert (settings.max_image_download_bytes, settings.image_download_deadline_s) == (5 * MB, 10)
    assert settings.image_folders == (Path("~/Pictures").expanduser(), Path("/srv/shared images"))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[limits]\nreply_mb = 0\n", "limits.reply_mb"),
        ("[limits]\nstream_seconds = -5\n", "limits.stream_seconds"),
        ('[limits]\nreply_seconds = "soon"\n', "limits.reply_seconds"),
        ('[images]\nlocal_folders = "~/Pictures"\n', "images.local_folders"),
        ('[images]\nlocal_folders = ["Pictures"]\n', "images.local_folders"),
        ("[images]\nlocal_folders = []\n", "images.local_folders"),
    ],
)
def test_an_unusable_limit_is_refused_naming_its_key(isolated_home: Path, text: str, named: str) -> None:
    write_settings(isolated_home, text)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings()


def test_folders_given_in_code_replace_the_home_default(tmp_path: Path) -> None:
    assert Settings(home=tmp_path, local_image_folders=(tmp_path,)).image_folders == (tmp_path,)
