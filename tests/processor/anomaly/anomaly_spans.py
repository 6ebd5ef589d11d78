"""Test helpers: GenAI call spans from the real OTel SDK, encoded by the real OTLP encoder.

Steady traffic is drawn from lognormal distributions (latency, TTFT, tokens), as real LLM traffic is
roughly lognormal, with a fixed seed. A uniquely named module (helpers in conftest cannot be imported).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from genai_lens.processor.pipeline import span_views
from genai_lens.processor.span_view import SpanView

T0 = 1_763_900_000_000_000_000  # 2025-11-23, in unix nanoseconds


@dataclass(frozen=True)
class Workload:
    """One key's typical call: medians and log-space spreads of what is measured."""

    service: str
    provider: str
    model: str
    latency_s: float = 1.2
    latency_sigma: float = 0.45
    ttft_s: float = 0.35
    input_tokens: float = 900
    input_sigma: float = 0.5
    output_tokens: float = 250
    output_sigma: float = 0.6
    usd_per_token: float = 2e-6
    streaming: bool = True
    operation: str = "chat"


WORKLOADS = [
    Workload("checkout", "openai", "gpt-4o-mini-2024-07-18"),
    Workload(
        "checkout",
        "anthropic",
        "claude-3-5-haiku-20241022",
        latency_s=2.5,
        input_tokens=2400,
        output_tokens=400,
    ),
    Workload("search", "openai", "gpt-4o-mini-2024-07-18", latency_s=0.8, input_tokens=300, output_tokens=60),
    Workload(
        "search",
        "openai",
        "text-embedding-3-small",
        latency_s=0.15,
        latency_sigma=0.3,
        input_tokens=40,
        output_tokens=0,
        streaming=False,
        operation="embeddings",
        usd_per_token=2e-8,
    ),
    Workload(
        "support",
        "gcp.gemini",
        "gemini-2.5-flash",
        latency_s=4.0,
        latency_sigma=0.6,
        ttft_s=1.2,
        input_tokens=1500,
        output_tokens=900,
        output_sigma=0.7,
    ),
]


@dataclass
class Call:
    """One call's measured values, editable before it becomes a span (to inject outliers)."""

    workload: Workload
    duration_s: float
    ttft_s: float | None
    input_tokens: int
    output_tokens: int
    finish_reasons: tuple[str, ...] = ("stop",)
    error_type: str | None = None
    status_error: str | None = None
    extra: dict[str, Any] | None = None

    @property
    def cost(self) -> float:
        return (self.input_tokens + 4 * self.output_tokens) * self.workload.usd_per_token

    def attributes(self) -> dict[str, Any]:
        w = self.workload
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": w.operation,
            "gen_ai.provider.name": w.provider,
            "gen_ai.request.model": w.model,
            "gen_ai.response.model": w.model,
            "gen_ai.usage.input_tokens": self.input_tokens,
            "gen_ai.usage.output_tokens": self.output_tokens,
            "gen_ai.usage.cost": self.cost,
        }
        if w.operation != "embeddings":
            attributes["gen_ai.response.finish_reasons"] = list(self.finish_reasons)
        if self.ttft_s is not None:
            attributes["gen_ai.response.time_to_first_chunk"] = self.ttft_s
        if self.error_type:
            attributes["error.type"] = self.error_type
        attributes.update(self.extra or {})
        return attributes


def draw(workload: Workload, rng: random.Random) -> Call:
    def lognormal(median: float, sigma: float) -> float:
        return rng.lognormvariate(math.log(median), sigma) if median > 0 else 0.0

    latency = lognormal(workload.latency_s, workload.latency_sigma)
    ttft = min(latency, lognormal(workload.ttft_s, workload.latency_sigma)) if workload.streaming else None
    output = round(lognormal(workload.output_tokens, workload.output_sigma))
    if workload.output_tokens > 0:
        output = max(1, output)
    return Call(
        workload,
        latency,
        ttft,
        max(1, round(lognormal(workload.input_tokens, workload.input_sigma))),
        output,
    )


class Recorder:
    """Turns calls into spans (one SDK tracer provider per service) and then into one OTLP request."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self._tracers: dict[str, Any] = {}
        self._clock = T0
        self._count = 0

    def _tracer(self, service: str):
        if service not in self._tracers:
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
            self._tracers[service] = provider.get_tracer("genai_lens.tests")
        return self._tracers[service]

    def add(self, call: Call) -> None:
        """Record ``call``; its position among the added calls is kept as the ``test.call`` attribute."""
        self._clock += 50_000_000
        attributes = {**call.attributes(), "test.call": self._count}
        self._count += 1
        span = self._tracer(call.workload.service).start_span(
            f"{call.workload.operation} {call.workload.model}", attributes=attributes, start_time=self._clock
        )
        if call.status_error is not None:
            span.set_status(Status(StatusCode.ERROR, call.status_error))
        span.end(end_time=self._clock + int(call.duration_s * 1e9))

    def add_plain(self, name: str, attributes: dict[str, Any]) -> None:
        self._clock += 1_000_000
        span = self._tracer("checkout").start_span(name, attributes=attributes, start_time=self._clock)
        span.end(end_time=self._clock + 2_000_000)

    def request(self) -> ExportTraceServiceRequest:
        request = encode_spans(self.exporter.get_finished_spans())
        self.exporter.clear()
        return request

    def views(self) -> list[SpanView]:
        """The request's spans in the order the calls were added (OTLP groups them by service)."""
        views = span_views(self.request())
        return sorted(views, key=lambda v: v.get("test.call", -1))
