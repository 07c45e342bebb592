"""The simulated xAI REST API: an ASGI app for tests, benchmarks and demo mode (reference/xai-api.md §17)."""

from server.simulator.app import create_app
from server.simulator.config import SimulatorConfig
from server.simulator.runner import serve

__all__ = ["SimulatorConfig", "create_app", "serve"]
