"""``with_streaming_response`` and streamed ``with_raw_response``: the span waits for the caller's read."""

from __future__ import annotations

import asyncio
import gc

import openai
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from genai_lens.semconv import GENAI_LENS_STREAM_END_REASON

JOKE = [{"role": "user", "content": "Tell me a joke about opentelemetry"}]
STREAM_CASSETTE = "openai/chat_streaming_include_usage_gpt4.yaml"


def assert_chat_response(span, completion):
    attrs = span.attributes
    assert attrs[genai.GEN_AI_RESPONSE_ID] == completion.id
    assert attrs[genai.GEN_AI_RESPONSE_MODEL] == completion.model
    assert attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == completion.usage.prompt_tokens
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == completion.usage.completion_tokens


def test_streaming_response_parse_fills_the_span(instrumented, replay, client, spans, metric_points):
    server = replay("openai/chat_basic_gpt35.yaml")
    oai = client(server)
    with oai.chat.completions.with_streaming_response.create(model="gpt-3.5-turbo", messages=JOKE) as raw:
        assert isinstance(raw, openai._response.APIResponse)
        assert raw.headers.get("openai-model") == "gpt-3.5-turbo-0125"
        assert spans() == []  # the body is the caller's to read: nothing ended yet
        completion = raw.parse()
        assert raw.parse() is completion
    (span,) = spans()
    assert_chat_response(span, completion)
    usage = {
        p.attributes[genai.GEN_AI_TOKEN_TYPE]: p.sum for p in metric_points()["gen_ai.client.token.usage"]
    }
    assert usage == {"input": completion.usage.prompt_tokens, "output": completion.usage.completion_tokens}


def test_streaming_response_read_as_json_fills_the_span_at_close(instrumented, replay, client, spans):
    server = replay("openai/chat_basic_gpt35.yaml")
    with client(server).chat.completions.with_streaming_response.create(
        model="gpt-3.5-turbo", messages=JOKE
    ) as raw:
        body = raw.json()
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == body["id"]
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == body["usage"]["completion_tokens"]


def test_streaming_response_closed_unread_ends_without_response_data(instrumented, replay, client, spans):
    server = replay("openai/chat_basic_gpt35.yaml")
    with client(server).chat.completions.with_streaming_response.create(model="gpt-3.5-turbo", messages=JOKE):
        pass
    (span,) = spans()
    assert span.name == "chat gpt-3.5-turbo"
    assert genai.GEN_AI_RESPONSE_ID not in span.attributes  # never read, never guessed


def test_streaming_response_of_a_stream_is_traced_like_a_stream(
    instrumented, replay, client, recorded, spans, metric_points
):
    server = replay(STREAM_CASSETTE)
    with client(server).chat.completions.with_streaming_response.create(**recorded(server)) as raw:
        stream = raw.parse()
        assert isinstance(stream, openai.Stream)
        assert spans() == []
        chunks = list(stream)
    (span,) = spans()
    usage = chunks[-1].usage
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == chunks[0].id
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.completion_tokens
    assert span.attributes[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert "gen_ai.client.operation.time_to_first_chunk" in metric_points()


def test_streaming_response_stream_left_early_ends_closed_with_partial_data(
    instrumented, replay, client, recorded, spans
):
    server = replay(STREAM_CASSETTE)
    with client(server).chat.completions.with_streaming_response.create(**recorded(server)) as raw:
        first = next(iter(raw.parse()))
    (span,) = spans()
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "closed"
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == first.id
    assert genai.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes


def test_raw_response_of_a_stream_is_traced_like_a_stream(instrumented, replay, client, recorded, spans):
    server = replay(STREAM_CASSETTE)
    raw = client(server).chat.completions.with_raw_response.create(**recorded(server))
    assert spans() == []
    chunks = list(raw.parse())
    (span,) = spans()
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens


def test_raw_response_of_a_stream_never_parsed_ends_when_collected(
    instrumented, replay, client, recorded, spans
):
    server = replay(STREAM_CASSETTE)
    raw = client(server).chat.completions.with_raw_response.create(**recorded(server))
    raw.http_response.close()
    del raw
    gc.collect()
    (span,) = spans()
    assert span.name == "chat gpt-4"


def test_async_streaming_response_parse_fills_the_span(instrumented, replay, async_client, spans):
    server = replay("openai/chat_basic_gpt35.yaml")

    async def call():
        oai = async_client(server)
        async with oai.chat.completions.with_streaming_response.create(
            model="gpt-3.5-turbo", messages=JOKE
        ) as raw:
            assert spans() == []
            return await raw.parse()

    completion = asyncio.run(call())
    (span,) = spans()
    assert_chat_response(span, completion)


def test_async_streaming_response_of_a_stream(instrumented, replay, async_client, recorded, spans):
    server = replay(STREAM_CASSETTE)

    async def call():
        async with async_client(server).chat.completions.with_streaming_response.create(
            **recorded(server)
        ) as raw:
            stream = await raw.parse()
            assert isinstance(stream, openai.AsyncStream)
            return [chunk async for chunk in stream]

    chunks = asyncio.run(call())
    (span,) = spans()
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens


def test_async_raw_response_of_a_stream(instrumented, replay, async_client, recorded, spans):
    server = replay(STREAM_CASSETTE)

    async def call():
        raw = await async_client(server).chat.completions.with_raw_response.create(**recorded(server))
        return [chunk async for chunk in raw.parse()]

    chunks = asyncio.run(call())
    (span,) = spans()
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens
