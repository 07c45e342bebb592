"""The simulated xAI REST API: an ASGI app for tests, benchmarks and demo mode (reference/xai-api.md §17)."""

from grok_mcp.simulator.app import create_app
from grok_mcp.simulator.config import SimulatorConfig
from grok_mcp.simulator.runner import serve

__all__ = ["SimulatorConfig", "create_app", "serve"]
