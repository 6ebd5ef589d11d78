"""Malformed spans: any value type under any dialect key must neither raise nor break idempotence.

Spans come from other people's instrumentations and from users' own code, so every source key is fed
values of every OTLP type (and JSON-looking strings that are not what the key promises).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normalize_samples import flat_request, views
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import NormalizeStage
from genai_lens.processor.stage import StageContext

MARKERS = [
    {"openinference.span.kind": "LLM"},
    {"ai.operationId": "ai.generateText.doGenerate"},
    {"llm.request.type": "chat", ga.GEN_AI_SYSTEM: "openai"},
    {ga.GEN_AI_PROVIDER_NAME: "anthropic", "telemetry.sdk.name": "openlit"},
    {ga.GEN_AI_SYSTEM: "openai", ga.GEN_AI_PROVIDER_NAME: "openai", "gen_ai.request.type": "chat"},
    {ga.GEN_AI_PROVIDER_NAME: "openai", "gen_ai.usage.total_tokens": 3},
    {ga.GEN_AI_SYSTEM: "az.ai.openai", ga.GEN_AI_OPERATION_NAME: "chat"},
    {ga.GEN_AI_OPERATION_NAME: "chat"},
]

SOURCE_KEYS = [
    "llm.invocation_parameters",
    "llm.model_name",
    "llm.provider",
    "llm.system",
    "llm.finish_reason",
    "llm.token_count.prompt",
    "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.content",
    "llm.input_messages.0.message.contents.0.message_content.text",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
    "llm.output_messages.x.message.role",
    "llm.tools.0.tool.json_schema",
    "input.value",
    "output.value",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.0.role",
    "gen_ai.completion.0.finish_reason",
    "gen_ai.completion.0.tool_calls.0.arguments",
    "llm.request.functions.0.parameters",
    ga.GEN_AI_PROMPT,
    ga.GEN_AI_COMPLETION,
    ga.GEN_AI_INPUT_MESSAGES,
    ga.GEN_AI_OUTPUT_MESSAGES,
    ga.GEN_AI_RESPONSE_FINISH_REASONS,
    ga.GEN_AI_USAGE_INPUT_TOKENS,
    ga.GEN_AI_USAGE_PROMPT_TOKENS,
    "gen_ai.usage.cost",
    ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    "gen_ai.response.finish_reason",
    "gen_ai.prompt.system",
    "llm.tools",
    "ai.prompt.messages",
    "ai.prompt.tools",
    "ai.response.toolCalls",
    "ai.response.msToFirstChunk",
    "ai.model.provider",
    "ai.usage.inputTokens",
    "anthropic.message.stop_reason",
    ga.GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT,
]

JSONISH = st.sampled_from(
    [
        "{",
        "[",
        "[{",
        "[{}]",
        '[{"type": 1}]',
        "{}",
        '{"id": 5}',
        '{"model": []}',
        "null",
        "[1,2]",
        '"x"',
        "[[]]",
        '[{"role": null, "parts": 3}]',
        '[{"role": "user", "content": {"a": 1}}]',
        '{"text": 1}',
    ]
)
SCALARS = st.one_of(
    st.text(max_size=20), JSONISH, st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True), st.booleans()
)
VALUES = st.one_of(SCALARS, st.lists(st.one_of(st.text(max_size=5), st.integers(0, 9)), max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    marker=st.sampled_from(MARKERS),
    extra=st.dictionaries(st.sampled_from(SOURCE_KEYS), VALUES, max_size=8),
    keep_original=st.booleans(),
)
def test_any_values_never_raise_and_stay_idempotent(
    marker: dict[str, Any], extra: dict[str, Any], keep_original: bool
) -> None:
    request = flat_request("span", {**marker, **extra})
    context = StageContext()
    stage = NormalizeStage.from_config({"keep_original": keep_original}, context)
    stage.process_batch(views(request))
    assert not [
        labels for metric, _, _, labels, _ in context.stats.snapshot() if metric.endswith("errors_total")
    ]
    once = request.SerializeToString(deterministic=True)
    stage.process_batch(views(request))
    assert request.SerializeToString(deterministic=True) == once
    (span,) = views(request)
    for key in (ga.GEN_AI_INPUT_MESSAGES, ga.GEN_AI_OUTPUT_MESSAGES):
        value = span.get(key)
        if value is not None and key not in extra:
            json.loads(value)  # whatever we produced is JSON
