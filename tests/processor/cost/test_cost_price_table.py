"""The fast pricing path agrees with genai-prices on every bundled price set; lookups are cached."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
from genai_prices.data import providers
from genai_prices.types import ModelPrice

from genai_lens.processor.cost.breakdown import PricePlan, to_genai_usage
from genai_lens.processor.cost.price_table import PriceTable
from genai_lens.processor.cost.usage import TokenUsage


def all_price_sets() -> list[tuple[str, ModelPrice]]:
    found = []
    for provider in providers:
        for model in provider.models:
            prices = (
                [model.prices] if isinstance(model.prices, ModelPrice) else [c.prices for c in model.prices]
            )
            found.extend((f"{provider.id}/{model.id}", price) for price in prices)
    return found


def random_usage(rng: random.Random) -> TokenUsage:
    total = rng.choice([0, 1, 999, 128_001, 199_999, 200_001, 272_001, 1_000_001, rng.randint(0, 400_000)])
    cache_read = rng.randint(0, total)
    cache_write = rng.randint(0, total - cache_read)
    out = rng.randint(0, 60_000)
    return TokenUsage(total, out, cache_read, cache_write, rng.randint(0, out))


def test_fast_path_matches_genai_prices_on_every_price_set():
    rng = random.Random(20261123)
    price_sets = all_price_sets()
    fast = 0
    for name, price in price_sets:
        plan = PricePlan(price)
        fast += plan.fast
        for _ in range(8):
            usage = random_usage(rng)
            theirs = price.calc_price(to_genai_usage(usage))
            ours = plan.price(usage)
            assert ours.total == theirs["total_price"], name
            assert ours.output == theirs["output_price"], name
            assert ours.input + ours.cache_read + ours.cache_creation == theirs["input_price"], name
    print(f"{fast} of {len(price_sets)} price sets use the fast path")
    assert fast > len(price_sets) * 0.9  # the fast path is the common case, not a curiosity
    assert fast < len(price_sets)  # and the generic path is exercised too


def test_contradictory_counts_raise_on_both_paths():
    usage = TokenUsage(100, 10, 150, 0, 0)
    for _, price in all_price_sets():
        if price.input_mtok is not None and price.cache_read_mtok is not None:
            plan = PricePlan(price)
            with pytest.raises(ValueError):
                plan.price(usage)
            with pytest.raises(ValueError):
                price.calc_price(to_genai_usage(usage))
            return
    raise AssertionError("no price set with cache read prices")


def test_lookups_are_cached_per_day_and_bounded():
    table = PriceTable(cache_size=2)
    noon = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    for hour in range(10):
        assert table.lookup("openai", "gpt-4o-mini", noon.replace(hour=hour)) is not None
    hits, misses = table.cache_info()
    assert (hits, misses) == (9, 1)
    assert table.lookup("ollama", "llama3", noon) is None  # misses are remembered too
    assert table.lookup("ollama", "llama3", noon) is None
    assert table.cache_info() == (10, 2)
    table.lookup("openai", "gpt-4o", noon)
    table.lookup("openai", "gpt-4o-mini", noon)  # evicted by the two newer keys
    assert table.cache_info()[1] == 4


@pytest.mark.parametrize(
    ("provider", "model", "provider_id"),
    [
        ("openai", "gpt-4o-mini", "openai"),
        ("aws.bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", "aws"),
        ("gcp.vertex_ai", "gemini-2.5-pro", "google"),
        ("mistral_ai", "mistral-small-latest", "mistral"),
        ("x_ai", "grok-3", "x-ai"),
        (None, "claude-3-5-haiku-20241022", "anthropic"),
    ],
)
def test_provider_names_map_to_genai_prices_ids(provider, model, provider_id):
    found = PriceTable().lookup(provider, model, datetime(2026, 11, 20, tzinfo=timezone.utc))
    assert found is not None and found[0].provider_id == provider_id


@pytest.mark.parametrize("provider", ["ollama", "ibm.watsonx.ai", "no-such-provider"])
def test_self_hosted_and_unknown_providers_have_no_price(provider):
    assert PriceTable().lookup(provider, "gpt-4o-mini", datetime(2026, 11, 20, tzinfo=timezone.utc)) is None


def test_time_of_day_prices_are_not_cached_per_day():
    table = PriceTable()
    day = datetime(2026, 11, 20, tzinfo=timezone.utc)
    plans = {
        str(table.lookup("deepseek", "deepseek-chat", day.replace(hour=h))[1].model_price) for h in range(24)
    }
    assert len(plans) == 2  # peak and off-peak


def test_lookup_by_span_start_matches_lookup_by_datetime():
    """The per-span path (day number from the start nanoseconds, no datetime) picks the same plan as
    :meth:`PriceTable.lookup`, including time-of-day prices and starts a hair either side of midnight."""
    rng = random.Random(11)
    midnight = int(datetime(2026, 11, 20, tzinfo=timezone.utc).timestamp()) * 10**9
    starts = [midnight + delta for delta in (-1, 0, 1, -(10**6), 10**6, -(10**9), 10**9)]
    starts += [
        midnight + rng.randint(-30 * 86400, 30 * 86400) * 10**9 + rng.randint(0, 10**9) for _ in range(40)
    ]
    calls = [
        ("openai", "gpt-4o-mini", None),
        ("openai", "GPT-4o", "priority"),
        ("deepseek", "deepseek-chat", None),
        ("anthropic", "claude-3-5-haiku-20241022", None),
        ("ollama", "llama3", None),
    ]
    by_start, by_datetime = PriceTable(), PriceTable()
    for start in starts:
        when = datetime.fromtimestamp(start / 1e9, tz=timezone.utc)
        for provider, model, tier in calls:
            ours = by_start.lookup_unix_nano(provider, model, start, tier)
            theirs = by_datetime.lookup(provider, model, when, tier)
            assert (ours is None) == (theirs is None), (provider, model, start)
            if ours is not None and theirs is not None:
                assert ours[0].model_id == theirs[0].model_id
                assert ours[1].model_price == theirs[1].model_price, (provider, model, when)
