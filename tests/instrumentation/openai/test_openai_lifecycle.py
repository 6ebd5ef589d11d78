"""Instrument/uninstrument, suppression, and the promise that our own failures never reach the caller."""

from __future__ import annotations

import logging

import openai
import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv.attributes import error_attributes

from genai_lens.instrumentation.openai import OpenAIInstrumentor, chat
from genai_lens.semconv import GENAI_LENS_STREAM_END_REASON

STREAM = "openai/chat_streaming_include_usage_gpt4.yaml"


def patched_methods():
    from openai.resources import completions as legacy
    from openai.resources.chat.completions import completions
    from openai.resources.embeddings import AsyncEmbeddings, Embeddings
    from openai.resources.responses import responses

    owners = [
        completions.Completions,
        completions.AsyncCompletions,
        responses.Responses,
        responses.AsyncResponses,
        Embeddings,
        AsyncEmbeddings,
        legacy.Completions,
        legacy.AsyncCompletions,
    ]
    return {
        (owner.__module__, owner.__qualname__, name): owner.__dict__[name]
        for owner in owners
        for name in ("create", "parse")
        if name in owner.__dict__
    }


def test_dependencies():
    assert tuple(OpenAIInstrumentor().instrumentation_dependencies()) == ("openai >= 1.0.0, < 4",)


def test_uninstrument_restores_the_originals_exactly(tracer_provider, meter_provider, replay, client, spans):
    before = patched_methods()
    assert len(before) == 12
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        during = patched_methods()
        assert all(during[key] is not before[key] for key in before)
    finally:
        instrumentor.uninstrument()
    after = patched_methods()
    assert all(after[key] is before[key] for key in before)

    server = replay("openai/chat_basic_gpt35.yaml")
    client(server).chat.completions.create(**server.interactions[0].request_json)
    assert spans() == []


def test_suppressed_context_makes_no_span_or_metric(instrumented, replay, client, spans, metric_points):
    server = replay(STREAM, "openai/chat_basic_gpt35.yaml")
    oai = client(server)
    with suppress_instrumentation():
        response = oai.chat.completions.create(**server.interactions[1].request_json)
        chunks = list(oai.chat.completions.create(**server.interactions[0].request_json))
    assert response.choices and chunks
    assert spans() == []
    assert metric_points() == {}
    oai.chat.completions.create(**server.interactions[1].request_json)  # outside: traced again
    assert len(spans()) == 1


def test_span_is_a_child_of_the_callers_span(instrumented, tracer_provider, replay, client, spans):
    server = replay("openai/chat_basic_gpt35.yaml")
    with tracer_provider.get_tracer("app").start_as_current_span("handler") as parent:
        client(server).chat.completions.create(**server.interactions[0].request_json)
    llm, handler = spans()
    assert llm.parent.span_id == parent.get_span_context().span_id
    assert handler.name == "handler"


def test_failure_in_our_accumulator_never_reaches_the_user(
    instrumented, replay, client, recorded, spans, monkeypatch, caplog
):
    def broken(self, chunk):
        raise RuntimeError("bug inside genai-lens")

    monkeypatch.setattr(chat.ChatStreamAccumulator, "on_chunk", broken)
    server = replay(STREAM)
    caplog.set_level(logging.DEBUG, logger="genai_lens.instrumentation")
    chunks = list(client(server).chat.completions.create(**recorded(server)))
    assert chunks[-1].usage.completion_tokens == 5  # the user got every chunk
    (span,) = spans()
    assert span.attributes[GENAI_LENS_STREAM_END_REASON] == "exhausted"
    assert span.attributes[genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("ChatStreamAccumulator.on_chunk" in m and "RuntimeError" in m for m in messages)
    assert not any(
        "bug inside genai-lens" in m for m in messages
    )  # exception text (maybe content) not logged


def test_failure_reading_the_response_never_reaches_the_user(
    instrumented, replay, client, spans, monkeypatch
):
    def broken(invocation, usage):
        raise ValueError("bug")

    monkeypatch.setattr(chat, "set_usage", broken)
    server = replay("openai/chat_basic_gpt35.yaml")
    response = client(server).chat.completions.create(**server.interactions[0].request_json)
    assert response.usage.total_tokens > 0
    (span,) = spans()  # the span still ended, with what we had before the failure
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == response.id
    assert genai.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes


def test_failure_building_the_invocation_lets_the_call_through(
    instrumented, replay, client, spans, monkeypatch
):
    def broken(resource, operation, kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(chat, "new_invocation", broken)
    server = replay("openai/chat_basic_gpt35.yaml")
    response = client(server).chat.completions.create(**server.interactions[0].request_json)
    assert response.choices[0].message.content
    assert spans() == []


def test_failure_in_error_handling_keeps_the_users_exception(
    instrumented, replay, client, spans, monkeypatch
):
    def broken(invocation, exc):
        raise TypeError("bug")

    monkeypatch.setattr(chat, "record_error", broken)
    server = replay("openai/chat_error_404_model_not_found.yaml")
    with pytest.raises(openai.NotFoundError) as caught:
        client(server).chat.completions.create(**server.interactions[0].request_json)
    assert caught.value.status_code == 404
    (span,) = spans()
    assert span.attributes[error_attributes.ERROR_TYPE] == "NotFoundError"
