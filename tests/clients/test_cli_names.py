"""The command line's list of client NAMEs is the registry's."""

from __future__ import annotations

from grok_mcp.cli.clients import CLIENT_NAMES
from grok_mcp.clients import client_names


def test_the_cli_knows_exactly_the_registered_clients_in_order() -> None:
    assert list(CLIENT_NAMES) == list(client_names())
