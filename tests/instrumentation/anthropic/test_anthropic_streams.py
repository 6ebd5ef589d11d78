"""Streams end their span exactly once on every exit path, and ``messages.stream()`` keeps working.

Covers ``messages.stream()`` (sync/async: iteration, ``text_stream``, ``get_final_message()``,
``until_done()``) and early exits of both stream kinds: ``break`` inside ``with``, ``close()``, and the
stream being garbage collected, each with the partial usage that had arrived.
"""

from __future__ import annotations

import asyncio
import gc

import pytest
from anthropic_support import (
    async_client_for,
    client_for,
    expected_stream_usage,
    genai_spans,
    request_body,
    stream_events,
)
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

STREAM = "anthropic/messages_streaming_claude3haiku.yaml"
TOOLS_STREAM = "anthropic/messages_tool_use_streaming_claude35sonnet.yaml"
END_REASON = "genai_lens.stream.end_reason"


def helper_kwargs(cassette_name):
    """``messages.stream()`` takes the create arguments without ``stream``."""
    body = request_body(cassette_name)
    body.pop("stream")
    return body


def recorded_text(cassette_name):
    return "".join(
        e["delta"]["text"]
        for e in stream_events(cassette_name)
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def one_span(spans):
    found = genai_spans(spans())
    assert len(found) == 1, [s.name for s in found]
    return found[0]


def assert_full_usage(span, cassette_name):
    usage = expected_stream_usage(cassette_name)
    assert span.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage["input"]
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["output"]


@pytest.mark.parametrize("consume", ["text_stream", "get_final_message", "until_done", "iterate"])
def test_stream_helper_sync(instrumented, replay, spans, metric_points, consume):
    server = replay(STREAM)
    with client_for(server).messages.stream(**helper_kwargs(STREAM)) as stream:
        if consume == "text_stream":
            assert "".join(stream.text_stream) == recorded_text(STREAM)
        elif consume == "iterate":
            types = [event.type for event in stream]
            assert "text" in types  # the helper's own parsed events still arrive
        elif consume == "until_done":
            stream.until_done()
        final = stream.get_final_message()
    usage = expected_stream_usage(STREAM)
    assert final.usage.output_tokens == usage["output"]
    assert final.content[0].text == recorded_text(STREAM)

    span = one_span(spans)
    assert span.name == f"chat {helper_kwargs(STREAM)['model']}"
    assert span.attributes[genai.GEN_AI_REQUEST_STREAM] is True
    assert span.attributes[END_REASON] == "exhausted"
    assert list(span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ["end_turn"]
    assert_full_usage(span, STREAM)
    assert metric_points()["gen_ai.client.operation.time_to_first_chunk"][0].count == 1


@pytest.mark.parametrize("consume", ["text_stream", "get_final_message", "iterate"])
def test_stream_helper_async(instrumented, replay, spans, consume):
    server = replay(TOOLS_STREAM)

    async def call():
        async with async_client_for(server).messages.stream(**helper_kwargs(TOOLS_STREAM)) as stream:
            if consume == "text_stream":
                text = "".join([chunk async for chunk in stream.text_stream])
                assert text == recorded_text(TOOLS_STREAM)
            elif consume == "iterate":
                assert "input_json" in [event.type async for event in stream]
            return await stream.get_final_message()

    final = asyncio.run(call())
    assert [block.type for block in final.content].count("tool_use") >= 1
    span = one_span(spans)
    assert span.attributes[END_REASON] == "exhausted"
    assert list(span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ["tool_use"]
    assert_full_usage(span, TOOLS_STREAM)


def assert_partial(span, reason):
    usage = expected_stream_usage(STREAM)
    assert span.attributes[END_REASON] == reason
    assert span.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage["input"]
    # message_delta never arrived: only message_start's provisional output count is known
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["provisional_output"]
    assert genai.GEN_AI_RESPONSE_FINISH_REASONS not in span.attributes


def test_break_inside_with_create_stream(instrumented, replay, spans):
    server = replay(STREAM)
    with client_for(server).messages.create(**request_body(STREAM)) as stream:
        for index, _event in enumerate(stream):
            if index == 3:
                break
    assert_partial(one_span(spans), "closed")


def test_close_create_stream(instrumented, replay, spans):
    server = replay(STREAM)
    stream = client_for(server).messages.create(**request_body(STREAM))
    assert next(iter(stream)).type == "message_start"
    stream.close()
    stream.close()  # a second close neither fails nor ends the span again
    assert_partial(one_span(spans), "closed")


def test_garbage_collected_stream(instrumented, replay, spans):
    server = replay(STREAM)
    stream = client_for(server).messages.create(**request_body(STREAM))
    next(iter(stream))
    del stream
    gc.collect()
    assert_partial(one_span(spans), "garbage_collected")


def test_break_inside_stream_helper(instrumented, replay, spans):
    server = replay(STREAM)
    with client_for(server).messages.stream(**helper_kwargs(STREAM)) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                break
    span = one_span(spans)
    assert span.attributes[END_REASON] == "closed"
    assert span.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] == expected_stream_usage(STREAM)["input"]


def test_async_break_inside_with(instrumented, replay, spans):
    server = replay(STREAM)

    async def call():
        stream = await async_client_for(server).messages.create(**request_body(STREAM))
        async with stream:
            async for event in stream:
                if event.type == "content_block_start":
                    break

    asyncio.run(call())
    assert_partial(one_span(spans), "closed")


def test_exception_inside_with_ends_span_as_error(instrumented, replay, spans):
    server = replay(STREAM)
    with pytest.raises(KeyError):
        with client_for(server).messages.stream(**helper_kwargs(STREAM)) as stream:
            for _ in stream:
                raise KeyError("user code failed")
    span = one_span(spans)
    assert span.attributes[END_REASON] == "error"
    assert span.attributes["error.type"] == "KeyError"


def test_stream_helper_never_entered_sends_nothing(instrumented, replay, spans):
    server = replay(STREAM)
    client_for(server).messages.stream(**helper_kwargs(STREAM))
    gc.collect()
    assert server.requests == []
    assert genai_spans(spans()) == []
