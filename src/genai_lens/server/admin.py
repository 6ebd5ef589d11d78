"""Admin endpoint: ``/healthz`` for load balancers and ``/metrics`` in Prometheus text format.

``/metrics`` renders the shared :class:`Stats` registry: the server's own counters (spans received,
forwarded, rejected, refused, dropped by reason; queue bytes; export latency; time and errors per stage)
and whatever the stages count (redactions by type, anomalies by flag, cost by model).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from genai_lens.processor.stats import Stats
from genai_lens.server.httpserver import ThreadedHTTPServer

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Health = Callable[[], tuple[bool, str]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def render_prometheus(stats: Stats, extra_labels: dict[str, str] | None = None) -> str:
    """The Prometheus text exposition (0.0.4) of every series in ``stats``."""
    lines: list[str] = []
    current = None
    for metric, kind, help_text, labels, value in stats.snapshot():
        if metric != current:
            current = metric
            if help_text:
                lines.append(f"# HELP {metric} {help_text}")
            lines.append(f"# TYPE {metric} {kind if kind in ('counter', 'gauge') else 'untyped'}")
        pairs = list(labels) + sorted((extra_labels or {}).items())
        label_text = ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs)
        lines.append(
            f"{metric}{{{label_text}}} {_number(value)}" if label_text else f"{metric} {_number(value)}"
        )
    return "\n".join(lines) + "\n"


class AdminHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "genai-lens"
    sys_version = ""
    timeout = 10
    server: ThreadedHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """No access log."""

    def _send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        state: AdminState = self.server.app
        if path == "/healthz":
            ok, reason = state.health()
            self._send(200 if ok else 503, ("ok" if ok else f"unhealthy: {reason}") + "\n")
        elif path == "/metrics":
            self._send(200, state.metrics(), PROMETHEUS_CONTENT_TYPE)
        else:
            self._send(404, "not found (try /healthz or /metrics)\n")


class AdminState:
    def __init__(self, health: Health, metrics: Callable[[], str]) -> None:
        self.health = health
        self.metrics = metrics


def start_admin(endpoint: str, health: Health, metrics: Callable[[], str]) -> ThreadedHTTPServer:
    server = ThreadedHTTPServer(endpoint, AdminHandler, context=AdminState(health, metrics))
    server.start("genai-lens-admin")
    return server
