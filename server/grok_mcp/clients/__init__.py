"""MCP client setup: one module per client, safe config edits, and the Claude Desktop `.mcpb` bundle.

The CLI (`grok_mcp.cli.clients`) and the tray's Clients page both go through `ClientManager`.
"""

from grok_mcp.clients.base import HostEnv, HttpEndpoint, ServerLaunch, Status
from grok_mcp.clients.manager import ChangeOutcome, ClientManager, ClientReport
from grok_mcp.clients.registry import all_clients, client_names, get_client
from grok_mcp.clients.start_check import StartCheck, StartProblem

__all__ = [
    "ChangeOutcome",
    "ClientManager",
    "ClientReport",
    "HostEnv",
    "HttpEndpoint",
    "ServerLaunch",
    "StartCheck",
    "StartProblem",
    "Status",
    "all_clients",
    "client_names",
    "get_client",
]
