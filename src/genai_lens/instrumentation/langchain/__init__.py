"""OpenTelemetry instrumentation for LangChain (langchain-core) through its callback system.

    from genai_lens.instrumentation.langchain import LangChainInstrumentor
    LangChainInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Every callback manager LangChain creates gets our handler as an inheritable handler (``BaseCallbackManager``
``__init__`` is wrapped), so chains/runnables, chat models and LLMs, tools, retrievers and agents (LangGraph
graphs, ``create_agent``, ``AgentExecutor``: ``invoke_agent``) become spans in one trace. Model calls are
counted once: see ``genai_lens.instrumentation._framework.model_call``.
Entry point name: ``genai_lens_langchain``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genai_lens.instrumentation._framework import native_spans
from genai_lens.instrumentation._framework.lazy import LazyInstrumentor
from genai_lens.instrumentation._genai import GenAITelemetry, report_internal_error

_CALLBACKS_MODULE = "langchain_core.callbacks.base"


class LangChainInstrumentor(LazyInstrumentor):
    """Spans for LangChain runs; GenAI metrics for model calls no provider instrumentor saw."""

    _instruments = ("langchain-core >= 0.3.0, < 2",)
    _handler: Any = None

    def _start(self, **kwargs: Any) -> None:
        telemetry = GenAITelemetry.for_instrumentor(__name__, kwargs)
        self.when_imported(_CALLBACKS_MODULE, lambda: self._inject_handler(telemetry))
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

        self.wrap_when_imported(_CALLBACKS_MODULE, {"BaseCallbackManager.__init__": add_handler})

    def _stop(self) -> None:
        native_spans.release()
        if self._handler is not None:
            self._handler.enabled = False  # managers created before keep a handler that now does nothing
            self._handler = None


__all__ = ["LangChainInstrumentor"]
