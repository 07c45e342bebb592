"""server.json, our official MCP Registry entry, is valid against the registry's published schema and true.

True means: the name is the one the README's PyPI marker claims, every package is this version of what we
ship (the PyPI package, the release's .mcpb files), the environment variables are ones the server reads,
and the release stamp gives each .mcpb the SHA-256 of the real file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from grok_mcp import __version__

from tests.support.processes import ROOT, run_cli, server_env

SCHEMA = ROOT / "tests" / "packaging" / "data" / "server.schema.2025-12-11.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"
SERVER_JSON = ROOT / "server.json"
STAMP = ROOT / "installer" / "registry" / "stamp_server_json.py"
REPOSITORY = "https://github.com/grok-mcp/grok-mcp"


def _server() -> dict[str, Any]:
    return json.loads(SERVER_JSON.read_text(encoding="utf-8"))


def _schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_vendored_schema_is_the_registrys_published_2025_12_11_schema() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA.read_text(encoding="utf-8"))["$id"] == SCHEMA_URL


def test_server_json_is_valid_against_the_registrys_schema() -> None:
    server = _server()
    assert server["$schema"] == SCHEMA_URL
    assert _schema_errors(server) == []


def test_the_schema_check_rejects_what_the_registry_rejects() -> None:
    broken = _server()
    broken["name"] = "grok mcp"  # not reverse-DNS with one slash
    broken["packages"][0]["version"] = "latest"
    broken["remotes"][0]["url"] = "not a url"
    errors = _schema_errors(broken)
    assert any(e.startswith("name:") for e in errors), errors
    assert any(e.startswith("packages/0/version:") for e in errors), errors
    assert any(e.startswith("remotes/0") for e in errors), errors


def test_the_name_is_the_one_the_readme_marker_claims_for_the_pypi_package() -> None:
    server = _server()
    markers = re.findall(r"<!-- mcp-name: (\S+) -->", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert markers == [server["name"]]
    owner = REPOSITORY.split("/")[-2]
    assert server["name"] == f"io.github.{owner}/grok-mcp"
    assert server["repository"] == {"url": REPOSITORY, "source": "github"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["urls"]["Repository"] == REPOSITORY
    (pypi,) = [p for p in server["packages"] if p["registryType"] == "pypi"]
    assert pypi["identifier"] == project["name"]
    assert pypi["runtimeHint"] == "uvx"
    assert [a["value"] for a in pypi["packageArguments"]] == ["serve"]


def test_every_package_is_this_version_and_each_mcpb_a_download_of_this_release() -> None:
    server = _server()
    assert server["version"] == __version__
    assert {p["version"] for p in server["packages"]} == {__version__}
    mcpb = [p["identifier"] for p in server["packages"] if p["registryType"] == "mcpb"]
    release = f"{REPOSITORY}/releases/download/v{__version__}/"
    assert sorted(mcpb) == [
        f"{release}grok-mcp-{__version__}-linux-x86_64.mcpb",
        f"{release}grok-mcp-{__version__}-windows-x86_64.mcpb",
    ]
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    for url in mcpb:  # the release workflow builds and attaches each one under that name
        assert url.rsplit("/", 1)[-1].replace(__version__, "$VERSION") in workflow
    assert all(p["transport"] == {"type": "stdio"} for p in server["packages"])


def test_every_environment_variable_is_one_the_server_reads_and_is_described() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "server" / "grok_mcp").rglob("*.py"))
    for package in _server()["packages"]:
        variables = package["environmentVariables"]
        assert {v["name"] for v in variables} >= {"XAI_API_KEY", "GROK_MCP_HOME"}
        for variable in variables:
            assert f'"{variable["name"]}"' in source, f"{variable['name']} is read nowhere in grok_mcp"
            assert len(variable["description"]) > 20, variable
            assert variable.get("isRequired") is False, "the keychain and defaults make every variable optional"
        (key,) = [v for v in variables if v["name"] == "XAI_API_KEY"]
        assert key["isSecret"] is True


def test_the_team_mode_remote_is_streamable_http_with_a_secret_bearer_header() -> None:
    (remote,) = _server()["remotes"]
    assert remote["type"] == "streamable-http"
    assert remote["url"] == "https://{host}/mcp"  # DESIGN: POST/GET /mcp
    assert remote["variables"]["host"]["isRequired"] is True
    (header,) = remote["headers"]
    assert header["name"] == "Authorization"
    assert header["value"] == "Bearer {tenant_key}"
    assert header["isSecret"] is True
    assert header["variables"]["tenant_key"]["isSecret"] is True


def _real_mcpb(folder: Path, isolated_home: Path) -> Path:
    """A real Claude Desktop extension, as `grok-mcp clients bundle` writes it (a launcher bundle from source)."""
    out = folder / "built.mcpb"
    done = run_cli("clients", "bundle", "--output", str(out), env=server_env(isolated_home))
    assert done.returncode == 0, done.stderr
    return out


def _stamp(server_json: Path, artifacts: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STAMP), "--artifacts", str(artifacts), str(server_json)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_release_stamp_gives_each_mcpb_the_sha256_of_its_file_and_stays_valid(
    tmp_path: Path, isolated_home: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    built = _real_mcpb(tmp_path, isolated_home)
    expected: dict[str, str] = {}
    for package in _server()["packages"]:
        if package["registryType"] == "mcpb":
            name = package["identifier"].rsplit("/", 1)[-1]
            shutil.copy(built, artifacts / name)
            with (artifacts / name).open("ab") as fh:
                fh.write(name.encode())  # each file differs, so a mix-up of hashes shows
            expected[package["identifier"]] = hashlib.sha256((artifacts / name).read_bytes()).hexdigest()
    server_json = tmp_path / "server.json"
    shutil.copy(SERVER_JSON, server_json)

    done = _stamp(server_json, artifacts)

    assert done.returncode == 0, done.stderr
    stamped = json.loads(server_json.read_text(encoding="utf-8"))
    assert {p["identifier"]: p["fileSha256"] for p in stamped["packages"] if "fileSha256" in p} == expected
    assert _schema_errors(stamped) == []
    unstamped = _server()
    assert {k: v for k, v in stamped.items() if k != "packages"} == {
        k: v for k, v in unstamped.items() if k != "packages"
    }


def test_the_release_stamp_refuses_and_writes_nothing_when_a_release_file_is_missing(tmp_path: Path) -> None:
    (tmp_path / "artifacts").mkdir()
    server_json = tmp_path / "server.json"
    shutil.copy(SERVER_JSON, server_json)

    done = _stamp(server_json, tmp_path / "artifacts")

    assert done.returncode == 1
    assert f"grok-mcp-{__version__}-linux-x86_64.mcpb" in done.stderr
    assert "is not among this release's files" in done.stderr
    assert server_json.read_bytes() == SERVER_JSON.read_bytes()


@pytest.mark.parametrize("version", ["9.9.9", "latest"])
def test_the_release_stamp_refuses_a_package_of_another_version(tmp_path: Path, version: str) -> None:
    server = _server()
    server["packages"][0]["version"] = version
    server_json = tmp_path / "server.json"
    server_json.write_text(json.dumps(server), encoding="utf-8")

    done = _stamp(server_json, tmp_path)

    assert done.returncode == 1
    assert f"package version '{version}' is not '{__version__}'" in done.stderr
