"""End to end: `opentelemetry-instrument` loads our entry point; real OTLP/HTTP export reaches a receiver."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

APP = Path(__file__).with_name("e2e_app.py")
INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")
REPO_ROOT = Path(__file__).resolve().parents[3]
CASSETTE = (
    REPO_ROOT / ".." / "shared" / "cassettes" / "openai" / "chat_streaming_include_usage_gpt4.yaml"
).resolve()


class OTLPReceiver(ThreadingHTTPServer):
    """Collects the spans of every ExportTraceServiceRequest POSTed to /v1/traces."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[tuple[str, object]] = []  # (scope name, span)
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: OTLPReceiver

    def log_message(self, format, *args):
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = 404
        if self.path == "/v1/traces" and self.headers.get("Content-Type") == "application/x-protobuf":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with self.server.lock:
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        self.server.spans.extend((scope_spans.scope.name, s) for s in scope_spans.spans)
            status = 200
        payload = ExportTraceServiceResponse().SerializeToString()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    server = OTLPReceiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


KEPT = {"genai_lens_openai", "genai_lens_anthropic"}


def unrelated_instrumentors() -> list[str]:
    """Every other installed instrumentor (RAG frameworks, other vendors): disabled to keep the run small."""
    return sorted({ep.name for ep in entry_points(group="opentelemetry_instrumentor")} - KEPT)


def run_app(receiver: OTLPReceiver, disabled: list[str]) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OTEL_")  # a developer's shell must not change the outcome
    }
    env.update(
        OTEL_SERVICE_NAME="genai-lens-e2e",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"http://127.0.0.1:{receiver.server_address[1]}/v1/traces",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=",".join(disabled + unrelated_instrumentors()),
        OTEL_BSP_SCHEDULE_DELAY="50",
    )
    result = subprocess.run(
        [str(INSTRUMENT), sys.executable, str(APP), str(CASSETTE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "reply='\"This is a test.\"'" in result.stdout, result.stdout
    return result


def test_zero_code_instrumentation_exports_genai_spans(receiver):
    assert INSTRUMENT.is_file() and CASSETTE.is_file()
    run_app(receiver, disabled=["genai_lens_anthropic"])  # only ours is loaded
    by_name = {span.name: (scope, span) for scope, span in receiver.spans}
    assert set(by_name) == {"handle-request", "chat gpt-4"}
    scope, llm = by_name["chat gpt-4"]
    _, parent = by_name["handle-request"]
    assert scope == "genai_lens.instrumentation.openai"
    assert llm.parent_span_id == parent.span_id and llm.trace_id == parent.trace_id
    attributes = {a.key: a.value for a in llm.attributes}
    assert attributes["gen_ai.provider.name"].string_value == "openai"
    assert attributes["gen_ai.usage.output_tokens"].int_value == 5
    assert attributes["gen_ai.response.model"].string_value == "gpt-4-0613"
    assert attributes["genai_lens.stream.end_reason"].string_value == "exhausted"
    assert "gen_ai.input.messages" not in attributes  # content stays off without the env var


def test_our_entry_point_can_be_disabled_on_its_own(receiver):
    run_app(receiver, disabled=["genai_lens_openai"])  # genai_lens_anthropic stays enabled
    # the pipeline works (the app's own span arrives) but no GenAI span is made
    assert [span.name for _, span in receiver.spans] == ["handle-request"]
