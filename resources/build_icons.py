"""Render resources/icons/grok-mcp.svg into PNG sizes, the Windows ICO and the macOS ICNS (rerun after editing it).

python resources/build_icons.py        # writes resources/icons/png/grok-mcp-<size>.png, grok-mcp.ico, grok-mcp.icns
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512)
HERE = Path(__file__).resolve().parent / "icons"


def render_png(svg: Path, size: int, destination: Path) -> None:
    """Write the SVG drawn at `size`×`size` pixels as a PNG (QSvgRenderer onto a transparent QImage)."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    if not image.save(str(destination)):
        raise SystemExit(f"could not write {destination}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    svg = HERE / "grok-mcp.svg"
    png_dir = HERE / "png"
    png_dir.mkdir(exist_ok=True)
    images: dict[int, Image.Image] = {}
    for size in PNG_SIZES:
        path = png_dir / f"grok-mcp-{size}.png"
        render_png(svg, size, path)
        with Image.open(path) as image:
            images[size] = image.convert("RGBA")
    largest = images[max(PNG_SIZES)]
    largest.save(
        HERE / "grok-mcp.ico",
        format="ICO",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[images[s] for s in ICO_SIZES if s in images],
    )
    largest.save(HERE / "grok-mcp.icns", format="ICNS", append_images=[images[s] for s in ICNS_SIZES])
    app.quit()
    print(f"wrote {len(PNG_SIZES)} PNGs, grok-mcp.ico and grok-mcp.icns to {HERE}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
