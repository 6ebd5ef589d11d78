"""Real parts for the serve tests: loopback OTLP backends, a ``genai-lens serve`` subprocess, SDK senders.

The backends are real OTLP receivers (HTTP and gRPC) that record every span id they get and can be told to
fail for a while (503 / UNAVAILABLE, or any status) — that is how outages and permanent errors are staged.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import yaml
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TIMEOUT = 30.0


# -- spans ----------------------------------------------------------------------------------------


def make_spans(
    count: int, attributes: dict[str, Any] | None = None, name: str = "chat gpt-4o-mini"
) -> list[ReadableSpan]:
    """Finished SDK spans (real ReadableSpans with real ids)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "serve-tests"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("serve-tests")
    for i in range(count):
        with tracer.start_as_current_span(name) as span:
            span.set_attribute("test.index", i)
            for key, value in (attributes or {}).items():
                span.set_attribute(key, value)
    provider.shutdown()
    return list(memory.get_finished_spans())


def span_ids(spans: Iterable[ReadableSpan]) -> list[str]:
    return [format(s.context.span_id, "016x") for s in spans]


def sdk_export(
    protocol: str,
    endpoint: str,
    spans: list[ReadableSpan],
    headers: dict[str, str] | None = None,
    timeout: float = 20,
    **kwargs: Any,
) -> SpanExportResult:
    """Send with the OTel SDK's own OTLP exporter (with its own retries)."""
    exporter: Any
    if protocol == "grpc":
        exporter = GrpcSpanExporter(
            endpoint=endpoint, insecure=True, headers=headers, timeout=timeout, **kwargs
        )
    else:
        exporter = HttpSpanExporter(
            endpoint=f"http://{endpoint}/v1/traces", headers=headers, timeout=timeout, **kwargs
        )
    try:
        return exporter.export(spans)
    finally:
        exporter.shutdown()


def encode_spans(spans: list[ReadableSpan]) -> ExportTraceServiceRequest:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as encode

    return encode(spans)


# -- loopback OTLP backends ---------------------------------------------------------------------------


