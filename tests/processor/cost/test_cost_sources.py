"""Where a cost comes from: the span itself, the user's overrides, genai-prices, or nowhere."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path

import pytest
from cost_spans import SpanRecorder, at, cassette_bodies, openai_chat_attributes, run
from genai_prices import data_snapshot

from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageContext
from genai_lens.semconv import (
    GEN_AI_USAGE_COST,
    GENAI_LENS_COST_INPUT,
    GENAI_LENS_COST_MODEL_UNKNOWN,
    GENAI_LENS_COST_OUTPUT,
    GENAI_LENS_COST_PRICING_VERSION,
    GENAI_LENS_COST_SOURCE,
)

START = "2026-11-20T10:00:00"


def gpt4o_mini_call() -> tuple[dict, dict]:
    request, response = cassette_bodies("openai/chat_prompt_caching_gpt4omini.yaml")[0]
    return openai_chat_attributes(request, response), response["usage"]


def ollama_call() -> dict:
    request, response = cassette_bodies("ollama/chat_llama3.yaml")[0]
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": request["model"],
        "gen_ai.response.model": response["model"],
        "gen_ai.usage.input_tokens": response["prompt_eval_count"],
        "gen_ai.usage.output_tokens": response["eval_count"],
    }


def price_once(config: dict, attributes: dict, start: str = START, context: StageContext | None = None):
    recorder = SpanRecorder()
    recorder.add("chat", attributes, start=at(start))
    (span,) = run(build_pipeline([("cost", config)], context or StageContext()), recorder.request())
    return span


def test_unknown_model_is_flagged_and_gets_no_cost():
    context = StageContext()
    span = price_once({}, ollama_call(), context=context)
    assert span.get(GENAI_LENS_COST_MODEL_UNKNOWN) is True
    for key in (
        GEN_AI_USAGE_COST,
        GENAI_LENS_COST_INPUT,
        GENAI_LENS_COST_SOURCE,
        GENAI_LENS_COST_PRICING_VERSION,
    ):
        assert key not in span
    assert context.stats.get("genai_lens_cost_unpriced_total", reason="model_unknown") == 1


def test_self_hosted_model_behind_an_openai_client_is_unknown():
    request, response = cassette_bodies("openai/vllm_local_chat_llama32_1b.yaml")[0]
    span = price_once({}, openai_chat_attributes(request, response))
    assert span.get(GENAI_LENS_COST_MODEL_UNKNOWN) is True and GEN_AI_USAGE_COST not in span


def test_openlit_cost_on_the_span_is_kept_and_not_doubled():
    context = StageContext()
    attributes, _ = gpt4o_mini_call()
    attributes[GEN_AI_USAGE_COST] = 0.00123  # what the emitting SDK computed
    span = price_once({}, attributes, context=context)
    assert span.get(GEN_AI_USAGE_COST) == 0.00123
    assert span.get(GENAI_LENS_COST_SOURCE) == "span"
    assert GENAI_LENS_COST_INPUT not in span and GENAI_LENS_COST_PRICING_VERSION not in span
    model = attributes["gen_ai.response.model"]
    assert context.stats.get("genai_lens_cost_usd_total", provider="openai", model=model) == pytest.approx(
        0.00123
    )


def test_openlit_zero_cost_means_unpriced_and_is_replaced():
    attributes, usage = gpt4o_mini_call()
    ours = price_once({}, attributes)
    attributes[GEN_AI_USAGE_COST] = 0.0
    replaced = price_once({}, attributes)
    assert replaced.get(GENAI_LENS_COST_SOURCE) == "genai_prices"
    assert replaced.get(GEN_AI_USAGE_COST) == ours.get(GEN_AI_USAGE_COST) > 0


def test_zero_cost_on_an_unknown_model_is_removed_not_kept():
    attributes = dict(ollama_call(), **{GEN_AI_USAGE_COST: 0})
    span = price_once({}, attributes)
    assert GEN_AI_USAGE_COST not in span and span.get(GENAI_LENS_COST_MODEL_UNKNOWN) is True


def test_no_tokens_no_cost_and_other_spans_untouched():
    recorder = SpanRecorder()
    attributes, _ = gpt4o_mini_call()
    for key in (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
    ):
        attributes.pop(key, None)
    recorder.add("chat without usage", attributes, start=at(START))
    recorder.add(
        "GET /health", {"http.request.method": "GET", "gen_ai.usage.input_tokens": 5}, start=at(START)
    )
    before = recorder.request()
    after = type(before)()
    after.CopyFrom(before)
    run(build_pipeline([("cost", {})], StageContext()), after)
    assert after == before


def test_contradictory_usage_is_not_priced():
    context = StageContext()
    attributes, _ = gpt4o_mini_call()
    attributes["gen_ai.usage.cache_read.input_tokens"] = attributes["gen_ai.usage.input_tokens"] + 1
    span = price_once({}, attributes, context=context)
    assert GEN_AI_USAGE_COST not in span and GENAI_LENS_COST_MODEL_UNKNOWN not in span
    assert context.stats.get("genai_lens_cost_unpriced_total", reason="invalid_usage") == 1


def test_agent_spans_are_not_priced_as_calls():
    attributes, _ = gpt4o_mini_call()
    attributes["gen_ai.operation.name"] = "invoke_agent"  # a roll-up of the calls below it
    span = price_once({}, attributes)
    assert GEN_AI_USAGE_COST not in span and GENAI_LENS_COST_MODEL_UNKNOWN not in span


# -- nested duplicates (framework span wrapping the provider SDK span of the same call) ---------------


def test_nested_duplicate_is_priced_once_on_the_innermost_span():
    context = StageContext()
    recorder = SpanRecorder()
    attributes, _ = gpt4o_mini_call()
    # e.g. langchain's ChatOpenAI span around the openai SDK's span
    framework = dict(attributes, **{"gen_ai.response.model": "gpt-4o-mini"})
    with recorder.span("chat ChatOpenAI", framework, start=at(START)):
        with recorder.span("RunnableSequence", {"langchain.kind": "chain"}, start=at(START)):
            recorder.add("chat gpt-4o-mini", attributes, start=at(START))
    spans = {s.span.name: s for s in run(build_pipeline([("cost", {})], context), recorder.request())}

    inner, outer = spans["chat gpt-4o-mini"], spans["chat ChatOpenAI"]
    assert inner.get(GEN_AI_USAGE_COST) > 0
    assert GEN_AI_USAGE_COST not in outer and GENAI_LENS_COST_SOURCE not in outer
    counted = context.stats.get(
        "genai_lens_cost_usd_total", provider="openai", model=attributes["gen_ai.response.model"]
    )
    assert counted == pytest.approx(inner.get(GEN_AI_USAGE_COST))
    assert context.stats.get("genai_lens_cost_usd_total", provider="openai", model="gpt-4o-mini") == 0


def test_nested_calls_with_different_usage_are_both_priced():
    recorder = SpanRecorder()
    attributes, _ = gpt4o_mini_call()
    judge = dict(attributes, **{"gen_ai.usage.input_tokens": 40, "gen_ai.usage.output_tokens": 3})
    judge.pop("gen_ai.usage.cache_read.input_tokens", None)
    with recorder.span("chat answer", attributes, start=at(START)):
        recorder.add("chat judge", judge, start=at(START))
    spans = run(build_pipeline([("cost", {})], StageContext()), recorder.request())
    assert all(s.get(GEN_AI_USAGE_COST) > 0 for s in spans) and len(spans) == 2


def test_nested_duplicate_where_the_wrapper_carries_an_sdk_cost_is_counted_once():
    context = StageContext()
    recorder = SpanRecorder()
    attributes, _ = gpt4o_mini_call()
    with recorder.span("chat openlit", dict(attributes, **{GEN_AI_USAGE_COST: 0.5}), start=at(START)):
        recorder.add("chat gpt-4o-mini", attributes, start=at(START))
    spans = {s.span.name: s for s in run(build_pipeline([("cost", {})], context), recorder.request())}
    inner = spans["chat gpt-4o-mini"]
    assert spans["chat openlit"].get(GEN_AI_USAGE_COST) == 0.5  # data is never dropped
    model = attributes["gen_ai.response.model"]
    assert context.stats.get("genai_lens_cost_usd_total", provider="openai", model=model) == pytest.approx(
        inner.get(GEN_AI_USAGE_COST)
    )


# -- overrides -------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    return str(path)


def test_overrides_price_a_self_hosted_model(tmp_path):
    config = {
        "overrides_file": write(
            tmp_path,
            """
