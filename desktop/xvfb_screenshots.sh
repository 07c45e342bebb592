#!/bin/sh
# `make screenshots`: renders every dashboard page and the tray with its menu open on a private Xvfb display.
# Usage: desktop/xvfb_screenshots.sh [OUTDIR]   (default docs/screenshots; PYTHON picks the interpreter)
# Needs the Debian packages xvfb xauth libxcb-icccm4 libxcb-keysyms1 trayer xdotool.
set -eu
out=${1:-docs/screenshots}
python=${PYTHON:-.venv/bin/python}
missing=""
for tool in xvfb-run Xvfb xauth trayer xdotool; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "Missing:$missing. Install: apt-get install xvfb xauth libxcb-icccm4 libxcb-keysyms1 trayer xdotool" >&2
  exit 1
fi
# The screen is larger than the 1200x780 window so the tray panel and its menu fit beside it.
exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  env QT_QPA_PLATFORM=xcb "$python" "$(dirname "$0")/screenshots.py" "$out" --tray
