"""Stamp server.json for the MCP Registry: each .mcpb package gets the SHA-256 of the file this release attaches.

The registry requires `fileSha256` on every mcpb package, and only the release build knows it, so the
committed server.json leaves it out and the release workflow runs this before `mcp-publisher publish`:

    python installer/registry/stamp_server_json.py --artifacts DIR server.json

Every package must carry the server's version, and every mcpb identifier must be this version's release
download URL of a file found in DIR; otherwise it exits 1 saying which, and writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


class StampError(ValueError):
    """server.json and the release's files disagree; the text names the package."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stamp(server: dict[str, Any], artifacts: Path) -> dict[str, Any]:
    """A copy of `server` whose mcpb packages carry their files' SHA-256. Raises StampError."""
    version = server["version"]
    packages: list[dict[str, Any]] = []
    for package in server.get("packages", []):
        package = dict(package)
        identifier = package["identifier"]
        if package.get("version") != version:
            raise StampError(f"{identifier}: package version {package.get('version')!r} is not {version!r}")
        if package["registryType"] == "mcpb":
            path = urlparse(identifier).path
            if f"/releases/download/v{version}/" not in path:
                raise StampError(f"{identifier} is not a download of release v{version}")
            file = artifacts / path.rsplit("/", 1)[-1]
            if not file.is_file():
                raise StampError(f"{identifier}: {file} is not among this release's files")
            package["fileSha256"] = _sha256(file)
        packages.append(package)
    return {**server, "packages": packages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, required=True, help="the folder holding the release's .mcpb files")
    parser.add_argument("server_json", type=Path, help="the server.json to stamp in place")
    args = parser.parse_args(argv)
    try:
        stamped = stamp(json.loads(args.server_json.read_text(encoding="utf-8")), args.artifacts)
    except StampError as exc:
        print(f"stamp_server_json: {exc}", file=sys.stderr)
        return 1
    args.server_json.write_text(json.dumps(stamped, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for package in stamped["packages"]:
        if "fileSha256" in package:
            print(f"{package['identifier']}  sha256 {package['fileSha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
