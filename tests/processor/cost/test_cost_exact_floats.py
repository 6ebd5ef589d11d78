"""The float path of pricing (``PricePlan.price_usd``) and the per-day lookup of a span's models give
exactly what the Decimal path and the per-model lookup give: same floats bit for bit, same plans."""

from __future__ import annotations

import decimal
import random
import struct
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from genai_prices.types import ModelPrice
from test_cost_price_table import all_price_sets, random_usage

from genai_lens.processor.cost.breakdown import PricePlan, UsdCost, usd_cost
from genai_lens.processor.cost.price_table import PriceTable
from genai_lens.processor.cost.usage import TokenUsage


def bits(cost: UsdCost) -> list[bytes]:
    return [struct.pack("<d", amount) for amount in cost]


def agree(plan: PricePlan, usage: TokenUsage) -> None:
    """price_usd raises where price raises, else gives the same floats (signed zeros included)."""
    try:
        expected = usd_cost(plan.price(usage))
    except ValueError:
        with pytest.raises(ValueError):
            plan.price_usd(usage)
        return
    assert bits(plan.price_usd(usage)) == bits(expected)


def test_float_path_equals_the_decimal_path_on_every_price_set():
    rng = random.Random(20261124)
    for _, price in all_price_sets():
        plan = PricePlan(price)
        for _ in range(12):
            agree(plan, random_usage(rng))
        agree(plan, TokenUsage(None, None, 0, 0, 0))
        agree(plan, TokenUsage(None, 7, 3, 4, 0))  # no input total: the cache counts stand in
        agree(plan, TokenUsage(100, 10, 150, 0, 0))  # contradictory: raises on both, or priced alike


@pytest.mark.parametrize(
    "prices",
    [
        {"input_mtok": Decimal("0.15"), "output_mtok": Decimal("0.6"), "cache_read_mtok": Decimal("0.075")},
        {"input_mtok": Decimal("1E+3"), "output_mtok": Decimal("2.5E-7")},  # positive and tiny exponents
        {"input_mtok": Decimal("0"), "output_mtok": Decimal("0.0000001")},
        {"input_mtok": Decimal("-0.0"), "output_mtok": Decimal("3")},  # a signed zero: Decimal decides
        {"input_mtok": Decimal("0.3333333333333333333333333"), "output_mtok": Decimal("7.1")},
        {"output_mtok": Decimal("2"), "cache_write_mtok": Decimal("3.75")},  # no input price
    ],
    ids=["cached", "exponents", "zero-price", "signed-zero", "many-digits", "no-input-price"],
)
def test_float_path_on_user_prices_and_huge_counts(prices: dict[str, Decimal]):
    plan = PricePlan(ModelPrice(**prices))
    assert (plan._scaled is None) == any(p.is_signed() for p in prices.values())  # which path is tested
    rng = random.Random(7)
    counts = [0, 1, 3, 999_999, 10**12, 2**63 - 1, 10**20]  # the largest exceed the context's 28 digits
    for _ in range(300):
        total = rng.choice(counts + [rng.randint(0, 10**7)])
        cache_read = rng.choice([0, rng.randint(0, total)])
        cache_write = rng.choice([0, rng.randint(0, total - cache_read)])
        agree(plan, TokenUsage(total, rng.choice(counts), cache_read, cache_write, 0))


def test_a_smaller_decimal_context_is_left_to_decimal():
    plan = PricePlan(ModelPrice(input_mtok=Decimal("0.3333333"), output_mtok=Decimal("1.1")))
    usage = TokenUsage(123_456_789, 987_654_321, 0, 0, 0)
    with decimal.localcontext() as context:
        context.prec = 6  # Decimal rounds every step now: the integer shortcut would not
        assert bits(plan.price_usd(usage)) == bits(usd_cost(plan.price(usage)))
    assert bits(plan.price_usd(usage)) == bits(usd_cost(plan.price(usage)))


def day_start(day: datetime) -> int:
    return int(day.timestamp()) * 10**9


@pytest.mark.parametrize(
    "models",
    [("gpt-4o-mini-2024-07-18", "gpt-4o-mini"), ("unknown-model", "gpt-4o"), ("unknown-model",), ("gpt-4o",)],
)
def test_first_priced_model_per_day_equals_the_per_model_lookup(models: tuple[str, ...]):
    cached, plain = PriceTable(cache_size=3), PriceTable()
    midnight = day_start(datetime(2026, 11, 20, tzinfo=timezone.utc))
    offsets = [0, 1, 999_999, 1_000_000, 1_999_999, 2_000_000, 43_200 * 10**9]
    offsets += [86_400 * 10**9 - n for n in (1, 1_000_000, 2_000_000, 2_000_001)]
    for day in range(-2, 3):
        for offset in offsets:
            start = midnight + day * 86_400 * 10**9 + offset
            for _ in range(2):  # the second time from the per-day cache
                found = cached.lookup_first_unix_nano("openai", models, start, None)
                expected = None
                for model in models:
                    hit = plain.lookup_unix_nano("openai", model, start, None)
                    if hit is not None:
                        expected = (hit[1].model_price, model)
                        break
                assert (found and (found[0].model_price, found[1])) == expected, (models, start)
