"""genai-otel-instrument: writes current *and* superseded names side by side by default.

The pairs (``input_tokens``/``prompt_tokens``, ``cache_creation``/``cache_write``, ``provider.name``/
``system``) carry the same number twice, so they are de-duplicated (the current name wins), never summed.
``gen_ai.usage.token_count_estimated`` marks its estimated counts and is kept as is. Content comes as
OpenLLMetry-style ``gen_ai.prompt.N.*`` keys, parsed by the shared legacy builder.
"""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import mapping as m
from genai_lens.processor.normalize import openllmetry_legacy

RENAMES: m.Table = (
    (ga.GEN_AI_SYSTEM, ga.GEN_AI_PROVIDER_NAME),
    (ga.GEN_AI_USAGE_PROMPT_TOKENS, ga.GEN_AI_USAGE_INPUT_TOKENS),
    (ga.GEN_AI_USAGE_COMPLETION_TOKENS, ga.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("gen_ai.usage.cache_write.input_tokens", ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
    ("gen_ai.usage.reasoning_tokens", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("gen_ai.response.finish_reason", ga.GEN_AI_RESPONSE_FINISH_REASONS),
    ("gen_ai.request.type", ga.GEN_AI_OPERATION_NAME),
    ("gen_ai.server.time_to_first_token", ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK),
    ("gen_ai.server.ttft", ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK),
)

REQUEST_TYPES = {"chat": m.CHAT, "completion": m.TEXT_COMPLETION, "embedding": m.EMBEDDINGS}
SYSTEM_KEYS = ("gen_ai.prompt.system", "gen_ai.request.instructions")


def operation(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value if value in m.KNOWN_OPERATIONS else REQUEST_TYPES.get(value)


def normalize(edit: m.SpanEdit) -> None:
    view = edit.view
    edit.apply(RENAMES, {**m.CONVERTERS, ga.GEN_AI_OPERATION_NAME: operation})
    for key in SYSTEM_KEYS:
        if key in view:
            edit.consume(key)
            text = m.as_str(view.get(key))
            if text:
                edit.put(ga.GEN_AI_SYSTEM_INSTRUCTIONS, m.dump_json([m.text_part(text)]))
    if "llm.tools" in view and ga.GEN_AI_TOOL_DEFINITIONS not in view:
        tools = m.parse_json(view.get("llm.tools"))
        if isinstance(tools, list):
            edit.consume("llm.tools")
            edit.put(ga.GEN_AI_TOOL_DEFINITIONS, m.dump_json([m.tool_definition(t) for t in tools]))
    openllmetry_legacy.map_content(edit)
