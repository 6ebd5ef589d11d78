"""The ``cost`` stage: put a USD cost and its breakdown on every priced GenAI model call.

Runs after ``normalize``, so it reads only current OTel GenAI names. Prices come from the user's
overrides first, then genai-prices' bundled table, at the span's start time. A cost already on the span
(OpenLIT, genai-otel) is kept, except OpenLIT's ``0`` which means "no price" and is replaced.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
)
from opentelemetry.semconv._incubating.attributes.openai_attributes import OPENAI_RESPONSE_SERVICE_TIER

from genai_lens.processor.cost.breakdown import UsdCost
from genai_lens.processor.cost.nesting import SpanKey, span_key, wrapper_duplicates
from genai_lens.processor.cost.overrides import PriceOverrides
from genai_lens.processor.cost.price_table import PRICING_VERSION, PriceTable
from genai_lens.processor.cost.usage import (
    ABSENT,
    GENAI_KEYS,
    USAGE_KEYS,
    TokenUsage,
    is_model_call_of,
    read_genai,
    usage_of,
)
from genai_lens.processor.native_views import view_step
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import (
    NativeStep,
    Stage,
    StageConfigError,
    StageContext,
    reject_unknown_keys,
)
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
_COST_KEYS = (  # in the order a priced call gets them
    GEN_AI_USAGE_COST,
    GENAI_LENS_COST_INPUT,
    GENAI_LENS_COST_OUTPUT,
    GENAI_LENS_COST_CACHE_READ,
    GENAI_LENS_COST_CACHE_CREATION,
    GENAI_LENS_COST_SOURCE,
    GENAI_LENS_COST_PRICING_VERSION,
)


_READ_KEYS = (
    *GENAI_KEYS,  # 0, 1
    *USAGE_KEYS,  # 2..6
    GEN_AI_RESPONSE_MODEL,  # 7
    GEN_AI_REQUEST_MODEL,  # 8
    GEN_AI_USAGE_COST,  # 9
    OPENAI_RESPONSE_SERVICE_TIER,  # 10
    GENAI_LENS_COST_MODEL_UNKNOWN,  # 11
)
"""What the stage reads of every span, in one ``get_many`` (positions noted)."""


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
        self._names: dict[tuple[Any, ...], _CallNames] = {}
        self._names_size = cache_size
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
        calls: list[tuple[SpanView, TokenUsage, tuple[Any, ...]]] = []
        for span, values in read_genai(spans, _READ_KEYS):  # one read of everything pricing needs
            if not is_model_call_of(values[0], values[1]):
                continue
            usage = usage_of(values[2:7])
            if usage.has_tokens:
                calls.append((span, usage, values))
        if not calls:
            return
        wrappers = _wrappers(spans, calls) if len(calls) > 1 else set()
        costs: dict[tuple[str, str], float] = {}
        unpriced: dict[str, int] = {}
        for span, usage, values in calls:
            if not wrappers or span_key(span) not in wrappers:
                self._price(span, usage, values, costs, unpriced)
        for (provider, model), total in costs.items():
            self._stats.add(COST_METRIC, total, provider=provider, model=model)
        for reason, count in unpriced.items():
            self._stats.add(UNPRICED_METRIC, float(count), reason=reason)

    def process_span(self, span: SpanView) -> None:
        self.process_batch([span])

    def native_step(self) -> NativeStep | None:
        """This stage's own ``process_batch`` over native span views (Python logic, native attributes)."""
        return view_step(self)

    def _price(
        self,
        span: SpanView,
        usage: TokenUsage,
        values: tuple[Any, ...],
        costs: dict[tuple[str, str], float],
        unpriced: dict[str, int],
    ) -> None:
        """Price one call (``values``: its ``_READ_KEYS``); its cost is added to ``costs`` (or its reason
        to ``unpriced``) for the batch."""
        names = (values[1], values[7], values[8], values[10])
        try:
            call = self._names.get(names) or self._remember(names)
        except TypeError:  # an array or map where a name belongs: nothing to remember it by
            call = _CallNames.of(*names)
        existing = values[9]
        if existing is not ABSENT and _positive_number(existing):
            span.set(GENAI_LENS_COST_SOURCE, _SOURCE_SPAN)
            label = (call.provider or "", call.label_model)
            costs[label] = costs.get(label, 0.0) + float(existing)
            return
        if not call.models:
            return
        priced = self._priced(call, span.span.start_time_unix_nano, usage)
        if isinstance(priced, str):
            # No price: never leave a cost behind (OpenLIT's 0 means "unknown", not "free").
            span.delete_many(_COST_KEYS)
            if priced == _MODEL_UNKNOWN:
                span.set(GENAI_LENS_COST_MODEL_UNKNOWN, True)
            unpriced[priced] = unpriced.get(priced, 0) + 1
            return
        cost, source, version, model = priced
        if values[11] is not ABSENT:  # a model_unknown mark from an earlier pass
            span.delete(GENAI_LENS_COST_MODEL_UNKNOWN)
        span.set_many(_COST_KEYS, (*cost, source, version))
        label = (call.provider or "", model)
        costs[label] = costs.get(label, 0.0) + cost.total

    def _remember(self, names: tuple[Any, ...]) -> _CallNames:
        if len(self._names) >= self._names_size:
            self._names.clear()
        call = self._names[names] = _CallNames.of(*names)
        return call

    def _priced(
        self, call: _CallNames, start_unix_nano: int, usage: TokenUsage
    ) -> tuple[UsdCost, str, str, str] | str:
        """The cost, its source, price-table version and the model priced; or why there is none."""
        provider, models, tier = call.provider, call.models, call.tier
        try:
            if self._overrides is None and start_unix_nano > 0:  # the usual case: one cached lookup
                found = self._table.lookup_first_unix_nano(provider, models, start_unix_nano, tier)
                if found is None:
                    return _MODEL_UNKNOWN
                plan, model = found
                return plan.price_usd(usage), _SOURCE_GENAI_PRICES, PRICING_VERSION, model
            # A datetime only where one is needed: overrides, or a span without a start time ("now").
            when = _start_time(start_unix_nano)
            if self._overrides is not None:
                for model in models:
                    entry = self._overrides.find(provider, model, when)
                    if entry is not None:
                        cost = entry.plan.price_usd(usage)
                        return cost, _SOURCE_OVERRIDES, self._overrides.version, model
            for model in models:
                found = self._table.lookup(provider, model, when, tier)
                if found is not None:
                    cost = found[1].price_usd(usage)
                    return cost, _SOURCE_GENAI_PRICES, PRICING_VERSION, model
        except ValueError as exc:
            # Contradictory counts (cache larger than input): any cost would be wrong, so set none.
            logger.warning("cost: cannot price a %s/%s call: %s", provider, models[0], exc)
            return _INVALID_USAGE
        return _MODEL_UNKNOWN


