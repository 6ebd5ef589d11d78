"""Message content: off by default, opt-in by env, and shaped as the OTel GenAI JSON schemas say."""

from __future__ import annotations

import json

import jsonschema
import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from genai_lens.instrumentation._genai.content import CAPTURE_CONTENT_ENV

CONTENT_KEYS = (
    genai.GEN_AI_INPUT_MESSAGES,
    genai.GEN_AI_OUTPUT_MESSAGES,
    genai.GEN_AI_SYSTEM_INSTRUCTIONS,
    genai.GEN_AI_TOOL_DEFINITIONS,
)


@pytest.fixture
def capture(monkeypatch, instrument):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    return instrument()


def validated(span, schemas):
    """Parse and schema-validate the content attributes of a span."""
    messages = {}
    for key in (genai.GEN_AI_INPUT_MESSAGES, genai.GEN_AI_OUTPUT_MESSAGES):
        value = json.loads(span.attributes[key])
        jsonschema.validate(value, schemas[key])
        messages[key] = value
    return messages[genai.GEN_AI_INPUT_MESSAGES], messages[genai.GEN_AI_OUTPUT_MESSAGES]


def test_off_by_default(instrumented, replay, client, recorded, spans):
    server = replay("openai/chat_tools_single_call_gpt35.yaml", "openai/responses_tool_calls_gpt41nano.yaml")
    oai = client(server)
    oai.chat.completions.create(**recorded(server, 0))
    oai.responses.create(**recorded(server, 1))
    for span in spans():
        assert not [key for key in CONTENT_KEYS if key in span.attributes]


@pytest.mark.parametrize("value", ["false", "no_content", "event_only", ""])
def test_values_that_keep_content_off(monkeypatch, instrument, replay, client, spans, value):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, value)
    instrument()
    server = replay("openai/chat_basic_gpt35.yaml")
    client(server).chat.completions.create(**server.interactions[0].request_json)
    assert genai.GEN_AI_INPUT_MESSAGES not in spans()[0].attributes


@pytest.mark.parametrize("value", ["true", "1", "span_only", "SPAN_AND_EVENT"])
def test_values_that_turn_content_on(monkeypatch, instrument, replay, client, spans, value):
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, value)
    instrument()
    server = replay("openai/chat_basic_gpt35.yaml")
    response = client(server).chat.completions.create(**server.interactions[0].request_json)
    output = json.loads(spans()[0].attributes[genai.GEN_AI_OUTPUT_MESSAGES])
    assert output[0]["parts"][0]["content"] == response.choices[0].message.content


def test_chat_text(capture, replay, client, spans, genai_schemas):
    server = replay("openai/chat_basic_gpt35.yaml")
    response = client(server).chat.completions.create(**server.interactions[0].request_json)
    inputs, outputs = validated(spans()[0], genai_schemas)
    assert inputs == [
        {"role": "user", "parts": [{"type": "text", "content": "Tell me a joke about opentelemetry"}]}
    ]
    assert outputs == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": response.choices[0].message.content}],
            "finish_reason": "stop",
        }
    ]


