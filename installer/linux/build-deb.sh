#!/bin/bash
# Build the .deb from a one-folder bundle: the bundle under /opt/grok-mcp, both commands in /usr/bin,
# the menu entry and hicolor icons, the stop helper and the maintainer scripts.
#
# Usage: installer/linux/build-deb.sh BUNDLE_DIR OUT_DIR VERSION
# Writes OUT_DIR/grok-mcp_VERSION_amd64.deb and prints its path.
set -euo pipefail

bundle=$(realpath "$1")
out=$(realpath -m "$2")
version=$3
here=$(cd "$(dirname "$0")" && pwd)
resources=$(cd "$here/../../resources" && pwd)

for exe in grok-mcp grok-mcp-desktop; do
    [ -x "$bundle/$exe" ] || { echo "build-deb: $bundle/$exe is missing; build the bundle first (make dist)." >&2; exit 1; }
done

root=$(mktemp -d "${TMPDIR:-/tmp}/grok-mcp-deb.XXXXXX")
trap 'rm -rf "$root"' EXIT

install -d "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/lib/grok-mcp" \
    "$root/usr/share/applications" "$root/usr/share/doc/grok-mcp" "$root/usr/share/icons/hicolor/scalable/apps"
cp -a "$bundle" "$root/opt/grok-mcp"
ln -s /opt/grok-mcp/grok-mcp "$root/usr/bin/grok-mcp"
ln -s /opt/grok-mcp/grok-mcp-desktop "$root/usr/bin/grok-mcp-desktop"
install -m 0755 "$here/stop-running.sh" "$root/usr/lib/grok-mcp/stop-running"

install -m 0644 "$resources/grok-mcp-desktop.desktop" "$root/usr/share/applications/grok-mcp-desktop.desktop"
install -m 0644 "$resources/icons/grok-mcp.svg" "$root/usr/share/icons/hicolor/scalable/apps/grok-mcp.svg"
for png in "$resources"/icons/png/grok-mcp-*.png; do
    size=${png##*-}
    size=${size%.png}
    install -d "$root/usr/share/icons/hicolor/${size}x${size}/apps"
    install -m 0644 "$png" "$root/usr/share/icons/hicolor/${size}x${size}/apps/grok-mcp.png"
done

install -m 0644 "$here/copyright" "$root/usr/share/doc/grok-mcp/copyright"
changelog=$(cd "$here/../.." && pwd)/CHANGELOG.md
if [ -f "$changelog" ]; then
    gzip -9n <"$changelog" >"$root/usr/share/doc/grok-mcp/changelog.gz"
    chmod 0644 "$root/usr/share/doc/grok-mcp/changelog.gz"
fi

installed_kib=$(du -sk --apparent-size "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$installed_kib/" "$here/control.in" >"$root/DEBIAN/control"
install -m 0755 "$here/prerm" "$here/postrm" "$root/DEBIAN/"

# Files 0644 and directories 0755 unless executable; the bundle's own modes are kept otherwise.
find "$root" -type d -exec chmod 0755 {} +

mkdir -p "$out"
deb="$out/grok-mcp_${version}_amd64.deb"
dpkg-deb -Zzstd --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
