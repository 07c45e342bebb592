"""Grok MCP's tray app (PySide6): supervises the server child and shows keys, usage and conversations."""
