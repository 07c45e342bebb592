"""`make screenshots` (xvfb_screenshots.sh) renders every page and the open tray menu on Xvfb."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from grok_mcp_desktop.windows.dashboard import PAGE_NAMES
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
TRAY_FILE = "00-tray.png"  # desktop/screenshots.py names the tray shot so
TOOLS = ("xvfb-run", "Xvfb", "xauth", "trayer", "xdotool")

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS),
    reason="needs the Debian packages xvfb xauth libxcb-icccm4 libxcb-keysyms1 trayer xdotool",
)


def test_the_xvfb_script_writes_every_page_and_the_tray_menu(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    result = subprocess.run(
        ["sh", str(ROOT / "desktop" / "xvfb_screenshots.sh"), str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    pages = [f"{n:02d}-{name.lower()}.png" for n, name in enumerate(PAGE_NAMES, start=1)]
    assert sorted(path.name for path in out.glob("*.png")) == [TRAY_FILE, *pages]
    assert "05-clients.png" in pages
    for name in pages:
        image = QImage(str(out / name))
        assert image.width() >= 1000 and image.height() >= 700, name
    tray = QImage(str(out / TRAY_FILE))
    # The open menu: taller than a bare panel, with more than one colour in it.
    assert tray.width() >= 150 and tray.height() >= 200
    assert len({tray.pixel(x, y) for x in range(0, tray.width(), 7) for y in range(0, tray.height(), 7)}) > 10
