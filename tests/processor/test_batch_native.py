"""The native core's request holder (``genai_lens_native.Batch``) against upb, the Python path's decoder.

Decode, re-encode and span validation must give what the Python path gives on the same bytes: the
benchmark payload, the peers' span dumps, crafted bad ids and arbitrary bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genai_lens_native
import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from genai_lens.processor.native_pipeline import NativePlan
from genai_lens.server.otlp_codec import reject_invalid_spans

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "processor" / "normalize"))

from normalize_samples import dump_requests  # noqa: E402
from payload import build_requests  # noqa: E402


def _upb(data: bytes) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest.FromString(data)


def test_round_trip_equals_upb_on_the_benchmark_payload_and_the_dumps() -> None:
    for data in build_requests(3) + dump_requests():
        out = genai_lens_native.Batch(data).encode()
        assert _upb(out) == _upb(data)


def test_span_count() -> None:
    (data,) = build_requests(1)
    assert genai_lens_native.Batch(data).span_count() == 512


def _with_ids(*ids: tuple[bytes, bytes, bytes]) -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    for n, (trace_id, span_id, parent) in enumerate(ids):
        spans.add(name=f"s{n}", trace_id=trace_id, span_id=span_id, parent_span_id=parent)
    return request.SerializeToString()


GOOD = (b"\x01" * 16, b"\x02" * 8, b"")


@pytest.mark.parametrize(
    "ids",
    [
        [GOOD, GOOD],
        [GOOD, (b"\x01" * 15, b"\x02" * 8, b""), (b"\x00" * 16, b"\x02" * 8, b"")],
        [(b"\x01" * 16, b"\x00" * 8, b""), GOOD, (b"\x01" * 16, b"\x02" * 8, b"\x00" * 8)],
        [(b"\x01" * 16, b"\x02" * 8, b"\x03" * 7), (b"", b"", b"")],
    ],
)
def test_reject_invalid_spans_matches_the_python_path(ids: list[tuple[bytes, bytes, bytes]]) -> None:
    data = _with_ids(*ids)
    expected = _upb(data)
    python_answer = reject_invalid_spans(expected)
    batch = genai_lens_native.Batch(data)
    assert batch.reject_invalid_spans() == python_answer
    assert _upb(batch.encode()) == expected


def test_malformed_bytes_raise_value_error() -> None:
    (data,) = build_requests(1)
    for bad in (data[: len(data) // 2], b"\xff\xff\xff", b"\x0a\x05abc"):
        with pytest.raises(ValueError, match="malformed OTLP protobuf"):
            genai_lens_native.Batch(bad)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_alike(data: bytes) -> None:
    """The native decoder accepts what upb accepts, and both agree on what it holds.

    One known difference: a field with the wrong wire type is an unknown field to upb but an error to the
    native decoder, so bytes that only parse that way are rejected (400) on the native path.
    """
    try:
        expected = _upb(data)
    except DecodeError:
        expected = None
    try:
        out = genai_lens_native.Batch(data).encode()
    except ValueError:
        if expected is not None:
            before = expected.SerializeToString()
            expected.DiscardUnknownFields()
            assert expected.SerializeToString() != before, "native rejected a clean OTLP request"
        return
    assert expected is not None
    expected.DiscardUnknownFields()  # the native core keeps only the fields OTLP defines
    assert _upb(out) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            Span,
            name=st.text(max_size=20),
            trace_id=st.binary(max_size=17),
            span_id=st.binary(max_size=9),
            parent_span_id=st.binary(max_size=9),
        ),
        max_size=6,
    )
)
def test_arbitrary_ids_are_rejected_alike(spans: list[Span]) -> None:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.extend(spans)
    data = request.SerializeToString()
    batch = genai_lens_native.Batch(data)
    assert batch.reject_invalid_spans() == reject_invalid_spans(request)
    assert _upb(batch.encode()) == request


def test_no_plan_without_a_native_stage() -> None:
    class PythonOnly:
        def native_step(self) -> None:
            return None

    assert NativePlan.build(["x"], [PythonOnly()]) is None  # type: ignore[list-item]
