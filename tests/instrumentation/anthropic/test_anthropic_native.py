"""One span per call when anthropic (>= 2) traces its calls itself; our span when its tracing is off.

With native tracing on, the exported spans must hold exactly one GenAI span per call (the SDK's, scope
``com.anthropic.sdk.python``), our metrics must still be there, and the SDK span carries what we add.
On an SDK without native tracing (0.x/1.x), the same client setup must give our own span instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import anthropic
import pytest
from anthropic_support import (
    NATIVE_SUPPORTED,
    async_client_for,
    client_for,
    expected_stream_usage,
    expected_usage,
    genai_spans,
    native_options,
    request_body,
)
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.trace import StatusCode

from genai_lens.instrumentation.anthropic.native import native_tracing_active

SDK_SCOPE = "com.anthropic.sdk.python"
OUR_SCOPE = "genai_lens.instrumentation.anthropic"
BASIC = "anthropic/messages_create_claude3opus.yaml"
STREAM = "anthropic/messages_streaming_claude3haiku.yaml"
CACHE = "anthropic/messages_prompt_caching_write_then_read.yaml"
TOOLS_STREAM = "anthropic/messages_tool_use_streaming_claude35sonnet.yaml"


def token_sums(metric_points):
    sums: dict[str, int] = {}
    for point in metric_points().get("gen_ai.client.token.usage", []):
        kind = point.attributes[genai.GEN_AI_TOKEN_TYPE]
        sums[kind] = sums.get(kind, 0) + point.sum
    return sums


def test_default_client_without_sdk_provider_gets_our_span(instrumented, replay, spans):
    """No global SDK tracer provider: the SDK's spans would be dropped, so ours is the span."""
    server = replay(BASIC)
    client = client_for(server)
    assert native_tracing_active(client) is False
    client.messages.create(**request_body(BASIC))
    found = genai_spans(spans())
    assert [s.instrumentation_scope.name for s in found] == [OUR_SCOPE]


