"""The installers `make dist` writes: the .deb's contents, metadata and maintainer scripts, the portable
tar.gz, and the NSIS script compiled against the Linux bundle layout."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tarfile
from pathlib import Path

import pytest

from grok_mcp import __version__
from tests.dist.conftest import DEB, INSTALL_DIR, NSIS_EXE, TARBALL, require
from tests.support.processes import ROOT

pytestmark = pytest.mark.dist

ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
STOP_HELPER = "usr/lib/grok-mcp/stop-running"
# Libraries every Debian/Ubuntu system has (Priority: required, or pulled in by those).
_ESSENTIAL_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def deb_field(name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(require(DEB)), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def package_names(relation: str) -> set[str]:
    """Every package named in a Depends/Recommends field, alternatives included, versions dropped."""
    return {re.split(r"[\s(]", alt.strip())[0] for part in relation.split(",") for alt in part.split("|")}


def test_the_deb_names_the_package_version_and_architecture() -> None:
    assert deb_field("Package") == "grok-mcp"
    assert deb_field("Version") == __version__
    assert deb_field("Architecture") == "amd64"
    assert int(deb_field("Installed-Size")) > 50_000  # KiB: the whole bundle is in it
    depends = package_names(deb_field("Depends"))
    assert {"libegl1", "libgl1", "libfontconfig1", "libdbus-1-3", "libxkbcommon-x11-0"} <= depends
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"} <= depends
    assert "libc6 (>= 2.36)" in deb_field("Depends")  # the bundle carries Debian 12's libstdc++
    assert {"gnome-keyring", "kwalletmanager"} <= package_names(deb_field("Recommends"))


def test_the_deb_puts_the_bundle_under_opt_and_both_commands_on_the_path(deb_root: Path) -> None:
    opt = deb_root / INSTALL_DIR.lstrip("/")
    for name in ("grok-mcp", "grok-mcp-desktop"):
        assert os.access(opt / name, os.X_OK)
        link = deb_root / "usr" / "bin" / name
        assert link.is_symlink()
        assert os.readlink(link) == f"{INSTALL_DIR}/{name}"
    assert (opt / "_internal" / "resources" / "icons" / "grok-mcp.svg").is_file()  # what the tray draws


def test_the_server_runs_through_a_symlink_as_it_does_from_usr_bin(deb_root: Path, tmp_path: Path) -> None:
    """/usr/bin/grok-mcp is a symlink: the bootloader must find _internal/ next to the link's target."""
    link = tmp_path / "bin" / "grok-mcp"
    link.parent.mkdir()
    link.symlink_to(deb_root / INSTALL_DIR.lstrip("/") / "grok-mcp")
    done = subprocess.run([str(link), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"grok-mcp {__version__}"


def test_the_deb_has_a_menu_entry_and_hicolor_icons(deb_root: Path) -> None:
    entry = deb_root / "usr/share/applications/grok-mcp-desktop.desktop"
    text = entry.read_text(encoding="utf-8")
    assert re.search(r"^Exec=grok-mcp-desktop$", text, re.M)
    assert re.search(r"^Icon=grok-mcp$", text, re.M)
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(entry)], check=True)
    icons = deb_root / "usr/share/icons/hicolor"
    assert (icons / "scalable/apps/grok-mcp.svg").is_file()
    for size in ICON_SIZES:
        assert (icons / f"{size}x{size}/apps/grok-mcp.png").is_file(), size


def test_every_library_the_bundle_needs_is_bundled_or_in_depends(deb_root: Path) -> None:
    """What the bundle does not carry must come from a package the .deb depends on (or one every system has)."""
    opt = deb_root / INSTALL_DIR.lstrip("/")
    bundled = {p.name for p in opt.rglob("*.so*")}
    needed: set[str] = set()
    for path in opt.rglob("*"):
        if (
            path.is_symlink()
            or not path.is_file()
            or not (path.suffix == ".so" or ".so." in path.name or path.parent == opt)
        ):
            continue
        out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=False).stdout
        needed.update(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    from_system = sorted(needed - bundled)
    owners = _packages_owning(from_system)
    allowed = package_names(deb_field("Depends")) | _ESSENTIAL_PACKAGES
    missing = {lib: owners.get(lib) for lib in from_system if owners.get(lib) not in allowed}
    assert missing == {}, f"libraries from packages the .deb does not depend on: {missing}"


def _packages_owning(libraries: list[str]) -> dict[str, str]:
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    owners: dict[str, str] = {}
    for lib in libraries:
        match = re.search(rf"^\s+{re.escape(lib)} \(libc6,x86-64[^)]*\) => (\S+)$", cache, re.M)
        if match is None:
            continue  # not on this machine either: reported as missing (owner None)
        found = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True, text=True, check=False)
        if found.returncode != 0:  # /lib → /usr/lib merged-usr aliasing
            real = str(Path(match.group(1)).resolve())
            found = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            owners[lib] = found.stdout.split(":", 1)[0].strip()
    return owners