def test_chat_tool_call_and_definitions(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/chat_tools_single_call_gpt35.yaml")
    request = recorded(server)
    response = client(server).chat.completions.create(**request)
    span = spans()[0]
    _, outputs = validated(span, genai_schemas)
    call = response.choices[0].message.tool_calls[0]
    assert outputs[0]["finish_reason"] == "tool_call"
    assert outputs[0]["parts"] == [
        {
            "type": "tool_call",
            "id": call.id,
            "name": call.function.name,
            "arguments": json.loads(call.function.arguments),
        }
    ]
    assert json.loads(span.attributes[genai.GEN_AI_TOOL_DEFINITIONS]) == request["tools"]


def test_chat_tool_result_in_history(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/chat_tool_result_in_history_gpt35.yaml")
    client(server).chat.completions.create(**recorded(server))
    inputs, _ = validated(spans()[0], genai_schemas)
    assistant, tool = inputs
    assert assistant["parts"] == [
        {
            "type": "tool_call",
            "id": "1",
            "name": "get_current_weather",
            "arguments": {"location": "San Francisco"},
        }
    ]
    assert tool == {
        "role": "tool",
        "parts": [
            {
                "type": "tool_call_response",
                "id": "1",
                "response": "The weather in San Francisco is 70 degrees and sunny.",
            }
        ],
    }


def test_chat_image_url_input(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/chat_vision_image_url_and_400.yaml")
    client(server).chat.completions.create(**recorded(server))
    inputs, _ = validated(spans()[0], genai_schemas)
    assert inputs[0]["parts"] == [
        {"type": "text", "content": "What is in this image?"},
        {"type": "uri", "modality": "image", "uri": "https://source.unsplash.com/8xznAGy4HcY/800x400"},
    ]


def test_chat_refusal(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/chat_structured_output_refusal_gpt4o.yaml")
    response = client(server).chat.completions.create(**recorded(server))
    _, outputs = validated(spans()[0], genai_schemas)
    assert outputs[0]["parts"] == [{"type": "refusal", "content": response.choices[0].message.refusal}]


def test_streamed_tool_calls_are_assembled(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/chat_multiple_tools_streaming_include_usage_gpt4omini.yaml")
    chunks = list(client(server).chat.completions.create(**recorded(server)))
    _, outputs = validated(spans()[0], genai_schemas)
    calls = [p for p in outputs[0]["parts"] if p["type"] == "tool_call"]
    streamed_ids = [tc.id for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or () if tc.id]
    assert [c["id"] for c in calls] == streamed_ids
    assert len(calls) == 2
    assert all(isinstance(c["arguments"], dict) and c["arguments"] for c in calls)
    assert outputs[0]["finish_reason"] == "tool_call"


def test_streamed_text_cut_short_keeps_partial_text(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/chat_streaming_include_usage_gpt4.yaml")
    seen = []
    with client(server).chat.completions.create(**recorded(server)) as stream:
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
            if len(seen) == 3:
                break
    _, outputs = validated(spans()[0], genai_schemas)
    assert outputs == [
        {"role": "assistant", "parts": [{"type": "text", "content": "".join(seen)}], "finish_reason": "error"}
    ]


def test_responses_instructions_tools_and_outputs(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/agents_sdk_function_tool_with_trace_ingest.yaml")
    request = recorded(server, 0)
    response = client(server).responses.create(**request)
    span = spans()[0]
    inputs, outputs = validated(span, genai_schemas)
    assert json.loads(span.attributes[genai.GEN_AI_SYSTEM_INSTRUCTIONS]) == [
        {"type": "text", "content": request["instructions"]}
    ]
    assert inputs == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the weather in London?"}]}
    ]
    (call,) = [item for item in response.output if item.type == "function_call"]
    assert outputs[0]["parts"] == [
        {
            "type": "tool_call",
            "id": call.call_id,
            "name": "get_weather",
            "arguments": json.loads(call.arguments),
        }
    ]


def test_responses_function_output_in_history(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/agents_sdk_function_tool_with_trace_ingest.yaml")
    response = client(server).responses.create(**recorded(server, 2))
    inputs, outputs = validated(spans()[0], genai_schemas)
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[2]["parts"][0]["type"] == "tool_call_response"
    assert outputs[0]["parts"] == [{"type": "text", "content": response.output_text}]
    assert outputs[0]["finish_reason"] == "stop"


def test_responses_stream_text(capture, replay, client, recorded, spans, genai_schemas):
    server = replay("openai/responses_streaming_gpt41nano.yaml")
    events = list(client(server).responses.create(**recorded(server)))
    done = events[-1].response
    _, outputs = validated(spans()[0], genai_schemas)
    assert outputs[0]["parts"] == [{"type": "text", "content": done.output_text}]
