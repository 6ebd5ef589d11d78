"""Fixtures shared by the instrumentation tests: in-memory OTel providers and cassette replay servers.

Real parts only: the SDK's in-memory exporter/reader capture what our instrumentors emit, and a loopback
``ReplayServer`` answers real client libraries with recorded provider traffic from ``../shared/cassettes``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from genai_lens.instrumentation._genai.content import CAPTURE_CONTENT_ENV
from genai_lens.replay import ReplayServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = (REPO_ROOT / ".." / "shared").resolve()
CASSETTES = SHARED / "cassettes"
SCHEMAS = SHARED / "span-samples" / "otel-genai-schemas"


def cassette(relative: str) -> Path:
    """Path of a shared cassette, e.g. ``cassette("openai/chat_basic_gpt35.yaml")``."""
    path = CASSETTES / relative
    assert path.is_file(), f"missing cassette {path}"
    return path


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader: InMemoryMetricReader) -> Iterator[MeterProvider]:
    provider = MeterProvider(metric_readers=[metric_reader])
    yield provider
    provider.shutdown()


@pytest.fixture
def no_content_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure a developer's shell setting cannot turn content capture on by accident."""
    monkeypatch.delenv(CAPTURE_CONTENT_ENV, raising=False)


@pytest.fixture
def replay() -> Iterator[Callable[..., ReplayServer]]:
    """Factory: ``replay("openai/x.yaml", ...)`` returns a started server, stopped at teardown."""
    servers: list[ReplayServer] = []

    def start(*relative: str, **options: Any) -> ReplayServer:
        server = ReplayServer([cassette(r) for r in relative], **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> Callable[[], list[ReadableSpan]]:
    """``spans()`` returns the spans finished so far."""
    return lambda: list(span_exporter.get_finished_spans())


@pytest.fixture
def metric_points(metric_reader: InMemoryMetricReader) -> Callable[[], dict[str, list[Any]]]:
    """``metric_points()`` collects now and returns histogram data points by metric name (all scopes)."""

    def collect() -> dict[str, list[Any]]:
        points: dict[str, list[Any]] = {}
        data = metric_reader.get_metrics_data()
        if data is None:
            return points
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    points.setdefault(metric.name, []).extend(metric.data.data_points)
        return points

    return collect


@pytest.fixture(scope="session")
def genai_schemas() -> dict[str, Any]:
    """JSON Schemas of ``gen_ai.input.messages`` / ``gen_ai.output.messages`` keyed by attribute name."""
    return {
        "gen_ai.input.messages": json.loads((SCHEMAS / "gen-ai-input-messages.json").read_text()),
        "gen_ai.output.messages": json.loads((SCHEMAS / "gen-ai-output-messages.json").read_text()),
    }
