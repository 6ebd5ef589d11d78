"""What both receivers do with a decoded request: validate spans, run the stages, enqueue or push back.

Stage failures: a stage that raises is counted (``genai_lens_stage_errors_total{stage,error}``) and the
*remaining stages still run* on the batch as it stands, then the batch is forwarded. Skipping the rest
would be worse: a failing ``cost`` stage must not stop ``redact`` from running after it. Edits the failed
stage made before raising are kept. Nothing of the batch is lost and the receiver keeps serving.

Stages run one batch at a time per process (a lock around the pipeline): the stage contract does not ask
stages to be thread-safe, and under the GIL parallel stage runs would not be faster anyway. Decoding,
validation and encoding stay concurrent; ``--workers N`` is the way to use more cores.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_lens.processor.native_pipeline import NativePlan
from genai_lens.processor.pipeline import Pipeline, span_views
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import Stage
from genai_lens.processor.stats import Stats
from genai_lens.server.otlp_codec import (
    DECODE_ERROR,
    Format,
    PayloadError,
    count_spans,
    decode_request,
    reject_invalid_spans,
)
from genai_lens.server.queue import BoundedQueue

log = logging.getLogger("genai_lens.server")

# What a sender is told when its request cannot be accepted now (it should retry later).
REFUSALS = {
    "queue_full": "queue full: the backend is slow or down; retry later",
    "shutting_down": "shutting down; retry later",
    "disk_error": "cannot persist the request (disk queue error); retry later",
}


@dataclass
class IngestResult:
    accepted: bool  # False: answer "retry later" (queue full, shutting down, disk error)
    rejected_spans: int = 0
    error_message: str = ""
    refusal: str = ""  # why not accepted: queue_full (429 / RESOURCE_EXHAUSTED) or else (503 / UNAVAILABLE)


class Ingest:
    """Shared by the gRPC and HTTP receivers so both behave the same."""

    def __init__(
        self,
        pipeline: Pipeline,
        stage_names: Sequence[str],
        queue: BoundedQueue,
        stats: Stats,
        retry_after: float,
    ) -> None:
        self.pipeline = pipeline
        self.stage_names = list(stage_names)
        self.queue = queue
        self.stats = stats
        self.retry_after = retry_after
        self._pipeline_lock = threading.Lock()
        self.native = NativePlan.build(self.stage_names, self.pipeline.stages)
        """How the native core runs the stages, or ``None`` (not installed, switched off, or no stage can)."""
        stats.describe(
            "genai_lens_spans_received_total",
            "Spans received, by protocol (a refused request counts again on retry).",
        )
        stats.describe("genai_lens_spans_rejected_total", "Spans rejected as invalid (partial success).")
        stats.describe(
            "genai_lens_spans_refused_total", "Spans refused with backpressure; the sender retries."
        )
        stats.describe("genai_lens_requests_total", "Export requests by protocol and outcome.")
        stats.describe("genai_lens_stage_seconds_total", "Time spent in each processor stage.")
        stats.describe(
            "genai_lens_stage_errors_total", "Exceptions raised by a stage (batch forwarded anyway)."
        )

    def request_outcome(self, protocol: str, outcome: str) -> None:
        self.stats.add("genai_lens_requests_total", protocol=protocol, outcome=outcome)

    def decode(self, data: bytes, fmt: Format) -> ExportTraceServiceRequest | Any:
        """The request body decoded: a native ``Batch`` when the native core runs the stages, else upb.

        Raises :class:`PayloadError` (the same message on both paths) when the body is malformed.
        """
        if self.native is not None and fmt == "protobuf":
            try:
                return self.native.decode(data)
            except ValueError:
                raise PayloadError(f"malformed protobuf ExportTraceServiceRequest ({DECODE_ERROR})") from None
        return decode_request(data, fmt)

    def accept(self, request: ExportTraceServiceRequest | Any, protocol: str, wire_size: int) -> IngestResult:
        """Validate, run the stages and queue a decoded request (from :meth:`decode`), or refuse it."""
        native = None if isinstance(request, ExportTraceServiceRequest) else self.native
        if native is None:
            rejected, message = reject_invalid_spans(request)
            spans = count_spans(request)
        else:  # a native Batch (only decode() makes one, and only with a plan)
            rejected, message = request.reject_invalid_spans()
            spans = request.span_count()
        self.stats.add("genai_lens_spans_received_total", spans + rejected, protocol=protocol)
        if rejected:
            self.stats.add("genai_lens_spans_rejected_total", rejected, reason="invalid_id")
        if spans == 0:
            return IngestResult(True, rejected, message)
        if not self.queue.has_room(wire_size):
            return self._refuse(spans, "queue_full")
        if native is None:
            self.run_stages(request)
            payload = request.SerializeToString()
        else:
            payload = self._run_native(native, request, spans)
        refusal = self.queue.offer(payload, spans)
        if refusal is not None:
            return self._refuse(spans, refusal)
        return IngestResult(True, rejected, message)

    def _refuse(self, spans: int, reason: str) -> IngestResult:
        self.stats.add("genai_lens_spans_refused_total", spans, reason=reason)
        return IngestResult(False, refusal=reason)

    def run_stages(self, request: ExportTraceServiceRequest) -> None:
        if not self.pipeline.stages:
            return  # a forwarding-only pipeline: no views to build
        views = span_views(request)
        if not views:
            return
        with self._pipeline_lock:
            self._run_python(zip(self.stage_names, self.pipeline.stages, strict=True), views)

    def _run_native(self, plan: NativePlan, batch: Any, count: int) -> bytes:
        """The native steps on the batch, then the Python stages (if any) on its upb decoding; the payload."""
        with self._pipeline_lock:
            for name, step in plan.native:
                self._run_stage(name, step.run, batch, count)
            if plan.python:
                request = ExportTraceServiceRequest.FromString(batch.encode())
                self._run_python(plan.python, span_views(request))
                return request.SerializeToString()
        return batch.encode()

    def _run_python(self, stages: Iterable[tuple[str, Stage]], views: list[SpanView]) -> None:
        for name, stage in stages:
            self._run_stage(name, stage.process_batch, views, len(views))

    def _run_stage(self, name: str, run: Callable[[Any], None], spans: Any, count: int) -> None:
        started = time.perf_counter()
        try:
            run(spans)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # contain any stage bug: count it, keep the batch moving
            # BaseException, not Exception: a panic in the native core arrives as pyo3's PanicException,
            # which derives from BaseException.
            self.stats.add("genai_lens_stage_errors_total", stage=name, error=type(exc).__name__)
            log.error(
                "processor '%s' raised %s on a batch of %d spans; forwarding the batch",
                name,
                type(exc).__name__,
                count,
            )
        finally:
            self.stats.add("genai_lens_stage_seconds_total", time.perf_counter() - started, stage=name)
