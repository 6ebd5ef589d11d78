"""The anthropic SDK's own spans (scope ``com.anthropic.sdk.python``, anthropic ≥ 2.x).

Already current names except: cache writes are ``gen_ai.usage.cache_write.input_tokens`` (the newer
semantic-conventions-genai name), the finish reason is only ``anthropic.message.stop_reason``, and its
output messages carry no ``finish_reason``. ``gen_ai.usage.input_tokens`` is already the total: the SDK
adds cache read and cache creation to Anthropic's raw count (``lib/_tracing/_response.py``), so nothing is
added here.
"""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import mapping as m

STOP_REASON = "anthropic.message.stop_reason"

RENAMES: m.Table = (
    ("gen_ai.usage.cache_write.input_tokens", ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
    (STOP_REASON, ga.GEN_AI_RESPONSE_FINISH_REASONS),
)


def add_finish_reason(edit: m.SpanEdit) -> None:
    """The output-message schema requires ``finish_reason``; the SDK leaves it out."""
    view = edit.view
    raw = view.get(ga.GEN_AI_OUTPUT_MESSAGES)
    reasons = edit.finish_reasons()
    if not isinstance(raw, str) or not isinstance(reasons, list) or not reasons:
        return
    messages = m.parse_json(raw)
    if not isinstance(messages, list):
        return
    changed = False
    for message in messages:
        if isinstance(message, dict) and "finish_reason" not in message:
            message["finish_reason"] = reasons[0]
            changed = True
    if changed:
        edit.set(ga.GEN_AI_OUTPUT_MESSAGES, m.dump_json(messages))


def normalize(edit: m.SpanEdit) -> None:
    edit.apply(RENAMES)
    add_finish_reason(edit)
