"""One benchmark process: one peer instrumentor (or none), one content-capture setting, one openai SDK.

Runs inside a peer's own bench venv (stdlib + openai + OTel SDK + that peer only; genai-lens is not
importable elsewhere). The openai client talks to an in-process transport that returns recorded response
bytes, so the timings hold SDK work plus instrumentation and no socket noise.

Protocol (line based, driven by ``instrumentation_overhead.py``):
    argv: <peer> <fixtures.json>          content capture comes from the peer's own env switch
    stdout "READY <json>"                 after setup and warm-up
    stdin  "run <chat calls> <streams>"   -> stdout one JSON line of raw timings and span counts
    stdin  "profile <chat calls> <streams> <out.prof>" -> cProfile of the same loops, then a JSON line
    stdin  "quit"
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import openai
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

# peer name -> (module, class, distribution whose version we report)
INSTRUMENTORS = {
    "genai-lens": ("genai_lens.instrumentation.openai", "OpenAIInstrumentor", "genai-lens"),
    "otel-genai": (
        "opentelemetry.instrumentation.genai.openai",
        "OpenAIInstrumentor",
        "opentelemetry-instrumentation-genai-openai",
    ),
    "openinference": (
        "openinference.instrumentation.openai",
        "OpenAIInstrumentor",
        "openinference-instrumentation-openai",
    ),
    "openllmetry": (
        "opentelemetry.instrumentation.openai",
        "OpenAIInstrumentor",
        "opentelemetry-instrumentation-openai",
    ),
}
# attribute-name fragments that carry message content in any of the peers' dialects
CONTENT_MARKERS = (
    "messages",
    "input.value",
    "output.value",
    "gen_ai.prompt",
    "gen_ai.completion",
    "instructions",
)
REDACTED = "__REDACTED__"  # OpenInference keeps hidden keys with this value
WARMUP_CALLS = 300
WARMUP_STREAMS = 10


class CountingSpanExporter(SpanExporter):
    """Cheapest honest exporter: counts finished spans; the first span of each name is checked for content."""

    def __init__(self) -> None:
        self.count = 0
        self.names: set[str] = set()
        self.content_keys: set[str] = set()

    def export(self, spans: Any) -> SpanExportResult:
        self.count += len(spans)
        for span in spans:
            if span.name not in self.names:
                self.names.add(span.name)
                self.content_keys.update(
                    key
                    for key, value in (span.attributes or {}).items()
                    if any(m in key for m in CONTENT_MARKERS) and value != REDACTED
                )
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _logger_provider() -> tuple[Any, Any]:
    """A LoggerProvider with a counting exporter, for peers that put content in log events."""
    try:
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import (
            LogRecordExporter,
            LogRecordExportResult,
            SimpleLogRecordProcessor,
        )
    except ImportError:
        return None, None

    class CountingLogExporter(LogRecordExporter):
        def __init__(self) -> None:
            self.count = 0

        def export(self, batch: Any) -> Any:
            self.count += len(batch)
            return LogRecordExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    exporter = CountingLogExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    set_logger_provider(provider)
    return provider, exporter


def _http_library() -> Any:
    """The HTTP library this openai SDK is built on: httpx2 for openai 3.x, httpx before."""
    base_client = importlib.import_module("openai._base_client")
    library = getattr(base_client, "httpx2", None) or base_client.httpx
    return library


def make_transport(library: Any, fixtures: dict[str, Any]) -> Any:
    """A transport of the SDK's own HTTP library that answers from recorded bytes, in process."""
    chat = fixtures["chat"]
    stream = fixtures["stream"]
    chat_headers = [(k, v) for k, v in chat["headers"]]
    chat_body = chat["body"].encode()
    stream_headers = [(k, v) for k, v in stream["headers"]]
    events = [event.encode() for event in stream["events"]]

    class RecordedTransport(library.BaseTransport):
        streaming = False

        def handle_request(self, request: Any) -> Any:
            request.read()
            if self.streaming:
                return library.Response(200, headers=stream_headers, content=iter(events))
            return library.Response(200, headers=chat_headers, content=chat_body)

    return RecordedTransport()


