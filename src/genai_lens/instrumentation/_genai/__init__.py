"""The shared GenAI span layer every genai-lens instrumentor is built on.

A provider instrumentor describes each SDK method with a ``CallHooks`` subclass that fills an
``Invocation``; this package turns it into a CLIENT span with ``gen_ai.*`` attributes, the GenAI client
metrics, optional message content, and stream proxies that end the span exactly once.
"""

from genai_lens.instrumentation._genai import content
from genai_lens.instrumentation._genai.content import capture_content_enabled
from genai_lens.instrumentation._genai.instrumentor import Patches
from genai_lens.instrumentation._genai.invocation import Invocation, server_from_url
from genai_lens.instrumentation._genai.metrics import GenAIMetrics
from genai_lens.instrumentation._genai.safety import never_raise, report_internal_error
from genai_lens.instrumentation._genai.stream import (
    CLOSED,
    ERROR,
    EXHAUSTED,
    GARBAGE_COLLECTED,
    AsyncStreamProxy,
    StreamAccumulator,
    SyncStreamProxy,
    async_finishing_method,
    finishing_method,
)
from genai_lens.instrumentation._genai.telemetry import (
    GenAITelemetry,
    error_type_of,
    instrumentation_suppressed,
)
from genai_lens.instrumentation._genai.wrappers import CallHooks, async_wrapper, sync_wrapper

__all__ = [
    "CLOSED",
    "ERROR",
    "EXHAUSTED",
    "GARBAGE_COLLECTED",
    "AsyncStreamProxy",
    "CallHooks",
    "GenAIMetrics",
    "GenAITelemetry",
    "Invocation",
    "Patches",
    "StreamAccumulator",
    "SyncStreamProxy",
    "async_finishing_method",
    "async_wrapper",
    "capture_content_enabled",
    "content",
    "error_type_of",
    "finishing_method",
    "instrumentation_suppressed",
    "never_raise",
    "report_internal_error",
    "server_from_url",
    "sync_wrapper",
]
