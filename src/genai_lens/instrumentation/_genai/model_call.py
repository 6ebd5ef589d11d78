"""Tell a framework span (LangChain, LlamaIndex) whether a provider span recorded the model call it wraps.

A framework opens its LLM span and puts a ``ModelCallScope`` in the context; every provider call started by
``GenAITelemetry.start`` inside that context registers its invocation there. When the framework call ends it
asks the scope whether a provider span already carries usage: if so the framework span carries none (tokens
are counted once, on the provider span); if not (provider not instrumented) the framework span records it.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context

_SCOPE_KEY = otel_context.create_key("genai_lens.model_call_scope")


class ModelCallScope:
    """The provider invocations started while one framework model call was current."""

    __slots__ = ("framework_usage_recorded", "invocations", "native_provider_spans")

    def __init__(self) -> None:
        self.invocations: list[Any] = []
        # spans a provider SDK records itself (anthropic >= 2), which carry usage without our layer
        self.native_provider_spans = 0
        # set by the first framework span that records usage itself, so nested framework calls count once
        self.framework_usage_recorded = False

    def provider_reported_usage(self) -> bool:
        """True when a provider span under this call recorded (or will record) token usage."""
        return self.native_provider_spans > 0 or any(
            inv.input_tokens is not None or inv.output_tokens is not None for inv in self.invocations
        )

    def provider_called(self) -> bool:
        return bool(self.invocations) or self.native_provider_spans > 0


def with_scope(scope: ModelCallScope, context: otel_context.Context | None = None) -> otel_context.Context:
    """A context carrying ``scope`` (attach it together with the framework span)."""
    return otel_context.set_value(_SCOPE_KEY, scope, context)


def current_scope(context: otel_context.Context | None = None) -> ModelCallScope | None:
    """The scope of the framework model call enclosing ``context`` (None outside any)."""
    scope = otel_context.get_value(_SCOPE_KEY, context)
    return scope if isinstance(scope, ModelCallScope) else None


def note_provider_call(invocation: Any, context: otel_context.Context | None = None) -> None:
    """Called by the shared layer when a provider span starts: register it with the enclosing scope."""
    scope = otel_context.get_value(_SCOPE_KEY, context)
    if scope is not None:
        scope.invocations.append(invocation)