def instrument(peer: str, tracer_provider: Any, meter_provider: Any, logger_provider: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"instrument_error": None, "peer_version": None}
    if peer == "baseline":
        return info
    module_name, class_name, distribution = INSTRUMENTORS[peer]
    try:
        info["peer_version"] = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        pass
    try:
        instrumentor = getattr(importlib.import_module(module_name), class_name)()
        kwargs: dict[str, Any] = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
        if logger_provider is not None:
            kwargs["logger_provider"] = logger_provider
        conflict = _dependency_conflict(instrumentor)
        if conflict:
            # instrument() would silently do nothing (what a user of this combination gets: no span);
            # to still compare the code path we force it and flag the row
            info["dependency_conflict"] = conflict
            kwargs["skip_dep_check"] = True
        instrumentor.instrument(**kwargs)
        info["instrumented"] = bool(getattr(instrumentor, "is_instrumented_by_opentelemetry", True))
    except Exception as exc:  # report, keep measuring: "no span" is a result
        info["instrument_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return info


def _dependency_conflict(instrumentor: Any) -> str | None:
    try:
        from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
    except ImportError:
        return None
    conflict = get_dependency_conflicts(instrumentor.instrumentation_dependencies())
    return str(conflict) if conflict else None


SDK_FLOOR = "sdk-floor"
# span attributes given at span start (the rest are set when the span ends)
_REQUEST_PREFIXES = ("gen_ai.operation.", "gen_ai.provider.", "gen_ai.request.", "server.", "openai.api.")


def record_genai_lens(client: Any, fixtures: dict[str, Any], transport: Any) -> dict[bool, Any]:
    """genai-lens' exact output (span name, attributes, histogram records) for one chat call and a stream."""
    from opentelemetry.sdk.metrics import Histogram
    from opentelemetry.sdk.metrics.export import AggregationTemporality
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from genai_lens.instrumentation.openai import OpenAIInstrumentor

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader(preferred_temporality={Histogram: AggregationTemporality.DELTA})
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])
    )
    recorded: dict[bool, Any] = {}
    try:
        for stream in (False, True):
            transport.streaming = stream
            result = client.chat.completions.create(**fixtures["stream" if stream else "chat"]["request"])
            if stream:
                for _chunk in result:
                    pass
            (span,) = spans.get_finished_spans()
            spans.clear()
            attributes = dict(span.attributes or {})
            start = {k: v for k, v in attributes.items() if k.startswith(_REQUEST_PREFIXES)}
            records = [
                (metric.name, point.sum, dict(point.attributes))
                for resource in reader.get_metrics_data().resource_metrics
                for scope in resource.scope_metrics
                for metric in scope.metrics
                for point in metric.data.data_points
            ]
            end = {k: v for k, v in attributes.items() if k not in start}
            recorded[stream] = (span.name, start, end, records)
    finally:
        instrumentor.uninstrument()
        transport.streaming = False
    return recorded


def install_sdk_floor(recorded: dict[bool, Any], tracer_provider: Any, meter_provider: Any) -> None:
    """A reference row, not an instrumentor: per call exactly the OTel SDK calls genai-lens makes, no more.

    Span name, kind, attributes (request ones at start, the rest at the end) and histogram records are
    genai-lens' own output for the same call, replayed from prebuilt dicts around the SDK method (wrapt,
    like every peer). The least any instrumentation emitting this telemetry through this SDK can cost.
    """
    import wrapt
    from opentelemetry import context as otel_context
    from opentelemetry.trace import SpanKind

    tracer = tracer_provider.get_tracer(SDK_FLOOR)
    meter = meter_provider.get_meter(SDK_FLOOR)
    histograms: dict[str, Any] = {}
    plans = {}
    for stream, (name, start, end, records) in recorded.items():
        for metric_name, _value, _attributes in records:
            if metric_name not in histograms:
                histograms[metric_name] = meter.create_histogram(metric_name)
        plans[stream] = (name, start, end, [(histograms[m], v, a) for m, v, a in records])

    def finish(span: Any, plan: Any) -> None:
        span.set_attributes(plan[2])
        span.end()
        for histogram, value, attributes in plan[3]:
            histogram.record(value, attributes)

    def chunks(result: Any, span: Any, plan: Any) -> Iterator[Any]:
        yield from result
        finish(span, plan)

    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        stream = kwargs.get("stream") is True
        plan = plans[stream]
        span = tracer.start_span(plan[0], kind=SpanKind.CLIENT, attributes=plan[1])
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            result = wrapped(*args, **kwargs)
        finally:
            otel_context.detach(token)
        if stream:
            return chunks(result, span, plan)
        finish(span, plan)
        return result

    from openai.resources.chat import completions

    owner = getattr(completions, "Completions", None)
    owner = owner if isinstance(owner, type) else completions.completions.Completions
    wrapt.wrap_function_wrapper(owner, "create", wrapper)


