"""``genai-lens demo``: the whole flow on one machine, with nothing external.

An example app (``genai_lens.demo.app``) runs under ``opentelemetry-instrument`` — instrumented by the
entry points alone — against a loopback server replaying recorded OpenAI and Anthropic responses. Its
spans go over OTLP to an in-process ``genai-lens serve`` pipeline (redact → normalize → cost → anomaly),
which forwards them to a loopback sink; the demo then prints the enriched GenAI spans as a table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from genai_lens.demo.table import genai_rows, print_content_sample, print_table
from genai_lens.replay import ReplayServer
from genai_lens.server.config import build_config
from genai_lens.server.service import Service
from genai_lens.sink import SpanSink

CASSETTES = Path(__file__).parent / "cassettes"


def _instrument_command() -> list[str]:
    """``opentelemetry-instrument`` from this interpreter's environment."""
    beside = Path(sys.executable).parent / "opentelemetry-instrument"
    found = str(beside) if beside.exists() else shutil.which("opentelemetry-instrument")
    if found is None:
        raise SystemExit("genai-lens demo: opentelemetry-instrument not found (pip install genai-lens)")
    return [found, sys.executable, "-m", "genai_lens.demo.app"]


def _serve_config(sink_url: str) -> dict[str, object]:
    return {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:0"}}}},
        "exporters": {"otlphttp": {"endpoint": sink_url, "batch": {"flush_interval": "50ms"}}},
        "service": {"admin": {"endpoint": "127.0.0.1:0"}, "shutdown_timeout": "10s"},
    }


def run_app(otlp_http: str, openai_url: str, anthropic_url: str, capture_content: bool) -> int:
    env = {
        **os.environ,
        "OTEL_SERVICE_NAME": "genai-lens-demo",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://{otlp_http}/v1/traces",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true" if capture_content else "false",
        "OPENAI_BASE_URL": openai_url,
        "ANTHROPIC_BASE_URL": anthropic_url,
    }
    return subprocess.run(_instrument_command(), env=env, timeout=120, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="genai-lens demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-content",
        action="store_true",
        help="leave message content off (the default outside the demo, which records it to show redaction)",
    )
    args = parser.parse_args(argv or [])

    with ReplayServer(sorted(CASSETTES.glob("*.yaml"))) as provider, SpanSink() as sink:
        service = Service(build_config(_serve_config(sink.url)))
        service.start()
        try:
            print(f"loopback provider {provider.base_url}  ->  genai-lens serve {service.addresses['http']}")
            print("running the example app under opentelemetry-instrument:\n")
            status = run_app(
                service.addresses["http"], provider.base_url + "/v1", provider.base_url, not args.no_content
            )
            sink.wait_quiet(quiet_s=0.5, timeout_s=10)
        finally:
            service.stop()
        total = sink.span_count()

    rows = genai_rows(sink.resource_spans)
    print(f"\n{total} spans reached the backend through genai-lens serve; {len(rows)} are GenAI calls:\n")
    print_table(rows)
    if not args.no_content:
        print_content_sample(sink.resource_spans)
    if status != 0:
        print(f"\nthe example app exited with status {status}", file=sys.stderr)
        return status
    return 0 if rows else 1
