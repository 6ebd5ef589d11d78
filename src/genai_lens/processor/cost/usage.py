"""Token usage of a GenAI span, read once from its current OTel GenAI attributes.

Both the cost and the anomaly stage need the same counts; they run after ``normalize``, so only the
current names are read. ``input_tokens`` is the total including cache reads and writes (semconv), and the
cache and reasoning counts are subsets of input and output, never added to them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

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


class _Absent:
    """The type of :data:`ABSENT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()
"""The default to pass to ``SpanView.get_many`` where presence matters: ``None`` then means "present
without a value", as ``key in span`` tells it apart from an absent key."""

GENAI_KEYS = (GEN_AI_OPERATION_NAME, GEN_AI_PROVIDER_NAME)
"""What tells a GenAI span (:func:`is_genai`) and a model call (:func:`is_model_call_of`) apart."""
USAGE_KEYS = (
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)
"""The counts :func:`usage_of` reads, in its order."""


def is_genai(operation: object, provider: object) -> bool:
    """A span the GenAI stages care about: it names a GenAI operation or provider (values read with
    ``get_many(GENAI_KEYS, ABSENT)``)."""
    return operation is not ABSENT or provider is not ABSENT


def is_model_call_of(operation: object, provider: object) -> bool:
    """A GenAI span that is one model call (or names a provider but no operation), from the values of
    ``get_many(GENAI_KEYS, ABSENT)``."""
    if operation is None or operation is ABSENT:
        return provider is not ABSENT
    return operation in MODEL_CALL_OPERATIONS


def read_genai(spans: Sequence[SpanView], keys: tuple[str, ...]) -> list[tuple[SpanView, tuple[Any, ...]]]:
    """``(span, span.get_many(keys, ABSENT))`` of the GenAI spans among ``spans`` (:func:`is_genai`), in
    order; ``keys`` start with :data:`GENAI_KEYS`. The view class reads them all at once
    (``read_present``): on a native batch one Rust call, instead of one per span and stage."""
    if not spans:
        return []
    return type(spans[0]).read_present(spans, keys, ABSENT, len(GENAI_KEYS))


def as_count(value: AttributeValue | object) -> int | None:
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


def usage_of(values: Sequence[object]) -> TokenUsage:
    """The counts from the values of :data:`USAGE_KEYS` (in that order); an absent count reads as
    ``None`` (input, output) or 0 (cache and reasoning, subsets that are usually not reported).

    Built for every GenAI span by both stages, so the usual values (a non-negative ``int``, an absent
    optional count) skip :func:`as_count`, with the same result.
    """
    input_tokens, output_tokens, cache_read, cache_creation, reasoning = values
    return _new_usage(
        TokenUsage,
        (
            input_tokens if type(input_tokens) is int and input_tokens >= 0 else as_count(input_tokens),
            output_tokens if type(output_tokens) is int and output_tokens >= 0 else as_count(output_tokens),
            0 if cache_read is ABSENT else as_count(cache_read) or 0,
            0 if cache_creation is ABSENT else as_count(cache_creation) or 0,
            0 if reasoning is ABSENT else as_count(reasoning) or 0,
        ),
    )


_new_usage = tuple.__new__  # a TokenUsage from its five fields, without NamedTuple's keyword handling
