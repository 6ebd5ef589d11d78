"""Legacy text completions: ``completions.create`` (plain and ``stream=True``)."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from genai_lens.instrumentation._genai import Invocation, StreamAccumulator, content
from genai_lens.instrumentation.openai.chat import set_usage
from genai_lens.instrumentation.openai.common import (
    OpenAIHooks,
    add_response_common,
    add_sampling_params,
    given,
    new_invocation,
    parsed,
    record_error,
)

OPERATION_TEXT_COMPLETION = genai.GenAiOperationNameValues.TEXT_COMPLETION.value


def _prompt_messages(prompt: Any) -> list[dict[str, Any]]:
    prompts = [prompt] if isinstance(prompt, str) else [p for p in prompt or () if isinstance(p, str)]
    return [content.input_message("user", [content.text_part(p)]) for p in prompts]


class CompletionsHooks(OpenAIHooks):
    """Hooks for ``Completions.create`` of the legacy ``/v1/completions`` endpoint (sync and async)."""

    def __init__(self, stream_types: tuple[type, ...]) -> None:
        self._stream_types = stream_types

    def invocation(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], capture_content: bool
    ) -> Invocation:
        invocation = new_invocation(instance, OPERATION_TEXT_COMPLETION, kwargs)
        add_sampling_params(invocation, kwargs)
        max_tokens = given(kwargs, "max_tokens")
        if isinstance(max_tokens, int):
            invocation.request_attributes[genai.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        if capture_content:
            invocation.input_messages = _prompt_messages(given(kwargs, "prompt"))
        return invocation

    def on_response(self, invocation: Invocation, response: Any) -> None:
        response = parsed(response)
        add_response_common(invocation, response)
        choices = getattr(response, "choices", None) or []
        invocation.finish_reasons = [str(getattr(c, "finish_reason", None) or "") for c in choices]
        set_usage(invocation, getattr(response, "usage", None))
        if invocation.capture_content:
            invocation.output_messages = [
                content.output_message([content.text_part(c.text or "")], getattr(c, "finish_reason", None))
                for c in choices
            ]

    def stream_accumulator(self, invocation: Invocation, response: Any) -> StreamAccumulator | None:
        if isinstance(response, self._stream_types):
            return CompletionsStreamAccumulator(invocation.capture_content)
        return None

    def on_error(self, invocation: Invocation, exc: BaseException) -> None:
        record_error(invocation, exc)


class CompletionsStreamAccumulator(StreamAccumulator):
    __slots__ = ("header", "reasons", "texts", "usage")

    def __init__(self, capture_content: bool) -> None:
        self.header: Any = None
        self.usage: Any = None
        self.reasons: dict[int, str] = {}
        self.texts: dict[int, list[str]] | None = {} if capture_content else None

    def on_chunk(self, chunk: Any) -> None:
        if self.header is None and chunk.id:
            self.header = chunk
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                self.reasons[choice.index] = choice.finish_reason
            if self.texts is not None:
                self.texts.setdefault(choice.index, []).append(choice.text or "")

    def finish(self, invocation: Invocation, stream: Any) -> None:
        if self.header is not None:
            add_response_common(invocation, self.header)
        if self.reasons:
            invocation.finish_reasons = [self.reasons[i] for i in sorted(self.reasons)]
        set_usage(invocation, self.usage)
        if self.texts is not None:
            invocation.output_messages = [
                content.output_message([content.text_part("".join(parts))], self.reasons.get(index))
                for index, parts in sorted(self.texts.items())
            ]
