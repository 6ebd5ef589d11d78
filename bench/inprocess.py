"""In-process measurements on one core: the decode+scan+encode ceiling and the serve pipeline without network.

The pipeline loop performs the same steps, with the same functions, as ``Ingest.accept`` on the OTLP/HTTP
path (decode → validate ids → span views → each stage → serialize → queue offer), timing each step so
the report can say where a span's microseconds go. Times are this thread's CPU time
(``time.thread_time``), so other load on a shared machine does not inflate them.
"""

from __future__ import annotations

import cProfile
import gzip
import pstats
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_lens.processor.native_pipeline import NativePlan
from genai_lens.processor.pipeline import span_views
from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageContext
from genai_lens.processor.stats import Stats
from genai_lens.server.otlp_codec import count_spans, decode_request, reject_invalid_spans
from genai_lens.server.queue import BoundedQueue


def _scan_value(value: Any) -> int:
    kind = value.WhichOneof("value")
    if kind is None:
        return 0
    held = getattr(value, kind)
    if kind == "array_value":
        return sum(_scan_value(v) for v in held.values)
    if kind == "kvlist_value":
        return sum(len(kv.key) + _scan_value(kv.value) for kv in held.values)
    return len(held) if isinstance(held, str | bytes) else 1


def full_scan(request: ExportTraceServiceRequest) -> int:
    """Read every key and value of every resource, span and event attribute (what any content-aware
    processor must at least do); returns a size so the work cannot be skipped."""
    total = 0
    for rs in request.resource_spans:
        for kv in rs.resource.attributes:
            total += len(kv.key) + _scan_value(kv.value)
        for ss in rs.scope_spans:
            for span in ss.spans:
                total += len(span.name)
                for kv in span.attributes:
                    total += len(kv.key) + _scan_value(kv.value)
                for event in span.events:
                    for kv in event.attributes:
                        total += len(kv.key) + _scan_value(kv.value)
    return total


def _timed_loop(bodies: Sequence[bytes], seconds: float, step: Callable[[bytes], int]) -> tuple[int, float]:
    """Run ``step`` round-robin for about ``seconds`` of CPU time; return (spans, CPU seconds)."""
    spans = 0
    i = 0
    started = time.thread_time()
    wall_limit = time.monotonic() + 4 * seconds  # a busy shared machine must not stretch the run forever
    while True:
        spans += step(bodies[i % len(bodies)])
        i += 1
        elapsed = time.thread_time() - started
        if (elapsed >= seconds or time.monotonic() > wall_limit) and i >= len(bodies):
            return spans, elapsed


def ceiling_rate(bodies: Sequence[bytes], seconds: float) -> dict[str, float]:
    """Spans/s of protobuf decode + full attribute scan + encode, plus µs/span of each part."""
    parts = {"decode": 0.0, "scan": 0.0, "encode": 0.0}

    def step(body: bytes) -> int:
        t0 = time.thread_time()
        request = ExportTraceServiceRequest.FromString(body)
        t1 = time.thread_time()
        full_scan(request)
        t2 = time.thread_time()
        request.SerializeToString()
        t3 = time.thread_time()
        parts["decode"] += t1 - t0
        parts["scan"] += t2 - t1
        parts["encode"] += t3 - t2
        return count_spans(request)

    spans, elapsed = _timed_loop(bodies, seconds, step)
    return {"spans_per_s": spans / elapsed, **{f"{k}_us": v / spans * 1e6 for k, v in parts.items()}}


