"""Real processes for the collector tests: the built collector, a pass-through middle, `genai-lens serve`.

Every process binds 127.0.0.1 on ports picked by the OS, logs to a file under the test's tmp_path and is
stopped by the fixture that started it. Configs are the shipped files in collector-config/, parameterised
by their environment variables; the only YAML generated here is a small overlay (merged after the shipped
file with a second ``--config``) that swaps the backend for a file exporter and shortens retry timers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "collector-config"
BUILD_SCRIPT = CONFIG_DIR / "build-otelcol"
BUILDER_MANIFEST = CONFIG_DIR / "builder-config.yaml"
STARTUP_TIMEOUT_S = 30.0
DELIVERY_TIMEOUT_S = 45.0
GENAI_INPUT_EMAIL = "jane.doe@example.com"


_reserved_ports: list[socket.socket] = []


def free_port() -> int:
    """A loopback port the OS handed out, held for a child process to listen on.

    The port stays bound here (SO_REUSEADDR, never listening) until ``release_ports``. While it is bound,
    no other process's ``bind(0)`` or outgoing connection gets it, so it can't be taken between now and
    the child's start, or while a child is stopped for a restart. The children (Go's net package, gRPC,
    Python's http.server) bind with SO_REUSEADDR too, which Linux allows next to a non-listening socket.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    _reserved_ports.append(sock)
    return int(sock.getsockname()[1])


def release_ports() -> None:
    """Close every port reservation (after the processes using them have stopped)."""
    while _reserved_ports:
        _reserved_ports.pop().close()


def loopback() -> str:
    return f"127.0.0.1:{free_port()}"


def wait_http_ok(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    """Poll ``url`` until it answers 200; fail with the process log if it exits or never answers."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before {url} was ready:\n{tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout_s}s ({last_error}):\n{tail(log)}")


def tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class ManagedProcess:
    """A child process with its log file; ``stop`` sends SIGTERM and waits, then SIGKILL."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            out.write(f"--- start {self.name}: {' '.join(self.argv)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self.process

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class Collector:
    """The built collector running a shipped config (env vars + optional overlay)."""

    binary: Path
    config: Path
    env: dict[str, str]
    workdir: Path
    overlay: dict[str, Any] | None = None
    name: str = "collector"
    health_endpoint: str = field(default_factory=loopback)
    _proc: ManagedProcess | None = None

    def argv(self) -> list[str]:
        argv = [str(self.binary), "--config", str(self.config)]
        if self.overlay:
            overlay_path = self.workdir / f"{self.name}-overlay.yaml"
            overlay_path.write_text(yaml.safe_dump(self.overlay, sort_keys=False))
            argv += ["--config", str(overlay_path)]
        return argv

    def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            "OTELCOL_HEALTH_ENDPOINT": self.health_endpoint,
            "OTELCOL_METRICS_PORT": str(free_port()),
            **self.env,
        }
        self._proc = ManagedProcess(self.name, self.argv(), env, self.workdir / f"{self.name}.log")
        process = self._proc.start()
        wait_http_ok(f"http://{self.health_endpoint}/", process, self._proc.log, STARTUP_TIMEOUT_S)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"


class Middle(Protocol):
    """What sits between the two pipelines: receives OTLP/gRPC on ``endpoint``, forwards to ``forward_to``."""

    endpoint: str
    log: Path

    def start(self) -> None: ...

    def stop(self) -> None: ...


class PassthroughCollector:
    """A second collector instance that forwards unchanged: the control group for genai-lens."""

    def __init__(self, binary: Path, workdir: Path, name: str, forward_to: str) -> None:
        self.endpoint = loopback()
        self.forward_to = forward_to
        config = workdir / f"{name}.yaml"
        config.write_text(yaml.safe_dump(passthrough_config(), sort_keys=False))
        self._collector = Collector(
            binary,
            config,
            {"PASSTHROUGH_LISTEN": self.endpoint, "PASSTHROUGH_FORWARD": forward_to},
            workdir,
            name=name,
        )
        self.log = self._collector.log

    def start(self) -> None:
        self._collector.start()

    def stop(self) -> None:
        self._collector.stop()


def passthrough_config() -> dict[str, Any]:
    """otlp receiver → otlp_grpc exporter, nothing else (test-only stand-in for genai-lens)."""
    return {
        "extensions": {"health_check": {"endpoint": "${env:OTELCOL_HEALTH_ENDPOINT}"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "${env:PASSTHROUGH_LISTEN}"}}}},
        "exporters": {
            "otlp_grpc": {
                "endpoint": "${env:PASSTHROUGH_FORWARD}",
                "tls": {"insecure": True},
                "sending_queue": {"enabled": False},
                "retry_on_failure": {"enabled": False},
            }
        },
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"level": "none"}},
            "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlp_grpc"]}},
        },
    }