class Bench:
    def __init__(self, peer: str, fixtures: dict[str, Any]) -> None:
        self.spans = CountingSpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        trace.set_tracer_provider(self.tracer_provider)
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        metrics.set_meter_provider(self.meter_provider)
        self.logger_provider, self.logs = _logger_provider()
        library = _http_library()
        self.transport = make_transport(library, fixtures)
        self.client = openai.OpenAI(
            api_key="bench",
            base_url="http://127.0.0.1:9/v1",  # never contacted: the transport answers in process
            max_retries=0,
            http_client=library.Client(transport=self.transport),
        )
        if peer == SDK_FLOOR:
            recorded = record_genai_lens(self.client, fixtures, self.transport)
            install_sdk_floor(recorded, self.tracer_provider, self.meter_provider)
            self.info = {
                "instrument_error": None,
                "peer_version": "OTel SDK " + metadata.version("opentelemetry-sdk"),
            }
        else:
            self.info = instrument(peer, self.tracer_provider, self.meter_provider, self.logger_provider)
        self.chat_request = fixtures["chat"]["request"]
        self.stream_request = fixtures["stream"]["request"]
        self.info.update(
            openai=openai.__version__,
            http_library=library.__name__,
            stream_chunks=fixtures["stream"]["chunks"],
        )

    def _log_count(self) -> int:
        return self.logs.count if self.logs is not None else 0

    def run(self, chat_calls: int, streams: int) -> dict[str, Any]:
        """Time ``chat_calls`` plain calls and ``streams`` streams; wall clock per call and per chunk.

        Per chunk we keep the gap between consecutive chunks reaching the caller, so a median over all
        chunks stays robust when the OS preempts us mid-stream; opening the stream and its last
        ``__next__`` (where instrumentors end the span) are kept apart. CPU time per batch is a cross-check.
        """
        create = self.client.chat.completions.create
        chat_request = self.chat_request
        stream_request = self.stream_request
        clock = time.perf_counter_ns
        cpu = time.process_time_ns
        gc.collect()

        self.transport.streaming = False
        spans_before, logs_before = self.spans.count, self._log_count()
        call_ns = []
        cpu_start = cpu()
        for _ in range(chat_calls):
            start = clock()
            create(**chat_request)
            call_ns.append(clock() - start)
        chat_cpu = cpu() - cpu_start
        chat_spans, chat_logs = self.spans.count - spans_before, self._log_count() - logs_before

        self.transport.streaming = True
        spans_before, logs_before = self.spans.count, self._log_count()
        open_ns, end_ns, chunk_ns = [], [], []
        chunks_seen = 0
        cpu_start = cpu()
        for _ in range(streams):
            start = clock()
            stream = iter(create(**stream_request))
            last = clock()
            open_ns.append(last - start)
            count = 0
            for _chunk in stream:
                now = clock()
                chunk_ns.append(now - last)
                last = now
                count += 1
            end_ns.append(clock() - last)  # the final __next__: StopIteration, span end
            chunks_seen = count
        stream_cpu = cpu() - cpu_start
        stream_spans, stream_logs = self.spans.count - spans_before, self._log_count() - logs_before
        return {
            "call_ns": call_ns,
            "stream_open_ns": open_ns,
            "stream_end_ns": end_ns,
            "chunk_ns": chunk_ns,
            "chat_cpu_ns": chat_cpu,
            "stream_cpu_ns": stream_cpu,
            "chunks_per_stream": chunks_seen,
            "chat_spans": chat_spans,
            "chat_logs": chat_logs,
            "stream_spans": stream_spans,
            "stream_logs": stream_logs,
        }

    def summary(self) -> dict[str, Any]:
        data = self.metric_reader.get_metrics_data()
        names = sorted(
            {
                metric.name
                for resource in (data.resource_metrics if data else ())
                for scope in resource.scope_metrics
                for metric in scope.metrics
            }
        )
        return {
            "span_names": sorted(self.spans.names),
            "metric_names": names,
            "content_keys": sorted(self.spans.content_keys),
        }


def main() -> None:
    peer, fixtures_path = sys.argv[1], sys.argv[2]
    with open(fixtures_path, encoding="utf-8") as handle:
        fixtures = json.load(handle)
    bench = Bench(peer, fixtures)
    bench.run(WARMUP_CALLS, WARMUP_STREAMS)
    ready = dict(bench.info, peer=peer, pid=os.getpid(), **bench.summary())
    print("READY " + json.dumps(ready), flush=True)
    for line in _commands():
        parts = line.split()
        if parts[0] == "run":
            print(json.dumps(bench.run(int(parts[1]), int(parts[2]))), flush=True)
        elif parts[0] == "profile":
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
            bench.run(int(parts[1]), int(parts[2]))
            profiler.disable()
            profiler.dump_stats(parts[3])
            print(json.dumps({"profile": parts[3]}), flush=True)
        elif parts[0] == "summary":
            print(json.dumps(bench.summary()), flush=True)
        elif parts[0] == "quit":
            break


def _commands() -> Iterator[str]:
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


if __name__ == "__main__":
    main()