class PipelineBench:
    """The serve pipeline (same stage configs as the serve run) driven in-process.

    With ``native=True`` it takes the native core's path as ``Ingest`` does when ``genai_lens_native`` is
    installed (native decode, the native steps, then any Python stages on a upb decoding, native encode).
    """

    def __init__(self, processors: Sequence[tuple[str, dict[str, Any]]], native: bool = False) -> None:
        self.stats = Stats()
        self.names = [name for name, _ in processors]
        self.pipeline = build_pipeline(list(processors), StageContext(stats=self.stats))
        self.plan = NativePlan.build(self.names, self.pipeline.stages) if native else None
        if native and self.plan is None:
            raise RuntimeError("the native core is not installed (or no stage has a native step)")
        self.queue = BoundedQueue(1 << 40, self.stats)
        self.times: dict[str, float] = {}
        self.profilers: dict[str, cProfile.Profile] = {}
        self.last_us_per_span: dict[str, float] = {}  # from the last :meth:`rate`
        self.gzip_seconds = 0.0

    def _add(self, key: str, seconds: float) -> None:
        self.times[key] = self.times.get(key, 0.0) + seconds

    def step(self, body: bytes) -> int:
        if self.plan is not None:
            return self._native_step(self.plan, body)
        t = time.thread_time()
        request = decode_request(body, "protobuf")
        now = time.thread_time()
        self._add("decode", now - t)
        t = now
        reject_invalid_spans(request)
        spans = count_spans(request)
        self.queue.has_room(len(body))
        now = time.thread_time()
        self._add("validate", now - t)
        t = now
        views = span_views(request)
        now = time.thread_time()
        self._add("span_views", now - t)
        for name, stage in zip(self.names, self.pipeline.stages, strict=True):
            now = self._stage(name, stage.process_batch, views, now)
        return self._queue(request.SerializeToString, spans, now)

    def _stage(self, name: str, run: Callable[[Any], None], spans: Any, started: float) -> float:
        """Run one stage (profiled when :meth:`profile` asked for it), add its time; the time after it."""
        profiler = self.profilers.get(name)
        if profiler is not None:
            profiler.enable()
        run(spans)
        if profiler is not None:
            profiler.disable()
        now = time.thread_time()
        self._add(f"stage:{name}", now - started)
        return now

    def _queue(self, encode: Callable[[], bytes], spans: int, started: float) -> int:
        """Encode, queue and hand the request to a consumer, as ``Ingest`` and delivery do; its span count."""
        self.queue.offer(encode(), spans)
        self.queue.ack(self.queue.take(1 << 30, 1 << 40, 0.0, 0.0))
        self._add("encode+queue", time.thread_time() - started)
        return spans

    def _native_step(self, plan: NativePlan, body: bytes) -> int:
        t = time.thread_time()
        batch = plan.decode(body)
        now = time.thread_time()
        self._add("decode", now - t)
        t = now
        batch.reject_invalid_spans()
        spans = batch.span_count()
        self.queue.has_room(len(body))
        now = time.thread_time()
        self._add("validate", now - t)
        for name, native_step in plan.native:
            now = self._stage(name, native_step.run, batch, now)
        if not plan.python:
            return self._queue(batch.encode, spans, now)
        request = ExportTraceServiceRequest.FromString(batch.encode())
        views = span_views(request)
        t, now = now, time.thread_time()
        self._add("to upb+span_views", now - t)
        for name, stage in plan.python:
            now = self._stage(name, stage.process_batch, views, now)
        return self._queue(request.SerializeToString, spans, now)

    def rate(self, bodies: Sequence[bytes], seconds: float, warm_up: bool = True) -> dict[str, Any]:
        if warm_up:  # stage caches, price look-ups, anomaly baselines
            for body in bodies:
                self.step(body)
        self.times.clear()
        spans, elapsed = _timed_loop(bodies, seconds, self.step)
        # gzip of the output, as the exporter does by default (compression: gzip, level 5); not in the rate
        sample = ExportTraceServiceRequest.FromString(bodies[0])
        self.pipeline.process(sample)
        out = sample.SerializeToString()
        t = time.thread_time()
        gzip.compress(out, compresslevel=5)
        gzip_us = (time.thread_time() - t) / count_spans(sample) * 1e6
        self.last_us_per_span = {k: v / spans * 1e6 for k, v in self.times.items()}
        return {
            "spans_per_s": spans / elapsed,
            "us_per_span": dict(self.last_us_per_span),
            "gzip_us": gzip_us,
        }

    def by_kind(self, bodies: Sequence[bytes], seconds: float) -> dict[str, dict[str, float]]:
        """µs/span of each step for each kind of span on its own (requests filtered to one kind).

        Shows what a stage costs on spans it has nothing to do with (HTTP/DB) and per GenAI dialect.
        """
        out: dict[str, dict[str, float]] = {}
        for kind in SPAN_KINDS:
            filtered = [b for b in (only_kind(body, kind) for body in bodies) if b]
            self.times.clear()
            spans, _ = _timed_loop(filtered, seconds, self.step)
            out[kind] = {k: v / spans * 1e6 for k, v in self.times.items()}
        self.times.clear()
        return out

    def profile(self, bodies: Sequence[bytes], seconds: float, out: Path, top: int = 12) -> list[str]:
        """cProfile each stage on its own; return its top functions by own time as report lines.

        cProfile's clock is wall time and it slows Python code 2x or more, so each function is shown as
        its share of the stage's profiled time, and that share applied to the stage's unprofiled CPU
        µs/span from the last :meth:`rate` (``≈ µs/span``).
        """
        self.profilers = {name: cProfile.Profile() for name in self.names}
        spans, _ = _timed_loop(bodies, seconds, self.step)
        lines: list[str] = []
        for name, profiler in self.profilers.items():
            profiler.dump_stats(str(out.with_suffix(f".{name}.pstats")))
            stats = pstats.Stats(profiler)
            rows = []
            for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
                rows.append((tottime, cumtime, ncalls, _short(filename), line, func))
            rows.sort(reverse=True)
            total = stats.total_tt or 1.0  # type: ignore[attr-defined]
            stage_us = self.last_us_per_span.get(f"stage:{name}", 0.0)
            lines.append(f"-- {name}: {stage_us:.1f} µs/span (CPU, unprofiled)")
            lines.append(f"{'own %':>6} {'≈own µs':>8} {'cum %':>6} {'calls/span':>10}  function")
            for tottime, cumtime, ncalls, filename, line, func in rows[:top]:
                lines.append(
                    f"{tottime / total * 100:6.1f} {tottime / total * stage_us:8.2f} "
                    f"{cumtime / total * 100:6.1f} {ncalls / spans:10.2f}  {filename}:{line}:{func}"
                )
        self.profilers = {}
        return lines

    def close(self) -> None:
        self.pipeline.close()


def _short(filename: str) -> str:
    for marker in ("/src/genai_lens/", "/site-packages/", "/lib/python3"):
        if marker in filename:
            return ("genai_lens/" if "genai_lens" in marker else "") + filename.split(marker, 1)[1]
    return filename


SPAN_KINDS = ("http/db", "otel gen_ai", "openllmetry legacy", "openinference")
_SCOPE_KINDS = {
    "genai_lens.instrumentation.openai": "otel gen_ai",
    "opentelemetry.instrumentation.openai.v1": "openllmetry legacy",
    "openinference.instrumentation.openai": "openinference",
}


def only_kind(body: bytes, kind: str) -> bytes:
    """``body`` keeping only the spans of one kind (by instrumentation scope, as ``payload.py`` emits)."""
    request = ExportTraceServiceRequest.FromString(body)
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            if _SCOPE_KINDS.get(ss.scope.name, "http/db") != kind:
                del ss.spans[:]
    return request.SerializeToString() if count_spans(request) else b""
