"""OpenTelemetry instrumentation for LlamaIndex (llama-index-core) through its instrumentation dispatcher.

    from genai_lens.instrumentation.llama_index import LlamaIndexInstrumentor
    LlamaIndexInstrumentor().instrument(tracer_provider=..., meter_provider=...)

A span handler on the root dispatcher turns LlamaIndex's spans (query engines, retrievers, synthesizers,
embeddings, LLM calls, tools) into OTel spans in one trace; provider and vector-DB spans nest under them.
Model calls are counted once: see ``genai_lens.instrumentation._framework.model_call``.
Entry point name: ``genai_lens_llama_index``.
"""

from __future__ import annotations

from typing import Any

from genai_lens.instrumentation._framework import native_spans
from genai_lens.instrumentation._framework.lazy import LazyInstrumentor
from genai_lens.instrumentation._genai import GenAITelemetry

_INSTRUMENTATION_MODULE = "llama_index.core.instrumentation"


class LlamaIndexInstrumentor(LazyInstrumentor):
    """Spans for LlamaIndex operations; GenAI metrics for model calls no provider instrumentor saw."""

    _instruments = ("llama-index-core >= 0.12.0, < 0.16",)
    _handlers: tuple[Any, ...] = ()  # (span handler, stream-end event handler) on the root dispatcher

    def _start(self, **kwargs: Any) -> None:
        telemetry = GenAITelemetry.for_instrumentor(__name__, kwargs)
        self.when_imported(_INSTRUMENTATION_MODULE, lambda: self._add_handlers(telemetry))
        native_spans.acquire()

    def _add_handlers(self, telemetry: GenAITelemetry) -> None:
        """Add our handlers to the root dispatcher (runs once llama-index-core loads)."""
        from llama_index.core.instrumentation import get_dispatcher

        from genai_lens.instrumentation.llama_index.span_handler import GenAILensSpanHandler, StreamEndHandler

        span_handler = GenAILensSpanHandler.create(telemetry)
        stream_end_handler = StreamEndHandler.create(span_handler)
        self._handlers = (span_handler, stream_end_handler)
        dispatcher = get_dispatcher()
        dispatcher.add_span_handler(span_handler)
        dispatcher.add_event_handler(stream_end_handler)

    def _stop(self) -> None:
        native_spans.release()
        handlers, self._handlers = self._handlers, ()
        if not handlers:  # llama-index was never imported
            return
        from llama_index.core.instrumentation import get_dispatcher

        span_handler, stream_end_handler = handlers
        span_handler.disable()
        dispatcher = get_dispatcher()
        dispatcher.span_handlers[:] = [h for h in dispatcher.span_handlers if h is not span_handler]
        dispatcher.event_handlers[:] = [h for h in dispatcher.event_handlers if h is not stream_end_handler]


__all__ = ["LlamaIndexInstrumentor"]
