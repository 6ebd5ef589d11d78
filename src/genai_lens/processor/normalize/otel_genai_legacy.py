"""OTel GenAI conventions before the content/provider revision (contrib openai-v2 default, ≤ v1.30).

``gen_ai.system`` instead of ``gen_ai.provider.name``, ``gen_ai.usage.prompt/completion_tokens``,
``gen_ai.openai.*`` request/response names, and, in the oldest form, the whole prompt/completion as JSON
in ``gen_ai.prompt`` / ``gen_ai.completion`` (attributes, or ``gen_ai.content.*`` span events). Per-message
log records (v1.30 default) are not on the span, so they are out of reach of a span stage.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga
from opentelemetry.semconv._incubating.attributes import openai_attributes as oa

from genai_lens.processor.normalize import mapping as m

RENAMES: m.Table = (
    (ga.GEN_AI_SYSTEM, ga.GEN_AI_PROVIDER_NAME),
    (ga.GEN_AI_USAGE_PROMPT_TOKENS, ga.GEN_AI_USAGE_INPUT_TOKENS),
    (ga.GEN_AI_USAGE_COMPLETION_TOKENS, ga.GEN_AI_USAGE_OUTPUT_TOKENS),
    (ga.GEN_AI_OPENAI_REQUEST_SEED, ga.GEN_AI_REQUEST_SEED),
    (ga.GEN_AI_OPENAI_REQUEST_SERVICE_TIER, oa.OPENAI_REQUEST_SERVICE_TIER),
    (ga.GEN_AI_OPENAI_RESPONSE_SERVICE_TIER, oa.OPENAI_RESPONSE_SERVICE_TIER),
    (ga.GEN_AI_OPENAI_RESPONSE_SYSTEM_FINGERPRINT, oa.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
)

RESPONSE_FORMATS = {"text": "text", "json_object": "json", "json_schema": "json"}
PROMPT_EVENT = "gen_ai.content.prompt"
COMPLETION_EVENT = "gen_ai.content.completion"


def legacy_input_messages(value: Any) -> list[dict[str, Any]] | None:
    """``gen_ai.prompt`` JSON: a list of ``{role, content}`` or already ``{role, parts}`` messages."""
    parsed = m.parse_json(value) if isinstance(value, str) else value
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list):
        return [{"role": "user", "parts": [m.text_part(value)]}] if isinstance(value, str) and value else None
    messages = []
    for item in parsed:
        if not isinstance(item, dict):
            continue
        parts = item.get("parts")
        if not isinstance(parts, list):
            parts = m.content_to_parts(item.get("content"))
            for call in item.get("tool_calls") or []:
                if isinstance(call, dict):
                    function = call.get("function") or {}
                    parts.append(
                        m.tool_call_part(call.get("id"), function.get("name"), function.get("arguments"))
                    )
        messages.append({"role": m.as_str(item.get("role")) or "user", "parts": parts})
    return messages


def legacy_output_messages(value: Any, reasons: list[str] | None) -> list[dict[str, Any]] | None:
    """``gen_ai.completion`` JSON: ``{text, finish_reason}``, a list of those, or a list of messages."""
    parsed = m.parse_json(value) if isinstance(value, str) else value
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list):
        if isinstance(value, str) and value:
            return [m.output_message("assistant", [m.text_part(value)], reasons[0] if reasons else None)]
        return None
    messages = []
    for position, item in enumerate(parsed):
        if not isinstance(item, dict):
            continue
        raw_reason = m.as_str(item.get("finish_reason"))
        reason = m.normalize_finish_reason(raw_reason) if raw_reason else None
        if reason is None and reasons:
            reason = reasons[min(position, len(reasons) - 1)]
        parts = item.get("parts")
        if not isinstance(parts, list):
            body = item.get("message") if isinstance(item.get("message"), dict) else item
            parts = m.content_to_parts(body.get("content", body.get("text")))
        messages.append(m.output_message(item.get("role", "assistant"), parts, reason))
    return messages


def event_value(view: Any, event_name: str, key: str) -> Any:
    return view.event_string(event_name, key)


def map_content(edit: m.SpanEdit) -> None:
    view = edit.view
    prompt = view.get(ga.GEN_AI_PROMPT)
    completion = view.get(ga.GEN_AI_COMPLETION)
    if prompt is None or completion is None:
        prompt = prompt if prompt is not None else event_value(view, PROMPT_EVENT, ga.GEN_AI_PROMPT)
        completion = (
            completion
            if completion is not None
            else event_value(view, COMPLETION_EVENT, ga.GEN_AI_COMPLETION)
        )
    if prompt is not None and ga.GEN_AI_INPUT_MESSAGES not in view:
        inputs = legacy_input_messages(prompt)
        if inputs:
            edit.put(ga.GEN_AI_INPUT_MESSAGES, m.dump_json(inputs))
    if completion is not None and ga.GEN_AI_OUTPUT_MESSAGES not in view:
        reasons = edit.finish_reasons()
        outputs = legacy_output_messages(completion, reasons if isinstance(reasons, list) else None)
        if outputs:
            edit.put(ga.GEN_AI_OUTPUT_MESSAGES, m.dump_json(outputs))
    # the old attributes go only once their content is on the span under the current name
    if ga.GEN_AI_PROMPT in view and ga.GEN_AI_INPUT_MESSAGES in view:
        edit.consume(ga.GEN_AI_PROMPT)
    if ga.GEN_AI_COMPLETION in view and ga.GEN_AI_OUTPUT_MESSAGES in view:
        edit.consume(ga.GEN_AI_COMPLETION)


def normalize(edit: m.SpanEdit) -> None:
    view = edit.view
    edit.apply(RENAMES)
    fmt = view.get(ga.GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT)
    output_type = RESPONSE_FORMATS.get(fmt) if isinstance(fmt, str) else None
    if output_type is not None:
        edit.put(ga.GEN_AI_OUTPUT_TYPE, output_type)
        edit.consume(ga.GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT)
    map_content(edit)