class Backend:
    """What both backend variants share: recorded spans, requests, headers and staged failures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[str] = []  # span ids in arrival order (duplicates kept)
        self.attributes: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.failed_requests = 0
        self.headers: list[dict[str, str]] = []
        self._fail_count = 0
        self._fail_until = 0.0
        self._fail_status: Any = None
        self.endpoint = ""

    def fail(self, count: int = 0, seconds: float = 0.0, status: Any = None) -> None:
        """Fail the next ``count`` requests, or every request for ``seconds`` (or forever with count=-1)."""
        with self.lock:
            self._fail_count = count
            self._fail_until = time.monotonic() + seconds if seconds else 0.0
            self._fail_status = status

    def recover(self) -> None:
        self.fail(0, 0.0)

    def _failure(self) -> Any:
        with self.lock:
            self.requests += 1
            if self._fail_count == -1 or time.monotonic() < self._fail_until:
                self.failed_requests += 1
                return self._fail_status
            if self._fail_count > 0:
                self._fail_count -= 1
                self.failed_requests += 1
                return self._fail_status
            return None

    def _record(self, request: ExportTraceServiceRequest, headers: dict[str, str]) -> None:
        from genai_lens.processor.span_view import any_to_python

        with self.lock:
            self.headers.append(headers)
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        sid = span.span_id.hex()
                        self.received.append(sid)
                        self.attributes[sid] = {kv.key: any_to_python(kv.value) for kv in span.attributes}

    def wait_for(self, count: int, timeout: float = TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(set(self.received)) >= count:
                    return True
            time.sleep(0.02)
        return False

    def unique(self) -> set[str]:
        with self.lock:
            return set(self.received)


class HttpBackend(Backend):
    def __init__(self) -> None:
        super().__init__()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = backend._failure()
                if status is not None:
                    code, retry_after = status if isinstance(status, tuple) else (status, None)
                    self.send_response(code)
                    if retry_after is not None:
                        self.send_header("Retry-After", str(retry_after))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                backend._record(request, {k.lower(): v for k, v in self.headers.items()})
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}/v1/traces"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def start(self) -> HttpBackend:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def default_status(self) -> int:
        return 503


class GrpcBackend(Backend):
    def __init__(self, port: int = 0) -> None:
        super().__init__()
        self.server = grpc.server(ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)])
        method = grpc.unary_unary_rpc_method_handler(
            self._export,
            request_deserializer=ExportTraceServiceRequest.FromString,
            response_serializer=ExportTraceServiceResponse.SerializeToString,
        )
        self.server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "opentelemetry.proto.collector.trace.v1.TraceService", {"Export": method}
                ),
            )
        )
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.endpoint = f"127.0.0.1:{self.port}"

    def _export(
        self, request: ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> ExportTraceServiceResponse:
        status = self._failure()
        if status is not None:
            context.abort(status or grpc.StatusCode.UNAVAILABLE, "staged failure")
        self._record(request, {k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
        return ExportTraceServiceResponse()

    def start(self) -> GrpcBackend:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(0)


# -- the service under test, as a subprocess ------------------------------------------------------------

_START = re.compile(r"genai-lens serve started: (.*)")


def base_config(exporter: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    """Loopback ephemeral ports, fast retries and flushes, no stages unless a test asks for them."""
    config: dict[str, Any] = {
        "receivers": {
            "otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"}, "http": {"endpoint": "127.0.0.1:0"}}}
        },
        "exporters": exporter or {"console": {}},
        "service": {
            "pipeline": {"processors": []},
            "admin": {"endpoint": "127.0.0.1:0"},
            "shutdown_timeout": "10s",
        },
    }
    for key, value in sections.items():
        if key == "service":
            config["service"].update(value)
        else:
            config[key] = value
    return config


def http_exporter(backend: Backend, **extra: Any) -> dict[str, Any]:
    return {
        "otlphttp": {
            "endpoint": backend.endpoint,
            "retry": {"initial_interval": "50ms", "max_interval": "300ms"},
            "batch": {"flush_interval": "20ms"},
            **extra,
        }
    }


def grpc_exporter(backend: Backend, **extra: Any) -> dict[str, Any]:
    return {
        "otlp": {
            "endpoint": backend.endpoint,
            "tls": {"insecure": True},
            "retry": {"initial_interval": "50ms", "max_interval": "300ms"},
            "batch": {"flush_interval": "20ms"},
            **extra,
        }
    }


class ServeProcess:
    """``genai-lens serve`` in a subprocess; addresses parsed from its one start line."""

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any] | None,
        args: Iterable[str] = (),
        env: dict[str, str] | None = None,
        name: str = "serve",
    ) -> None:
        self.workdir = workdir
        self.name = name
        self.command = [sys.executable, "-m", "genai_lens.cli", "serve"]
        if config is not None:
            path = workdir / f"{name}.yaml"
            path.write_text(yaml.safe_dump(config))
            self.command += ["--config", str(path)]
        self.command += list(args)
        self.env = {
            **os.environ,
            "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.addresses: dict[str, str] = {}
        self._runs = 0

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"{self.name}-{self._runs}.err"

    @property
    def stdout_path(self) -> Path:
        return self.workdir / f"{self.name}-{self._runs}.out"

    def start_no_wait(self) -> ServeProcess:
        self._runs += 1
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=err, env=self.env, cwd=self.workdir
            )
        return self

    def start(self, wait_for: str = "admin=", timeout: float = TIMEOUT) -> ServeProcess:
        self.start_no_wait()
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stderr_path.read_text(errors="replace")
            for line in text.splitlines():
                match = _START.search(line)
                if match and wait_for in line:
                    self.addresses = dict(p.split("=", 1) for p in match.group(1).split() if "=" in p)
                    return self
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{text}")
            time.sleep(0.05)
        raise AssertionError(f"serve did not start in {timeout}s:\n{self.stderr_path.read_text()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def grpc(self) -> str:
        return self.addresses["grpc"]

    @property
    def http(self) -> str:
        return self.addresses["http"]

    @property
    def admin(self) -> str:
        return self.addresses["admin"]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://{self.admin}{path}", timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        status, text = self.get("/metrics")
        assert status == 200
        return parse_prometheus(text)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, lab), v in self.metrics().items() if n == name and wanted <= set(lab))

    def wait_metric(self, name: str, value: float, timeout: float = TIMEOUT, **labels: str) -> float:
        deadline = time.monotonic() + timeout
        current = self.metric(name, **labels)
        while current < value and time.monotonic() < deadline:
            time.sleep(0.05)
            current = self.metric(name, **labels)
        return current

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float = TIMEOUT) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, timeout: float = TIMEOUT) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time (teardown never hangs)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples of a Prometheus text exposition; asserts every non-comment line is well-formed."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"malformed metrics line: {line!r}"
        labels = frozenset(_LABEL.findall(match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genai_lens.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )
