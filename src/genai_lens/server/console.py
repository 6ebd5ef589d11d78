"""The default exporter: one line per GenAI span on stdout, so ``genai-lens serve`` is useful out of the box.

It prints numbers and names only (model, tokens, cost, latency, anomaly flags) — never prompt or completion
content. Spans without ``gen_ai.*`` attributes are counted as delivered but not printed.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_lens.processor.pipeline import span_views
from genai_lens.processor.span_view import SpanView
from genai_lens.semconv import GEN_AI_USAGE_COST, GENAI_LENS_ANOMALY_FLAGS
from genai_lens.server.exporter import Sender, SendResult


def _flags(view: SpanView) -> list[str]:
    """The anomaly stage's flags (a list of names; a comma-separated string is accepted too)."""
    value = view.get(GENAI_LENS_ANOMALY_FLAGS)
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def format_span(view: SpanView) -> str | None:
    """The console line for one span, or None when it is not a GenAI span."""
    if not any(key.startswith("gen_ai.") for key in view.keys()):
        return None
    model = view.get("gen_ai.response.model") or view.get("gen_ai.request.model") or "-"
    operation = view.get("gen_ai.operation.name") or "-"
    tokens_in = view.get("gen_ai.usage.input_tokens")
    tokens_out = view.get("gen_ai.usage.output_tokens")
    cost = view.get(GEN_AI_USAGE_COST)
    flags = _flags(view)
    parts = [
        f"genai op={operation}",
        f"model={model}",
        f"in={tokens_in if tokens_in is not None else '-'}",
        f"out={tokens_out if tokens_out is not None else '-'}",
        f"cost={f'${cost:.6f}' if isinstance(cost, int | float) else '-'}",
        f"latency={view.duration_s * 1000:.0f}ms",
        f"flags={','.join(flags) if flags else '-'}",
        f"trace={view.span.trace_id.hex()} span={view.span.span_id.hex()}",
    ]
    if view.is_error:
        parts.append("status=error")
    return " ".join(parts)


class ConsoleSender(Sender):
    """Writes :func:`format_span` lines to ``stream`` (stdout by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def send(self, payload: bytes, spans: int) -> SendResult:
        request = ExportTraceServiceRequest.FromString(payload)
        lines = [line for line in map(format_span, span_views(request)) if line is not None]
        stream = self.stream or sys.stdout
        if lines:
            with self._lock:
                stream.write("\n".join(lines) + "\n")
                stream.flush()
        return SendResult(True)
