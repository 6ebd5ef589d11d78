"""Chat Completions: ``chat.completions.create`` (plain and ``stream=True``) and ``chat.completions.parse``.

``chat.completions.stream()`` calls ``create(stream=True)`` underneath, so it is covered by the same hooks.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.attributes import openai_attributes

from genai_lens.instrumentation._genai import Invocation, StreamAccumulator, content
from genai_lens.instrumentation.openai.common import (
    CONTENT_FILTER,
    OpenAIHooks,
    add_response_common,
    add_sampling_params,
    detail,
    error_body_code,
    given,
    new_invocation,
    parsed,
    record_error,
)
from genai_lens.instrumentation.openai.messages import (
    chat_input_messages,
    chat_input_messages_json,
    chat_output_message,
    chat_output_messages_json,
    content_finish_reason,
    tool_definitions,
)

OPERATION_CHAT = genai.GenAiOperationNameValues.CHAT.value
_API_TYPE = openai_attributes.OpenaiApiTypeValues.CHAT_COMPLETIONS.value
_JSON_FORMATS = frozenset({"json_object", "json_schema"})


def _output_type(response_format: Any) -> str | None:
    if response_format is None:
        return None
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        if kind in _JSON_FORMATS:
            return genai.GenAiOutputTypeValues.JSON.value
        if kind == "text":
            return genai.GenAiOutputTypeValues.TEXT.value
        return None
    if isinstance(response_format, type):  # a pydantic model class given to parse()
        return genai.GenAiOutputTypeValues.JSON.value
    return None


def set_usage(invocation: Invocation, usage: Any) -> None:
    """Chat usage: ``prompt_tokens`` already includes cached tokens; reasoning is part of completion."""
    if usage is None:
        return
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    if isinstance(prompt, int):
        invocation.input_tokens = prompt
    if isinstance(completion, int):
        invocation.output_tokens = completion
    cached = detail(usage, "prompt_tokens_details", "cached_tokens")
    if cached is not None:
        invocation.cache_read_input_tokens = cached
    reasoning = detail(usage, "completion_tokens_details", "reasoning_tokens")
    if reasoning is not None:
        invocation.reasoning_output_tokens = reasoning


class ChatHooks(OpenAIHooks):
    """Hooks for ``Completions.create`` / ``Completions.parse`` (sync and async)."""

    def __init__(self, stream_types: tuple[type, ...]) -> None:
        self._stream_types = stream_types

    def invocation(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], capture_content: bool
    ) -> Invocation:
        invocation = new_invocation(instance, OPERATION_CHAT, kwargs)
        attributes = invocation.request_attributes
        attributes[openai_attributes.OPENAI_API_TYPE] = _API_TYPE
        add_sampling_params(invocation, kwargs)
        max_tokens = given(kwargs, "max_completion_tokens") or given(kwargs, "max_tokens")
        if isinstance(max_tokens, int):
            attributes[genai.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        choices = given(kwargs, "n")
        if isinstance(choices, int) and choices != 1:
            attributes[genai.GEN_AI_REQUEST_CHOICE_COUNT] = choices
        stop = given(kwargs, "stop")
        if isinstance(stop, str):
            attributes[genai.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
        elif isinstance(stop, (list, tuple)):
            attributes[genai.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(s) for s in stop]
        output_type = _output_type(given(kwargs, "response_format"))
        if output_type:
            attributes[genai.GEN_AI_OUTPUT_TYPE] = output_type
        if capture_content:
            messages = given(kwargs, "messages") or []
            invocation.input_messages = chat_input_messages_json(messages) or chat_input_messages(messages)
            definitions = tool_definitions(given(kwargs, "tools") or given(kwargs, "functions"))
            if definitions:
                attributes[genai.GEN_AI_TOOL_DEFINITIONS] = definitions
        return invocation

    def on_response(self, invocation: Invocation, response: Any) -> None:
        response = parsed(response)
        add_response_common(invocation, response)
        code = error_body_code(response)
        if code is not None:  # Azure: HTTP 200 whose body is an error (prompt content filter)
            invocation.finish_reasons = [CONTENT_FILTER] if code == CONTENT_FILTER else []
            invocation.error_type = code
            return
        choices = getattr(response, "choices", None) or []
        invocation.finish_reasons = [str(getattr(c, "finish_reason", None) or "") for c in choices]
        set_usage(invocation, getattr(response, "usage", None))
        if invocation.capture_content:
            invocation.output_messages = chat_output_messages_json(choices) or [
                chat_output_message(getattr(c, "message", None), getattr(c, "finish_reason", None))
                for c in choices
            ]

    def stream_accumulator(self, invocation: Invocation, response: Any) -> StreamAccumulator | None:
        if isinstance(response, self._stream_types):
            return ChatStreamAccumulator(invocation.capture_content)
        return None

    def on_error(self, invocation: Invocation, exc: BaseException) -> None:
        record_error(invocation, exc)


class _ChoiceContent:
    """Content of one streamed choice, only assembled when content capture is on."""

    __slots__ = ("refusal", "text", "tool_calls")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}

    def add(self, delta: Any) -> None:
        text = getattr(delta, "content", None)
        if text:
            self.text.append(text)
        refusal = getattr(delta, "refusal", None)
        if refusal:
            self.refusal.append(refusal)
        calls = getattr(delta, "tool_calls", None)
        if calls:
            self.add_tool_calls(calls)
        function_call = getattr(delta, "function_call", None)  # legacy functions= API
        if function_call is not None:
            self.add_function_call(function_call)

    def add_tool_calls(self, calls: Any) -> None:
        for call in calls:
            slot = self.tool_calls.setdefault(
                getattr(call, "index", 0) or 0, {"id": None, "name": "", "args": []}
            )
            if getattr(call, "id", None):
                slot["id"] = call.id
            function = getattr(call, "function", None)
            if function is not None:
                if getattr(function, "name", None):
                    slot["name"] = function.name
                if getattr(function, "arguments", None):
                    slot["args"].append(function.arguments)

    def add_function_call(self, function_call: Any) -> None:
        slot = self.tool_calls.setdefault(0, {"id": None, "name": "", "args": []})
        if getattr(function_call, "name", None):
            slot["name"] = function_call.name
        if getattr(function_call, "arguments", None):
            slot["args"].append(function_call.arguments)

    def parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self.text:
            parts.append(content.text_part("".join(self.text)))
        if self.refusal:
            parts.append(content.generic_part("refusal", content="".join(self.refusal)))
        for _, call in sorted(self.tool_calls.items()):
            parts.append(content.tool_call_part(call["id"], call["name"], "".join(call["args"])))
        return parts


class ChatStreamAccumulator(StreamAccumulator):
    """Per chunk: remember the first identified chunk, the usage chunk and finish reasons (cheap)."""

    __slots__ = ("choices", "header", "reasons", "usage")

    def __init__(self, capture_content: bool) -> None:
        self.header: Any = None
        self.usage: Any = None
        self.reasons: dict[int, str] = {}
        self.choices: dict[int, _ChoiceContent] | None = {} if capture_content else None

    def on_chunk(self, chunk: Any) -> None:
        if self.header is None and chunk.id:  # Azure's first chunk has an empty id (prompt filter results)
            self.header = chunk
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        choices = self.choices
        for choice in chunk.choices:
            reason = choice.finish_reason
            if reason is not None:
                self.reasons[choice.index] = reason
            if choices is not None:
                slot = choices.get(choice.index)
                if slot is None:
                    slot = choices[choice.index] = _ChoiceContent()
                delta = choice.delta
                if delta is not None:
                    slot.add(delta)

    def finish(self, invocation: Invocation, stream: Any) -> None:
        if self.header is not None:
            add_response_common(invocation, self.header)
        if self.reasons:
            invocation.finish_reasons = [self.reasons[i] for i in sorted(self.reasons)]
        set_usage(invocation, self.usage)
        if self.choices is not None:
            invocation.output_messages = [
                content.output_message(slot.parts(), content_finish_reason(self.reasons.get(index)))
                for index, slot in sorted(self.choices.items())
            ]
