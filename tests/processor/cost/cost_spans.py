"""Test helpers: OTLP export requests built the way the processor receives them.

Spans come from the real OTel SDK and the real OTLP encoder; usage and model names are read from the
recorded provider responses in ``../shared/cassettes``. (A uniquely named module, imported by the tests
in this folder, because helpers in ``conftest.py`` cannot be imported.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from genai_lens.processor.pipeline import Pipeline, span_views
from genai_lens.processor.span_view import SpanView
from genai_lens.replay.cassette import load_cassette

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
CASSETTES = SHARED / "cassettes"


def cassette_bodies(relative: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(request JSON, response JSON) of each JSON interaction in a recorded cassette."""
    pairs = []
    for interaction in load_cassette(CASSETTES / relative):
        if interaction.body[:1] == b"{":
            pairs.append((interaction.request_json or {}, json.loads(interaction.body)))
    assert pairs, f"no JSON interactions in {relative}"
    return pairs


def at(text: str) -> int:
    """Unix nanoseconds of an ISO timestamp (UTC when no offset)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1e9)


class SpanRecorder:
    """Records spans with the SDK; ``request()`` returns them as one OTLP export request."""

    def __init__(self, service: str = "checkout") -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("genai_lens.tests")

    @contextmanager
    def span(self, name: str, attributes: dict[str, Any], start: int | None = None) -> Iterator[trace.Span]:
        span = self.tracer.start_span(name, attributes=attributes, start_time=start)
        with trace.use_span(span, end_on_exit=False):
            yield span
        span.end(end_time=None if start is None else start + 1_500_000_000)

    def add(self, name: str, attributes: dict[str, Any], start: int | None = None) -> None:
        with self.span(name, attributes, start):
            pass

    def request(self) -> ExportTraceServiceRequest:
        request = encode_spans(self.exporter.get_finished_spans())
        self.exporter.clear()
        return request


def run(pipeline: Pipeline, request: ExportTraceServiceRequest) -> list[SpanView]:
    pipeline.process(request)
    return span_views(request)


# -- attributes as our instrumentation emits them from a provider response ---------------------------


def openai_chat_attributes(
    request: dict[str, Any], response: dict[str, Any], provider: str = "openai"
) -> dict:
    usage = response["usage"]
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": request.get("model", response["model"]),
        "gen_ai.response.model": response["model"],
        "gen_ai.usage.input_tokens": usage["prompt_tokens"],
        "gen_ai.usage.output_tokens": usage["completion_tokens"],
        "gen_ai.response.finish_reasons": [c["finish_reason"] for c in response["choices"]],
    }
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached:
        attributes["gen_ai.usage.cache_read.input_tokens"] = cached
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    if reasoning:
        attributes["gen_ai.usage.reasoning.output_tokens"] = reasoning
    if response.get("service_tier"):
        attributes["openai.response.service_tier"] = response["service_tier"]
    return attributes


def anthropic_attributes(request: dict[str, Any], response: dict[str, Any]) -> dict:
    usage = response["usage"]
    cache_write = usage.get("cache_creation_input_tokens") or 0
    cache_read = usage.get("cache_read_input_tokens") or 0
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": request["model"],
        "gen_ai.response.model": response["model"],
        # semconv: input is the total including cache reads and writes
        "gen_ai.usage.input_tokens": usage["input_tokens"] + cache_write + cache_read,
        "gen_ai.usage.output_tokens": usage["output_tokens"],
        "gen_ai.usage.cache_creation.input_tokens": cache_write,
        "gen_ai.usage.cache_read.input_tokens": cache_read,
        "gen_ai.response.finish_reasons": [response["stop_reason"]],
    }


def gemini_attributes(model: str, response: dict[str, Any]) -> dict:
    usage = response["usageMetadata"]
    thoughts = usage.get("thoughtsTokenCount", 0)
    return {
        "gen_ai.operation.name": "generate_content",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.request.model": model,
        "gen_ai.response.model": response.get("modelVersion", model),
        "gen_ai.usage.input_tokens": usage["promptTokenCount"],
        "gen_ai.usage.output_tokens": usage["candidatesTokenCount"] + thoughts,
        "gen_ai.usage.reasoning.output_tokens": thoughts,
    }
