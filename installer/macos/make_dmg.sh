#!/bin/bash
# Make the macOS disk image: "Grok MCP.app" next to an Applications link, compressed (UDZO). macOS only:
# it needs hdiutil. The .app comes from `pyinstaller build.spec` on macOS (BUNDLE in build.spec).
#
# Usage: installer/macos/make_dmg.sh [APP] [OUT_DMG]
#   APP      default build/dist/Grok MCP.app
#   OUT_DMG  default build/dist/grok-mcp-VERSION-macos-ARCH.dmg
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(uname -s)" != Darwin ]; then
    echo "make_dmg.sh runs on macOS only (it needs hdiutil); the release workflow runs it on a macOS runner." >&2
    exit 1
fi
version=$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' "$root/server/__init__.py")
app=${1:-$root/build/dist/Grok MCP.app}
out=${2:-$root/build/dist/grok-mcp-$version-macos-$(uname -m).dmg}
[ -d "$app/Contents/MacOS" ] || { echo "make_dmg.sh: $app is not an app bundle; build it first." >&2; exit 1; }

# The bundle must say what build.spec promised: a tray-only app with our bundle id and version.
plist="$app/Contents/Info.plist"
[ "$(/usr/libexec/PlistBuddy -c 'Print :LSUIElement' "$plist")" = true ]
[ "$(/usr/libexec/PlistBuddy -c 'Print :CFBundleIdentifier' "$plist")" = io.grokmcp.desktop ]
[ "$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$plist")" = "$version" ]

staging=$(mktemp -d "${TMPDIR:-/tmp}/grok-mcp-dmg.XXXXXX")
trap 'rm -rf "$staging"' EXIT
ditto "$app" "$staging/Grok MCP.app"
ln -s /Applications "$staging/Applications"

mkdir -p "$(dirname "$out")"
rm -f "$out"
hdiutil create -volname "Grok MCP $version" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$out"
hdiutil verify "$out"
echo "$out"
