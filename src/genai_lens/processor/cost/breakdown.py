"""Turn a genai-prices ``ModelPrice`` and a call's token counts into a USD cost and its parts.

genai-prices' own ``ModelPrice.calc_price`` resolves a generic unit registry on every call (~250 µs). A
span only carries text token counts, so a :class:`PricePlan` is built once per price set and prices them
with the same per-unit function genai-prices uses (``calc_unit_price``, which applies tiers on total
input) and the same leaf rule (cache read/write counts come out of the input total when they have their
own price). Price sets with a per-request fee or a separate reasoning price go through genai-prices.
A test checks both paths agree on every bundled price set.
"""

from __future__ import annotations

from decimal import Decimal, getcontext
from typing import NamedTuple

from genai_prices import Usage
from genai_prices.types import ModelPrice, TieredPrices, calc_unit_price

from genai_lens.processor.cost.usage import TokenUsage

_PER_MILLION = 1_000_000
_ZERO = Decimal(0)
_CONTEXT_DIGITS = 28  # the default decimal context's precision; a smaller one rounds, so Decimal decides
# Decimal results stay exact while their coefficients fit the context's digits, and every amount's
# coefficient is at most the integer numerator of the total (see ``PricePlan.price_usd``).
_EXACT_BELOW = 10**_CONTEXT_DIGITS
# Price keys the fast path handles. The second set prices counts a span never carries (audio, image,
# video and document units, searches, 1-hour cache writes), so they add nothing here, exactly as in
# genai-prices when those counts are absent. Per-request fees and separate reasoning prices take the
# generic path.
_PLAIN_KEYS = frozenset({"input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok"})
_NEVER_COUNTED_KEYS = frozenset(
    {
        "audio_hours",
        "cache_audio_read_mtok",
        "cache_image_read_mtok",
        "cache_write_1h_mtok",
        "input_annotated_document_kpages",
        "input_audio_hours",
        "input_audio_mtok",
        "input_document_kpages",
        "input_image_mtok",
        "input_mchars",
        "input_text_messages_kcount",
        "input_video_mtok",
        "output_audio_mtok",
        "output_citation_mtok",
        "output_image_mtok",
        "output_video_mtok",
        "storage_searches_kcount",
        "web_searches_kcount",
    }
)

Price = Decimal | TieredPrices | None


class CostBreakdown(NamedTuple):
    """USD amounts of one call; ``total`` may exceed the sum of parts by a per-request fee."""

    total: Decimal
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_creation: Decimal


class UsdCost(NamedTuple):
    """:class:`CostBreakdown` as the floats a span carries (``usd`` of each amount)."""

    total: float
    input: float
    output: float
    cache_read: float
    cache_creation: float


class PricePlan:
    """How to price usage with one ``ModelPrice``; build once, reuse for every call."""

    __slots__ = ("model_price", "fast", "_input", "_output", "_cache_read", "_cache_write", "_scaled")

    def __init__(self, model_price: ModelPrice) -> None:
        self.model_price = model_price
        keys = {k for k, v in vars(model_price).items() if v is not None}
        self.fast = keys <= _PLAIN_KEYS | _NEVER_COUNTED_KEYS
        self._input: Price = model_price.input_mtok
        self._output: Price = model_price.output_mtok
        self._cache_read: Price = model_price.cache_read_mtok
        self._cache_write: Price = model_price.cache_write_mtok
        self._scaled = _ScaledPrices.of(self) if self.fast else None

    def price_usd(self, usage: TokenUsage) -> UsdCost:
        """``usd`` of each amount of :meth:`price`, bit for bit, without ``Decimal`` arithmetic.

        With flat prices every amount is an exact decimal (``price × tokens / 10⁶``, sums of those) as long
        as its digits fit the decimal context, so it is computed as an integer over a power of ten and
        divided once: Python's ``int / int`` rounds correctly, as ``float(Decimal)`` does, so both give the
        same float. Tiered, signed or oversized amounts go through :meth:`price`.
        """
        scaled = self._scaled
        if scaled is None:
            return usd_cost(self.price(usage))
        input_price, output_price, read_price, write_price, has_input, has_read, has_write, unit = scaled
        input_tokens, output_tokens, cache_read, cache_creation, _ = usage
        total_input = input_tokens if input_tokens is not None else cache_read + cache_creation
        uncached = total_input
        if has_read:
            uncached -= cache_read
        if has_write:
            uncached -= cache_creation
        if uncached < 0 and has_input:
            raise _contradiction(usage, total_input)
        input_part = input_price * uncached
        output_part = output_price * (output_tokens or 0)
        read_part = read_price * cache_read
        write_part = write_price * cache_creation
        total = input_part + read_part + write_part + output_part
        if total >= _EXACT_BELOW or getcontext().prec < _CONTEXT_DIGITS:
            return usd_cost(self.price(usage))
        parts = (total / unit, input_part / unit, output_part / unit, read_part / unit, write_part / unit)
        return _new_tuple(UsdCost, parts)

    def price(self, usage: TokenUsage) -> CostBreakdown:
        """Price ``usage``; raises ``ValueError`` when the counts contradict each other (cache > input)."""
        total_input = usage.total_input_tokens
        cache_read = _part(self._cache_read, usage.cache_read_tokens, total_input)
        cache_creation = _part(self._cache_write, usage.cache_creation_tokens, total_input)
        if not self.fast:
            return self._price_generic(usage, cache_read, cache_creation)
        uncached = total_input
        if self._cache_read is not None:
            uncached -= usage.cache_read_tokens
        if self._cache_write is not None:
            uncached -= usage.cache_creation_tokens
        if uncached < 0 and self._input is not None:
            raise _contradiction(usage, total_input)
        input_part = _part(self._input, uncached, total_input)
        output_part = _part(self._output, usage.output_tokens or 0, total_input)
        return CostBreakdown(
            total=input_part + cache_read + cache_creation + output_part,
            input=input_part,
            output=output_part,
            cache_read=cache_read,
            cache_creation=cache_creation,
        )

    def _price_generic(
        self, usage: TokenUsage, cache_read: Decimal, cache_creation: Decimal
    ) -> CostBreakdown:
        priced = self.model_price.calc_price(to_genai_usage(usage))
        return CostBreakdown(
            total=priced["total_price"],
            input=priced["input_price"] - cache_read - cache_creation,
            output=priced["output_price"],
            cache_read=cache_read,
            cache_creation=cache_creation,
        )


