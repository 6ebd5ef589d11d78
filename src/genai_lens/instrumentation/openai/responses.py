"""Responses API: ``responses.create`` (plain and ``stream=True``) and ``responses.parse``.

``responses.stream()`` calls ``create(stream=True)`` underneath, so it is covered by the same hooks.
Finish reasons are derived from the response status (the API has none per output): completed → ``stop``
(``tool_calls`` when the output holds a function call), incomplete → its reason, failed → ``error``.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.attributes import openai_attributes

from genai_lens.instrumentation._genai import Invocation, StreamAccumulator, content
from genai_lens.instrumentation.openai.common import (
    OpenAIHooks,
    add_response_common,
    add_sampling_params,
    detail,
    given,
    new_invocation,
    parsed,
    record_error,
)
from genai_lens.instrumentation.openai.messages import (
    content_finish_reason,
    responses_input_messages,
    responses_output_parts,
    tool_definitions,
)

OPERATION_CHAT = genai.GenAiOperationNameValues.CHAT.value
_API_TYPE = openai_attributes.OpenaiApiTypeValues.RESPONSES.value
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_START_EVENTS = frozenset({"response.created", "response.in_progress"})


def finish_reason(response: Any) -> str | None:
    status = getattr(response, "status", None)
    if status == "completed":
        output = getattr(response, "output", None) or ()
        if any(getattr(item, "type", None) == "function_call" for item in output):
            return "tool_calls"
        return "stop"
    if status == "incomplete":
        reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
        return _INCOMPLETE_REASONS.get(reason, reason or "incomplete")
    if status in ("failed", "cancelled"):
        return "error"
    return None


def set_usage(invocation: Invocation, usage: Any) -> None:
    """Responses usage: ``input_tokens`` includes cached tokens; reasoning is part of ``output_tokens``."""
    if usage is None:
        return
    input_tokens = getattr(usage, "input_tokens", None)
    output_tokens = getattr(usage, "output_tokens", None)
    if isinstance(input_tokens, int):
        invocation.input_tokens = input_tokens
    if isinstance(output_tokens, int):
        invocation.output_tokens = output_tokens
    cached = detail(usage, "input_tokens_details", "cached_tokens")
    if cached is not None:
        invocation.cache_read_input_tokens = cached
    reasoning = detail(usage, "output_tokens_details", "reasoning_tokens")
    if reasoning is not None:
        invocation.reasoning_output_tokens = reasoning


def apply_response(invocation: Invocation, response: Any) -> None:
    add_response_common(invocation, response)
    reason = finish_reason(response)
    if reason:
        invocation.finish_reasons = [reason]
    set_usage(invocation, getattr(response, "usage", None))
    error = getattr(response, "error", None)
    if error is not None and getattr(response, "status", None) == "failed":
        invocation.error_type = str(getattr(error, "code", None) or "error")
    if invocation.capture_content:
        parts = responses_output_parts(getattr(response, "output", None))
        invocation.output_messages = [content.output_message(parts, content_finish_reason(reason))]


class ResponsesHooks(OpenAIHooks):
    """Hooks for ``Responses.create`` / ``Responses.parse`` (sync and async)."""

    def __init__(self, stream_types: tuple[type, ...]) -> None:
        self._stream_types = stream_types

    def invocation(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], capture_content: bool
    ) -> Invocation:
        invocation = new_invocation(instance, OPERATION_CHAT, kwargs)
        attributes = invocation.request_attributes
        attributes[openai_attributes.OPENAI_API_TYPE] = _API_TYPE
        add_sampling_params(invocation, kwargs)
        max_tokens = given(kwargs, "max_output_tokens")
        if isinstance(max_tokens, int):
            attributes[genai.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        text = given(kwargs, "text")
        text_format = text.get("format") if isinstance(text, dict) else None
        if isinstance(text_format, dict) and text_format.get("type") in ("json_schema", "json_object"):
            attributes[genai.GEN_AI_OUTPUT_TYPE] = genai.GenAiOutputTypeValues.JSON.value
        elif isinstance(given(kwargs, "text_format"), type):  # parse(text_format=PydanticModel)
            attributes[genai.GEN_AI_OUTPUT_TYPE] = genai.GenAiOutputTypeValues.JSON.value
        if capture_content:
            instructions = given(kwargs, "instructions")
            if isinstance(instructions, str):
                invocation.system_instructions = [content.text_part(instructions)]
            invocation.input_messages = responses_input_messages(given(kwargs, "input"))
            definitions = tool_definitions(given(kwargs, "tools"))
            if definitions:
                attributes[genai.GEN_AI_TOOL_DEFINITIONS] = definitions
        return invocation

    def on_response(self, invocation: Invocation, response: Any) -> None:
        response = parsed(response)
        apply_response(invocation, response)

    def stream_accumulator(self, invocation: Invocation, response: Any) -> StreamAccumulator | None:
        if isinstance(response, self._stream_types):
            return ResponsesStreamAccumulator(invocation.capture_content)
        return None

    def on_error(self, invocation: Invocation, exc: BaseException) -> None:
        record_error(invocation, exc)


class ResponsesStreamAccumulator(StreamAccumulator):
    """Keeps the latest ``response`` snapshot from lifecycle events; text deltas only when capturing."""

    __slots__ = ("final", "snapshot", "text")

    def __init__(self, capture_content: bool) -> None:
        self.snapshot: Any = None
        self.final: Any = None
        self.text: list[str] | None = [] if capture_content else None

    def on_chunk(self, event: Any) -> None:
        kind = event.type
        if kind in _FINAL_EVENTS:
            self.final = event.response
        elif kind in _START_EVENTS:
            self.snapshot = event.response
        elif self.text is not None and kind == "response.output_text.delta":
            self.text.append(event.delta)

    def finish(self, invocation: Invocation, stream: Any) -> None:
        if self.final is not None:
            apply_response(invocation, self.final)
            return
        if self.snapshot is not None:  # stream ended early: id and model only
            add_response_common(invocation, self.snapshot)
        if self.text is not None:
            parts = [content.text_part("".join(self.text))] if self.text else []
            invocation.output_messages = [content.output_message(parts, None)]
