"""The call pipeline every paid upstream call passes through: budgets, response cache and single-flight, jobs."""

from grok_mcp.calls.budget import BudgetExceededError, check_budget
from grok_mcp.calls.cache import DEFAULT_CACHE_TTL_S, cache_key, is_cached
from grok_mcp.calls.flights import FlightTable, SharedTask, WorkCancelledError
from grok_mcp.calls.jobs import Detached, JobEnding, JobRunner, is_stale, running_as_job
from grok_mcp.calls.pipeline import CallPipeline

__all__ = [
    "DEFAULT_CACHE_TTL_S",
    "BudgetExceededError",
    "CallPipeline",
    "Detached",
    "FlightTable",
    "JobEnding",
    "JobRunner",
    "SharedTask",
    "WorkCancelledError",
    "cache_key",
    "check_budget",
    "is_cached",
    "is_stale",
    "running_as_job",
]