class _ScaledPrices(NamedTuple):
    """A fast plan's flat prices as integers over one power of ten (``unit`` = 10^(decimals + 6), per
    token), or no instance when a price is tiered or signed. Absent prices are 0 with their flag unset."""

    input: int
    output: int
    cache_read: int
    cache_write: int
    has_input: bool
    has_cache_read: bool
    has_cache_write: bool
    unit: int

    @classmethod
    def of(cls, plan: PricePlan) -> _ScaledPrices | None:
        prices = (plan._input, plan._output, plan._cache_read, plan._cache_write)
        ratios: list[tuple[int, int]] = []  # (coefficient, decimals): price == coefficient / 10**decimals
        for price in prices:
            if price is None:
                ratios.append((0, 0))
                continue
            if type(price) is not Decimal or not price.is_finite() or price.is_signed():
                return None
            _, digits, exponent = price.as_tuple()
            coefficient = int("".join(map(str, digits)))
            if not isinstance(exponent, int):
                return None
            if exponent >= 0:
                ratios.append((coefficient * 10**exponent, 0))
            else:
                ratios.append((coefficient, -exponent))
        decimals = max(d for _, d in ratios)
        scaled = [c * 10 ** (decimals - d) for c, d in ratios]
        return cls(
            *scaled,
            has_input=plan._input is not None,
            has_cache_read=plan._cache_read is not None,
            has_cache_write=plan._cache_write is not None,
            unit=10 ** (decimals + 6),
        )


_new_tuple = tuple.__new__  # a NamedTuple from its fields, without the keyword handling of its __new__


def usd(amount: Decimal) -> float:
    """The float a span carries for ``amount``."""
    # ``float(Decimal)`` goes through a string; most calls have no cache parts, whose amount is 0
    return 0.0 if not amount and not amount.is_signed() else float(amount)


def usd_cost(cost: CostBreakdown) -> UsdCost:
    return UsdCost(
        usd(cost.total), usd(cost.input), usd(cost.output), usd(cost.cache_read), usd(cost.cache_creation)
    )


def _contradiction(usage: TokenUsage, total_input: int) -> ValueError:
    return ValueError(
        f"Invalid usage data: cache read ({usage.cache_read_tokens}) and write "
        f"({usage.cache_creation_tokens}) tokens exceed input_tokens ({total_input})"
    )


def to_genai_usage(usage: TokenUsage) -> Usage:
    """The genai-prices ``Usage`` for a span's counts (input is the total including cache)."""
    return Usage(
        input_tokens=usage.total_input_tokens,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_creation_tokens,
        output_reasoning_tokens=usage.reasoning_tokens,
    )


def _part(price: Price, tokens: int, total_input: int) -> Decimal:
    # Without its own price a cache count is billed inside the input price, so its own part is 0.
    if price is None or not tokens:
        return _ZERO
    if type(price) is Decimal and type(tokens) is int:
        return price * tokens / _PER_MILLION  # what calc_unit_price computes for a flat price
    return calc_unit_price(price, tokens, total_input, _PER_MILLION)
