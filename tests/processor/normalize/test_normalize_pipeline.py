"""Normalize in the real stage chain: after it, the same call priced from any dialect costs the same.

This is what the normalizer is for: the cost stage reads only current OTel names, so spans that
OpenLLMetry, OpenInference and OpenLIT wrote for one recorded call must come out of ``normalize`` with
the same usage and therefore the same price.
"""

from __future__ import annotations

import pytest
from normalize_samples import CACHE_WRITE_ID, dialect_request, flat_request, openlit_anthropic, views

from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageContext
from genai_lens.semconv import GEN_AI_USAGE_COST

SHARED_SCENARIOS = [
    "chat_basic",
    "chat_prompt_cached",
    "chat_tool_call",
    "chat_stream_include_usage",
    "anthropic_messages",
    "anthropic_prompt_cache_read",
    "anthropic_prompt_cache_write",
    "anthropic_tool_use",
]


def priced(request) -> float:  # type: ignore[no-untyped-def]
    pipeline = build_pipeline([("normalize", {}), ("cost", {})], StageContext())
    pipeline.process(request)
    (span,) = views(request)
    cost = span.get(GEN_AI_USAGE_COST)
    assert isinstance(cost, float) and cost > 0
    return cost


@pytest.mark.parametrize("scenario", SHARED_SCENARIOS)
def test_same_call_same_cost_across_dialects(scenario: str) -> None:
    assert priced(dialect_request("openllmetry", scenario)) == pytest.approx(
        priced(dialect_request("openinference", scenario))
    )


def test_openllmetry_anthropic_stream_overcount_shows_in_cost() -> None:
    """OpenLLMetry's extra 3 output tokens (dialects.md pitfall 2) are not hidden by the normalizer."""
    assert priced(dialect_request("openllmetry", "anthropic_stream")) > priced(
        dialect_request("openinference", "anthropic_stream")
    )


def test_openlit_anthropic_costs_the_same_as_the_other_dialects() -> None:
    attributes, call = openlit_anthropic(CACHE_WRITE_ID, cost=0.0)
    openlit_cost = priced(flat_request(f"chat {call.request['model']}", attributes))
    assert openlit_cost == pytest.approx(
        priced(dialect_request("openllmetry", "anthropic_prompt_cache_write"))
    )