class _CallNames(NamedTuple):
    """The names a call is priced and labelled by, from its raw attribute values; the stage remembers
    them by those values (the same few providers and models come again and again)."""

    provider: str | None
    models: tuple[str, ...]  # response model first, then request model; blank ones left out
    label_model: str
    tier: str | None

    @classmethod
    def of(cls, provider: object, response_model: object, request_model: object, tier: object) -> _CallNames:
        models = tuple(m for m in (_text(response_model), _text(request_model)) if m)
        return cls(_text(provider), models, models[0] if models else "", _text(tier))


def _wrappers(
    spans: Sequence[SpanView], calls: list[tuple[SpanView, TokenUsage, tuple[Any, ...]]]
) -> set[SpanKey]:
    """Keys of the calls that only wrap another call of the batch (see :mod:`.nesting`).

    A wrapper and the call it wraps share trace id and usage, so only calls with such a twin are
    handed to the ancestor walk; in the usual batch no two calls even share their usage, and neither the
    span ids nor the walk are read.
    """
    seen: set[tuple[int, int, int, int]] = set()
    for _, usage, _ in calls:
        identity = usage.identity()
        if identity in seen:
            break
        seen.add(identity)
    else:
        return set()  # every usage differs: no twins
    identities: dict[SpanKey, tuple[int, int, int, int]] = {}
    for span, usage, _ in calls:
        identities.setdefault(span_key(span), usage.identity())
    twins = Counter((key[0], identity) for key, identity in identities.items())
    suspects = {key: identity for key, identity in identities.items() if twins[(key[0], identity)] > 1}
    return wrapper_duplicates(spans, suspects) if suspects else set()


_SOURCE_SPAN = GenaiLensCostSourceValues.SPAN.value
_SOURCE_OVERRIDES = GenaiLensCostSourceValues.OVERRIDES.value
_SOURCE_GENAI_PRICES = GenaiLensCostSourceValues.GENAI_PRICES.value
_MODEL_UNKNOWN = "model_unknown"
_INVALID_USAGE = "invalid_usage"


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _positive_number(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def _start_time(start_unix_nano: int) -> datetime:
    """When the call was made (dated prices); spans without a start time are priced as of now."""
    if start_unix_nano <= 0:
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(start_unix_nano / 1e9, tz=timezone.utc)
