"""Every way a caller can leave a stream ends its span exactly once, keeping what was read so far."""

from __future__ import annotations

import asyncio
import gc
import logging

import openai
import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import StatusCode

from genai_lens.semconv import GENAI_LENS_STREAM_END_REASON

CASSETTE = "openai/chat_streaming_include_usage_gpt4.yaml"


class ConsumerBug(Exception):
    """An exception raised by the caller's own loop body."""


@pytest.fixture
def server(replay):
    return replay(CASSETTE)


@pytest.fixture
def request_body(server, recorded):
    return recorded(server)


@pytest.fixture
def no_double_end(caplog):
    """The SDK logs a warning when end() is called on an ended span; none may appear."""
    caplog.set_level(logging.WARNING, logger="opentelemetry.sdk.trace")
    yield
    assert not [r for r in caplog.records if "already ended" in r.getMessage() or "end()" in r.getMessage()]


def only_span(spans):
    finished = spans()
    assert len(finished) == 1, finished
    return finished[0]


def assert_partial(span, reason):
    attrs = span.attributes
    assert attrs[GENAI_LENS_STREAM_END_REASON] == reason
    assert attrs[genai.GEN_AI_RESPONSE_ID].startswith("chatcmpl-")  # read before leaving
    assert attrs[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert genai.GEN_AI_USAGE_OUTPUT_TOKENS not in attrs  # the usage chunk was never read


def test_exhausted(instrumented, server, request_body, client, spans, no_double_end):
    with client(server).chat.completions.create(**request_body) as stream:
        chunks = list(stream)
    span = only_span(spans)
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens


def test_break_inside_with(instrumented, server, request_body, client, spans, no_double_end):
    with client(server).chat.completions.create(**request_body) as stream:
        assert isinstance(stream, openai.Stream)
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                break
        assert spans() == []  # still open while inside the with block
    span = only_span(spans)
    assert_partial(span, "closed")
    assert span.status.status_code is StatusCode.UNSET


def test_close(instrumented, server, request_body, client, spans, no_double_end):
    stream = client(server).chat.completions.create(**request_body)
    next(stream)
    stream.close()
    stream.close()  # twice is harmless
    assert_partial(only_span(spans), "closed")


def test_garbage_collected(instrumented, server, request_body, client, spans, no_double_end):
    stream = client(server).chat.completions.create(**request_body)
    next(stream)
    del stream
    gc.collect()
    assert_partial(only_span(spans), "garbage_collected")


def test_exception_in_consumer_inside_with(instrumented, server, request_body, client, spans, no_double_end):
    with pytest.raises(ConsumerBug):
        with client(server).chat.completions.create(**request_body) as stream:
            for _ in stream:
                raise ConsumerBug()
    span = only_span(spans)
    assert_partial(span, "error")
    assert span.attributes[error_attributes.ERROR_TYPE] == "ConsumerBug"
    assert span.status.status_code is StatusCode.ERROR


def test_exception_in_consumer_without_with(instrumented, server, request_body, client, spans, no_double_end):
    def consume():
        stream = client(server).chat.completions.create(**request_body)
        for _ in stream:
            raise ConsumerBug()

    with pytest.raises(ConsumerBug):
        consume()
    gc.collect()
    assert_partial(only_span(spans), "garbage_collected")


def test_exhausted_then_closed_ends_once(instrumented, server, request_body, client, spans, no_double_end):
    stream = client(server).chat.completions.create(**request_body)
    for _ in stream:
        pass
    stream.close()
    del stream
    gc.collect()
    assert only_span(spans).attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"


def test_async_exits(instrumented, server, request_body, async_client, spans, no_double_end):
    async def run():
        oai = async_client(server)
        async with await oai.chat.completions.create(**request_body) as stream:  # break in async with
            async for _ in stream:
                break
        stream = await oai.chat.completions.create(**request_body)  # close()
        await stream.__anext__()
        await stream.close()
        stream = await oai.chat.completions.create(**request_body)  # exhausted
        return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    closed_in_with, closed, exhausted = spans()
    assert closed_in_with.attributes[GENAI_LENS_STREAM_END_REASON] == "closed"
    assert closed.attributes[GENAI_LENS_STREAM_END_REASON] == "closed"
    assert closed.attributes[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert exhausted.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert exhausted.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == chunks[-1].usage.completion_tokens


def test_async_exception_in_consumer(instrumented, server, request_body, async_client, spans, no_double_end):
    async def run():
        async with await async_client(server).chat.completions.create(**request_body) as stream:
            async for _ in stream:
                raise ConsumerBug()

    with pytest.raises(ConsumerBug):
        asyncio.run(run())
    span = only_span(spans)
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "error"
    assert span.attributes[error_attributes.ERROR_TYPE] == "ConsumerBug"
