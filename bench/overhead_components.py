"""Where genai-lens' per-call time goes, piece by piece, with hot caches (runs in the genai-lens bench venv).

cProfile inflates small functions; this times each piece of the instrumented path on its own (min of 7
batches) next to the OTel SDK floor (a bare span, a bare histogram record), so the owner of
``instrumentation/_genai`` sees which costs are ours and which are the SDK's. Pieces that no longer exist
under the same name are reported as missing instead of failing the run.

    argv: <fixtures.json> <capture: 0|1>  -> one JSON line {piece: µs}
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from overhead_worker import CountingSpanExporter

BATCH = 3000


def best_of(function: Callable[[], Any], batches: int = 7) -> float:
    for _ in range(300):
        function()
    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(BATCH):
            function()
        best = min(best, (time.perf_counter_ns() - start) / BATCH / 1000.0)
    return round(best, 2)


# attributes a span carries from its start (the rest are set when it ends)
_REQUEST_PREFIXES = (
    "gen_ai.operation.",
    "gen_ai.provider.",
    "gen_ai.request.",
    "server.",
    "openai.api.",
    "openai.request.",
)


def recorded_telemetry(
    hooks: Any, resource: Any, request: dict[str, Any], response: Any, capture: bool
) -> tuple[str, dict[str, Any], dict[str, Any], list[tuple[str, Any, dict[str, Any]]]]:
    """One real call path of ours into in-memory exporters: span name, start/end attributes, metric points."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from genai_lens.instrumentation._genai import GenAITelemetry

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    telemetry = GenAITelemetry(
        "record", "0", tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])
    )
    inv = hooks.invocation(resource, (), request, capture)
    inv.capture_content = capture
    telemetry.start(inv)
    telemetry.detach(inv)
    hooks.on_response(inv, response)
    telemetry.finish(inv)
    (span,) = spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    start = {k: v for k, v in attributes.items() if k.startswith(_REQUEST_PREFIXES)}
    end = {k: v for k, v in attributes.items() if k not in start}
    points = []
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    points.append((metric.name, point.sum, dict(point.attributes)))
    return span.name, start, end, points


def main() -> None:
    fixtures = json.loads(open(sys.argv[1], encoding="utf-8").read())
    capture = sys.argv[2] == "1"
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    from genai_lens.instrumentation._genai import GenAITelemetry, Invocation
    from genai_lens.instrumentation._genai.span import end_span, start_span
    from genai_lens.instrumentation._genai.stream import SyncStreamProxy, _StreamState
    from genai_lens.instrumentation.openai.chat import ChatHooks, ChatStreamAccumulator

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(CountingSpanExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    telemetry = GenAITelemetry("bench", "0", tracer_provider=tracer_provider, meter_provider=meter_provider)
    tracer = tracer_provider.get_tracer("bench")
    histogram = meter_provider.get_meter("bench").create_histogram("bench.floor")
    resource = openai.OpenAI(api_key="bench", base_url="http://127.0.0.1:9/v1").chat.completions
    response = ChatCompletion.model_validate_json(fixtures["chat"]["body"])
    request = fixtures["chat"]["request"]
    hooks = ChatHooks((openai.Stream,))
    chunks = [
        ChatCompletionChunk.model_validate_json(event[len("data: ") :])
        for event in fixtures["stream"]["events"]
        if event.startswith("data: {")
    ]

    def invocation() -> Any:
        inv = hooks.invocation(resource, (), request, capture)
        inv.capture_content = capture
        return inv

    def whole_path() -> None:
        inv = telemetry.start(invocation())
        telemetry.detach(inv)
        hooks.on_response(inv, response)
        telemetry.finish(inv)

    def on_response() -> None:
        inv = Invocation(provider="openai", operation="chat", capture_content=capture)
        hooks.on_response(inv, response)

    finished = invocation()
    hooks.on_response(finished, response)
    metric_attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-3.5-turbo",
        "gen_ai.response.model": "gpt-3.5-turbo-0125",
        "server.address": "127.0.0.1",
        "server.port": 9,
    }

    def per_chunk() -> float:
        best = float("inf")
        for _ in range(7):
            state = _StreamState(invocation(), telemetry, ChatStreamAccumulator(capture))
            start = time.perf_counter_ns()
            for chunk in chunks:
                state.on_item(chunk)
            best = min(best, (time.perf_counter_ns() - start) / len(chunks) / 1000.0)
        return round(best, 3)

    def proxied_chunk() -> float:
        """Whole per-chunk cost: iterating the stream proxy minus iterating the same chunks bare."""
        best = float("inf")
        for _ in range(7):
            start = time.perf_counter_ns()
            for _chunk in iter(chunks):
                pass
            bare = time.perf_counter_ns() - start
            inv = telemetry.start(invocation())
            telemetry.detach(inv)
            proxy = SyncStreamProxy(iter(chunks), inv, telemetry, ChatStreamAccumulator(capture))
            start = time.perf_counter_ns()
            for _chunk in proxy:
                pass
            best = min(best, (time.perf_counter_ns() - start - bare) / len(chunks) / 1000.0)
        return round(best, 3)

    floor_span, floor_start, floor_end, floor_points = recorded_telemetry(
        hooks, resource, request, response, capture
    )
    floor_meter = meter_provider.get_meter("bench.floor")
    floor_histograms = {name: floor_meter.create_histogram(f"floor.{name}") for name, _, _ in floor_points}
    floor_records = [(floor_histograms[name], value, attributes) for name, value, attributes in floor_points]

    def sdk_floor() -> None:
        """The least any instrumentation emitting this telemetry pays: our SDK calls, attributes prebuilt."""
        span = tracer.start_span(floor_span, kind=SpanKind.CLIENT, attributes=floor_start)
        token = otel_context.attach(trace.set_span_in_context(span))
        otel_context.detach(token)
        span.set_attributes(floor_end)
        span.end()
        for histogram, value, attributes in floor_records:
            histogram.record(value, attributes)

    def context_round_trip() -> None:
        otel_context.detach(otel_context.attach(trace.set_span_in_context(trace.INVALID_SPAN)))

    pieces: dict[str, Callable[[], Any]] = {
        "whole path without the SDK call (start, detach, on_response, finish)": whole_path,
        "ChatHooks.invocation": invocation,
        "ChatHooks.on_response (+ Invocation())": on_response,
        "span.start_span + span.end_span": lambda: end_span(start_span(tracer, finished), finished),
        "GenAIMetrics.record (3 histogram records)": lambda: telemetry.metrics.record(finished, 0.1, None),
        "SDK floor: start_span('x').end(), no attributes": lambda: tracer.start_span("x").end(),
        "SDK floor: one histogram.record, 6 attributes": lambda: histogram.record(0.1, metric_attributes),
        "context attach + detach": context_round_trip,
        "SDK floor: the same span + metric calls, attributes prebuilt": sdk_floor,
    }
    result: dict[str, Any] = {}
    for name, function in pieces.items():
        try:
            result[name] = best_of(function)
        except Exception as exc:  # a renamed piece must not sink the whole benchmark
            result[name] = f"n/a ({type(exc).__name__})"
    for name, measure in (
        ("per chunk: _StreamState.on_item + ChatStreamAccumulator.on_chunk", per_chunk),
        ("per chunk: all of it (iterating the SyncStreamProxy + the above)", proxied_chunk),
    ):
        try:
            result[name] = measure()
        except Exception as exc:
            result[name] = f"n/a ({type(exc).__name__})"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
