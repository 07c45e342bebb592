"""Start-up speed of `grok-mcp serve`: the cyclic garbage collector rests while the server builds itself.

Importing the MCP SDK and building the tools' schemas makes some 600 pydantic classes and about 140,000
objects, nearly all of which live as long as the process. With the collector on, it walks them again and
again while they are being made: about a tenth of the time to the first answer. So `serve` pauses it at
the start, and once the server is built everything made so far moves to the permanent generation
(`gc.freeze`, so later full collections skip it too) and the collector runs again. The few thousand
objects of start-up garbage that are frozen with it cost well under a megabyte.
"""

from __future__ import annotations

import gc

_paused: set[str] = set()  # {"collector"} between pause_collector and server_built


def pause_collector() -> None:
    """Pause the cyclic garbage collector until `server_built` (only `serve` calls this, first thing)."""
    if gc.isenabled():
        gc.disable()
        _paused.add("collector")


def server_built() -> None:
    """Freeze what start-up made and turn the collector back on, if `pause_collector` paused it."""
    if "collector" in _paused:
        _paused.discard("collector")
        gc.freeze()
        gc.enable()
