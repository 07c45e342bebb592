#!/bin/bash
# Compile the Windows installer script with makensis. On Linux this proves grok-mcp.nsi builds, against
# the Linux bundle's layout (the payload is not a Windows program); on a Windows runner, with the
# Windows bundle, it makes the real installer.
#
# Usage: installer/windows/build-nsis.sh BUNDLE_DIR OUT_FILE VERSION [COMPRESSOR]
#   COMPRESSOR: lzma (default) or zlib (several times faster; the Linux test artifact uses it)
set -euo pipefail

bundle=$(realpath "$1")
out=$(realpath -m "$2")
version=$3
compressor=${4:-lzma}
here=$(cd "$(dirname "$0")" && pwd)
resources=$(cd "$here/../../resources" && pwd)

command -v makensis >/dev/null || {
    echo "build-nsis: makensis is missing; install it with: apt-get install -y --no-install-recommends nsis" >&2
    exit 1
}
mkdir -p "$(dirname "$out")"
makensis -V2 -WX -INPUTCHARSET UTF8 \
    "-DVERSION=$version" "-DBUNDLE_DIR=$bundle" "-DOUT_FILE=$out" "-DRESOURCES=$resources" \
    "-DCOMPRESSOR=$compressor" "$here/grok-mcp.nsi"
echo "$out"
