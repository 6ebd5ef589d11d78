"""Turn a genai-prices ``ModelPrice`` and a call's token counts into a USD cost and its parts.

genai-prices' own ``ModelPrice.calc_price`` resolves a generic unit registry on every call (~250 µs). A
span only carries text token counts, so a :class:`PricePlan` is built once per price set and prices them
with the same per-unit function genai-prices uses (``calc_unit_price``, which applies tiers on total
input) and the same leaf rule (cache read/write counts come out of the input total when they have their
own price). Price sets with a per-request fee or a separate reasoning price go through genai-prices.
A test checks both paths agree on every bundled price set.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from genai_prices import Usage
from genai_prices.types import ModelPrice, TieredPrices, calc_unit_price

from genai_lens.processor.cost.usage import TokenUsage

_PER_MILLION = 1_000_000
_ZERO = Decimal(0)
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


class PricePlan:
    """How to price usage with one ``ModelPrice``; build once, reuse for every call."""

    __slots__ = ("model_price", "fast", "_input", "_output", "_cache_read", "_cache_write")

    def __init__(self, model_price: ModelPrice) -> None:
        self.model_price = model_price
        keys = {k for k, v in vars(model_price).items() if v is not None}
        self.fast = keys <= _PLAIN_KEYS | _NEVER_COUNTED_KEYS
        self._input: Price = model_price.input_mtok
        self._output: Price = model_price.output_mtok
        self._cache_read: Price = model_price.cache_read_mtok
        self._cache_write: Price = model_price.cache_write_mtok

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
            raise ValueError(
                f"Invalid usage data: cache read ({usage.cache_read_tokens}) and write "
                f"({usage.cache_creation_tokens}) tokens exceed input_tokens ({total_input})"
            )
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
