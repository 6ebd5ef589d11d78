"""The whole serve path with the native core against the same path in Python, request for request.

Two ``Ingest`` instances with the default stages (redact, normalize, cost, anomaly) take the same
OTLP/protobuf bodies, one through ``genai_lens_native`` and one with ``GENAI_LENS_NATIVE=off``; what each
queues for export and what each counts must be the same. The bodies run in sequence, so the anomaly
baselines evolve alike on both sides.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genai_lens_native  # noqa: F401 - a missing extension fails collection, never skips
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_lens.processor.native_pipeline import SWITCH
from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageContext
from genai_lens.processor.stats import Stats
from genai_lens.server.config import DEFAULT_PROCESSORS
from genai_lens.server.ingest import Ingest
from genai_lens.server.queue import BoundedQueue

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "processor" / "normalize"))

from normalize_samples import dump_requests  # noqa: E402
from payload import build_requests  # noqa: E402

TIMING = "genai_lens_stage_seconds_total"  # wall time per stage differs by nature


def _ingest(native: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Ingest, Stats, BoundedQueue]:
    with monkeypatch.context() as env:
        if not native:
            env.setenv(SWITCH, "off")
        stats = Stats()
        names = list(DEFAULT_PROCESSORS)
        pipeline = build_pipeline([(name, {}) for name in names], StageContext(stats=stats))
        queue = BoundedQueue(1 << 40, stats)
        ingest = Ingest(pipeline, names, queue, stats, retry_after=1.0)
    return ingest, stats, queue


def _bodies() -> list[bytes]:
    return build_requests(6) + dump_requests()


def _queued(queue: BoundedQueue) -> ExportTraceServiceRequest:
    items = queue.take(1 << 40, 1 << 40, 0.0, 0.0)
    queue.ack(items)
    return ExportTraceServiceRequest.FromString(b"".join(item.payload for item in items))


def _counts(stats: Stats) -> list[tuple[str, tuple[tuple[str, str], ...], float]]:
    return [(m, labels, value) for m, _kind, _help, labels, value in stats.snapshot() if m != TIMING]


def test_native_plan_covers_the_default_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    native, _, _ = _ingest(True, monkeypatch)
    python, _, _ = _ingest(False, monkeypatch)
    assert native.native is not None
    assert [name for name, _ in native.native.native] == list(DEFAULT_PROCESSORS)
    assert native.native.python == []
    assert python.native is None


def test_native_and_python_paths_queue_the_same_spans_and_count_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    native, native_stats, native_queue = _ingest(True, monkeypatch)
    python, python_stats, python_queue = _ingest(False, monkeypatch)
    bodies = _bodies()
    assert len(bodies) > 10
    for n, body in enumerate(bodies):
        batch = native.decode(body, "protobuf")
        assert type(batch).__module__ == "genai_lens_native", "the native path was not taken"
        assert native.accept(batch, "http", len(body)).accepted
        assert python.accept(python.decode(body, "protobuf"), "http", len(body)).accepted
        assert _queued(native_queue) == _queued(python_queue), f"request {n} differs"
    assert _counts(native_stats) == _counts(python_stats)
    redacted = sum(v for m, _, v in _counts(native_stats) if m == "genai_lens_redactions_total")
    assert redacted > 1000  # the payload's PII was found, on both sides


def test_malformed_body_gets_the_python_paths_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from genai_lens.server.otlp_codec import PayloadError

    native, _, _ = _ingest(True, monkeypatch)
    python, _, _ = _ingest(False, monkeypatch)
    (body,) = build_requests(1)
    messages = []
    for ingest in (native, python):
        with pytest.raises(PayloadError) as caught:
            ingest.decode(body[:-7], "protobuf")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
