"""OpenInference (Arize): ``llm.*`` attributes, ``openinference.span.kind``, INTERNAL span kind.

Quirks handled: the request model only exists inside the ``llm.invocation_parameters`` JSON (or, for
anthropic, the raw ``input.value`` request); ``llm.model_name`` is the *response* model; the response id
only exists inside ``output.value``; ``llm.finish_reason`` is a raw scalar; ``llm.provider`` ``azure`` /
``google`` need ``llm.system`` to say which API was called. Token counts are totals (cache included).
"""

from __future__ import annotations

import re
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import mapping as m
from genai_lens.processor.normalize import otel_genai_legacy

KIND = "openinference.span.kind"
KINDS = {
    "LLM": m.CHAT,
    "EMBEDDING": m.EMBEDDINGS,
    "RETRIEVER": m.RETRIEVAL,
    "TOOL": m.EXECUTE_TOOL,
    "AGENT": m.INVOKE_AGENT,
}

RENAMES: m.Table = (
    ("llm.model_name", ga.GEN_AI_RESPONSE_MODEL),
    ("llm.request.model_name", ga.GEN_AI_REQUEST_MODEL),
    ("embedding.model_name", ga.GEN_AI_REQUEST_MODEL),
    ("llm.token_count.prompt", ga.GEN_AI_USAGE_INPUT_TOKENS),
    ("llm.token_count.completion", ga.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("llm.token_count.prompt_details.cache_read", ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("llm.token_count.prompt_details.cache_input", ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("llm.token_count.prompt_details.cache_write", ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
    ("llm.token_count.completion_details.reasoning", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("llm.finish_reason", ga.GEN_AI_RESPONSE_FINISH_REASONS),
    ("tool.name", ga.GEN_AI_TOOL_NAME),
    ("tool.description", ga.GEN_AI_TOOL_DESCRIPTION),
    ("agent.name", ga.GEN_AI_AGENT_NAME),
    ("session.id", ga.GEN_AI_CONVERSATION_ID),
)

# invocation-parameter name → current attribute
PARAMETERS: m.Table = (
    ("model", ga.GEN_AI_REQUEST_MODEL),
    ("temperature", ga.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", ga.GEN_AI_REQUEST_TOP_P),
    ("top_k", ga.GEN_AI_REQUEST_TOP_K),
    ("max_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_completion_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_output_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
    ("frequency_penalty", ga.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", ga.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", ga.GEN_AI_REQUEST_SEED),
    ("stop", ga.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("stop_sequences", ga.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("n", ga.GEN_AI_REQUEST_CHOICE_COUNT),
    ("stream", ga.GEN_AI_REQUEST_STREAM),
)

INPUT_PREFIX = "llm.input_messages."
OUTPUT_PREFIX = "llm.output_messages."
TOOLS_PREFIX = "llm.tools."


def provider(llm_provider: Any, llm_system: Any) -> str | None:
    """``llm.provider`` names the host, ``llm.system`` the API family; together they give OTel's value."""
    host = m.as_str(llm_provider)
    family = m.as_str(llm_system)
    host_l = host.lower() if host else None
    family_l = family.lower() if family else None
    if host_l == "azure":
        return "azure.ai.openai" if family_l in (None, "openai") else "azure.ai.inference"
    if host_l == "google":
        return "gcp.vertex_ai" if family_l == "vertexai" else "gcp.gemini"
    return m.normalize_provider(host or family)


_NESTED = ("message.contents.", "message.tool_calls.")


def message_parts(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """``message.content`` / ``message.contents.M.*`` / ``message.tool_calls.M.*`` as schema parts."""
    parts: list[dict[str, Any]] = []
    seen_calls: set[Any] = set()
    content = fields.get("message.content")
    if content is not None:
        parts.extend(m.content_to_parts(content, json_blocks=False))
    if not any(key.startswith(_NESTED) for key in fields):
        return parts  # the usual message: role and text content only
    for _, item in m.group_indexed(fields, "message.contents."):
        kind = item.get("message_content.type")
        if "tool_call.function.name" in item:
            call_id = item.get("tool_call.id")
            seen_calls.add(call_id)
            parts.append(
                m.tool_call_part(
                    call_id, item["tool_call.function.name"], item.get("tool_call.function.arguments")
                )
            )
        elif kind == "image" or "message_content.image.image.url" in item:
            url = item.get("message_content.image.image.url")
            if isinstance(url, str):
                parts.append({"type": "uri", "modality": "image", "uri": url})
        elif "message_content.text" in item:
            parts.append(m.text_part(str(item["message_content.text"])))
        elif isinstance(kind, str):
            parts.append({"type": kind})
    for _, call in m.group_indexed(fields, "message.tool_calls."):
        call_id = call.get("tool_call.id")
        if call_id is not None and call_id in seen_calls:
            continue  # anthropic writes each tool_use both as a content block and as a tool call
        parts.append(
            m.tool_call_part(
                call_id, call.get("tool_call.function.name"), call.get("tool_call.function.arguments")
            )
        )
    return parts


def input_messages(indexed: m.Indexed) -> list[dict[str, Any]]:
    messages = []
    for _, fields in indexed:
        role = m.as_str(fields.get("message.role")) or "user"
        parts = message_parts(fields)
        if role == "tool" and "message.tool_call_id" in fields:
            text = " ".join(p["content"] for p in parts if p.get("type") == "text")
            parts = [m.tool_response_part(fields["message.tool_call_id"], text)]
        message: dict[str, Any] = {"role": role, "parts": parts}
        if isinstance(fields.get("message.name"), str):
            message["name"] = fields["message.name"]
        messages.append(message)
    return messages


def output_messages(indexed: m.Indexed, reasons: list[str] | None) -> list[dict[str, Any]]:
    messages = []
    for position, (_, fields) in enumerate(indexed):
        reason = reasons[min(position, len(reasons) - 1)] if reasons else None
        messages.append(m.output_message(fields.get("message.role"), message_parts(fields), reason))
    return messages


def map_invocation(edit: m.SpanEdit) -> None:
    view = edit.view
    params = m.parse_json(view.get("llm.invocation_parameters"))
    if not isinstance(params, dict):
        params = {}
    if "model" not in params and ga.GEN_AI_REQUEST_MODEL not in view and "llm.request.model_name" not in view:
        request = view.get("input.value")
        if isinstance(request, str) and request.startswith("{"):
            parsed = m.parse_json(request)
            if isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
                params = {**params, "model": parsed["model"]}
    for name, target in PARAMETERS if params else ():
        if name in params and target not in view:
            convert = m.CONVERTERS.get(target)
            value = params[name]
            edit.put(target, convert(value) if convert else value)


_LEADING_ID = re.compile(r'\A\{\s*"id"\s*:\s*"([^"\\]+)"')


def map_output_value(edit: m.SpanEdit) -> dict[str, Any] | None:
    """The response id (and a missing finish reason) from the raw ``output.value`` JSON.

    Provider responses start with their id, so the usual case is a regex on the first bytes; the whole
    (possibly large) body is parsed only when something else is missing from the span.
    """
    view = edit.view
    output = view.get("output.value")
    if not isinstance(output, str) or not output.startswith("{"):
        return None
    leading = _LEADING_ID.match(output)
    if leading is not None:
        edit.put(ga.GEN_AI_RESPONSE_ID, leading.group(1))
        if ga.GEN_AI_RESPONSE_FINISH_REASONS in view and OUTPUT_PREFIX + "0.message.role" in view:
            return None
    parsed = m.parse_json(output)
    if not isinstance(parsed, dict):
        return None
    if isinstance(parsed.get("id"), str):
        edit.put(ga.GEN_AI_RESPONSE_ID, parsed["id"])
    if ga.GEN_AI_RESPONSE_FINISH_REASONS not in view:
        raw = parsed.get("finish_reason", parsed.get("stop_reason"))
        choices = parsed.get("choices")
        if raw is None and isinstance(choices, list):
            raw = [c.get("finish_reason") for c in choices if isinstance(c, dict) and c.get("finish_reason")]
        edit.put(ga.GEN_AI_RESPONSE_FINISH_REASONS, m.normalize_finish_reasons(m.as_str_list(raw)))
    return parsed


def messages_from_values(edit: m.SpanEdit, output: dict[str, Any] | None) -> None:
    """Spans with only ``input.value``/``output.value`` (OI's rendering of an OTel GenAI span)."""
    view = edit.view
    if ga.GEN_AI_INPUT_MESSAGES not in view:
        parsed = m.parse_json(view.get("input.value"))
        if isinstance(parsed, dict):
            parsed = parsed.get("messages")
        if isinstance(parsed, list) and parsed and all(isinstance(x, dict) and "role" in x for x in parsed):
            messages = otel_genai_legacy.legacy_input_messages(parsed)
            if messages:
                edit.put(ga.GEN_AI_INPUT_MESSAGES, m.dump_json(messages))
    if ga.GEN_AI_OUTPUT_MESSAGES not in view and output is not None and isinstance(output.get("text"), str):
        reasons = edit.finish_reasons()
        reason = reasons[0] if isinstance(reasons, list) and reasons else None
        edit.put(
            ga.GEN_AI_OUTPUT_MESSAGES,
            m.dump_json([m.output_message("assistant", [m.text_part(output["text"])], reason)]),
        )


def map_content(edit: m.SpanEdit) -> None:
    view = edit.view
    groups, used = m.collect_indexed(view, (INPUT_PREFIX, OUTPUT_PREFIX, TOOLS_PREFIX))
    if not used:
        return
    edit.consumed.extend(used)
    if ga.GEN_AI_INPUT_MESSAGES not in view:
        messages = input_messages(groups[INPUT_PREFIX])
        if messages:
            edit.put(ga.GEN_AI_INPUT_MESSAGES, m.dump_json(messages))
    if ga.GEN_AI_OUTPUT_MESSAGES not in view:
        reasons = edit.finish_reasons()
        messages = output_messages(groups[OUTPUT_PREFIX], reasons if isinstance(reasons, list) else None)
        if messages:
            edit.put(ga.GEN_AI_OUTPUT_MESSAGES, m.dump_json(messages))
    if ga.GEN_AI_TOOL_DEFINITIONS not in view:
        tools = [
            m.tool_definition(fields["tool.json_schema"])
            for _, fields in groups[TOOLS_PREFIX]
            if "tool.json_schema" in fields
        ]
        if tools:
            edit.put(ga.GEN_AI_TOOL_DEFINITIONS, m.dump_json(tools))


def normalize(edit: m.SpanEdit) -> None:
    view = edit.view
    kind = view.get(KIND)
    operation = KINDS.get(kind) if isinstance(kind, str) else None
    if operation is None:
        return  # CHAIN, RERANKER, GUARDRAIL…: not a GenAI operation in OTel terms
    edit.put(ga.GEN_AI_OPERATION_NAME, operation)
    if "llm.provider" in view or "llm.system" in view:
        edit.put(ga.GEN_AI_PROVIDER_NAME, provider(view.get("llm.provider"), view.get("llm.system")))
        if ga.GEN_AI_PROVIDER_NAME in view:
            edit.consumed.extend(k for k in ("llm.provider", "llm.system") if k in view)
    edit.apply(RENAMES)
    if operation in (m.CHAT, m.EMBEDDINGS):
        map_invocation(edit)
        output = map_output_value(edit)
        map_content(edit)
        messages_from_values(edit, output)
