"""Bounded fuzzing of both receivers: whatever arrives, the answer is a clean OTLP answer, never a 5xx.

The service runs in-process (real receivers on loopback, the default stages, a loopback backend) so
hypothesis can send a few hundred requests in seconds.
"""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Iterator

import grpc
import pytest
from google.rpc import status_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from serve_helpers import HttpBackend, encode_spans, http_exporter, make_spans

from genai_lens.server.config import build_config
from genai_lens.server.service import Service

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    backend = HttpBackend().start()
    config = build_config(
        {
            "receivers": {
                "otlp": {
                    "protocols": {"grpc": {"endpoint": "127.0.0.1:0"}, "http": {"endpoint": "127.0.0.1:0"}},
                    "max_request_bytes": "256KiB",
                }
            },
            "exporters": http_exporter(backend),
            "service": {"admin": {"endpoint": "127.0.0.1:0"}, "shutdown_timeout": "5s"},
        },
        {},
    )
    svc = Service(config)
    svc.start()
    yield svc
    svc.stop()
    backend.stop()


VALID = encode_spans(
    make_spans(
        3, {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 7, "gen_ai.operation.name": "chat"}
    )
).SerializeToString()

any_values = st.one_of(
    st.builds(lambda v: AnyValue(string_value=v), st.text(max_size=50)),
    st.builds(lambda v: AnyValue(int_value=v), st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: AnyValue(double_value=v), st.floats()),
    st.builds(lambda v: AnyValue(bool_value=v), st.booleans()),
    st.builds(lambda v: AnyValue(bytes_value=v), st.binary(max_size=20)),
)
gen_ai_keys = st.sampled_from(
    [
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.system",
        "llm.model_name",
        "gen_ai.input.messages",
        "gen_ai.usage.cost",
        "llm.token_count.prompt",
        "openinference.span.kind",
        "gen_ai.prompt.0.content",
    ]
)


@st.composite
def structured_requests(draw: st.DrawFn) -> bytes:
    """Well-formed protobuf with odd contents: ids of any length, GenAI keys with values of any type."""
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    for _ in range(draw(st.integers(1, 4))):
        span = Span(
            trace_id=draw(st.binary(min_size=16, max_size=16) | st.binary(max_size=17)),
            span_id=draw(st.binary(min_size=8, max_size=8) | st.binary(max_size=9)),
            name=draw(st.text(max_size=30)),
            start_time_unix_nano=draw(st.integers(0, 2**64 - 1)),
            end_time_unix_nano=draw(st.integers(0, 2**64 - 1)),
        )
        for key, value in draw(
            st.lists(st.tuples(st.one_of(gen_ai_keys, st.text(max_size=20)), any_values), max_size=6)
        ):
            span.attributes.append(KeyValue(key=key, value=value))
        scope_spans.spans.append(span)
    return request.SerializeToString()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
json_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda span: json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode(),
        st.dictionaries(
            st.sampled_from(
                [
                    "traceId",
                    "spanId",
                    "name",
                    "kind",
                    "startTimeUnixNano",
                    "attributes",
                    "status",
                    "parentSpanId",
                    "links",
                    "events",
                ]
            ),
            json_values,
        ),
    ),
)
protobuf_bodies = st.one_of(st.binary(max_size=600), mutated(), structured_requests())


def _http(service: Service, body: bytes, content_type: str, encoding: str | None) -> tuple[int, dict, bytes]:
    host, port = service.addresses["http"].rsplit(":", 1)
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("POST", "/v1/traces", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@FUZZ
@given(
    kind=st.sampled_from(["protobuf", "json"]),
    data=st.data(),
    encoding=st.sampled_from([None, "gzip", "gzip-truncated"]),
)
def test_http_receiver_answers_any_input_cleanly(
    service: Service, kind: str, data: st.DataObject, encoding: str | None
) -> None:
    body = data.draw(protobuf_bodies if kind == "protobuf" else json_bodies)
    content_type = "application/x-protobuf" if kind == "protobuf" else "application/json"
    if encoding is not None:
        body = gzip.compress(body)
        if encoding == "gzip-truncated":
            body = body[: max(1, len(body) // 2)]
        encoding = "gzip"
    status, headers, answer = _http(service, body, content_type, encoding)
    assert status in (200, 400, 413), status
    if kind == "json":
        parsed = json.loads(answer)
        assert isinstance(parsed, dict)
        if status != 200:
            assert parsed["message"]
    elif status == 200:
        ExportTraceServiceResponse.FromString(answer)
    else:
        assert status_pb2.Status.FromString(answer).message


@FUZZ
@given(body=protobuf_bodies)
def test_grpc_receiver_answers_any_input_cleanly(service: Service, body: bytes) -> None:
    with grpc.insecure_channel(service.addresses["grpc"]) as channel:
        export = channel.unary_unary(
            EXPORT, request_serializer=None, response_deserializer=ExportTraceServiceResponse.FromString
        )
        try:
            export(body, timeout=10)
        except grpc.RpcError as error:
            assert error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
            assert error.details()


def test_service_still_healthy_after_fuzzing(service: Service) -> None:
    status, _, answer = _http(service, VALID, "application/x-protobuf", None)
    assert status == 200
    assert service.health() == (True, "")
    assert service.stats.get("genai_lens_requests_total", protocol="http", outcome="error") == 0
    assert service.stats.get("genai_lens_requests_total", protocol="grpc", outcome="error") == 0
    assert (
        service.stats.get("genai_lens_requests_total", protocol="grpc", outcome="ok") > 0
    )  # stages were reached
    errors = {
        labels: v for m, _, _, labels, v in service.stats.snapshot() if m == "genai_lens_stage_errors_total"
    }
    print("stage errors seen while fuzzing (contained, batch forwarded):", errors)