def test_maintainer_scripts_are_shipped_and_sound(deb_root: Path, tmp_path: Path) -> None:
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(require(DEB)), str(control)], check=True)
    for script in ("prerm", "postrm"):
        path = control / script
        assert os.access(path, os.X_OK), script
        subprocess.run(["bash", "-n", str(path)], check=True)
        if shutil.which("shellcheck"):
            subprocess.run(["shellcheck", str(path)], check=True)
    assert "/usr/lib/grok-mcp/stop-running /opt/grok-mcp" in (control / "prerm").read_text(encoding="utf-8")
    assert os.access(deb_root / STOP_HELPER, os.X_OK)


def test_postrm_keeps_user_data_and_says_so_on_purge(tmp_path: Path) -> None:
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(require(DEB)), str(control)], check=True)
    # Run it as a user would meet it, but with nothing to delete: only its words are checked here.
    purge = subprocess.run(
        ["bash", str(control / "postrm"), "purge"], capture_output=True, text=True, check=True, timeout=30
    )
    assert "~/.local/share/grok-mcp/" in purge.stdout
    assert "left in place" in purge.stdout
    removed = subprocess.run(["bash", str(control / "postrm"), "remove"], capture_output=True, text=True, check=True)
    assert "kept" in removed.stdout


def test_stop_helper_stops_only_processes_running_from_the_install_dir(deb_root: Path, tmp_path: Path) -> None:
    """The prerm's helper finds our processes by executable path, so a same-named program elsewhere survives."""
    opt = deb_root / INSTALL_DIR.lstrip("/")
    sleep = shutil.which("sleep")
    assert sleep is not None
    # Stand-ins: `sleep` copied in as the tray and the server of a fake installation, and once more
    # elsewhere under the tray's name (a different program that merely shares the name).
    fake = tmp_path / "fake-install"
    elsewhere = tmp_path / "elsewhere"
    for folder in (fake, elsewhere):
        folder.mkdir()
    for name in ("grok-mcp-desktop", "grok-mcp"):
        shutil.copy2(sleep, fake / name)
    shutil.copy2(sleep, elsewhere / "grok-mcp-desktop")
    ours = [subprocess.Popen([str(fake / name), "300"]) for name in ("grok-mcp-desktop", "grok-mcp")]
    stranger = subprocess.Popen([str(elsewhere / "grok-mcp-desktop"), "300"])
    try:
        done = subprocess.run(
            [str(deb_root / STOP_HELPER), str(fake)], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        for process in ours:
            assert process.wait(10) == -signal.SIGTERM
            assert f"pid {process.pid}" in done.stdout
        assert stranger.poll() is None
        assert f"pid {stranger.pid}" not in done.stdout
    finally:
        for process in (*ours, stranger):
            if process.poll() is None:
                process.kill()
            process.wait()
    assert opt.is_dir()


def test_the_portable_tarball_holds_the_whole_bundle() -> None:
    with tarfile.open(require(TARBALL)) as archive:
        names = set(archive.getnames())
        members = {m.name: m for m in archive.getmembers()}
    assert {"grok-mcp/grok-mcp", "grok-mcp/grok-mcp-desktop", "grok-mcp/_internal"} <= names
    assert all(name == "grok-mcp" or name.startswith("grok-mcp/") for name in names)
    assert members["grok-mcp/grok-mcp"].mode & 0o111
    assert members["grok-mcp/grok-mcp"].uid == 0


def test_the_nsis_script_compiles_against_the_bundle_layout(tmp_path: Path) -> None:
    """The Linux-built installer exists and is an NSIS PE, and the script still compiles (warnings are errors)."""
    built = require(NSIS_EXE)
    assert built.read_bytes()[:2] == b"MZ"
    if shutil.which("makensis") is None:
        pytest.fail("makensis is missing: apt-get install -y --no-install-recommends nsis", pytrace=False)
    # A tiny stand-in bundle with the Windows names: the script's File and shortcut paths must all resolve.
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    for name in ("grok-mcp.exe", "grok-mcp-desktop.exe", "_internal/python311.dll"):
        (bundle / name).write_bytes(b"MZ")
    out = tmp_path / "grok-mcp-setup-test.exe"
    done = subprocess.run(
        [str(ROOT / "installer/windows/build-nsis.sh"), str(bundle), str(out), __version__, "zlib"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes()[:2] == b"MZ"
