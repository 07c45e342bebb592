"""The simulator's knobs: pacing, and what happens to retired model ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RetiredMode = Literal["reject", "redirect"]
RETIRED_MODES: tuple[RetiredMode, ...] = ("reject", "redirect")


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated xAI API paces its answers and treats retired models.

    `latency_ms` delays every non-streaming inference answer; `ttft_ms` delays the first chunk of a
    stream and `chunk_ms` every chunk after it. `retired_mode="reject"` answers retired model ids with
    xAI's 404 "deprecated" error, `"redirect"` serves them as their replacement (grok-4.3), as xAI's
    May-2026 email announced. `max_stored_files` caps the generated images kept for download.
    `marks_replies` False leaves out the `x-simulated: true` header, so a client sees replies exactly as
    xAI sends them (tests of what Grok MCP does with real, billed calls).
    """

    latency_ms: float = 0
    ttft_ms: float = 0
    chunk_ms: float = 0
    retired_mode: RetiredMode = "reject"
    max_stored_files: int = 256
    marks_replies: bool = True
