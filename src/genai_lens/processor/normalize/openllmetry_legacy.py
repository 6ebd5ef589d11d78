"""OpenLLMetry ≤ 0.54 and its unmigrated packages: ``gen_ai.system``, ``llm.*``, ``gen_ai.prompt.N.*``.

Content is index-flattened (``gen_ai.prompt.0.role``, ``gen_ai.completion.0.tool_calls.1.name``); finish
reasons are raw provider values per completion; ``gen_ai.system`` was capitalised before semconv-ai 0.5
(``Anthropic``). Anthropic messages calls were typed ``completion`` although they are chats.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga
from opentelemetry.semconv._incubating.attributes import openai_attributes as oa

from genai_lens.processor.normalize import mapping as m

RENAMES: m.Table = (
    (ga.GEN_AI_SYSTEM, ga.GEN_AI_PROVIDER_NAME),
    (ga.GEN_AI_USAGE_PROMPT_TOKENS, ga.GEN_AI_USAGE_INPUT_TOKENS),
    ("llm.usage.prompt_tokens", ga.GEN_AI_USAGE_INPUT_TOKENS),
    (ga.GEN_AI_USAGE_COMPLETION_TOKENS, ga.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("llm.usage.completion_tokens", ga.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("gen_ai.usage.cache_read_input_tokens", ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("gen_ai.usage.cache_creation_input_tokens", ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
    ("llm.usage.reasoning_tokens", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("gen_ai.usage.reasoning_tokens", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("llm.is_streaming", ga.GEN_AI_REQUEST_STREAM),
    ("gen_ai.is_streaming", ga.GEN_AI_REQUEST_STREAM),
    ("llm.top_k", ga.GEN_AI_REQUEST_TOP_K),
    ("llm.frequency_penalty", ga.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("llm.presence_penalty", ga.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("llm.chat.stop_sequences", ga.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("llm.response.finish_reason", ga.GEN_AI_RESPONSE_FINISH_REASONS),
    ("llm.response.stop_reason", ga.GEN_AI_RESPONSE_FINISH_REASONS),
    ("gen_ai.openai.system_fingerprint", oa.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
    (ga.GEN_AI_OPENAI_RESPONSE_SYSTEM_FINGERPRINT, oa.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
)

REQUEST_TYPES = {
    "chat": m.CHAT,
    "completion": m.TEXT_COMPLETION,
    "embedding": m.EMBEDDINGS,
    "embeddings": m.EMBEDDINGS,
}

PROMPT_PREFIX = "gen_ai.prompt."
COMPLETION_PREFIX = "gen_ai.completion."
FUNCTIONS_PREFIX = "llm.request.functions."


def operation(request_type: Any, span_name: str) -> str | None:
    op = REQUEST_TYPES.get(request_type) if isinstance(request_type, str) else None
    if op == m.TEXT_COMPLETION and span_name.endswith(".chat"):
        return m.CHAT  # legacy anthropic typed messages.create as "completion"
    return op


def _flat(fields: dict[str, Any]) -> bool:
    """A message of plain ``role``/``content``/``finish_reason`` keys (the usual one): nothing nested."""
    return not any("." in key for key in fields)


def tool_calls(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """``tool_calls.M.{id,name,arguments}`` (and the pre-tools ``function_call.*``) of one message."""
    if _flat(fields):
        return []
    parts = [
        m.tool_call_part(call.get("id"), call.get("name"), call.get("arguments"))
        for _, call in m.group_indexed(fields, "tool_calls.")
    ]
    if "function_call.name" in fields:
        parts.append(
            m.tool_call_part(None, fields["function_call.name"], fields.get("function_call.arguments"))
        )
    return parts


def content_parts(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """``content`` (text or JSON blocks) or genai-otel's ``content.M.{type,text,…}`` of one message."""
    parts = m.content_to_parts(fields.get("content"))
    if _flat(fields):
        return parts
    for _, block in m.group_indexed(fields, "content."):
        parts.append(m.block_to_part(block) if "type" in block else m.text_part(str(block.get("text", ""))))
    return parts


def input_messages(indexed: m.Indexed) -> list[dict[str, Any]]:
    messages = []
    for _, fields in indexed:
        role = m.as_str(fields.get("role")) or "user"
        parts = content_parts(fields)
        if role == "tool" and "tool_call_id" in fields:
            text = " ".join(p["content"] for p in parts if p.get("type") == "text")
            parts = [m.tool_response_part(fields["tool_call_id"], text)]
        parts.extend(tool_calls(fields))
        messages.append({"role": role, "parts": parts})
    return messages


def output_messages(indexed: m.Indexed, span_reasons: list[str] | None) -> list[dict[str, Any]]:
    messages = []
    for position, (_, fields) in enumerate(indexed):
        reason = m.as_str(fields.get("finish_reason"))
        if reason is None and span_reasons:
            reason = span_reasons[min(position, len(span_reasons) - 1)]
        parts = content_parts(fields) + tool_calls(fields)
        finish = m.normalize_finish_reason(reason) if reason else None
        messages.append(m.output_message(fields.get("role"), parts, finish))
    return messages


def tool_definitions(indexed: m.Indexed) -> list[Any]:
    tools = []
    for _, fields in indexed:
        tool: dict[str, Any] = {"type": "function", "name": fields.get("name", "")}
        if "description" in fields:
            tool["description"] = fields["description"]
        if "parameters" in fields:
            params = fields["parameters"]
            tool["parameters"] = m.parse_json(params) if isinstance(params, str) else params
        tools.append(tool)
    return tools


CONTENT_PREFIXES = (PROMPT_PREFIX, COMPLETION_PREFIX, FUNCTIONS_PREFIX)


def map_content(edit: m.SpanEdit) -> None:
    """Build the JSON content attributes from the flattened keys; shared with genai-otel-instrument."""
    view = edit.view
    groups, used = m.collect_indexed(view, CONTENT_PREFIXES)
    if not used:
        return
    completions = groups[COMPLETION_PREFIX]
    if ga.GEN_AI_RESPONSE_FINISH_REASONS not in view:
        reasons = [
            m.as_str(fields["finish_reason"]) or ""
            for _, fields in completions
            if fields.get("finish_reason")
        ]
        edit.put(ga.GEN_AI_RESPONSE_FINISH_REASONS, m.normalize_finish_reasons(reasons))
    span_reasons = edit.finish_reasons()
    reasons_list = span_reasons if isinstance(span_reasons, list) else None
    if ga.GEN_AI_INPUT_MESSAGES not in view:
        messages = input_messages(groups[PROMPT_PREFIX])
        if messages:
            edit.put(ga.GEN_AI_INPUT_MESSAGES, m.dump_json(messages))
    if ga.GEN_AI_OUTPUT_MESSAGES not in view:
        messages = output_messages(completions, reasons_list)
        if messages:
            edit.put(ga.GEN_AI_OUTPUT_MESSAGES, m.dump_json(messages))
    if ga.GEN_AI_TOOL_DEFINITIONS not in view:
        tools = tool_definitions(groups[FUNCTIONS_PREFIX])
        if tools:
            edit.put(ga.GEN_AI_TOOL_DEFINITIONS, m.dump_json(tools))
    edit.consumed.extend(used)


def normalize(edit: m.SpanEdit) -> None:
    view = edit.view
    edit.apply(RENAMES)
    if "llm.request.type" in view:
        op = operation(view.get("llm.request.type"), view.span.name)
        if op is not None and (edit.put(ga.GEN_AI_OPERATION_NAME, op) or ga.GEN_AI_OPERATION_NAME in view):
            edit.consume("llm.request.type")
    map_content(edit)
