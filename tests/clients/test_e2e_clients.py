"""After an install, the client's own entry starts a real Grok MCP that answers `initialize` and `chat`.

The entry is read back from the written file with an independent parser (json, tomllib, ruamel's safe
loader) and spawned exactly as a client would: its command and args, from a working dir that is not the
project, with the key in the environment and never in the file.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from grok_mcp.clients import ClientManager, get_client
from grok_mcp.clients.jsonc import parse
from grok_mcp.clients.launch import server_launch
from mcp import ClientSession, StdioServerParameters, stdio_client
from ruamel.yaml import YAML

from tests.clients.support import host_for
from tests.support.processes import server_env
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.anyio


def _read_entry(name: str, path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if name == "claude-desktop":
        return json.loads(raw.decode("utf-8-sig"))["mcpServers"]["grok"]
    if name == "vscode":
        return parse(raw.decode("utf-8-sig"), path=path, is_jsonc=True).value["servers"]["grok"]
    if name == "codex":
        return tomllib.loads(raw.decode("utf-8"))["mcp_servers"]["grok"]
    return YAML(typ="safe").load(raw.decode("utf-8"))["extensions"]["grok"]


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("claude-desktop", "json/other-servers.json"),
        ("vscode", "jsonc/vscode-comments.json"),
        ("codex", "toml/codex-config.toml"),
        ("goose", "yaml/goose-config.yaml"),
    ],
)
async def test_the_installed_entry_starts_a_server_that_chats(
    isolated_home: Path, tmp_path: Path, simulator: RunningSimulator, name: str, fixture: str
) -> None:
    host = host_for(tmp_path)
    manager = ClientManager(host, server_launch(), tmp_path / "backups", running=lambda spec, host: None)
    path = get_client(name).config_path(host)
    path.parent.mkdir(parents=True)
    path.write_bytes((Path(__file__).parent / "fixtures" / fixture).read_bytes())
    manager.install(name)

    entry = _read_entry(name, path)
    assert TEST_KEY not in path.read_text(encoding="utf-8")
    command = str(entry.get("command", entry.get("cmd")))
    params = StdioServerParameters(
        command=command,
        args=entry["args"],
        env=server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY),
        cwd=str(tmp_path),
    )
    with (tmp_path / "server.stderr").open("w+", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == "grok"
            result = await session.call_tool("chat", {"prompt": "Say hello"})
            assert not result.is_error
            assert result.structured_content and result.structured_content["text"]
