"""What the composition root (app.py) hands to the tray and every window: settings, supervisor, helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from grok_mcp.config import Settings

from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.supervisor import ServerSupervisor
from grok_mcp_desktop.worker import Worker


@dataclass
class DesktopContext:
    """The shared objects of one running tray app; built once in grok_mcp_desktop.app and passed in, never global.

    `cli_command` runs `grok-mcp` (grok_mcp.clients.launch.grok_mcp_command: this venv's Python `-m grok_mcp`
    from source, the bundle's sibling executable when frozen); `cli_environment` is the environment to run
    it with (None: this process's).
    `worker` and `store` are the one background-work helper and the store handle every window shares.
    """

    settings: Settings
    supervisor: ServerSupervisor
    cli_command: list[str]
    worker: Worker
    store: StoreAccess
    cli_environment: dict[str, str] | None = field(default=None)
