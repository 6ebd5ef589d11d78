"""Opt-in content capture (system prompt, messages, tool calls, thinking) and fault isolation.

Content shapes are validated against the OTel GenAI JSON schemas in ``../shared/span-samples``.
"""

from __future__ import annotations

import json
import logging

import jsonschema
import pytest
from anthropic_support import client_for, genai_spans, request_body, response_json, stream_events
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from genai_lens.instrumentation._genai.content import CAPTURE_CONTENT_ENV
from genai_lens.instrumentation.anthropic import extract, messages

CACHE = "anthropic/messages_prompt_caching_write_then_read.yaml"
TOOLS = "anthropic/messages_tool_use_claude35sonnet.yaml"
TOOL_HISTORY = "anthropic/messages_tool_result_history_claude35haiku.yaml"
TOOLS_STREAM = "anthropic/messages_tool_use_streaming_claude35sonnet.yaml"
THINKING = "anthropic/messages_extended_thinking_claude37sonnet.yaml"
THINKING_STREAM = "anthropic/messages_extended_thinking_streaming.yaml"
BASIC = "anthropic/messages_create_claude3opus.yaml"


@pytest.fixture
def capturing(instrument, monkeypatch):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    return instrument()


def span_content(spans, genai_schemas):
    (span,) = genai_spans(spans())
    found = {}
    for key in (genai.GEN_AI_SYSTEM_INSTRUCTIONS, genai.GEN_AI_INPUT_MESSAGES, genai.GEN_AI_OUTPUT_MESSAGES):
        if key in span.attributes:
            found[key] = json.loads(span.attributes[key])
            if key in genai_schemas:
                jsonschema.validate(found[key], genai_schemas[key])
    return found


def test_content_is_off_by_default(instrumented, replay, spans):
    client_for(replay(CACHE)).messages.create(**request_body(CACHE))
    (span,) = genai_spans(spans())
    for key in (genai.GEN_AI_SYSTEM_INSTRUCTIONS, genai.GEN_AI_INPUT_MESSAGES, genai.GEN_AI_OUTPUT_MESSAGES):
        assert key not in span.attributes


def test_system_prompt_and_messages(capturing, replay, spans, genai_schemas):
    client_for(replay(CACHE)).messages.create(**request_body(CACHE))
    found = span_content(spans, genai_schemas)
    body = request_body(CACHE)
    assert found[genai.GEN_AI_SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": body["system"][0]["text"]}]
    (user,) = found[genai.GEN_AI_INPUT_MESSAGES]
    assert user["role"] == "user"
    assert user["parts"][0]["content"] == body["messages"][0]["content"][0]["text"]
    (answer,) = found[genai.GEN_AI_OUTPUT_MESSAGES]
    assert answer["parts"][0]["content"] == response_json(CACHE)["content"][0]["text"]
    assert answer["finish_reason"] == "end_turn"


def test_tool_calls_in_output(capturing, replay, spans, genai_schemas):
    client_for(replay(TOOLS)).messages.create(**request_body(TOOLS))
    (answer,) = span_content(spans, genai_schemas)[genai.GEN_AI_OUTPUT_MESSAGES]
    recorded = [b for b in response_json(TOOLS)["content"] if b["type"] == "tool_use"]
    calls = [p for p in answer["parts"] if p["type"] == "tool_call"]
    assert [(c["id"], c["name"], c["arguments"]) for c in calls] == [
        (b["id"], b["name"], b["input"]) for b in recorded
    ]
    assert answer["finish_reason"] == "tool_use"


def test_tool_results_in_history(capturing, replay, spans, genai_schemas):
    client_for(replay(TOOL_HISTORY)).messages.create(**request_body(TOOL_HISTORY))
    inputs = span_content(spans, genai_schemas)[genai.GEN_AI_INPUT_MESSAGES]
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[1]["parts"][1] == {
        "type": "tool_call",
        "id": "call_1",
        "name": "get_weather",
        "arguments": {"location": "San Francisco, CA"},
    }
    result = request_body(TOOL_HISTORY)["messages"][2]["content"][0]
    assert inputs[2]["parts"] == [
        {"type": "tool_call_response", "id": result["tool_use_id"], "response": result["content"]}
    ]


def test_streamed_tool_call_arguments_are_assembled(capturing, replay, spans, genai_schemas):
    for _ in client_for(replay(TOOLS_STREAM)).messages.create(**request_body(TOOLS_STREAM)):
        pass
    (answer,) = span_content(spans, genai_schemas)[genai.GEN_AI_OUTPUT_MESSAGES]
    call = next(p for p in answer["parts"] if p["type"] == "tool_call")
    start = next(
        e
        for e in stream_events(TOOLS_STREAM)
        if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use"
    )
    partial = "".join(
        e["delta"]["partial_json"]
        for e in stream_events(TOOLS_STREAM)
        if e["type"] == "content_block_delta" and e["index"] == start["index"]
    )
    assert call["id"] == start["content_block"]["id"]
    assert call["arguments"] == json.loads(partial)


@pytest.mark.parametrize("cassette_name", [THINKING, THINKING_STREAM])
def test_thinking_is_a_reasoning_part(capturing, replay, spans, genai_schemas, cassette_name):
    result = client_for(replay(cassette_name)).messages.create(**request_body(cassette_name))
    if request_body(cassette_name).get("stream"):
        for _ in result:
            pass
        thinking = "".join(
            e["delta"]["thinking"]
            for e in stream_events(cassette_name)
            if e["type"] == "content_block_delta" and e["delta"]["type"] == "thinking_delta"
        )
    else:
        thinking = result.content[0].thinking
    (answer,) = span_content(spans, genai_schemas)[genai.GEN_AI_OUTPUT_MESSAGES]
    assert answer["parts"][0] == {"type": "reasoning", "content": thinking}
    assert answer["parts"][1]["type"] == "text"


def test_failure_inside_our_code_never_reaches_the_user(instrumented, replay, spans, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("bug in genai-lens")

    monkeypatch.setattr(extract, "apply_message", broken)
    monkeypatch.setattr(messages.MessageEventAccumulator, "on_chunk", broken)
    server = replay(BASIC, "anthropic/messages_streaming_claude3haiku.yaml")
    client = client_for(server)
    with caplog.at_level(logging.WARNING, logger="genai_lens.instrumentation"):
        message = client.messages.create(**request_body(BASIC))
        events = list(
            client.messages.create(**request_body("anthropic/messages_streaming_claude3haiku.yaml"))
        )
    assert message.id == response_json(BASIC)["id"]
    assert events[-1].type == "message_stop"
    found = genai_spans(spans())
    assert len(found) == 2  # both spans still ended, without the data the broken code would have added
    assert genai.GEN_AI_RESPONSE_ID not in found[0].attributes
    assert "genai-lens instrumentation error" in caplog.text
    assert "bug in genai-lens" not in caplog.text  # only the exception type is logged, never its text
