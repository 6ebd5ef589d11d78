"""OpenTelemetry instrumentation for LangChain (langchain-core) through its callback system.

    from genai_lens.instrumentation.langchain import LangChainInstrumentor
    LangChainInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Every callback manager LangChain creates gets our handler as an inheritable handler (``BaseCallbackManager``
``__init__`` is wrapped), so chains/runnables, chat models and LLMs, tools, retrievers and agents become
spans in one trace. Model calls are counted once: see ``genai_lens.instrumentation._framework.model_call``.
Entry point name: ``genai_lens_langchain``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from genai_lens.instrumentation._framework import native_spans
from genai_lens.instrumentation._framework.lazy import Activation, when_imported
from genai_lens.instrumentation._genai import GenAITelemetry, Patches, report_internal_error

_INSTRUMENTS = ("langchain-core >= 0.3.0, < 2",)
_CALLBACKS_MODULE = "langchain_core.callbacks.base"


class LangChainInstrumentor(BaseInstrumentor):
    """Spans for LangChain runs; GenAI metrics for model calls no provider instrumentor saw."""

    def __init__(self) -> None:
        super().__init__()
        self._patches = Patches()
        self._handler: Any = None
        self._activation = Activation()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = GenAITelemetry.for_instrumentor(__name__, kwargs)
        self._activation = activation = Activation()
        when_imported(_CALLBACKS_MODULE, activation, lambda: self._inject_handler(telemetry))
        native_spans.acquire()

    def _inject_handler(self, telemetry: GenAITelemetry) -> None:
        """Give every callback manager created from now on our handler (runs once langchain-core loads)."""
        from genai_lens.instrumentation.langchain.handler import GenAILensCallbackHandler

        handler = GenAILensCallbackHandler(telemetry)
        self._handler = handler

        def add_handler(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
            result = wrapped(*args, **kwargs)
            try:
                if handler.enabled and handler not in instance.inheritable_handlers:  # identity (no __eq__)
                    instance.add_handler(handler, True)
            except Exception as exc:
                report_internal_error("langchain.BaseCallbackManager.__init__", exc)
            return result

        self._patches.wrap(_CALLBACKS_MODULE, "BaseCallbackManager.__init__", add_handler)

    def _uninstrument(self, **kwargs: Any) -> None:
        self._activation.active = False
        native_spans.release()
        self._patches.unwrap_all()
        if self._handler is not None:
            self._handler.enabled = False  # managers created before keep a handler that now does nothing
            self._handler = None


__all__ = ["LangChainInstrumentor"]