prices:
  - model: llama3
    provider: ollama
    input_mtok: 0.04
    output_mtok: 0.12
""",
        )
    }
    attributes = ollama_call()
    span = price_once(config, attributes)
    tokens_in, tokens_out = attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]
    want = (Decimal(tokens_in) * Decimal("0.04") + Decimal(tokens_out) * Decimal("0.12")) / 1_000_000
    assert span.get(GEN_AI_USAGE_COST) == pytest.approx(float(want), rel=1e-12)
    assert span.get(GENAI_LENS_COST_SOURCE) == "overrides"
    assert span.get(GENAI_LENS_COST_PRICING_VERSION).startswith("overrides prices.yaml sha256:")
    assert GENAI_LENS_COST_MODEL_UNKNOWN not in span


def test_overrides_win_over_genai_prices_and_follow_valid_from(tmp_path):
    attributes, usage = gpt4o_mini_call()
    model = attributes["gen_ai.response.model"]
    config = {
        "overrides_file": write(
            tmp_path,
            f"""
prices:
  - model: {model}
    input_mtok: 1
    output_mtok: 2
  - model: {model}
    input_mtok: 10
    output_mtok: 20
    cache_read_mtok: 5
    valid_from: 2026-06-01
  - model: {model}
    provider: azure.ai.openai
    input_mtok: 100
    output_mtok: 200
