"""OpenLLMetry ≥ 0.55: already current OTel names, plus a few of its own (``gen_ai.usage.reasoning_tokens``…).

Its span names are ``{vendor}.{operation}`` (``openai.chat``); the stage renames them. Finish reasons are
already OTel enums, and ``gen_ai.usage.input_tokens`` already includes cached tokens.
"""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga
from opentelemetry.semconv._incubating.attributes import openai_attributes as oa

from genai_lens.processor.normalize.mapping import SpanEdit, Table

RENAMES: Table = (
    ("gen_ai.usage.reasoning_tokens", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("gen_ai.is_streaming", ga.GEN_AI_REQUEST_STREAM),
    ("gen_ai.usage.cache_read_input_tokens", ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("gen_ai.usage.cache_creation_input_tokens", ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
    (ga.GEN_AI_OPENAI_RESPONSE_SYSTEM_FINGERPRINT, oa.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
    (ga.GEN_AI_OPENAI_RESPONSE_SERVICE_TIER, oa.OPENAI_RESPONSE_SERVICE_TIER),
    (ga.GEN_AI_OPENAI_REQUEST_SERVICE_TIER, oa.OPENAI_REQUEST_SERVICE_TIER),
)


def normalize(edit: SpanEdit) -> None:
    edit.apply(RENAMES)
