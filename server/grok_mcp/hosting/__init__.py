"""How a server process is hosted: stdio, HTTP (auth, health, metrics), MCP tasks, shutdown and start-up."""