class GenaiLensServe:
    """``genai-lens serve`` from this checkout, per its CLI contract, ready when /healthz answers 200."""

    def __init__(self, workdir: Path, name: str, forward_to: str) -> None:
        self.endpoint = loopback()
        self.http_endpoint = loopback()
        self.admin_endpoint = loopback()
        self.forward_to = forward_to
        self.log = workdir / f"{name}.log"
        argv = [
            sys.executable,
            "-c",
            "import sys; from genai_lens.cli import main; sys.exit(main())",
            "serve",
            "--grpc-endpoint",
            self.endpoint,
            "--http-endpoint",
            self.http_endpoint,
            "--admin-endpoint",
            self.admin_endpoint,
            "--forward",
            f"grpc://{forward_to}",
        ]
        env = {**os.environ, "HOME": str(workdir), "XDG_STATE_HOME": str(workdir / "state")}
        self._proc = ManagedProcess(name, argv, env, self.log)

    def start(self) -> None:
        process = self._proc.start()
        wait_http_ok(f"http://{self.admin_endpoint}/healthz", process, self.log, STARTUP_TIMEOUT_S)

    def stop(self) -> None:
        self._proc.stop()


# --- the file-exporter backend ------------------------------------------------------------------------


def file_backend_overlay(path: Path, exporter_id: str = "file/backend") -> dict[str, Any]:
    return {exporter_id: {"path": str(path), "format": "json", "flush_interval": "100ms"}}


def sandwich_overlay(backend_file: Path) -> dict[str, Any]:
    """Backend → file exporter; short retry and batch timers so failure tests finish in seconds."""
    return {
        "processors": {"batch": {"timeout": "200ms"}},
        "exporters": {
            **file_backend_overlay(backend_file),
            "otlp_grpc/genai_lens": {"retry_on_failure": {"initial_interval": "200ms", "max_interval": "1s"}},
        },
        "service": {"pipelines": {"traces/out": {"exporters": ["file/backend"]}}},
    }


def sandwich_env(queue_dir: Path) -> dict[str, str]:
    """Env for agent.yaml-style configs: fresh loopback ports, a per-test queue directory.
    GENAI_LENS_ENDPOINT (or GENAI_LENS_REPLICAS) is added once the middle tier exists."""
    return {
        "OTELCOL_APPS_GRPC_ENDPOINT": loopback(),
        "OTELCOL_APPS_HTTP_ENDPOINT": loopback(),
        "OTELCOL_ENRICHED_GRPC_ENDPOINT": loopback(),
        "OTELCOL_ENRICHED_HTTP_ENDPOINT": loopback(),
        "OTELCOL_QUEUE_DIR": str(queue_dir),
        # Defined but replaced by the overlay's file exporter in traces/out; never dialled.
        "BACKEND_ENDPOINT": "127.0.0.1:9",
    }


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str


def read_backend(path: Path) -> list[ReceivedSpan]:
    """Every span the file exporter wrote (OTLP/JSON, one ExportTraceServiceRequest per line)."""
    if not path.exists():
        return []
    spans: list[ReceivedSpan] = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line still being written; the next poll reads it whole
        for resource_spans in request.get("resourceSpans", []):
            resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
            for scope_spans in resource_spans.get("scopeSpans", []):
                scope = scope_spans.get("scope", {}).get("name", "")
                for span in scope_spans.get("spans", []):
                    spans.append(
                        ReceivedSpan(
                            trace_id=span["traceId"],
                            span_id=span["spanId"],
                            parent_span_id=span.get("parentSpanId", ""),
                            name=span["name"],
                            kind=int(span.get("kind", 0)),
                            start_ns=int(span.get("startTimeUnixNano", 0)),
                            end_ns=int(span.get("endTimeUnixNano", 0)),
                            status_code=int(span.get("status", {}).get("code", 0)),
                            attributes=_attributes(span.get("attributes", [])),
                            resource=resource,
                            scope=scope,
                        )
                    )
    return spans


def _attributes(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _any_value(item.get("value", {})) for item in items}


