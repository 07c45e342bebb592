"""End to end: the tray starts its server child in demo mode; an MCP client calls it with the keychain's token,
and the conversation it holds shows up in the tray's Conversations page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from grok_mcp import secrets
from grok_mcp.config import Settings
from grok_mcp_desktop.app import DesktopApp
from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.supervisor import ServerState
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.keychain import KeychainSession


@pytest.fixture
def desktop(qapp: QApplication, desktop_settings: Settings, tmp_path: Path) -> Iterator[DesktopApp]:
    app = DesktopApp(
        desktop_settings,
        show_welcome=False,
        autostart=Autostart(platform="linux", home=tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "cfg")}),
    )
    yield app
    app.shutdown()


async def call_chat(url: str, token: str) -> dict[str, object]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("chat", {"prompt": "Say hello from the tray test."})
        assert not result.is_error, result.content
        assert result.structured_content is not None
        held = await session.call_tool("chat_with_context", {"message": "Remember the lighthouse on the tray test."})
        assert not held.is_error, held.content
        assert held.structured_content is not None
        return {**result.structured_content, "conversation_id": held.structured_content["conversation_id"]}


def test_the_tray_runs_its_server_in_demo_mode_with_the_keychain_token_and_quits_cleanly(
    qtbot: QtBot, clean_keychain: KeychainSession, desktop: DesktopApp
) -> None:
    assert desktop.is_first_run  # no key in the keychain: demo mode
    desktop.start()
    qtbot.waitUntil(lambda: desktop.supervisor.state is ServerState.RUNNING, timeout=30_000)
    supervisor = desktop.supervisor
    pid = supervisor.server_pid
    assert pid is not None
    assert supervisor.is_simulated

    token = secrets.get_http_token(create=False)  # created in the keychain by the child, read back here
    assert token
    root = supervisor.endpoint_url.removesuffix("/mcp")
    assert httpx2.post(supervisor.endpoint_url, json={}, timeout=5).status_code == 401
    assert httpx2.get(f"{root}/healthz", timeout=5).json()["pid"] == pid

    structured = anyio.run(call_chat, supervisor.endpoint_url, token)
    assert structured["simulated"] is True
    assert structured["text"]

    # The conversation the client just held is in the tray's Conversations page (read from the shared store).
    desktop.show_dashboard()
    dashboard = desktop._dashboard  # pyright: ignore[reportPrivateUsage]
    assert dashboard is not None
    page = dashboard.show_page("Conversations")
    model = page.model  # pyright: ignore[reportAttributeAccessIssue]
    qtbot.waitUntil(
        lambda: any(model.conversation_at(row).id == structured["conversation_id"] for row in range(model.rowCount())),
        timeout=15_000,
    )
    title = next(
        model.conversation_at(r).title
        for r in range(model.rowCount())
        if model.conversation_at(r).id == structured["conversation_id"]
    )
    assert "lighthouse" in title.lower()

    quit_action = desktop.tray.action("quit")
    assert quit_action is not None
    quit_action.trigger()
    assert supervisor.state is ServerState.STOPPED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert token not in "\n".join(supervisor.log_tail())
