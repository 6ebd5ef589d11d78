"""Anthropic ``with_raw_response`` / ``with_streaming_response``: the span carries what the caller read."""

from __future__ import annotations

import asyncio

from anthropic_support import async_client_for, client_for, expected_stream_usage, request_body, response_json
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from genai_lens.semconv import GENAI_LENS_STREAM_END_REASON

BASIC = "anthropic/messages_create_claude3opus.yaml"
STREAM = "anthropic/messages_streaming_claude3haiku.yaml"


def only_span(spans):
    finished = [s for s in spans() if (s.attributes or {}).get("gen_ai.operation.name")]
    assert len(finished) == 1, finished
    return finished[0]


def assert_basic_response(span):
    recorded = response_json(BASIC)
    attrs = span.attributes
    assert attrs[genai.GEN_AI_RESPONSE_ID] == recorded["id"]
    assert attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS] == (recorded["stop_reason"],)
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == recorded["usage"]["output_tokens"]


def test_with_raw_response_span_has_the_parsed_message(instrumented, replay, spans):
    server = replay(BASIC)
    raw = client_for(server).messages.with_raw_response.create(**request_body(BASIC))
    message = raw.parse()
    assert raw.parse() is message  # the SDK's cached parse, shared with ours
    assert_basic_response(only_span(spans))


def test_with_streaming_response_span_waits_for_parse(instrumented, replay, spans):
    server = replay(BASIC)
    with client_for(server).messages.with_streaming_response.create(**request_body(BASIC)) as raw:
        assert [s for s in spans() if (s.attributes or {}).get("gen_ai.operation.name")] == []
        message = raw.parse()
    span = only_span(spans)
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == message.id
    assert_basic_response(span)


def test_with_streaming_response_of_a_stream(instrumented, replay, spans):
    server = replay(STREAM)
    with client_for(server).messages.with_streaming_response.create(**request_body(STREAM)) as raw:
        events = [event.type for event in raw.parse()]
    assert events[-1] == "message_stop"
    attrs = only_span(spans).attributes
    assert attrs[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == expected_stream_usage(STREAM)["output"]
    assert attrs[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0


def test_async_with_streaming_response(instrumented, replay, spans):
    server = replay(BASIC)

    async def call():
        async with async_client_for(server).messages.with_streaming_response.create(
            **request_body(BASIC)
        ) as raw:
            return await raw.parse()

    message = asyncio.run(call())
    span = only_span(spans)
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == message.id
    assert_basic_response(span)
