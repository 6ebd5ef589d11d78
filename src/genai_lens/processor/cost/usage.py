"""Token usage of a GenAI span, read once from its current OTel GenAI attributes.

Both the cost and the anomaly stage need the same counts; they run after ``normalize``, so only the
current names are read. ``input_tokens`` is the total including cache reads and writes (semconv), and the
cache and reasoning counts are subsets of input and output, never added to them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    GenAiOperationNameValues,
)

from genai_lens.processor.span_view import AttributeValue, SpanView

# Operations that are one call to a model; agent, tool, workflow and retrieval spans only roll up or
# wrap such calls, so their usage (when present) is never priced or baselined as a call of its own.
MODEL_CALL_OPERATIONS = frozenset(
    {
        GenAiOperationNameValues.CHAT.value,
        GenAiOperationNameValues.TEXT_COMPLETION.value,
        GenAiOperationNameValues.GENERATE_CONTENT.value,
        GenAiOperationNameValues.EMBEDDINGS.value,
    }
)


def is_genai_span(span: SpanView) -> bool:
    """A span the GenAI stages care about: it names a GenAI operation or provider."""
    return GEN_AI_OPERATION_NAME in span or GEN_AI_PROVIDER_NAME in span


def is_model_call(span: SpanView) -> bool:
    """A GenAI span that is one model call (or names a provider but no operation)."""
    operation = span.get(GEN_AI_OPERATION_NAME)
    if operation is None:
        return GEN_AI_PROVIDER_NAME in span
    return operation in MODEL_CALL_OPERATIONS


def as_count(value: AttributeValue) -> int | None:
    """A token count from an attribute value: non-negative finite int/float, else ``None``."""
    if type(value) is int:  # the usual case first (``bool`` is a subclass, so not ``isinstance``)
        return value if value >= 0 else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return int(value)
    return None


class TokenUsage(NamedTuple):
    """The token counts of one call; ``None`` means the span did not report that count.

    A named tuple rather than a frozen dataclass: it is built for every GenAI span by two stages, and
    a tuple is built in a quarter of the time.
    """

    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int
    cache_creation_tokens: int
    reasoning_tokens: int

    @property
    def has_tokens(self) -> bool:
        return bool(
            self.input_tokens or self.output_tokens or self.cache_read_tokens or self.cache_creation_tokens
        )

    @property
    def total_input_tokens(self) -> int:
        """Input including cache; the cache counts stand in when the span reports no input total."""
        if self.input_tokens is not None:
            return self.input_tokens
        return self.cache_read_tokens + self.cache_creation_tokens

    def identity(self) -> tuple[int, int, int, int]:
        """What two spans must share to count as the same call reported twice."""
        return (
            self.input_tokens or 0,
            self.output_tokens or 0,
            self.cache_read_tokens,
            self.cache_creation_tokens,
        )


def read_usage(span: SpanView) -> TokenUsage:
    """The span's counts; absent cache and reasoning counts (the usual case) cost a key check each."""
    return TokenUsage(
        as_count(span.get(GEN_AI_USAGE_INPUT_TOKENS)),
        as_count(span.get(GEN_AI_USAGE_OUTPUT_TOKENS)),
        _optional_count(span, GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
        _optional_count(span, GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
        _optional_count(span, GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    )


def _optional_count(span: SpanView, key: str) -> int:
    return (as_count(span.get(key)) or 0) if key in span else 0