def _any_value(value: Mapping[str, Any]) -> Any:
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return tuple(_any_value(v) for v in value["arrayValue"].get("values", []))
    if "kvlistValue" in value:
        return _attributes(value["kvlistValue"].get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def wait_for_spans(
    paths: Sequence[Path],
    expected_ids: set[str],
    timeout_s: float = DELIVERY_TIMEOUT_S,
    settle_s: float = 1.5,
) -> list[ReceivedSpan]:
    """Poll the backend files until every expected span id is there, then once more after ``settle_s``
    so a late duplicate is seen too. Returns everything read (callers assert on it)."""
    deadline = time.monotonic() + timeout_s
    spans: list[ReceivedSpan] = []
    while time.monotonic() < deadline:
        spans = [span for path in paths for span in read_backend(path)]
        if expected_ids <= {span.span_id for span in spans}:
            time.sleep(settle_s)
            return [span for path in paths for span in read_backend(path)]
        time.sleep(0.2)
    return spans


def duplicates(spans: Iterable[ReceivedSpan]) -> dict[str, int]:
    counts = Counter(span.span_id for span in spans)
    return {span_id: n for span_id, n in counts.items() if n > 1}


# --- sending real spans ------------------------------------------------------------------------------


@dataclass
class SentTraces:
    spans: list[ReadableSpan]

    @property
    def span_ids(self) -> set[str]:
        return {span_hex(span) for span in self.spans}

    @property
    def trace_ids(self) -> set[str]:
        return {f"{span.context.trace_id:032x}" for span in self.spans}

    def genai(self) -> list[ReadableSpan]:
        return [span for span in self.spans if "gen_ai.operation.name" in (span.attributes or {})]

    def non_genai(self) -> list[ReadableSpan]:
        return [span for span in self.spans if "gen_ai.operation.name" not in (span.attributes or {})]


def span_hex(span: ReadableSpan) -> str:
    return f"{span.context.span_id:016x}"


def send_traces(endpoint: str, traces: int, service: str = "collector-e2e") -> SentTraces:
    """Send ``traces`` realistic RAG-style traces over OTLP/gRPC with the OTel SDK exporter.

    Each trace: SERVER root → (retrieval span → db child) and a GenAI chat CLIENT span whose input
    contains an e-mail address and whose output stopped at the token limit.
    """
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"http://{endpoint}", insecure=True), schedule_delay_millis=100
        )
    )
    tracer = provider.get_tracer("genai-lens.tests.collector")
    for n in range(traces):
        with tracer.start_as_current_span(
            "POST /chat", kind=SpanKind.SERVER, attributes={"http.request.method": "POST", "request.n": n}
        ):
            with tracer.start_as_current_span("retrieve", attributes={"retrieval.top_k": 4}):
                with tracer.start_as_current_span(
                    "SELECT chunks", kind=SpanKind.CLIENT, attributes={"db.system.name": "postgresql"}
                ):
                    pass
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as chat:
                chat.set_attributes(genai_chat_attributes(n))
                chat.set_status(Status(StatusCode.UNSET))
    if not provider.force_flush(timeout_millis=15_000):
        raise RuntimeError(f"the OTLP exporter could not flush to {endpoint}")
    provider.shutdown()
    return SentTraces(list(memory.get_finished_spans()))


def genai_chat_attributes(n: int) -> dict[str, Any]:
    messages = [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": f"Question {n}: write to {GENAI_INPUT_EMAIL} about my bill"}
            ],
        }
    ]
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 1200 + n,
        "gen_ai.usage.output_tokens": 256,
        "gen_ai.response.finish_reasons": ("length",),
        "gen_ai.input.messages": json.dumps(messages),
    }


def sent_attributes(span: ReadableSpan) -> dict[str, Any]:
    return {
        key: tuple(value) if isinstance(value, list | tuple) else value
        for key, value in span.attributes.items()
    }


def assert_unchanged(sent: ReadableSpan, received: ReceivedSpan) -> None:
    """The span left the pipeline exactly as the SDK sent it (identity, tree, timing, attributes)."""
    parent = f"{sent.parent.span_id:016x}" if sent.parent is not None else ""
    assert received.trace_id == f"{sent.context.trace_id:032x}"
    assert received.parent_span_id == parent, f"parent of {sent.name} changed"
    assert received.name == sent.name
    assert received.kind == sent.kind.value + 1  # OTLP kinds are the SDK enum shifted by one
    assert (received.start_ns, received.end_ns) == (sent.start_time, sent.end_time)
    assert received.attributes == sent_attributes(sent), f"attributes of {sent.name} changed"
    assert received.resource.get("service.name") == sent.resource.attributes["service.name"]


