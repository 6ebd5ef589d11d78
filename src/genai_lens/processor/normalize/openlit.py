"""OpenLIT: current OTel names with three value quirks the names do not reveal.

1. On Anthropic, ``gen_ai.usage.input_tokens`` is Anthropic's raw *uncached* count; OTel (and pricing)
   want the total, so cache read + cache creation are added back.
2. ``gen_ai.usage.cost = 0`` means "no price known", not "free": it is removed so no one sums it as a
   real cost (a non-zero cost is OpenLIT's own price and is kept).
3. Anthropic text parts in ``gen_ai.input.messages`` hold the raw list of Anthropic blocks; they are
   expanded into proper parts.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.normalize import mapping as m
from genai_lens.semconv import GEN_AI_USAGE_COST

RENAMES: m.Table = (
    ("gen_ai.usage.reasoning_tokens", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("gen_ai.usage.completion_tokens_details.reasoning_tokens", ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("gen_ai.usage.prompt_tokens_details.cached_tokens", ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("gen_ai.server.time_to_first_token", ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK),
    (ga.GEN_AI_SYSTEM, ga.GEN_AI_PROVIDER_NAME),
)


def add_cache_to_input(edit: m.SpanEdit) -> None:
    view = edit.view
    if m.normalize_provider(m.as_str(view.get(ga.GEN_AI_PROVIDER_NAME) or view.get(ga.GEN_AI_SYSTEM))) != (
        "anthropic"
    ):
        return
    uncached = m.as_int(view.get(ga.GEN_AI_USAGE_INPUT_TOKENS))
    if uncached is None:
        return
    cache_read = m.as_int(view.get(ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)) or 0
    cache_creation = m.as_int(view.get(ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS)) or 0
    if cache_read or cache_creation:
        edit.set(ga.GEN_AI_USAGE_INPUT_TOKENS, uncached + cache_read + cache_creation)
        edit.notes.append(UNCACHED_INPUT_FIXED)


ZERO_COST_DROPPED = "zero_cost_dropped"
UNCACHED_INPUT_FIXED = "uncached_input_fixed"


def drop_zero_cost(edit: m.SpanEdit) -> None:
    """Remove OpenLIT's "unknown price" marker (whatever ``keep_original`` says: the value is wrong)."""
    cost = edit.view.get(GEN_AI_USAGE_COST)
    if cost is not None and m.as_float(cost) == 0.0:
        edit.view.delete(GEN_AI_USAGE_COST)
        edit.notes.append(ZERO_COST_DROPPED)


def expand_block_parts(messages: Any) -> bool:
    """Replace text parts whose content is a list of provider blocks by the parts they stand for."""
    changed = False
    if not isinstance(messages, list):
        return False
    for message in messages:
        parts = message.get("parts") if isinstance(message, dict) else None
        if not isinstance(parts, list):
            continue
        expanded: list[Any] = []
        for part in parts:
            content = part.get("content") if isinstance(part, dict) and part.get("type") == "text" else None
            if isinstance(content, list) or (isinstance(content, str) and content.startswith("[{")):
                blocks = m.content_to_parts(content)
                if blocks and not (len(blocks) == 1 and blocks[0].get("content") == content):
                    expanded.extend(blocks)
                    changed = True
                    continue
            expanded.append(part)
        message["parts"] = expanded
    return changed


def fix_content(edit: m.SpanEdit) -> None:
    for key in (ga.GEN_AI_INPUT_MESSAGES, ga.GEN_AI_OUTPUT_MESSAGES):
        raw = edit.view.get(key)
        if isinstance(raw, str) and '"content":[' in raw.replace(" ", ""):
            messages = m.parse_json(raw)
            if expand_block_parts(messages):
                edit.set(key, m.dump_json(messages))


def normalize(edit: m.SpanEdit) -> None:
    edit.apply(RENAMES)
    add_cache_to_input(edit)
    fix_content(edit)
    drop_zero_cost(edit)
