"""The one object a provider instrumentor holds: tracer, metrics and the content switch, bound together.

``start`` opens the span and makes it current for the duration of the SDK call (so HTTP spans nest under it);
``finish`` / ``fail`` end it and record metrics exactly once, whichever path gets there first.
"""

from __future__ import annotations

from collections.abc import Mapping
from timeit import default_timer
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from genai_lens import __version__
from genai_lens.instrumentation._genai.content import capture_content_enabled
from genai_lens.instrumentation._genai.invocation import Invocation
from genai_lens.instrumentation._genai.metrics import GenAIMetrics
from genai_lens.instrumentation._genai.model_call import note_provider_call
from genai_lens.instrumentation._genai.safety import report_internal_error
from genai_lens.instrumentation._genai.span import end_span, start_span

_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
_SUPPRESS_KEY = otel_context._SUPPRESS_INSTRUMENTATION_KEY


def instrumentation_suppressed() -> bool:
    """True inside ``suppress_instrumentation()``: the call must produce no span and no metrics."""
    return bool(otel_context.get_value(_SUPPRESS_KEY))


def error_type_of(exc: BaseException) -> str:
    """The low-cardinality ``error.type`` of an exception: its class's qualified name."""
    return type(exc).__qualname__


class GenAITelemetry:
    """Tracer + GenAI metrics for one instrumentation scope."""

    __slots__ = ("capture_content", "metrics", "tracer")

    def __init__(
        self,
        scope_name: str,
        scope_version: str,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        capture_content: bool | None = None,
    ) -> None:
        self.tracer = otel_trace.get_tracer(
            scope_name, scope_version, tracer_provider=tracer_provider, schema_url=_SCHEMA_URL
        )
        meter = otel_metrics.get_meter(
            scope_name, scope_version, meter_provider=meter_provider, schema_url=_SCHEMA_URL
        )
        self.metrics = GenAIMetrics(meter)
        self.capture_content = capture_content_enabled() if capture_content is None else capture_content

    @classmethod
    def for_instrumentor(cls, scope_name: str, instrument_kwargs: Mapping[str, Any]) -> GenAITelemetry:
        """The telemetry a ``BaseInstrumentor._instrument(**kwargs)`` call asks for.

        Every instrumentor accepts the same keywords — ``tracer_provider``, ``meter_provider`` and
        ``capture_content`` (``None``: the environment's content switch) — so they are read here once.
        """
        return cls(
            scope_name,
            __version__,
            tracer_provider=instrument_kwargs.get("tracer_provider"),
            meter_provider=instrument_kwargs.get("meter_provider"),
            capture_content=instrument_kwargs.get("capture_content"),
        )

    def start(self, invocation: Invocation) -> Invocation:
        """Start the span, make it current, and stamp the start time."""
        invocation.start_time = default_timer()
        span = invocation.span = start_span(self.tracer, invocation)
        current = otel_context.get_current()
        note_provider_call(invocation, current)  # single counting: a framework span around this call defers
        # attach last: nothing after it may fail, or the caller's context would stay replaced
        invocation.context_token = otel_context.attach(otel_trace.set_span_in_context(span, current))
        return invocation

    @staticmethod
    def detach(invocation: Invocation) -> None:
        """Restore the caller's context (call this when the SDK call returns, even for streams)."""
        token = invocation.context_token
        if token is not None:
            invocation.context_token = None
            otel_context.detach(token)

    def finish(self, invocation: Invocation) -> None:
        """End a successful call (never raises: an internal error is logged)."""
        if invocation.ended:
            return
        try:
            self._end(invocation, invocation.error_type)
        except Exception as exc:
            report_internal_error("GenAITelemetry.finish", exc)

    def fail(self, invocation: Invocation, exc: BaseException | None) -> None:
        """End a failed call; ``error.type`` is the provider's override or the exception class name."""
        if invocation.ended:
            return
        try:
            error_type = invocation.error_type or (error_type_of(exc) if exc is not None else "_OTHER")
            self._end(invocation, error_type)
        except Exception as internal:
            report_internal_error("GenAITelemetry.fail", internal)

    def _end(self, invocation: Invocation, error_type: str | None) -> None:
        invocation.ended = True
        duration = default_timer() - invocation.start_time
        try:
            if invocation.span is not None:
                end_span(invocation.span, invocation, error_type)
        finally:
            self.metrics.record(invocation, duration, error_type)
