"""A loopback OTLP/HTTP trace receiver that keeps every span it gets.

It stands in for a tracing backend where one is needed without running one: the demo's backend, and a
receiver tests and benchmarks can point exporters at. Protobuf bodies only (what the OTel SDK and
``genai-lens serve`` send), gzip accepted.
"""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans


class SpanSink:
    """``with SpanSink() as sink:`` — POST OTLP to ``sink.url``; read ``sink.resource_spans``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.resource_spans: list[ResourceSpans] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._last_receive = 0.0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet: never print span content
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                try:
                    request = ExportTraceServiceRequest.FromString(body)
                except Exception:  # noqa: BLE001 - any decode failure is the sender's error
                    self.send_response(400)
                    self.end_headers()
                    return
                sink._receive(request)
                payload = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="span-sink", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1/traces"

    def _receive(self, request: ExportTraceServiceRequest) -> None:
        with self._changed:
            self.resource_spans.extend(request.resource_spans)
            self._last_receive = time.monotonic()
            self._changed.notify_all()

    def span_count(self) -> int:
        with self._lock:
            return sum(len(ss.spans) for rs in self.resource_spans for ss in rs.scope_spans)

    def wait_quiet(self, quiet_s: float = 0.5, timeout_s: float = 10.0) -> int:
        """Wait until nothing has arrived for ``quiet_s`` (or ``timeout_s`` passed); return the span count."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                idle = time.monotonic() - self._last_receive
            if self._last_receive and idle >= quiet_s:
                break
            time.sleep(0.05)
        return self.span_count()

    def __enter__(self) -> SpanSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
