"""The ``cost`` stage: put a USD cost and its breakdown on every priced GenAI model call.

Runs after ``normalize``, so it reads only current OTel GenAI names. Prices come from the user's
overrides first, then genai-prices' bundled table, at the span's start time. A cost already on the span
(OpenLIT, genai-otel) is kept, except OpenLIT's ``0`` which means "no price" and is replaced.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
)
from opentelemetry.semconv._incubating.attributes.openai_attributes import OPENAI_RESPONSE_SERVICE_TIER

from genai_lens.processor.cost.breakdown import CostBreakdown
from genai_lens.processor.cost.nesting import SpanKey, span_key, wrapper_duplicates
from genai_lens.processor.cost.overrides import PriceOverrides
from genai_lens.processor.cost.price_table import PRICING_VERSION, PriceTable
from genai_lens.processor.cost.usage import TokenUsage, is_genai_span, is_model_call, read_usage
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import Stage, StageConfigError, StageContext, reject_unknown_keys
from genai_lens.semconv import (
    GEN_AI_USAGE_COST,
    GENAI_LENS_COST_CACHE_CREATION,
    GENAI_LENS_COST_CACHE_READ,
    GENAI_LENS_COST_INPUT,
    GENAI_LENS_COST_MODEL_UNKNOWN,
    GENAI_LENS_COST_OUTPUT,
    GENAI_LENS_COST_PRICING_VERSION,
    GENAI_LENS_COST_SOURCE,
    GenaiLensCostSourceValues,
)

logger = logging.getLogger(__name__)

COST_METRIC = "genai_lens_cost_usd_total"
UNPRICED_METRIC = "genai_lens_cost_unpriced_total"
_COST_KEYS = (
    GEN_AI_USAGE_COST,
    GENAI_LENS_COST_INPUT,
    GENAI_LENS_COST_OUTPUT,
    GENAI_LENS_COST_CACHE_READ,
    GENAI_LENS_COST_CACHE_CREATION,
    GENAI_LENS_COST_SOURCE,
    GENAI_LENS_COST_PRICING_VERSION,
)


class CostStage(Stage):
    """Prices GenAI model-call spans.

    Config: ``overrides_file`` (YAML of the user's own prices, see :mod:`.overrides`) and ``cache_size``
    (entries of each price-lookup LRU, default 4096).

    ``process_batch`` sees the whole export request so that nested duplicates can be dropped: when a GenAI
    span has a descendant model-call span in the same batch with the same token usage (a framework span
    wrapping the provider SDK's span of the same call), only the innermost span is priced and counted;
    the wrapper is left untouched.
    """

    name = "cost"
    _ALLOWED = {"overrides_file", "cache_size"}

    def __init__(
        self, context: StageContext, overrides: PriceOverrides | None = None, cache_size: int = 4096
    ) -> None:
        self._stats = context.stats
        self._overrides = overrides
        self._table = PriceTable(cache_size)
        self._stats.describe(
            COST_METRIC, "USD cost of GenAI calls seen by the processor, by provider and model."
        )
        self._stats.describe(UNPRICED_METRIC, "GenAI calls with tokens that could not be priced, by reason.")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], context: StageContext) -> CostStage:
        reject_unknown_keys(cls.name, config, cls._ALLOWED)
        cache_size = config.get("cache_size", 4096)
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise StageConfigError(
                f"processor 'cost': cache_size must be a positive integer, got {cache_size!r}"
            )
        overrides_file = config.get("overrides_file")
        overrides = None
        if overrides_file is not None:
            if not isinstance(overrides_file, str) or not overrides_file:
                raise StageConfigError(
                    f"processor 'cost': overrides_file must be a path, got {overrides_file!r}"
                )
            overrides = PriceOverrides.load(overrides_file, cls.name)
        return cls(context, overrides, cache_size)

    @property
    def price_table(self) -> PriceTable:
        return self._table

    def process_batch(self, spans: Sequence[SpanView]) -> None:
        calls: list[tuple[SpanKey, SpanView, TokenUsage]] = []
        for span in spans:
            if not is_genai_span(span) or not is_model_call(span):
                continue
            usage = read_usage(span)
            if usage.has_tokens:
                calls.append((span_key(span), span, usage))
        if not calls:
            return
        identities: dict[SpanKey, tuple[int, int, int, int]] = {}
        for key, _, usage in calls:
            identities.setdefault(key, usage.identity())
        wrappers = wrapper_duplicates(spans, identities)
        for key, span, usage in calls:
            if key not in wrappers:
                self._price(span, usage)

    def process_span(self, span: SpanView) -> None:
        self.process_batch([span])

    def _price(self, span: SpanView, usage: TokenUsage) -> None:
        provider = _text(span.get(GEN_AI_PROVIDER_NAME))
        models = [
            m for m in (_text(span.get(GEN_AI_RESPONSE_MODEL)), _text(span.get(GEN_AI_REQUEST_MODEL))) if m
        ]
        label_model = models[0] if models else ""
        existing = span.get(GEN_AI_USAGE_COST)
        if _positive_number(existing):
            span.set(GENAI_LENS_COST_SOURCE, GenaiLensCostSourceValues.SPAN.value)
            self._stats.add(COST_METRIC, float(existing), provider=provider or "", model=label_model)  # type: ignore[arg-type]
            return
        if not models:
            return
        when = _start_time(span)
        tier = _text(span.get(OPENAI_RESPONSE_SERVICE_TIER))
        priced = self._priced(provider, models, when, tier, usage)
        if isinstance(priced, str):
            # No price: never leave a cost behind (OpenLIT's 0 means "unknown", not "free").
            span.delete_many(_COST_KEYS)
            if priced == _MODEL_UNKNOWN:
                span.set(GENAI_LENS_COST_MODEL_UNKNOWN, True)
            self._stats.add(UNPRICED_METRIC, 1.0, reason=priced)
            return
        breakdown, source, version, model = priced
        span.delete(GENAI_LENS_COST_MODEL_UNKNOWN)
        span.set(GEN_AI_USAGE_COST, float(breakdown.total))
        span.set(GENAI_LENS_COST_INPUT, float(breakdown.input))
        span.set(GENAI_LENS_COST_OUTPUT, float(breakdown.output))
        span.set(GENAI_LENS_COST_CACHE_READ, float(breakdown.cache_read))
        span.set(GENAI_LENS_COST_CACHE_CREATION, float(breakdown.cache_creation))
        span.set(GENAI_LENS_COST_SOURCE, source)
        span.set(GENAI_LENS_COST_PRICING_VERSION, version)
        self._stats.add(COST_METRIC, float(breakdown.total), provider=provider or "", model=model)

    def _priced(
        self, provider: str | None, models: list[str], when: datetime, tier: str | None, usage: TokenUsage
    ) -> tuple[CostBreakdown, str, str, str] | str:
        """The cost, its source, price-table version and the model priced; or why there is none."""
        try:
            if self._overrides is not None:
                for model in models:
                    entry = self._overrides.find(provider, model, when)
                    if entry is not None:
                        cost = entry.plan.price(usage)
                        return cost, GenaiLensCostSourceValues.OVERRIDES.value, self._overrides.version, model
            for model in models:
                found = self._table.lookup(provider, model, when, tier)
                if found is not None:
                    cost = found[1].price(usage)
                    return cost, GenaiLensCostSourceValues.GENAI_PRICES.value, PRICING_VERSION, model
        except ValueError as exc:
            # Contradictory counts (cache larger than input): any cost would be wrong, so set none.
            logger.warning("cost: cannot price a %s/%s call: %s", provider, models[0], exc)
            return _INVALID_USAGE
        return _MODEL_UNKNOWN


_MODEL_UNKNOWN = "model_unknown"
_INVALID_USAGE = "invalid_usage"


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _positive_number(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def _start_time(span: SpanView) -> datetime:
    """When the call was made (dated prices); spans without a start time are priced as of now."""
    nanos = span.span.start_time_unix_nano
    if nanos <= 0:
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(nanos / 1e9, tz=timezone.utc)
