"""A large mixed batch: every call priced once, the counter equals the sum of span costs; µs/span printed."""

from __future__ import annotations

import random
import time

import pytest
from cost_spans import SpanRecorder, anthropic_attributes, at, cassette_bodies, openai_chat_attributes

from genai_lens.processor.pipeline import span_views
from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageContext
from genai_lens.semconv import GEN_AI_USAGE_COST, GENAI_LENS_COST_MODEL_UNKNOWN


def test_large_batch_is_priced_consistently(capsys):
    rng = random.Random(42)
    templates = [
        openai_chat_attributes(*cassette_bodies("openai/chat_prompt_caching_gpt4omini.yaml")[1]),
        openai_chat_attributes(*cassette_bodies("openai/chat_gpt5nano_reasoning_tokens.yaml")[0]),
        anthropic_attributes(*cassette_bodies("anthropic/messages_prompt_caching_write_then_read.yaml")[1]),
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "ollama",
            "gen_ai.request.model": "llama3",
            "gen_ai.usage.input_tokens": 17,
            "gen_ai.usage.output_tokens": 66,
        },
    ]
    recorder = SpanRecorder()
    for i in range(4000):
        attributes = dict(templates[i % len(templates)])
        attributes["gen_ai.usage.output_tokens"] = rng.randint(1, 4000)
        # spread over two weeks: the per-day price cache sees several days
        recorder.add("chat", attributes, start=at("2026-11-01T00:00:00") + rng.randint(0, 14 * 86400) * 10**9)
    request = recorder.request()
    context = StageContext()
    pipeline = build_pipeline([("cost", {})], context)

    started = time.perf_counter()
    pipeline.process(request)
    per_span_us = (time.perf_counter() - started) / 4000 * 1e6

    views = span_views(request)
    priced = [v.get(GEN_AI_USAGE_COST) for v in views if GEN_AI_USAGE_COST in v]
    unknown = sum(1 for v in views if v.get(GENAI_LENS_COST_MODEL_UNKNOWN))
    counted = sum(
        value for metric, _, _, _, value in context.stats.snapshot() if metric == "genai_lens_cost_usd_total"
    )
    with capsys.disabled():
        print(
            f"\ncost: {len(views)} spans, {len(priced)} priced, {unknown} unknown, {per_span_us:.1f} µs/span"
        )
    assert len(priced) == 3000 and unknown == 1000
    assert all(cost > 0 for cost in priced)
    assert counted == pytest.approx(sum(priced), rel=1e-9)
