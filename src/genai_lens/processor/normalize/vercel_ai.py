"""Vercel AI SDK (``ai.*`` attributes): operation ids such as ``ai.generateText.doGenerate``.

Only the inner provider-call spans (``…doGenerate``, ``…doStream``, ``…doEmbed``) become model-call
spans with usage: the outer ``ai.generateText`` span repeats the same usage summed over its steps, and
giving both a ``gen_ai.usage.*`` would count every token twice. The outer span gets provider and model
only. Tool spans (``ai.toolCall``) become ``execute_tool``.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import mapping as m

OPERATION_ID = "ai.operationId"

CALL_OPERATIONS = {
    "ai.generateText.doGenerate": m.CHAT,
    "ai.streamText.doStream": m.CHAT,
    "ai.generateObject.doGenerate": m.CHAT,
    "ai.streamObject.doStream": m.CHAT,
    "ai.embed.doEmbed": m.EMBEDDINGS,
    "ai.embedMany.doEmbed": m.EMBEDDINGS,
}
TOOL_OPERATION = "ai.toolCall"

IDENTITY: m.Table = (
    ("ai.model.id", ga.GEN_AI_REQUEST_MODEL),
    ("ai.model.provider", ga.GEN_AI_PROVIDER_NAME),
    (ga.GEN_AI_SYSTEM, ga.GEN_AI_PROVIDER_NAME),  # ``openai.responses`` on provider-call spans
)

CALL_RENAMES: m.Table = (
    ("ai.response.model", ga.GEN_AI_RESPONSE_MODEL),
    ("ai.response.id", ga.GEN_AI_RESPONSE_ID),
    ("ai.response.finishReason", ga.GEN_AI_RESPONSE_FINISH_REASONS),
    ("ai.usage.inputTokens", ga.GEN_AI_USAGE_INPUT_TOKENS),
    ("ai.usage.promptTokens", ga.GEN_AI_USAGE_INPUT_TOKENS),
    ("ai.usage.tokens", ga.GEN_AI_USAGE_INPUT_TOKENS),
    ("ai.usage.outputTokens", ga.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("ai.usage.completionTokens", ga.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("ai.usage.cachedInputTokens", ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("ai.usage.reasoningTokens", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("ai.settings.temperature", ga.GEN_AI_REQUEST_TEMPERATURE),
    ("ai.settings.maxOutputTokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
    ("ai.settings.maxTokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
    ("ai.settings.topP", ga.GEN_AI_REQUEST_TOP_P),
    ("ai.settings.topK", ga.GEN_AI_REQUEST_TOP_K),
    ("ai.settings.frequencyPenalty", ga.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("ai.settings.presencePenalty", ga.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("ai.settings.seed", ga.GEN_AI_REQUEST_SEED),
    ("ai.settings.stopSequences", ga.GEN_AI_REQUEST_STOP_SEQUENCES),
)

TOOL_RENAMES: m.Table = (
    ("ai.toolCall.name", ga.GEN_AI_TOOL_NAME),
    ("ai.toolCall.id", ga.GEN_AI_TOOL_CALL_ID),
    ("ai.toolCall.args", ga.GEN_AI_TOOL_CALL_ARGUMENTS),
    ("ai.toolCall.input", ga.GEN_AI_TOOL_CALL_ARGUMENTS),
    ("ai.toolCall.result", ga.GEN_AI_TOOL_CALL_RESULT),
    ("ai.toolCall.output", ga.GEN_AI_TOOL_CALL_RESULT),
)


def input_messages(raw: Any) -> list[dict[str, Any]] | None:
    """``ai.prompt.messages``: the provider-neutral prompt, content as a string or a list of typed parts."""
    parsed = m.parse_json(raw)
    if not isinstance(parsed, list):
        return None
    messages = []
    for item in parsed:
        if isinstance(item, dict):
            role = m.as_str(item.get("role")) or "user"
            messages.append({"role": role, "parts": m.content_to_parts(item.get("content"))})
    return messages


def output_messages(edit: m.SpanEdit) -> list[dict[str, Any]] | None:
    view = edit.view
    parts: list[dict[str, Any]] = []
    for key in ("ai.response.text", "ai.response.object"):
        text = view.get(key)
        if isinstance(text, str) and text:
            parts.append(m.text_part(text))
            edit.consume(key)
    calls = m.parse_json(view.get("ai.response.toolCalls"))
    if isinstance(calls, list):
        edit.consume("ai.response.toolCalls")
        for call in calls:
            if isinstance(call, dict):
                parts.append(
                    m.tool_call_part(
                        call.get("toolCallId"), call.get("toolName"), call.get("input", call.get("args"))
                    )
                )
    if not parts:
        return None
    reasons = edit.finish_reasons()
    reason = reasons[0] if isinstance(reasons, list) and reasons else None
    return [m.output_message("assistant", parts, reason)]


def map_content(edit: m.SpanEdit) -> None:
    view = edit.view
    if ga.GEN_AI_INPUT_MESSAGES not in view and "ai.prompt.messages" in view:
        messages = input_messages(view.get("ai.prompt.messages"))
        if messages:
            edit.consume("ai.prompt.messages")
            edit.put(ga.GEN_AI_INPUT_MESSAGES, m.dump_json(messages))
    if ga.GEN_AI_OUTPUT_MESSAGES not in view:
        messages = output_messages(edit)
        if messages:
            edit.put(ga.GEN_AI_OUTPUT_MESSAGES, m.dump_json(messages))
    tools = view.get("ai.prompt.tools")
    if isinstance(tools, list) and ga.GEN_AI_TOOL_DEFINITIONS not in view:
        edit.consume("ai.prompt.tools")
        edit.put(ga.GEN_AI_TOOL_DEFINITIONS, m.dump_json([m.tool_definition(t) for t in tools]))


def normalize(edit: m.SpanEdit) -> None:
    view = edit.view
    operation_id = view.get(OPERATION_ID)
    edit.apply(IDENTITY)
    if operation_id == TOOL_OPERATION:
        edit.put(ga.GEN_AI_OPERATION_NAME, m.EXECUTE_TOOL)
        edit.apply(TOOL_RENAMES, {})
        return
    operation = CALL_OPERATIONS.get(operation_id) if isinstance(operation_id, str) else None
    if operation is None:
        return  # outer wrapper span: no usage, see the module docstring
    edit.put(ga.GEN_AI_OPERATION_NAME, operation)
    edit.apply(CALL_RENAMES)
    ttfc_ms = m.as_float(view.get("ai.response.msToFirstChunk"))
    if ttfc_ms is not None:
        edit.consume("ai.response.msToFirstChunk")
        edit.put(ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttfc_ms / 1000.0)
    map_content(edit)
