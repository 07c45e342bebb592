"""Grok MCP's headless engine: the xAI client, the simulator, the store, the keychain and the MCP server."""

__version__ = "0.1.0"
