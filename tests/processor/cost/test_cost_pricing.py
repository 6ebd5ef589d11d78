"""Cost of real recorded calls, checked against genai-prices' published per-token prices.

Each expected cost is computed here from the per-million-token prices genai-prices publishes for the
model at the span's start time (fetched through its API), never from a hard-coded total.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from cost_spans import (
    SpanRecorder,
    anthropic_attributes,
    at,
    cassette_bodies,
    gemini_attributes,
    openai_chat_attributes,
    run,
)
from genai_prices import Usage, calc_price
from genai_prices.types import ModelPrice, TieredPrices

from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageContext
from genai_lens.semconv import (
    GEN_AI_USAGE_COST,
    GENAI_LENS_COST_CACHE_CREATION,
    GENAI_LENS_COST_CACHE_READ,
    GENAI_LENS_COST_INPUT,
    GENAI_LENS_COST_MODEL_UNKNOWN,
    GENAI_LENS_COST_OUTPUT,
    GENAI_LENS_COST_PRICING_VERSION,
    GENAI_LENS_COST_SOURCE,
)

START = "2026-11-20T10:00:00"
PER_MTOK = Decimal(1_000_000)


def published(model: str, provider: str, start: str, context: dict[str, str] | None = None) -> ModelPrice:
    """The price set genai-prices publishes for ``model`` at ``start``."""
    when = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
    return calc_price(
        Usage(input_tokens=0, output_tokens=0),
        model,
        provider_id=provider,
        genai_request_timestamp=when,
        price_context=context,  # type: ignore[arg-type]
    ).model_price


def rate(price: Decimal | TieredPrices | None, total_input: int) -> Decimal:
    """Per-MTok rate; a tiered price charges every token at the highest tier the prompt crossed."""
    if price is None:
        return Decimal(0)
    if isinstance(price, TieredPrices):
        chosen = price.base
        for tier in sorted(price.tiers, key=lambda t: t.start):
            if total_input > tier.start:
                chosen = tier.price
        return chosen
    return price


def expected(prices: ModelPrice, total_in: int, out: int, cache_read: int = 0, cache_write: int = 0) -> dict:
    uncached = total_in - cache_read - cache_write
    parts = {
        "input": uncached * rate(prices.input_mtok, total_in) / PER_MTOK,
        "cache_read": cache_read * rate(prices.cache_read_mtok, total_in) / PER_MTOK,
        "cache_creation": cache_write * rate(prices.cache_write_mtok, total_in) / PER_MTOK,
        "output": out * rate(prices.output_mtok, total_in) / PER_MTOK,
    }
    parts["total"] = sum(parts.values())
    return {k: float(v) for k, v in parts.items()}


def cost_parts(span) -> dict:
    return {
        "total": span.get(GEN_AI_USAGE_COST),
        "input": span.get(GENAI_LENS_COST_INPUT),
        "cache_read": span.get(GENAI_LENS_COST_CACHE_READ),
        "cache_creation": span.get(GENAI_LENS_COST_CACHE_CREATION),
        "output": span.get(GENAI_LENS_COST_OUTPUT),
    }


def assert_cost(span, want: dict) -> None:
    got = cost_parts(span)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15), (got, want)
    assert span.get(GENAI_LENS_COST_SOURCE) == "genai_prices"
    assert span.get(GENAI_LENS_COST_PRICING_VERSION).startswith("genai-prices ")
    assert GENAI_LENS_COST_MODEL_UNKNOWN not in span


@pytest.fixture
def context() -> StageContext:
    return StageContext()


@pytest.fixture
def pipeline(context):
    return build_pipeline([("cost", {})], context)


def test_gpt4o_mini_with_1024_cached_tokens(pipeline, context):
    recorder = SpanRecorder()
    request, response = cassette_bodies("openai/chat_prompt_caching_gpt4omini.yaml")[1]
    attributes = openai_chat_attributes(request, response)
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 1024
    recorder.add("chat gpt-4o-mini", attributes, start=at(START))

    (span,) = run(pipeline, recorder.request())

    usage = response["usage"]
    prices = published(response["model"], "openai", START)
    want = expected(prices, usage["prompt_tokens"], usage["completion_tokens"], cache_read=1024)
    assert want["cache_read"] > 0 and prices.cache_read_mtok < prices.input_mtok
    assert_cost(span, want)
    assert context.stats.get("genai_lens_cost_usd_total", provider="openai", model=response["model"]) == (
        pytest.approx(want["total"])
    )


def test_claude_cache_write_then_read(pipeline, context):
    recorder = SpanRecorder()
    calls = cassette_bodies("anthropic/messages_prompt_caching_write_then_read.yaml")
    for i, (request, response) in enumerate(calls):
        recorder.add(f"chat {i}", anthropic_attributes(request, response), start=at(START))

    write_span, read_span = run(pipeline, recorder.request())

    (_, write), (_, read) = calls
    prices = published(write["model"], "anthropic", START)
    w, r = write["usage"], read["usage"]
    want_write = expected(
        prices,
        w["input_tokens"] + w["cache_creation_input_tokens"],
        w["output_tokens"],
        cache_write=w["cache_creation_input_tokens"],
    )
    want_read = expected(
        prices,
        r["input_tokens"] + r["cache_read_input_tokens"],
        r["output_tokens"],
        cache_read=r["cache_read_input_tokens"],
    )
    assert_cost(write_span, want_write)
    assert_cost(read_span, want_read)
    # a cache write costs more than a plain input token, a cache read less
    assert (
        write_span.get(GENAI_LENS_COST_CACHE_CREATION) > 0 and write_span.get(GENAI_LENS_COST_CACHE_READ) == 0
    )
    assert (
        read_span.get(GENAI_LENS_COST_CACHE_READ) > 0 and read_span.get(GENAI_LENS_COST_CACHE_CREATION) == 0
    )
    assert prices.cache_write_mtok > prices.input_mtok > prices.cache_read_mtok
    total = context.stats.get("genai_lens_cost_usd_total", provider="anthropic", model=write["model"])
    assert total == pytest.approx(want_write["total"] + want_read["total"])


def test_gpt5_nano_reasoning_tokens_are_billed_as_output(pipeline):
    recorder = SpanRecorder()
    request, response = cassette_bodies("openai/chat_gpt5nano_reasoning_tokens.yaml")[0]
    attributes = openai_chat_attributes(request, response)
    assert attributes["gen_ai.usage.reasoning.output_tokens"] == 960
    recorder.add("chat gpt-5-nano", attributes, start=at(START))

    (span,) = run(pipeline, recorder.request())

    usage = response["usage"]
    prices = published(response["model"], "openai", START)
    want = expected(prices, usage["prompt_tokens"], usage["completion_tokens"])  # 960 reasoning inside 993
    assert_cost(span, want)


def test_gemini_thoughts_and_gcp_provider_name(pipeline):
    recorder = SpanRecorder()
    _, response = cassette_bodies("gemini/generate_content_gemini25flash.yaml")[0]
    recorder.add("generate_content", gemini_attributes("gemini-2.5-flash", response), start=at(START))

    (span,) = run(pipeline, recorder.request())

    usage = response["usageMetadata"]
    prices = published("gemini-2.5-flash", "google", START)
    want = expected(
        prices, usage["promptTokenCount"], usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )
    assert_cost(span, want)


def test_azure_openai_maps_to_the_azure_price_list(pipeline):
    recorder = SpanRecorder()
    request, response = cassette_bodies("openai/azure_chat_deployment.yaml")[1]
    attributes = openai_chat_attributes(request, response, provider="azure.ai.openai")
    attributes["gen_ai.request.model"] = "my-deployment"  # Azure requests name a deployment, not a model
    recorder.add("chat azure", attributes, start=at(START))

    (span,) = run(pipeline, recorder.request())

    usage = response["usage"]
    want = expected(
        published(response["model"], "azure", START), usage["prompt_tokens"], usage["completion_tokens"]
    )
    assert_cost(span, want)


def test_service_tier_priority_uses_the_priority_prices(pipeline):
    recorder = SpanRecorder()
    request, response = cassette_bodies("openai/chat_service_tier_priority_gpt5.yaml")[0]
    attributes = openai_chat_attributes(request, response)
    assert attributes.get("openai.response.service_tier") == "priority"
    recorder.add("chat gpt-5 priority", attributes, start=at(START))
    standard = dict(attributes, **{"openai.response.service_tier": "default"})
    recorder.add("chat gpt-5 default", standard, start=at(START))

    priority_span, default_span = run(pipeline, recorder.request())

    usage = response["usage"]
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    for span, context in ((priority_span, {"service_tier": "priority"}), (default_span, None)):
        prices = published(response["model"], "openai", START, context)
        assert_cost(
            span, expected(prices, usage["prompt_tokens"], usage["completion_tokens"], cache_read=cached)
        )
    assert priority_span.get(GEN_AI_USAGE_COST) > default_span.get(GEN_AI_USAGE_COST)


def test_dated_price_change_is_applied_at_span_start(pipeline):
    """o3 got cheaper on 2025-06-10; one stage prices calls either side of the change (per-day cache)."""
    recorder = SpanRecorder()
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "o3",
        "gen_ai.response.model": "o3-2025-04-16",
        "gen_ai.usage.input_tokens": 12_000,
        "gen_ai.usage.output_tokens": 3_000,
    }
    days = ["2025-06-09T23:59:00", "2025-06-10T00:01:00", "2025-06-09T08:00:00"]
    for day in days:
        recorder.add("chat o3", attributes, start=at(day))

    spans = run(pipeline, recorder.request())

    for span, day in zip(spans, days, strict=True):
        assert_cost(span, expected(published("o3-2025-04-16", "openai", day), 12_000, 3_000))
    before, after, before_again = (s.get(GEN_AI_USAGE_COST) for s in spans)
    assert before > after and before == before_again


def test_long_context_tier_and_its_removal_on_a_dated_change(pipeline):
    """claude-sonnet-4-6 charged a higher rate above 200k input tokens until 2026-03-13."""
    recorder = SpanRecorder()
    base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-6",
        "gen_ai.response.model": "claude-sonnet-4-6",
        "gen_ai.usage.output_tokens": 2_000,
        "gen_ai.usage.cache_read.input_tokens": 150_000,
    }
    cases = [
        (199_000, "2026-03-01T12:00:00"),
        (250_000, "2026-03-01T12:00:00"),
        (250_000, "2026-03-14T12:00:00"),
    ]
    for total_in, day in cases:
        recorder.add("chat", dict(base, **{"gen_ai.usage.input_tokens": total_in}), start=at(day))

    small, large, large_later = run(pipeline, recorder.request())

    for span, (total_in, day) in zip((small, large, large_later), cases, strict=True):
        prices = published("claude-sonnet-4-6", "anthropic", day)
        assert_cost(span, expected(prices, total_in, 2_000, cache_read=150_000))
    assert isinstance(published("claude-sonnet-4-6", "anthropic", cases[1][1]).input_mtok, TieredPrices)
    per_token = [s.get(GENAI_LENS_COST_OUTPUT) for s in (small, large, large_later)]
    # the output rate jumps with the tier, and the tier is gone after the dated change
    assert per_token[1] > per_token[0] == per_token[2]


def test_breakdown_parts_add_up_to_the_total(pipeline):
    recorder = SpanRecorder()
    for request, response in cassette_bodies("anthropic/messages_prompt_caching_write_then_read.yaml"):
        recorder.add("chat", anthropic_attributes(request, response), start=at(START))
    for span in run(pipeline, recorder.request()):
        parts = cost_parts(span)
        total = parts.pop("total")
        assert sum(parts.values()) == pytest.approx(total, rel=1e-12)
