"""Fixtures for the frozen-build smoke tests: the artifacts `make dist` wrote, an unpacked .deb, and Xvfb.

Every test here is marked `dist` and needs `make dist` first. Artifacts are read from $GROK_MCP_DIST_DIR
(default build/dist). `installation` runs each test twice: against the bundle PyInstaller wrote, and
against the copy the .deb installs (unpacked with `dpkg-deb -x` into a temporary root, so nothing on
this machine changes).
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grok_mcp import __version__
from tests.support.processes import ROOT, stop_process

DIST_DIR = Path(os.environ.get("GROK_MCP_DIST_DIR", str(ROOT / "build" / "dist")))
BUNDLE = DIST_DIR / "grok-mcp"
DEB = DIST_DIR / f"grok-mcp_{__version__}_amd64.deb"
TARBALL = DIST_DIR / f"grok-mcp-{__version__}-linux-x86_64.tar.gz"
NSIS_EXE = DIST_DIR / "windows" / f"grok-mcp-{__version__}-setup.exe"
INSTALL_DIR = "/opt/grok-mcp"
XVFB_START_TIMEOUT_S = 15.0

# Our own log records (desktop/grok_mcp_desktop/app.py's and server/grok_mcp/cli.py's formats) at levels that report no problem.
_OUR_QUIET_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO) ")
# Lines other programs print that say nothing is wrong (reference/feasibility.md §1, §2).
HARMLESS_LINES = (
    # Qt offscreen / no tray host: logged once, the tray still works.
    "QObject::connect: No such signal QPlatformNativeInterface::systemTrayWindowChanged(QScreen*)",
    "This plugin does not support propagateSizeHints()",
    # dbus-daemon in a container without CAP_SYS_RESOURCE.
    "Failed to set fd limit to 65536: Operation not permitted",
)


def unexpected_lines(text: str) -> list[str]:
    """The stderr lines that are neither our INFO/DEBUG records nor known harmless lines."""
    return [
        line
        for line in text.splitlines()
        if line.strip() and not _OUR_QUIET_RECORD.match(line) and not any(h in line for h in HARMLESS_LINES)
    ]


def require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make dist` first (the dist smoke tests test its output).", pytrace=False)
    return path


@dataclass(frozen=True)
class Installation:
    """One copy of the one-folder bundle: `folder` holds grok-mcp, grok-mcp-desktop and _internal/."""

    kind: str
    folder: Path

    @property
    def server(self) -> Path:
        return self.folder / "grok-mcp"

    @property
    def tray(self) -> Path:
        return self.folder / "grok-mcp-desktop"


@pytest.fixture(scope="session")
def deb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .deb's files unpacked into a temporary root (`dpkg-deb -x`: no maintainer scripts, no dpkg DB)."""
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(require(DEB)), str(root)], check=True, capture_output=True)
    return root


@pytest.fixture(scope="session", params=["build", "deb"])
def installation(request: pytest.FixtureRequest) -> Installation:
    """The bundle as PyInstaller wrote it, then as the .deb installs it."""
    if request.param == "build":
        return Installation("build", require(BUNDLE))
    deb_root: Path = request.getfixturevalue("deb_root")
    return Installation("deb", deb_root / INSTALL_DIR.lstrip("/"))


@pytest.fixture(scope="session")
def xvfb_display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Xvfb server; yields its DISPLAY. Xvfb reports the display number once it accepts clients."""
    if shutil.which("Xvfb") is None:
        pytest.fail(
            "Xvfb is missing: apt-get install -y --no-install-recommends xvfb xauth libxcb-icccm4 libxcb-keysyms1",
            pytrace=False,
        )
    log = (tmp_path_factory.mktemp("xvfb") / "xvfb.log").open("wb")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + XVFB_START_TIMEOUT_S
        with selectors.DefaultSelector() as selector:
            selector.register(read_fd, selectors.EVENT_READ)
            while not number.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    pytest.fail("Xvfb did not report a display number", pytrace=False)
                chunk = os.read(read_fd, 64)
                if not chunk:
                    pytest.fail(f"Xvfb exited with {process.wait()}", pytrace=False)
                number += chunk
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_fd)
        stop_process(process, timeout_s=10)
        log.close()