""",
        )
    }
    tokens_in, tokens_out = usage["prompt_tokens"], usage["completion_tokens"]
    early = price_once(config, attributes, start="2026-05-31T23:00:00")
    late = price_once(config, attributes, start="2026-06-01T00:00:00")
    assert early.get(GEN_AI_USAGE_COST) == pytest.approx((tokens_in * 1 + tokens_out * 2) / 1e6, rel=1e-12)
    assert late.get(GEN_AI_USAGE_COST) == pytest.approx((tokens_in * 10 + tokens_out * 20) / 1e6, rel=1e-12)
    assert late.get(GENAI_LENS_COST_OUTPUT) == pytest.approx(tokens_out * 20 / 1e6, rel=1e-12)
    assert early.get(GENAI_LENS_COST_SOURCE) == late.get(GENAI_LENS_COST_SOURCE) == "overrides"


def test_overrides_for_a_provider_only_apply_to_it(tmp_path):
    attributes, usage = gpt4o_mini_call()
    config = {
        "overrides_file": write(
            tmp_path,
            f"""
prices:
  - model: {attributes["gen_ai.response.model"]}
    provider: azure.ai.openai
    input_mtok: 100
    output_mtok: 200
""",
        )
    }
    openai_span = price_once(config, attributes)
    azure_span = price_once(config, dict(attributes, **{"gen_ai.provider.name": "azure.ai.openai"}))
    assert openai_span.get(GENAI_LENS_COST_SOURCE) == "genai_prices"
    assert azure_span.get(GENAI_LENS_COST_SOURCE) == "overrides"
    want = (usage["prompt_tokens"] * 100 + usage["completion_tokens"] * 200) / 1e6
    assert azure_span.get(GEN_AI_USAGE_COST) == pytest.approx(want, rel=1e-12)


# -- bundled data only -----------------------------------------------------------------------------


def test_prices_come_from_the_bundled_table_without_any_network(monkeypatch):
    """Even if genai-prices' auto-updater had swapped its snapshot, and with sockets unusable."""

    def no_network(*args, **kwargs):
        raise AssertionError("the cost stage tried to open a network connection")

    attributes, _ = gpt4o_mini_call()
    expected = price_once({}, attributes).get(GEN_AI_USAGE_COST)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(
        data_snapshot, "_custom_snapshot", data_snapshot.DataSnapshot([], from_auto_update=True)
    )
    span = price_once({}, attributes)
    assert span.get(GEN_AI_USAGE_COST) == expected > 0