if NATIVE_SUPPORTED:

    def test_detection_follows_the_sdk_switches(replay, tracer_provider):
        server = replay(BASIC)
        assert native_tracing_active(client_for(server, **native_options(tracer_provider))) is True
        assert native_tracing_active(client_for(server, open_telemetry=False)) is False
        disabled = {"tracer_provider": tracer_provider, "traces": False}
        assert native_tracing_active(client_for(server, open_telemetry=disabled)) is False

    def test_native_on_one_span_per_call_sync(instrumented, replay, spans, metric_points, tracer_provider):
        server = replay(BASIC, STREAM)
        client = client_for(server, **native_options(tracer_provider))
        outer_tracer = tracer_provider.get_tracer("app")
        with outer_tracer.start_as_current_span("app-request") as outer:
            client.messages.create(**request_body(BASIC))
            for _ in client.messages.create(**request_body(STREAM)):
                pass
            body = request_body(STREAM)
            body.pop("stream")
            with client.messages.stream(**body) as helper:
                helper.get_final_message()

        found = genai_spans(spans())
        assert len(found) == 3  # three calls, three spans
        assert {s.instrumentation_scope.name for s in found} == {SDK_SCOPE}
        assert not [s for s in spans() if s.instrumentation_scope.name == OUR_SCOPE]
        for span in found:  # the SDK span keeps the application's span as its parent
            assert span.parent is not None and span.parent.span_id == outer.get_span_context().span_id

        plain, streamed, helped = found
        assert list(plain.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ["end_turn"]
        assert list(streamed.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ["end_turn"]
        assert list(helped.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ["end_turn"]
        usage = expected_stream_usage(STREAM)
        assert streamed.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["output"]

        sums = token_sums(metric_points)
        assert sums["input"] == expected_usage(BASIC)["input"] + 2 * usage["input"]
        assert sums["output"] == expected_usage(BASIC)["output"] + 2 * usage["output"]
        durations = metric_points()["gen_ai.client.operation.duration"]
        assert sum(p.count for p in durations) == 3
        assert sum(p.count for p in metric_points()["gen_ai.client.operation.time_to_first_chunk"]) == 2

    def test_native_on_one_span_per_call_async(instrumented, replay, spans, metric_points, tracer_provider):
        server = replay(BASIC, TOOLS_STREAM)

        async def calls():
            client = async_client_for(server, **native_options(tracer_provider))
            await client.messages.create(**request_body(BASIC))
            stream = await client.messages.create(**request_body(TOOLS_STREAM))
            async for _ in stream:
                pass

        asyncio.run(calls())
        found = genai_spans(spans())
        assert len(found) == 2
        assert {s.instrumentation_scope.name for s in found} == {SDK_SCOPE}
        assert list(found[1].attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ["tool_use"]
        assert token_sums(metric_points)["output"] == (
            expected_usage(BASIC)["output"] + expected_stream_usage(TOOLS_STREAM)["output"]
        )

    def test_native_on_cache_tokens(instrumented, replay, spans, metric_points, tracer_provider):
        server = replay(CACHE)
        client_for(server, **native_options(tracer_provider)).messages.create(**request_body(CACHE))
        (span,) = genai_spans(spans())
        usage = expected_usage(CACHE)
        assert span.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage["input"]  # the SDK's own sum
        assert span.attributes[genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == usage["cache_creation"]
        assert token_sums(metric_points)["input"] == usage["input"]

    def test_native_on_content_only_when_our_switch_is_on(
        instrument, replay, spans, tracer_provider, monkeypatch
    ):
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
        instrument()
        server = replay(CACHE)
        client_for(server, **native_options(tracer_provider)).messages.create(**request_body(CACHE))
        (span,) = genai_spans(spans())
        system = json.loads(span.attributes[genai.GEN_AI_SYSTEM_INSTRUCTIONS])
        assert system[0]["content"] == request_body(CACHE)["system"][0]["text"]
        output = json.loads(span.attributes[genai.GEN_AI_OUTPUT_MESSAGES])
        assert output[0]["finish_reason"] == "end_turn"

    def test_native_on_stream_content_only_when_our_switch_is_on(
        instrument, replay, spans, tracer_provider, monkeypatch
    ):
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
        instrument()
        server = replay(TOOLS_STREAM)
        client = client_for(server, **native_options(tracer_provider))
        for _ in client.messages.create(**request_body(TOOLS_STREAM)):
            pass
        (span,) = genai_spans(spans())
        assert span.instrumentation_scope.name == SDK_SCOPE
        inputs = json.loads(span.attributes[genai.GEN_AI_INPUT_MESSAGES])
        assert inputs[0]["parts"][0]["content"] == request_body(TOOLS_STREAM)["messages"][0]["content"]
        (answer,) = json.loads(span.attributes[genai.GEN_AI_OUTPUT_MESSAGES])
        assert answer["finish_reason"] == "tool_use"
        assert [p["type"] for p in answer["parts"]].count("tool_call") >= 1

    def test_native_on_without_our_switch_adds_no_content(instrumented, replay, spans, tracer_provider):
        server = replay(TOOLS_STREAM)
        client = client_for(server, **native_options(tracer_provider))
        for _ in client.messages.create(**request_body(TOOLS_STREAM)):
            pass
        (span,) = genai_spans(spans())
        assert genai.GEN_AI_INPUT_MESSAGES not in span.attributes
        assert genai.GEN_AI_OUTPUT_MESSAGES not in span.attributes

    def test_native_on_error_one_span_and_error_metric(
        instrumented, replay, spans, metric_points, tracer_provider
    ):
        server = replay(
            "anthropic/legacy_text_completion_claude_instant.yaml"
        )  # nothing answers /v1/messages
        client = client_for(server, **native_options(tracer_provider))
        with pytest.raises(anthropic.InternalServerError):
            client.messages.create(**request_body(BASIC))
        (span,) = genai_spans(spans())
        assert span.instrumentation_scope.name == SDK_SCOPE
        assert span.status.status_code is StatusCode.ERROR
        (duration,) = metric_points()["gen_ai.client.operation.duration"]
        assert duration.attributes["error.type"] == "InternalServerError"

    def test_native_off_by_client_option_gets_our_full_span(
        instrumented, replay, spans, metric_points, tracer_provider
    ):
        server = replay(STREAM)
        client = client_for(server, open_telemetry=False)
        for _ in client.messages.create(**request_body(STREAM)):
            pass
        (span,) = genai_spans(spans())
        assert span.instrumentation_scope.name == OUR_SCOPE
        assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_stream_usage(STREAM)["output"]
        assert span.attributes[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] >= 0

    def test_global_provider_and_env_switch(replay):
        """A global SDK provider turns the SDK's tracing on; ``ANTHROPIC_OPEN_TELEMETRY=false`` turns it off.

        The global provider can be set once per process, so each case runs in a fresh interpreter.
        """
        server = replay(BASIC)
        results = {}
        for label, env_value in (("default", None), ("disabled", "false")):
            env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_OPEN_TELEMETRY"}
            if env_value is not None:
                env["ANTHROPIC_OPEN_TELEMETRY"] = env_value
            completed = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _GLOBAL_PROVIDER_SCRIPT,
                    server.base_url,
                    json.dumps(request_body(BASIC)),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=Path(__file__).resolve().parents[3],
            )
            assert completed.returncode == 0, completed.stderr
            results[label] = json.loads(completed.stdout.strip().splitlines()[-1])
        assert results["default"] == {"scopes": [SDK_SCOPE], "metric_calls": 1}
        assert results["disabled"] == {"scopes": [OUR_SCOPE], "metric_calls": 1}

    _GLOBAL_PROVIDER_SCRIPT = textwrap.dedent(
        """
        import json, sys
        import anthropic
        from opentelemetry import trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from genai_lens.instrumentation.anthropic import AnthropicInstrumentor

        exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        AnthropicInstrumentor().instrument(meter_provider=MeterProvider(metric_readers=[reader]))
        client = anthropic.Anthropic(base_url=sys.argv[1], api_key="k", max_retries=0)
        client.messages.create(**json.loads(sys.argv[2]))
        scopes = [s.instrumentation_scope.name for s in exporter.get_finished_spans()
                  if s.attributes.get("gen_ai.operation.name")]
        calls = 0
        for rm in reader.get_metrics_data().resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name == "gen_ai.client.operation.duration":
                        calls += sum(p.count for p in m.data.data_points)
        print(json.dumps({"scopes": scopes, "metric_calls": calls}))
        """
    )
