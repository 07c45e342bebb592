"""The MCP annotations of our tools: what each kind of tool tells a client about what calling it does."""

from __future__ import annotations

from mcp.types import ToolAnnotations

ASKS_GROK = ToolAnnotations(read_only_hint=True, open_world_hint=True, idempotent_hint=False)
"""The annotations of a tool that asks Grok: it changes nothing here, reaches xAI, and answers anew each time."""

CONVERSES_WITH_GROK = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)
"""A tool that asks Grok and adds the turn to a stored conversation (it never rewrites what is there)."""

CREATES_WITH_GROK = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, open_world_hint=True, idempotent_hint=False
)
"""A tool that has Grok make something new each time and saves it as new files."""

READS_XAI = ToolAnnotations(read_only_hint=True, open_world_hint=True)
"""A tool that only reads what xAI knows (its catalog, its tokenizer)."""

READS_JOB = ToolAnnotations(read_only_hint=True, open_world_hint=True, idempotent_hint=True)
"""A tool that reads where a job stands, from the store or xAI, changing nothing by asking again."""

READS_STORE = ToolAnnotations(read_only_hint=True, open_world_hint=False)
"""The annotations of a tool that only reads this computer's store."""

DELETES_FROM_STORE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)
"""A tool that deletes from this computer's store for good (deleting again changes nothing more)."""
