"""The content fast path writes exactly the JSON the general path builds, and steps aside for other shapes."""

from __future__ import annotations

import json

import jsonschema
import pytest
from openai.types.chat import ChatCompletion

from genai_lens.instrumentation._genai.content import to_json
from genai_lens.instrumentation.openai.messages import (
    chat_input_messages,
    chat_input_messages_json,
    chat_output_message,
    chat_output_messages_json,
)

TRICKY = 'quotes " and \\ backslash, newline\n, tab\t, unicode é 漢字 😀, control \x01, </script>'


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "Tell me a joke"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": TRICKY}],
        [{"role": "developer", "content": ""}, {"role": "assistant", "content": "ok"}],
    ],
)
def test_input_fast_path_is_byte_identical(messages, genai_schemas):
    fast = chat_input_messages_json(messages)
    assert fast == to_json(chat_input_messages(messages))
    jsonschema.validate(json.loads(fast), genai_schemas["gen_ai.input.messages"])


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "tool", "content": "42", "tool_call_id": "call_1"}],
        [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        [{"role": "user", "content": "hi", "name": "ann"}],
        [{"role": "assistant", "content": None, "tool_calls": []}],
        ({"role": "user", "content": "hi"},),  # not a list: the general path decides
    ],
)
def test_input_fast_path_steps_aside(messages):
    assert chat_input_messages_json(messages) is None


def completion(message: dict, finish_reason: str = "stop") -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        }
    )


@pytest.mark.parametrize("finish_reason", ["stop", "length", "content_filter"])
def test_output_fast_path_is_byte_identical(finish_reason, genai_schemas):
    choices = completion({"role": "assistant", "content": TRICKY}, finish_reason).choices
    fast = chat_output_messages_json(choices)
    general = to_json([chat_output_message(c.message, c.finish_reason) for c in choices])
    assert fast == general
    jsonschema.validate(json.loads(fast), genai_schemas["gen_ai.output.messages"])


def test_output_fast_path_steps_aside_for_tool_calls_and_refusals():
    tool_call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    with_tools = completion({"role": "assistant", "content": None, "tool_calls": [tool_call]}, "tool_calls")
    refused = completion({"role": "assistant", "content": None, "refusal": "no"})
    assert chat_output_messages_json(with_tools.choices) is None
    assert chat_output_messages_json(refused.choices) is None
    assert chat_output_messages_json([]) is None
