"""End to end: OTel SDK exporters → ``genai-lens serve`` (subprocess) → loopback OTLP backend."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExportResult
from serve_helpers import (
    base_config,
    encode_spans,
    grpc_exporter,
    http_exporter,
    make_spans,
    sdk_export,
    span_ids,
)

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def post(
    address: str,
    body: bytes,
    content_type: str = "application/x-protobuf",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(
            "POST", "/v1/traces", body=body, headers={"Content-Type": content_type, **(headers or {})}
        )
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def grpc_call(
    address: str, payload: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> tuple[Any, str, dict]:
    """A raw Export call: (status code, details, trailing metadata)."""
    with grpc.insecure_channel(address) as channel:
        export = channel.unary_unary(
            EXPORT, request_serializer=None, response_deserializer=ExportTraceServiceResponse.FromString
        )
        try:
            response, call = export.with_call(payload, timeout=10, metadata=metadata)
        except grpc.RpcError as error:
            return error.code(), error.details(), dict(error.trailing_metadata() or ())
        return grpc.StatusCode.OK, response, dict(call.trailing_metadata() or ())


def valid_payload(count: int = 2) -> tuple[bytes, list[str]]:
    spans = make_spans(count)
    return encode_spans(spans).SerializeToString(), span_ids(spans)


# -- delivery ------------------------------------------------------------------------------------------


def test_grpc_sdk_to_http_backend_with_env_headers_and_gzip(serve, http_backend) -> None:
    config = base_config(http_exporter(http_backend, headers={"x-honeycomb-team": "${env:HC_KEY}"}))
    server = serve(config, env={"HC_KEY": "secret-key-123"})
    spans = make_spans(5)
    assert sdk_export("grpc", server.grpc, spans) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(5)
    assert sorted(http_backend.received) == sorted(span_ids(spans))
    assert http_backend.headers[0]["x-honeycomb-team"] == "secret-key-123"
    assert http_backend.headers[0]["content-encoding"] == "gzip"
    assert server.wait_metric("genai_lens_spans_forwarded_total", 5) == 5
    assert server.metric("genai_lens_spans_received_total", protocol="grpc") == 5


def test_http_sdk_to_grpc_backend_with_metadata(serve, grpc_backend) -> None:
    server = serve(base_config(grpc_exporter(grpc_backend, headers={"x-tenant": "acme"})))
    spans = make_spans(4)
    assert sdk_export("http", server.http, spans) == SpanExportResult.SUCCESS
    assert grpc_backend.wait_for(4)
    assert sorted(grpc_backend.received) == sorted(span_ids(spans))
    assert grpc_backend.headers[0]["x-tenant"] == "acme"


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_backend_outage_then_recovery_delivers_every_span_exactly_once(
    serve, http_backend, grpc_backend, kind
) -> None:
    backend = http_backend if kind == "http" else grpc_backend
    exporter = http_exporter(backend) if kind == "http" else grpc_exporter(backend)
    backend.fail(count=-1, status=503 if kind == "http" else grpc.StatusCode.UNAVAILABLE)
    server = serve(base_config(exporter))
    batches = [make_spans(10) for _ in range(3)]
    for batch in batches:
        assert sdk_export("grpc", server.grpc, batch) == SpanExportResult.SUCCESS
    deadline = time.monotonic() + 20
    while backend.failed_requests < 3 and time.monotonic() < deadline:  # the outage is seen and retried
        time.sleep(0.02)
    backend.recover()
    expected = {sid for batch in batches for sid in span_ids(batch)}
    assert backend.wait_for(30)
    assert backend.failed_requests >= 1
    assert sorted(backend.received) == sorted(expected)  # every span once: no loss, no duplicate
    assert server.wait_metric("genai_lens_spans_forwarded_total", 30) == 30
    assert server.metric("genai_lens_export_attempts_total", outcome="retryable_error") >= 1
    assert server.metric("genai_lens_spans_dropped_total") == 0


def test_permanent_error_is_dropped_with_reason_and_not_retried(serve, http_backend) -> None:
    http_backend.fail(count=1, status=400)
    server = serve(base_config(http_exporter(http_backend)))
    assert sdk_export("http", server.http, make_spans(4)) == SpanExportResult.SUCCESS
    assert server.wait_metric("genai_lens_spans_dropped_total", 4, reason="http_400") == 4
    assert http_backend.requests == 1
    later = make_spans(2)
    assert sdk_export("http", server.http, later) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(2)
    assert http_backend.unique() == set(span_ids(later))


def test_retry_after_from_backend_is_honored(serve, http_backend) -> None:
    http_backend.fail(count=1, status=(429, 1))
    server = serve(base_config(http_exporter(http_backend)))
    started = time.monotonic()
    assert sdk_export("http", server.http, make_spans(1)) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(1)
    assert time.monotonic() - started >= 0.9  # the 50ms backoff was replaced by the server's Retry-After: 1
    assert http_backend.requests == 2


def test_sigterm_delivers_queued_spans_before_exit(serve, http_backend) -> None:
    http_backend.fail(count=-1, status=503)
    server = serve(base_config(http_exporter(http_backend)))
    spans = make_spans(20)
    assert sdk_export("http", server.http, spans) == SpanExportResult.SUCCESS
    assert server.wait_metric("genai_lens_export_attempts_total", 1, outcome="retryable_error") >= 1
    assert server.metric("genai_lens_queue_spans") == 20
    threading.Timer(0.7, http_backend.recover).start()
    server.signal(signal.SIGTERM)
    assert server.wait(30) == 0
    assert sorted(http_backend.received) == sorted(span_ids(spans))
    assert "every accepted span was delivered" in server.stderr()


def test_kill_9_with_persistent_queue_replays_on_restart(serve, http_backend, tmp_path: Path) -> None:
    http_backend.fail(count=-1, status=503)
    config = base_config(
        http_exporter(http_backend), queue={"directory": str(tmp_path / "q"), "fsync": "always"}
    )
    server = serve(config)
    batches = [make_spans(5) for _ in range(3)]
    for batch in batches:
        assert sdk_export("grpc", server.grpc, batch) == SpanExportResult.SUCCESS  # accepted = on disk
    server.kill()
    assert http_backend.unique() == set()
    assert list((tmp_path / "q" / "worker-0" / "queue").glob("segment-*.log"))
    http_backend.recover()
    restarted = serve(config)
    expected = {sid for batch in batches for sid in span_ids(batch)}
    assert http_backend.wait_for(15)
    assert http_backend.unique() == expected
    assert restarted.metric("genai_lens_queue_replayed_spans_total") == 15
    # once acknowledged, a further restart replays nothing
    assert restarted.wait_metric("genai_lens_spans_forwarded_total", 15) == 15
    assert restarted.stop() == 0
    third = serve(config)
    assert third.metric("genai_lens_queue_replayed_spans_total") == 0


def test_sigterm_with_backend_down_keeps_spans_on_disk(serve, http_backend, tmp_path: Path) -> None:
    http_backend.fail(count=-1, status=503)
    config = base_config(
        http_exporter(http_backend),
        queue={"directory": str(tmp_path / "q")},
        service={"shutdown_timeout": "500ms"},
    )
    server = serve(config)
    spans = make_spans(6)
    assert sdk_export("http", server.http, spans) == SpanExportResult.SUCCESS
    server.signal(signal.SIGTERM)
    assert server.wait(30) == 0
    assert "6 spans kept in the disk queue for the next start" in server.stderr()
    assert http_backend.unique() == set()
    http_backend.recover()
    serve(config)
    assert http_backend.wait_for(6)
    assert http_backend.unique() == set(span_ids(spans))


def test_full_queue_answers_backpressure_and_the_sdk_retry_delivers(serve, http_backend) -> None:
    http_backend.fail(count=-1, status=503)
    config = base_config(http_exporter(http_backend), queue={"max_bytes": 100, "retry_after": "1s"})
    server = serve(config)
    first, first_ids = valid_payload(3)
    assert post(server.http, first)[0] == 200  # an empty queue takes one request
    status, headers, body = post(server.http, valid_payload(1)[0])
    assert status == 429
    assert headers["retry-after"] == "1"
    detail = status_pb2.Status.FromString(body)
    assert detail.code == code_pb2.RESOURCE_EXHAUSTED
    info = error_details_pb2.RetryInfo()
    assert detail.details[0].Unpack(info) and info.retry_delay.seconds == 1
    code, _, trailers = grpc_call(server.grpc, valid_payload(1)[0])
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (
        error_details_pb2.RetryInfo.FromString(trailers["google.rpc.retryinfo-bin"]).retry_delay.seconds == 1
    )
    assert server.get("/healthz")[0] == 503
    assert server.metric("genai_lens_spans_refused_total", reason="queue_full") == 2

    threading.Timer(1.5, http_backend.recover).start()
    http_spans, grpc_spans = make_spans(2), make_spans(2)
    results: dict[str, SpanExportResult] = {}
    senders = [
        threading.Thread(
            target=lambda: results.__setitem__("http", sdk_export("http", server.http, http_spans))
        ),
        threading.Thread(
            target=lambda: results.__setitem__("grpc", sdk_export("grpc", server.grpc, grpc_spans))
        ),
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(40)
    assert results == {"http": SpanExportResult.SUCCESS, "grpc": SpanExportResult.SUCCESS}
    expected = set(first_ids) | set(span_ids(http_spans)) | set(span_ids(grpc_spans))
    assert http_backend.wait_for(len(expected))
    assert http_backend.unique() == expected
    assert server.get("/healthz")[0] == 200


# -- input handling ---------------------------------------------------------------------------------


def test_garbage_and_truncated_input_is_rejected_and_service_keeps_serving(serve, http_backend) -> None:
    server = serve(base_config(http_exporter(http_backend)))
    payload, _ = valid_payload(3)
    for body, content_type in [
        (b"\xff\xfe garbage \x00\x01", "application/x-protobuf"),
        (payload[: len(payload) // 2], "application/x-protobuf"),
        (b'{"resourceSpans": [', "application/json"),
        (b'{"resourceSpans": "nope"}', "application/json"),
        (b"[1, 2]", "application/json"),
    ]:
        status, headers, body_out = post(server.http, body, content_type)
        assert status == 400, body
        if content_type == "application/json":
            assert json.loads(body_out)["code"] == code_pb2.INVALID_ARGUMENT
        else:
            message = status_pb2.Status.FromString(body_out).message
            assert "malformed protobuf" in message
    # a body shorter than its Content-Length (client gives up mid-send)
    host, port = server.http.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("POST", "/v1/traces")
    conn.putheader("Content-Type", "application/x-protobuf")
    conn.putheader("Content-Length", str(len(payload)))
    conn.endheaders()
    conn.send(payload[:10])
    conn.sock.shutdown(1)
    assert conn.getresponse().status == 400
    conn.close()
    assert post(server.http, payload, "text/plain")[0] == 415
    for body in (b"\xff\xfe garbage", payload[: len(payload) // 2]):
        code, details, _ = grpc_call(server.grpc, body)
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert "malformed protobuf" in details
    good = make_spans(2)
    assert sdk_export("grpc", server.grpc, good) == SpanExportResult.SUCCESS
    assert sdk_export("http", server.http, make_spans(1)) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(3)
    assert server.metric("genai_lens_requests_total", outcome="invalid") == 8


def test_otlp_json_with_hex_ids_and_enum_ints(serve, http_backend) -> None:
    server = serve(base_config(http_exporter(http_backend)))
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-app"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "manual"},
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "parentSpanId": "eee19b7ec3c1b173",
                                "name": "chat gpt-4o",
                                "kind": 3,
                                "startTimeUnixNano": "1544712660000000000",
                                "endTimeUnixNano": "1544712661000000000",
                                "attributes": [
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}}
                                ],
                                "status": {"code": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    status, headers, body = post(server.http, json.dumps(document).encode(), "application/json")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {}
    assert http_backend.wait_for(1)
    assert http_backend.received == ["eee19b7ec3c1b174"]
    assert http_backend.attributes["eee19b7ec3c1b174"]["gen_ai.usage.input_tokens"] == 12


def test_partial_success_over_both_protocols(serve, http_backend) -> None:
    server = serve(base_config(http_exporter(http_backend)))
    request = encode_spans(make_spans(3))
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[1].trace_id = b"\x01\x02\x03"
    good = {spans[0].span_id.hex(), spans[2].span_id.hex()}
    status, _, body = post(server.http, request.SerializeToString())
    assert status == 200
    partial = ExportTraceServiceResponse.FromString(body).partial_success
    assert partial.rejected_spans == 1
    assert "invalid trace_id length (got 3 bytes, want 16)" in partial.error_message
    code, response, _ = grpc_call(server.grpc, request.SerializeToString())
    assert code == grpc.StatusCode.OK
    assert response.partial_success.rejected_spans == 1
    document = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {"traceId": "zz", "spanId": "eee19b7ec3c1b174", "name": "bad hex"},
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b175",
                                "name": "ok",
                            },
                        ]
                    }
                ]
            }
        ]
    }
    status, _, body = post(server.http, json.dumps(document).encode(), "application/json")
    assert status == 200
    assert json.loads(body)["partialSuccess"]["rejectedSpans"] in ("1", 1)
    assert http_backend.wait_for(3)
    assert http_backend.unique() == good | {"eee19b7ec3c1b175"}
    assert server.metric("genai_lens_spans_rejected_total") == 3


def test_gzip_bodies_and_size_limits(serve, http_backend) -> None:
    config = base_config(
        http_exporter(http_backend),
        receivers={
            "otlp": {
                "protocols": {"grpc": {"endpoint": "127.0.0.1:0"}, "http": {"endpoint": "127.0.0.1:0"}},
                "max_request_bytes": "64KiB",
            }
        },
    )
    server = serve(config)
    payload, ids = valid_payload(3)
    assert post(server.http, gzip.compress(payload), headers={"Content-Encoding": "gzip"})[0] == 200
    bomb = gzip.compress(b"\x00" * (50 * 1024 * 1024))
    assert len(bomb) < 64 * 1024
    status, _, body = post(server.http, bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413
    assert "decompressed body exceeds max_request_bytes" in status_pb2.Status.FromString(body).message
    assert post(server.http, b"\x00" * (65 * 1024))[0] == 413
    assert post(server.http, gzip.compress(payload)[:-8], headers={"Content-Encoding": "gzip"})[0] == 400
    big = encode_spans(make_spans(1, {"blob": "x" * (70 * 1024)})).SerializeToString()
    assert grpc_call(server.grpc, big)[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (
        sdk_export("grpc", server.grpc, make_spans(1), compression=grpc.Compression.Gzip)
        == SpanExportResult.SUCCESS
    )
    assert http_backend.wait_for(4)
    assert set(ids) <= http_backend.unique()


def test_bearer_token_auth(serve, http_backend) -> None:
    config = base_config(
        http_exporter(http_backend),
        receivers={
            "otlp": {
                "protocols": {"grpc": {"endpoint": "127.0.0.1:0"}, "http": {"endpoint": "127.0.0.1:0"}},
                "auth": {"bearer_token": "${env:LENS_TOKEN}"},
            }
        },
    )
    server = serve(config, env={"LENS_TOKEN": "s3cret"})
    payload, _ = valid_payload(1)
    status, headers, _ = post(server.http, payload)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert post(server.http, payload, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert grpc_call(server.grpc, payload)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert (
        grpc_call(server.grpc, payload, (("authorization", "Bearer nope"),))[0]
        == grpc.StatusCode.UNAUTHENTICATED
    )
    auth = {"authorization": "Bearer s3cret"}
    assert sdk_export("http", server.http, make_spans(1), headers=auth) == SpanExportResult.SUCCESS
    assert sdk_export("grpc", server.grpc, make_spans(1), headers=auth) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(2)
    assert http_backend.unique().isdisjoint(set()) and len(http_backend.received) == 2


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_tls_on_both_receivers(serve, http_backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):  # requests lets these override the exporter's CA file
        monkeypatch.delenv(name, raising=False)
    cert, key = _self_signed(tmp_path)
    tls = {"cert_file": str(cert), "key_file": str(key)}
    config = base_config(
        http_exporter(http_backend),
        receivers={
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": "127.0.0.1:0", "tls": tls},
                    "http": {"endpoint": "127.0.0.1:0", "tls": tls},
                }
            }
        },
    )
    server = serve(config)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    port = server.grpc.rsplit(":", 1)[1]
    grpc_exp = GrpcExporter(
        endpoint=f"localhost:{port}", credentials=grpc.ssl_channel_credentials(cert.read_bytes()), timeout=20
    )
    http_exp = HttpExporter(
        endpoint=f"https://localhost:{server.http.rsplit(':', 1)[1]}/v1/traces",
        certificate_file=str(cert),
        timeout=20,
    )
    try:
        assert grpc_exp.export(make_spans(2)) == SpanExportResult.SUCCESS
        assert http_exp.export(make_spans(2)) == SpanExportResult.SUCCESS
    finally:
        grpc_exp.shutdown()
        http_exp.shutdown()
    assert http_backend.wait_for(4)
    with pytest.raises(ConnectionError):
        post(server.http, valid_payload(1)[0])  # plaintext to a TLS port gets no OTLP answer


# -- pipeline ----------------------------------------------------------------------------------------------


def test_failing_stage_is_counted_and_the_batch_still_goes_through_later_stages(serve, http_backend) -> None:
    config = base_config(
        http_exporter(http_backend),
        processors={"serve_test_stages:TagStage": {"value": "after-explosion"}},
        service={
            "pipeline": {"processors": ["serve_test_stages:ExplodingStage", "serve_test_stages:TagStage"]}
        },
    )
    server = serve(config)
    spans = make_spans(3)
    assert sdk_export("grpc", server.grpc, spans) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(3)
    attrs = http_backend.attributes
    assert all(attrs[sid]["test.tag"] == "after-explosion" for sid in span_ids(spans))
    assert sum(1 for sid in span_ids(spans) if attrs[sid].get("test.exploding_stage_saw")) == 1
    assert (
        server.metric(
            "genai_lens_stage_errors_total", stage="serve_test_stages:ExplodingStage", error="RuntimeError"
        )
        == 1
    )
    assert server.metric("genai_lens_test_tagged_total", tag="after-explosion") == 3
    assert server.metric("genai_lens_stage_seconds_total", stage="serve_test_stages:TagStage") > 0
    assert "boom" not in server.stderr()  # exception class only, never its message


def test_default_pipeline_and_console_exporter_out_of_the_box(serve) -> None:
    server = serve(
        None,
        "--grpc-endpoint",
        "127.0.0.1:0",
        "--http-endpoint",
        "127.0.0.1:0",
        "--admin-endpoint",
        "127.0.0.1:0",
    )
    assert "processors=redact,normalize,cost,anomaly" in server.stderr()
    secret = "my card is 4111 1111 1111 1111 and my email is jane@example.com"
    spans = make_spans(
        2,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 300,
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": secret}]}]
            ),
        },
    )
    assert sdk_export("http", server.http, spans) == SpanExportResult.SUCCESS
    deadline = time.monotonic() + 20
    while server.stdout().count("\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = server.stdout().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "model=gpt-4o-mini-2024-07-18" in line and "in=1200" in line and "out=300" in line
        assert "cost=$" in line and "cost=$0.000000" not in line
    assert "4111" not in server.stdout() + server.stderr()
    assert "jane@example.com" not in server.stdout() + server.stderr()
    assert server.wait_metric("genai_lens_spans_forwarded_total", 2) == 2
    metrics = server.get("/metrics")[1]
    for stage in ("normalize", "redact", "cost", "anomaly"):
        assert f'genai_lens_stage_seconds_total{{stage="{stage}"}}' in metrics
    assert server.metric("genai_lens_cost_usd_total", model="gpt-4o-mini-2024-07-18") > 0  # stage metric


@pytest.mark.parametrize("scheme", ["http", "grpc"])
def test_forward_flag_selects_the_exporter(serve, http_backend, grpc_backend, scheme) -> None:
    if scheme == "http":
        url, backend = f"http://127.0.0.1:{http_backend.port}", http_backend  # path defaults to /v1/traces
    else:
        url, backend = f"grpc://{grpc_backend.endpoint}", grpc_backend
    server = serve(base_config(), "--forward", url)
    spans = make_spans(3)
    assert sdk_export("grpc", server.grpc, spans) == SpanExportResult.SUCCESS
    assert backend.wait_for(3)
    assert backend.unique() == set(span_ids(spans))


# -- admin ------------------------------------------------------------------------------------------------


def test_healthz_and_metrics(serve, http_backend) -> None:
    server = serve(base_config(http_exporter(http_backend)))
    assert server.get("/healthz") == (200, "ok\n")
    assert server.get("/nope")[0] == 404
    assert sdk_export("grpc", server.grpc, make_spans(3)) == SpanExportResult.SUCCESS
    assert server.wait_metric("genai_lens_spans_forwarded_total", 3) == 3
    status, text = server.get("/metrics")
    assert status == 200
    assert "# TYPE genai_lens_queue_bytes gauge" in text
    assert "# TYPE genai_lens_spans_received_total counter" in text
    metrics = server.metrics()
    assert metrics[("genai_lens_spans_received_total", frozenset({("protocol", "grpc")}))] == 3
    assert metrics[("genai_lens_queue_bytes", frozenset())] == 0
    assert metrics[("genai_lens_queue_max_bytes", frozenset())] == 64 * 1024 * 1024
    assert metrics[("genai_lens_export_latency_seconds_count", frozenset())] >= 1
    assert metrics[("genai_lens_export_latency_seconds_sum", frozenset())] > 0
    assert metrics[("genai_lens_requests_total", frozenset({("protocol", "grpc"), ("outcome", "ok")}))] == 1


# -- multi-core ---------------------------------------------------------------------------------------------


def test_two_workers_share_the_ports_and_a_crashed_worker_is_restarted(serve, http_backend) -> None:
    server = serve(base_config(http_exporter(http_backend)), "--workers", "2", wait_for="workers=2")
    expected: set[str] = set()
    for _ in range(40):  # a new exporter (new connection, new source port) per request
        spans = make_spans(1)
        expected |= set(span_ids(spans))
        assert sdk_export("http", server.http, spans) == SpanExportResult.SUCCESS
        if all(server.metric("genai_lens_spans_received_total", worker=w) > 0 for w in ("0", "1")):
            break
    assert server.metric("genai_lens_spans_received_total", worker="0") > 0
    assert server.metric("genai_lens_spans_received_total", worker="1") > 0
    assert http_backend.wait_for(len(expected))
    assert server.get("/healthz")[0] == 200
    pids = [int(p) for p in server.addresses["worker_pids"].split(",")]
    os.kill(pids[0], signal.SIGKILL)
    assert server.wait_metric("genai_lens_worker_restarts_total", 1, worker="0") == 1
    deadline = time.monotonic() + 20
    while server.get("/healthz")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.get("/healthz")[0] == 200
    assert sdk_export("grpc", server.grpc, make_spans(2)) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(len(expected) + 2)
    assert server.stop() == 0


@pytest.mark.parametrize("scheme", ["https", "grpcs"])
def test_exporter_over_tls_to_a_tls_receiver(serve, http_backend, tmp_path: Path, scheme: str) -> None:
    """A second genai-lens with TLS receivers is the TLS backend; the first forwards to it (CA checked)."""
    cert, key = _self_signed(tmp_path)
    tls = {"cert_file": str(cert), "key_file": str(key)}
    relay = serve(
        base_config(
            http_exporter(http_backend),
            receivers={
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": "127.0.0.1:0", "tls": tls},
                        "http": {"endpoint": "127.0.0.1:0", "tls": tls},
                    }
                }
            },
        )
    )
    if scheme == "https":
        exporter = {
            "otlphttp": {
                "endpoint": f"https://localhost:{relay.http.rsplit(':', 1)[1]}",
                "tls": {"ca_file": str(cert)},
                "retry": {"initial_interval": "50ms"},
            }
        }
    else:
        exporter = {
            "otlp": {
                "endpoint": f"grpcs://localhost:{relay.grpc.rsplit(':', 1)[1]}",
                "tls": {"ca_file": str(cert)},
                "retry": {"initial_interval": "50ms"},
            }
        }
    front = serve(base_config(exporter))
    spans = make_spans(3)
    assert sdk_export("grpc", front.grpc, spans) == SpanExportResult.SUCCESS
    assert http_backend.wait_for(3)
    assert http_backend.unique() == set(span_ids(spans))
    assert front.metric("genai_lens_spans_dropped_total") == 0
