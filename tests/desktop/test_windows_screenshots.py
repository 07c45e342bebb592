"""`python desktop/screenshots.py OUTDIR` renders one PNG per dashboard page from demo data."""

from __future__ import annotations

from pathlib import Path

from grok_mcp_desktop.windows.dashboard import PAGE_NAMES
from PySide6.QtGui import QImage

from tests.desktop.conftest import run_offscreen
from tests.support.processes import ROOT


def test_the_screenshot_script_writes_one_png_per_page(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    result = run_offscreen([str(ROOT / "desktop" / "screenshots.py"), str(out)], timeout=240)
    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in out.glob("*.png"))
    assert names == [f"{n:02d}-{name.lower()}.png" for n, name in enumerate(PAGE_NAMES, start=1)]
    for path in out.glob("*.png"):
        image = QImage(str(path))
        assert image.width() >= 1000 and image.height() >= 700, path.name
    assert result.stdout.splitlines() == [str(out / name) for name in names]