def assert_tree_intact(sent: SentTraces, received: Sequence[ReceivedSpan]) -> None:
    by_id = {span.span_id: span for span in received}
    for span in sent.spans:
        got = by_id[span_hex(span)]
        expected_parent = f"{span.parent.span_id:016x}" if span.parent is not None else ""
        assert got.parent_span_id == expected_parent, f"{span.name}: parent link broken"
        assert got.trace_id == f"{span.context.trace_id:032x}"


# --- Jaeger v2 as the backend ------------------------------------------------------------------------


class JaegerBackend:
    """Jaeger v2 on collector-config/jaeger/jaeger-backend.yaml (in-memory store) on loopback ports."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.otlp_grpc_endpoint = loopback()
        self.query_endpoint = loopback()
        self.health_endpoint = loopback()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "JAEGER_OTLP_GRPC_ENDPOINT": self.otlp_grpc_endpoint,
            "JAEGER_OTLP_HTTP_ENDPOINT": loopback(),
            "JAEGER_QUERY_HTTP_ENDPOINT": self.query_endpoint,
            "JAEGER_QUERY_GRPC_ENDPOINT": loopback(),
            "JAEGER_HEALTH_ENDPOINT": self.health_endpoint,
        }
        argv = [str(binary), "--config", str(CONFIG_DIR / "jaeger" / "jaeger-backend.yaml")]
        self._proc = ManagedProcess("jaeger", argv, env, workdir / "jaeger.log")

    def start(self) -> None:
        process = self._proc.start()
        wait_http_ok(f"http://{self.health_endpoint}/status", process, self._proc.log, STARTUP_TIMEOUT_S)

    def stop(self) -> None:
        self._proc.stop()

    def raw_trace(self, trace_id: str) -> str:
        """One trace exactly as Jaeger's HTTP query API returns it ("" while it is not stored yet)."""
        url = f"http://{self.query_endpoint}/api/traces/{trace_id}"
        try:
            with urllib.request.urlopen(url, timeout=5.0) as response:
                return response.read().decode()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return ""
            raise

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """Spans of one trace from Jaeger's HTTP query API (empty while it is not stored yet)."""
        raw = self.raw_trace(trace_id)
        body = json.loads(raw) if raw else {}
        return [span for trace in body.get("data") or [] for span in trace.get("spans", [])]

    def wait_for_traces(
        self, expected: Mapping[str, int], timeout_s: float = DELIVERY_TIMEOUT_S
    ) -> dict[str, list[dict[str, Any]]]:
        """Poll until each trace id holds at least its expected span count; returns what was read."""
        deadline = time.monotonic() + timeout_s
        found: dict[str, list[dict[str, Any]]] = {}
        while time.monotonic() < deadline:
            found = {trace_id: self.trace(trace_id) for trace_id in expected}
            if all(len(found[trace_id]) >= n for trace_id, n in expected.items()):
                time.sleep(1.0)  # one more read so a late duplicate is counted
                return {trace_id: self.trace(trace_id) for trace_id in expected}
            time.sleep(0.3)
        return found


def jaeger_tags(span: Mapping[str, Any]) -> dict[str, Any]:
    """A Jaeger API span's tags as a dict (Jaeger shows OTLP attributes and some span fields as tags)."""
    return {tag["key"]: tag["value"] for tag in span.get("tags", [])}


def jaeger_parents(span: Mapping[str, Any]) -> list[str]:
    return [ref["spanID"] for ref in span.get("references", []) if ref["refType"] == "CHILD_OF"]


def prometheus_samples(url: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of a Prometheus text endpoint as (name, labels, value)."""
    with urllib.request.urlopen(url, timeout=5.0) as response:
        text = response.read().decode()
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        name, _, label_text = series.partition("{")
        pairs = (pair.partition("=") for pair in _label_pairs(label_text))
        labels = {key: raw.strip('"') for key, _, raw in pairs}
        samples.append((name, labels, float(value)))
    return samples


def _label_pairs(label_text: str) -> list[str]:
    body = label_text.rstrip("}")
    return [pair for pair in body.split(",") if pair] if body else []


def metric_total(samples: Iterable[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    """Sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for sample, have, value in samples
        if sample == name and all(have.get(key) == want for key, want in labels.items())
    )
