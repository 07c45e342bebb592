#!/bin/bash
# `make dist`: the one-folder PyInstaller bundle, then every Linux-built artifact from it.
#
#   build/dist/grok-mcp/                          the bundle (grok-mcp-desktop + grok-mcp + _internal/)
#   build/dist/grok-mcp_VERSION_amd64.deb         the Debian package (bundle under /opt/grok-mcp)
#   build/dist/grok-mcp-VERSION-linux-x86_64.tar.gz   the portable bundle
#   build/dist/windows/grok-mcp-VERSION-setup.exe the NSIS script compiled against the Linux bundle
#                                                 (proves the script builds; not a Windows program)
#
# Environment: PYTHON (default .venv/bin/python), DIST_DIR (default build/dist),
#              NSIS_COMPRESSOR (default zlib here; release builds on Windows use lzma),
#              NSIS=0 to skip the Linux-built NSIS check (the release workflow builds it on Windows).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-.venv/bin/python}
dist=${DIST_DIR:-build/dist}
version=$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' server/grok_mcp/__init__.py)
[ -n "$version" ] || { echo "build-dist: no __version__ in server/grok_mcp/__init__.py" >&2; exit 1; }

# PyInstaller copies the xcb libraries Qt's xcb plugin links only if they are installed here; without
# them the bundle would start on no X11 desktop that lacks them (and they are not in every base image).
missing=()
for lib in libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 \
    libxcb-cursor.so.0:libxcb-cursor0 libxkbcommon-x11.so.0:libxkbcommon-x11-0; do
    ldconfig -p | grep -q "${lib%%:*}" || missing+=("${lib##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "build-dist: install these first: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

step() { awk -v name="$1" -v ns="$(($(date +%s%N) - $2))" 'BEGIN { printf "%-28s %6.1f s\n", name, ns / 1e9 }'; }

t=$(date +%s%N)
rm -rf "${dist:?}/grok-mcp"
"$python" -m PyInstaller --noconfirm --log-level WARN --distpath "$dist" --workpath build/pyinstaller build.spec \
    2> >(grep -v -e "required via ctypes not found" -e " INFO: " >&2)
step "bundle (PyInstaller)" "$t"

t=$(date +%s%N)
tarball="$dist/grok-mcp-$version-linux-x86_64.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dist" -cf - grok-mcp | gzip -6n >"$tarball"
step "portable tar.gz" "$t"

t=$(date +%s%N)
deb=$(installer/linux/build-deb.sh "$dist/grok-mcp" "$dist" "$version")
step ".deb (dpkg-deb -Zzstd)" "$t"

artifacts=("$dist/grok-mcp" "$deb" "$tarball")
if [ "${NSIS:-1}" != 0 ]; then
    t=$(date +%s%N)
    artifacts+=("$(installer/windows/build-nsis.sh "$dist/grok-mcp" "$dist/windows/grok-mcp-$version-setup.exe" \
        "$version" "${NSIS_COMPRESSOR:-zlib}")")
    step "NSIS installer (makensis)" "$t"
fi

du -sh --apparent-size "${artifacts[@]}"
