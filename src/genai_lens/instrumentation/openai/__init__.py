"""OpenTelemetry instrumentation for the OpenAI Python SDK (1.x to 3.x), built on the shared GenAI layer.

    from genai_lens.instrumentation.openai import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Patches methods on the SDK's resource classes with wrapt (no HTTP transport is touched, so httpx/httpx2
changes across SDK majors do not matter). Entry point name: ``genai_lens_openai``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from genai_lens.instrumentation._genai import GenAITelemetry, Patches, async_wrapper, sync_wrapper

_INSTRUMENTS = ("openai >= 1.0.0, < 4",)

# (module, sync class, async class, methods): every place the classes lived across SDK versions
_CHAT_MODULES = ("openai.resources.chat.completions.completions", "openai.resources.chat.completions")
_BETA_CHAT_MODULES = ("openai.resources.beta.chat.completions",)  # 1.x: beta.chat.completions.parse
_RESPONSES_MODULES = ("openai.resources.responses.responses", "openai.resources.responses")
_EMBEDDINGS_MODULES = ("openai.resources.embeddings",)
_COMPLETIONS_MODULES = ("openai.resources.completions",)  # legacy text completions


class OpenAIInstrumentor(BaseInstrumentor):
    """Spans and metrics for chat, Responses API, embeddings and legacy completions (sync, async, streams)."""

    def __init__(self) -> None:
        super().__init__()
        self._patches = Patches()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        import openai

        from genai_lens.instrumentation.openai.chat import ChatHooks
        from genai_lens.instrumentation.openai.completions import CompletionsHooks
        from genai_lens.instrumentation.openai.embeddings import EmbeddingsHooks
        from genai_lens.instrumentation.openai.responses import ResponsesHooks

        telemetry = GenAITelemetry.for_instrumentor(__name__, kwargs)
        stream_types = tuple(
            t for t in (getattr(openai, "Stream", None), getattr(openai, "AsyncStream", None)) if t
        )
        targets: list[tuple[tuple[str, ...], str, str, Any]] = [
            (_CHAT_MODULES, "Completions", "AsyncCompletions", ChatHooks(stream_types)),
            (_BETA_CHAT_MODULES, "Completions", "AsyncCompletions", ChatHooks(stream_types)),
            (_RESPONSES_MODULES, "Responses", "AsyncResponses", ResponsesHooks(stream_types)),
            (_EMBEDDINGS_MODULES, "Embeddings", "AsyncEmbeddings", EmbeddingsHooks()),
            (_COMPLETIONS_MODULES, "Completions", "AsyncCompletions", CompletionsHooks(stream_types)),
        ]
        for modules, sync_class, async_class, hooks in targets:
            methods = ("create", "parse") if isinstance(hooks, (ChatHooks, ResponsesHooks)) else ("create",)
            for module in modules:
                for method in methods:
                    self._patches.wrap(module, f"{sync_class}.{method}", sync_wrapper(telemetry, hooks))
                    self._patches.wrap(module, f"{async_class}.{method}", async_wrapper(telemetry, hooks))

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patches.unwrap_all()


__all__ = ["OpenAIInstrumentor"]
