"""The async xAI REST client: requests, streaming, retries, error mapping, the model catalog and prices."""

from grok_mcp.grok.batches import Batch, BatchItemOutcome, BatchRequestInfo, BatchState, Page
from grok_mcp.grok.catalog import ModelCatalog, compute_cost_ticks
from grok_mcp.grok.client import GrokClient
from grok_mcp.grok.retry import RetryBudget, RetryPolicy
from grok_mcp.grok.types import (
    ApiKeyInfo,
    ChatCompletion,
    Citation,
    FunctionCall,
    GeneratedImage,
    ImageGeneration,
    ImageModel,
    LanguageModel,
    ModelInfo,
    ReasoningDelta,
    ResponseResult,
    ResponseToolCall,
    StreamDone,
    StreamEvent,
    TextDelta,
    Token,
    Tokenization,
    Usage,
)

__all__ = [
    "ApiKeyInfo",
    "Batch",
    "BatchItemOutcome",
    "BatchRequestInfo",
    "BatchState",
    "ChatCompletion",
    "Citation",
    "FunctionCall",
    "GeneratedImage",
    "GrokClient",
    "ImageGeneration",
    "ImageModel",
    "LanguageModel",
    "ModelCatalog",
    "ModelInfo",
    "Page",
    "ReasoningDelta",
    "ResponseResult",
    "ResponseToolCall",
    "RetryBudget",
    "RetryPolicy",
    "StreamDone",
    "StreamEvent",
    "TextDelta",
    "Token",
    "Tokenization",
    "Usage",
    "compute_cost_ticks",
]
