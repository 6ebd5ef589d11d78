"""Flags that need no baseline: error, truncated output, content filter, empty completion.

Finish reasons are matched case-insensitively on the raw provider values as well as the OTel ones,
since only some instrumentations normalise them (OpenAI ``length``, Anthropic ``max_tokens``, Gemini
``MAX_TOKENS``/``SAFETY``, Azure ``content_filter``).
"""

from __future__ import annotations

import json
import re

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GenAiOperationNameValues,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE

from genai_lens.processor.span_view import SpanView
from genai_lens.semconv import GenaiLensAnomalyFlagsValues as Flag

TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_output_tokens", "model_length"})
CONTENT_FILTER_REASONS = frozenset(
    {"content_filter", "safety", "prohibited_content", "blocklist", "spii", "recitation", "image_safety"}
)
# Calls that are expected to produce output; an embeddings call with 0 output tokens is normal.
COMPLETION_OPERATIONS = frozenset(
    {
        GenAiOperationNameValues.CHAT.value,
        GenAiOperationNameValues.TEXT_COMPLETION.value,
        GenAiOperationNameValues.GENERATE_CONTENT.value,
    }
)
# How a blocked prompt shows up on an error span: the error code, or Azure's error message.
_CONTENT_FILTER_MARKS = ("content_filter", "content management policy")


CATEGORICAL_KEYS = (ERROR_TYPE, GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_OUTPUT_MESSAGES)
"""The attributes :func:`categorical_flags` reads (its ``error_type``, ``finish_reasons`` and
``output_messages``), for the stage's one ``get_many`` of a span."""


def categorical_flags(
    span: SpanView,
    operation: object,
    output_tokens: int | None,
    error_type: object,
    finish_reasons: object,
    output_messages: object,
) -> list[str]:
    """The flags of one call, from its values as ``get`` reads them (``None``: absent or empty)."""
    flags: list[str] = []
    failed = span.is_error or error_type is not None
    if failed:
        flags.append(Flag.ERROR.value)
    reasons = _finish_reasons(finish_reasons)
    if reasons and not reasons.isdisjoint(TRUNCATION_REASONS):
        flags.append(Flag.TRUNCATED.value)
    if (reasons and not reasons.isdisjoint(CONTENT_FILTER_REASONS)) or (
        failed and _filtered_error(span, error_type)
    ):
        flags.append(Flag.CONTENT_FILTER.value)
    if not failed and operation in COMPLETION_OPERATIONS:
        if output_tokens == 0 or _output_messages_empty(output_messages):
            flags.append(Flag.EMPTY_COMPLETION.value)
    return flags


def _finish_reasons(value: object) -> set[str]:
    """The string values of ``gen_ai.response.finish_reasons`` (a string or an array), lower-cased.

    A non-string array item reads as "", which is in neither reason set.
    """
    if isinstance(value, list):
        if len(value) == 1:  # the usual one reason, without a comprehension's frame
            item = value[0]
            return {item.lower() if isinstance(item, str) else ""}
        return {item.lower() if isinstance(item, str) else "" for item in value}
    if isinstance(value, str):
        return {value.lower()}
    return set()


def _filtered_error(span: SpanView, error_type: object) -> bool:
    """An error the provider raised because its content filter blocked the prompt (Azure 400)."""
    texts = (error_type.lower() if isinstance(error_type, str) else "", span.span.status.message.lower())
    return any(mark in text for mark in _CONTENT_FILTER_MARKS for text in texts)


# One assistant message holding one text part, as our instrumentation and the normalizer write it
# (compact) and as ``json.dumps`` does by default (spaced).
_TEXT_OUTPUT_HEADS = (
    '[{"role":"assistant","parts":[{"type":"text","content":"',
    '[{"role": "assistant", "parts": [{"type": "text", "content": "',
)
_TEXT_OUTPUT_TAIL = re.compile(r'\s*\}\s*\]\s*(?:,\s*"finish_reason"\s*:\s*"[^"\\]*"\s*)?\}\s*\]\s*\Z')


def _output_messages_empty(value: object) -> bool:
    """True when content capture is on and the output holds no text, tool call or other part."""
    if value is None:
        return False
    if isinstance(value, str):
        if _single_nonblank_text(value):
            return False
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if not isinstance(value, list):
        return False
    return not any(_message_has_output(message) for message in value)


def _single_nonblank_text(value: str) -> bool:
    """Whether ``value`` is, without parsing it, one message with one non-blank text part (the usual
    output). A false answer means "parse it"; a text that looks right but is not valid JSON counts as
    not empty either way, so the shortcut never changes the result.
    """
    for head in _TEXT_OUTPUT_HEADS:
        if value.startswith(head):
            start = len(head)
            break
    else:
        return False
    if start >= len(value) or value[start] in '"\\' or value[start].isspace():
        return False  # empty, blank-leading or escape-leading content: let the parser decide
    end = start
    while True:  # the content string ends at the first quote not escaped by an odd run of backslashes
        end = value.find('"', end)
        if end < 0:
            return False
        slashes = 0
        while value[end - 1 - slashes] == "\\":
            slashes += 1
        if not slashes % 2:
            break
        end += 1
    return _text_output_tail(value[end + 1 :])


def _text_output_tail(tail: str) -> bool:
    """Whether ``tail`` closes one text part and its message (``_TEXT_OUTPUT_TAIL``); remembered per
    tail, as outputs end in a handful of ways (``"}]}]``, ``"}],"finish_reason":"stop"}]``…)."""
    known = _TAILS.get(tail)
    if known is None:
        known = _TEXT_OUTPUT_TAIL.match(tail) is not None
        if len(_TAILS) < _TAILS_KEPT and len(tail) <= _TAIL_KEPT_LENGTH:
            _TAILS[tail] = known
    return known


_TAILS: dict[str, bool] = {}
_TAILS_KEPT = 256  # distinct tails remembered (short ones only); any other is matched every time
_TAIL_KEPT_LENGTH = 80


def _message_has_output(message: object) -> bool:
    if not isinstance(message, dict):
        return True  # an unknown shape is not evidence of an empty completion
    parts = message.get("parts")
    if not isinstance(parts, list):
        return parts is not None
    for part in parts:
        if not isinstance(part, dict):
            return True
        kind = part.get("type")
        if kind == "text":
            content = part.get("content")
            if isinstance(content, str) and content.strip():
                return True
        elif kind != "reasoning":  # thinking alone is no answer; tool calls, media… are
            return True
    return False
