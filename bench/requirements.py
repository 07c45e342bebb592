"""Prints the runtime requirements of grok-mcp (with the extras named as arguments), one per line.

`make bench` installs these, not the project itself: the benchmarks run the source tree, as an installed
wheel would run, without an editable install's import hook at every interpreter start.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
extras = [req for extra in sys.argv[1:] for req in project["optional-dependencies"][extra]]
print("\n".join([*project["dependencies"], *extras]))
