"""The anthropic SDK's own spans (scope ``com.anthropic.sdk.python``), produced for real, then normalized.

No dump of these spans exists in span-samples, so the test makes them: the installed anthropic SDK (2.x,
which traces itself whenever it is given a tracer provider) calls a loopback ``ReplayServer`` serving the
shared cassettes, the SDK's spans are encoded by the OTLP exporter's own encoder, and the stage runs on
that protobuf request. Expected values come from the cassette's recorded responses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import jsonschema
import pytest
from normalize_samples import CASSETTES, SCHEMAS, attrs, load_json, recorded_call
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import NormalizeStage
from genai_lens.processor.pipeline import span_views
from genai_lens.replay import ReplayServer, load_cassette
from genai_lens.semconv import GENAI_LENS_NORMALIZE_SOURCE_DIALECT

OUTPUT_SCHEMA = jsonschema.Draft202012Validator(load_json(SCHEMAS / "gen-ai-output-messages.json"))
INPUT_SCHEMA = jsonschema.Draft202012Validator(load_json(SCHEMAS / "gen-ai-input-messages.json"))
OTEL_FINISH = {"end_turn": "stop", "tool_use": "tool_call", "max_tokens": "length"}


@pytest.fixture
def exporter() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    yield provider, spans
    provider.shutdown()


def native_spans(
    cassette: str, exporter: tuple[TracerProvider, InMemorySpanExporter]
) -> ExportTraceServiceRequest:
    """Replay every request of ``cassette`` through the real client; the SDK's spans as an OTLP request."""
    provider, spans = exporter
    path = CASSETTES / cassette
    with ReplayServer([path]) as server:
        client = anthropic.Anthropic(
            base_url=server.base_url,
            api_key="test-key",
            max_retries=0,
            open_telemetry={"tracer_provider": provider, "traces": {"content_mode": "content"}},
        )
        for interaction in load_cassette(path):
            body = dict(interaction.request_json)
            if body.pop("stream", False):
                with client.messages.stream(**body) as stream:
                    for _ in stream:
                        pass
            else:
                client.messages.create(**body)
    return encode_spans(spans.get_finished_spans())


@pytest.mark.parametrize(
    "cassette",
    [
        "anthropic/messages_prompt_caching_write_then_read.yaml",
        "anthropic/messages_streaming_claude3haiku.yaml",
        "anthropic/messages_tool_use_claude35sonnet.yaml",
    ],
)
def test_native_spans_match_the_recorded_calls(
    cassette: str, exporter: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    request = native_spans(cassette, exporter)
    spans = span_views(request)
    assert spans and all(s.scope.name == "com.anthropic.sdk.python" for s in spans)
    NormalizeStage().process_batch(spans)
    for span in spans:
        values = attrs(span)
        call = recorded_call(f"shared/cassettes/{cassette}", values[ga.GEN_AI_RESPONSE_ID])
        assert values[GENAI_LENS_NORMALIZE_SOURCE_DIALECT] == "anthropic_native"
        # The SDK already reports the total; the normalizer must not add the cache a second time.
        assert values[ga.GEN_AI_USAGE_INPUT_TOKENS] == call.input_total
        assert values.get(ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, 0) == call.cache_creation
        assert values.get(ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0) == call.cache_read
        assert values[ga.GEN_AI_USAGE_OUTPUT_TOKENS] == call.output
        assert values[ga.GEN_AI_RESPONSE_FINISH_REASONS] == [OTEL_FINISH[r] for r in call.finish_reasons]
        assert values[ga.GEN_AI_REQUEST_MODEL] == call.request["model"]
        assert span.span.name == f"chat {call.request['model']}"
        outputs = json.loads(values[ga.GEN_AI_OUTPUT_MESSAGES])
        OUTPUT_SCHEMA.validate(outputs)
        assert outputs[0]["finish_reason"] == OTEL_FINISH[call.finish_reasons[0]]
        INPUT_SCHEMA.validate(json.loads(values[ga.GEN_AI_INPUT_MESSAGES]))
        # the source names stay by default
        assert values["anthropic.message.stop_reason"] == call.finish_reasons[0]


def test_native_cache_write_name_is_replaced_when_originals_are_dropped(
    exporter: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    request = native_spans("anthropic/messages_prompt_caching_write_then_read.yaml", exporter)
    spans = span_views(request)
    NormalizeStage(keep_original=False).process_batch(spans)
    first = attrs(spans[0])
    call = recorded_call(
        "shared/cassettes/anthropic/messages_prompt_caching_write_then_read.yaml",
        first[ga.GEN_AI_RESPONSE_ID],
    )
    assert call.cache_creation > 0
    assert "gen_ai.usage.cache_write.input_tokens" not in first
    assert "anthropic.message.stop_reason" not in first
    assert first[ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == call.cache_creation
    assert first["anthropic.request.id"]  # unmapped vendor attributes are never removed
