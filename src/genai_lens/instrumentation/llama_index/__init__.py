"""OpenTelemetry instrumentation for LlamaIndex (llama-index-core) through its instrumentation dispatcher.

    from genai_lens.instrumentation.llama_index import LlamaIndexInstrumentor
    LlamaIndexInstrumentor().instrument(tracer_provider=..., meter_provider=...)

A span handler on the root dispatcher turns LlamaIndex's spans (query engines, retrievers, synthesizers,
embeddings, LLM calls, tools) into OTel spans in one trace; provider and vector-DB spans nest under them.
Model calls are counted once: see ``genai_lens.instrumentation._framework.model_call``.
Entry point name: ``genai_lens_llama_index``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from genai_lens.instrumentation._framework import native_spans
from genai_lens.instrumentation._framework.lazy import Activation, when_imported
from genai_lens.instrumentation._genai import GenAITelemetry

_INSTRUMENTS = ("llama-index-core >= 0.12.0, < 0.16",)
_INSTRUMENTATION_MODULE = "llama_index.core.instrumentation"


class LlamaIndexInstrumentor(BaseInstrumentor):
    """Spans for LlamaIndex operations; GenAI metrics for model calls no provider instrumentor saw."""

    def __init__(self) -> None:
        super().__init__()
        self._handler: Any = None
        self._activation = Activation()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = GenAITelemetry.for_instrumentor(__name__, kwargs)
        self._activation = activation = Activation()
        when_imported(_INSTRUMENTATION_MODULE, activation, lambda: self._add_handler(telemetry))
        native_spans.acquire()

    def _add_handler(self, telemetry: GenAITelemetry) -> None:
        """Add our span handler to the root dispatcher (runs once llama-index-core loads)."""
        from llama_index.core.instrumentation import get_dispatcher

        from genai_lens.instrumentation.llama_index.span_handler import GenAILensSpanHandler

        self._handler = GenAILensSpanHandler.create(telemetry)
        get_dispatcher().add_span_handler(self._handler)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._activation.active = False
        native_spans.release()
        handler, self._handler = self._handler, None
        if handler is None:  # llama-index was never imported
            return
        from llama_index.core.instrumentation import get_dispatcher

        handler.disable()
        dispatcher = get_dispatcher()
        dispatcher.span_handlers[:] = [h for h in dispatcher.span_handlers if h is not handler]


__all__ = ["LlamaIndexInstrumentor"]
