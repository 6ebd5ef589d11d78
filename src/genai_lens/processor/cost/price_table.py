"""Look up genai-prices' bundled price table, never its network updater, with a bounded cache.

We build the lookup on ``genai_prices.data.providers`` (the data shipped in the wheel) instead of the
module-level snapshot, which ``genai_prices.UpdatePrices`` may swap for one downloaded from GitHub: costs
stay reproducible for a given package version and nothing is fetched at start-up or at runtime.
Model matching goes through ``Provider.find_model`` directly because the snapshot's own lookup cache is
unbounded and never remembers misses; ours is an LRU keyed by (provider, model) that remembers both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import genai_prices
from genai_prices.data import providers as _BUNDLED_PROVIDERS
from genai_prices.data_snapshot import find_provider_by_id
from genai_prices.types import ModelInfo, PriceContext, Provider, TimeOfDateConstraint

from genai_lens.processor.cost.breakdown import PricePlan

PRICING_VERSION = f"genai-prices {genai_prices.__version__}"

# OTel `gen_ai.provider.name` values (and common dialect values the normalizer may pass through) →
# genai-prices provider ids. ``None``: self-hosted or unpriced, so only the user's overrides can price it.
PROVIDER_IDS: dict[str, str | None] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "azure": "azure",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "cohere": "cohere",
    "mistral_ai": "mistral",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "x_ai": "x-ai",
    "together_ai": "together",
    "openrouter": "openrouter",
    "fireworks": "fireworks",
    "cerebras": "cerebras",
    "ibm.watsonx.ai": None,
    "ollama": None,
    "vllm": None,
    "llama.cpp": None,
    "lmstudio": None,
    "huggingface": None,
    "hugging_face": None,
}

_EPOCH_DATE = date(1970, 1, 1)
_NANOS_PER_DAY = 86_400 * 10**9
# Start times this far inside a UTC day (ns) fall on the same day however the float seconds round.
_DAY_SAFE_FROM = 2 * 10**6
_DAY_SAFE_TO = _NANOS_PER_DAY - 2 * 10**6

# Values of the ``service_tier`` price context genai-prices knows; "default"/"auto" mean standard prices.
SERVICE_TIERS = frozenset({"priority", "flex", "fast"})


@dataclass(frozen=True, slots=True)
class PricedModel:
    """A model found in the table; ``fixed_plan`` is ``None`` when its price depends on the time of day."""

    provider_id: str
    model_id: str
    info: ModelInfo
    fixed_plan: PricePlan | None

    def plan_at(self, when: datetime, service_tier: str | None) -> PricePlan:
        if self.fixed_plan is not None:
            return self.fixed_plan
        return PricePlan(self.info.get_prices(when, _price_context(service_tier)))


class PriceTable:
    """Resolves (provider name, model, start time) to a genai-prices ``ModelPrice``, or ``None``."""

    def __init__(self, cache_size: int = 4096) -> None:
        self._providers: list[Provider] = list(_BUNDLED_PROVIDERS)
        self._find_model = lru_cache(maxsize=cache_size)(self._find_model_uncached)
        self._find_on_day = lru_cache(maxsize=cache_size)(self._find_on_day_uncached)
        self._by_day: dict[tuple[str | None, str, int, str | None], PricedModel | None] = {}
        self._by_day_size = cache_size
        self._first_by_day: dict[tuple[str | None, tuple[str, ...], int, str | None], Any] = {}

    def lookup(
        self, provider_name: str | None, model: str, when: datetime, service_tier: str | None = None
    ) -> tuple[PricedModel, PricePlan] | None:
        """The model and its price plan at ``when``; ``None`` when the table has no price for it."""
        tier = service_tier if service_tier in SERVICE_TIERS else None
        found = self._find_on_day(provider_name, model.lower(), when.astimezone(timezone.utc).date(), tier)
        if found is None:
            return None
        return found, found.plan_at(when, tier)

    def lookup_unix_nano(
        self, provider_name: str | None, model: str, start_unix_nano: int, service_tier: str | None = None
    ) -> tuple[PricedModel, PricePlan] | None:
        """:meth:`lookup` for a span's start time, without building a ``datetime`` per span.

        Most prices depend on the UTC day only, so the day number alone picks the plan from a small
        front cache; a time needing the exact instant (time-of-day prices, or a start so close to
        midnight that the day depends on rounding) goes through :meth:`lookup`.
        """
        seconds = start_unix_nano / 1e9
        day, into_day = divmod(seconds, 86400.0)
        if into_day < 0.001 or into_day > 86399.999:
            when = datetime.fromtimestamp(seconds, tz=timezone.utc)
            return self.lookup(provider_name, model, when, service_tier)
        tier = service_tier if service_tier in SERVICE_TIERS else None
        key = (provider_name, model, int(day), tier)
        try:
            found = self._by_day[key]
        except KeyError:
            on_day = _EPOCH_DATE + timedelta(days=int(day))
            found = self._find_on_day(provider_name, model.lower(), on_day, tier)
            if len(self._by_day) >= self._by_day_size:
                self._by_day.clear()
            self._by_day[key] = found
        if found is None:
            return None
        if found.fixed_plan is not None:
            return found, found.fixed_plan
        return found, found.plan_at(datetime.fromtimestamp(seconds, tz=timezone.utc), tier)

    def lookup_first_unix_nano(
        self, provider_name: str | None, models: tuple[str, ...], start_unix_nano: int, tier: str | None
    ) -> tuple[PricePlan, str] | None:
        """The plan and name of the first of ``models`` that :meth:`lookup_unix_nano` prices, remembered
        per UTC day: a span's models and day resolve with one dict lookup.

        The day is taken from the integer nanoseconds only well inside it (2 ms from either midnight),
        where the float arithmetic of :meth:`lookup_unix_nano` picks the same day; near midnight, and for
        time-of-day prices, every call goes through :meth:`lookup_unix_nano`.
        """
        day, into_day = divmod(start_unix_nano, _NANOS_PER_DAY)
        if not _DAY_SAFE_FROM <= into_day <= _DAY_SAFE_TO:
            return self._first(provider_name, models, start_unix_nano, tier)[0]
        key = (provider_name, models, day, tier)
        try:
            return self._first_by_day[key]
        except KeyError:
            pass
        found, per_day = self._first(provider_name, models, start_unix_nano, tier)
        if per_day:
            if len(self._first_by_day) >= self._by_day_size:
                self._first_by_day.clear()
            self._first_by_day[key] = found
        return found

    def _first(
        self, provider_name: str | None, models: tuple[str, ...], start_unix_nano: int, tier: str | None
    ) -> tuple[tuple[PricePlan, str] | None, bool]:
        """(plan and model, or ``None``; whether that answer holds for the whole UTC day)."""
        for model in models:
            found = self.lookup_unix_nano(provider_name, model, start_unix_nano, tier)
            if found is not None:
                return (found[1], model), found[0].fixed_plan is not None
        return None, True

    def cache_info(self) -> tuple[int, int]:
        """(hits, misses) of the day-level cache, for tests and diagnostics."""
        info = self._find_on_day.cache_info()
        return info.hits, info.misses

    def _find_on_day_uncached(
        self, provider_name: str | None, model: str, day: date, tier: str | None
    ) -> PricedModel | None:
        found = self._find_model(provider_name, model)
        if found is None:
            return None
        provider_id, info = found
        if _depends_on_time_of_day(info):
            return PricedModel(provider_id, info.id, info, None)
        noon = datetime(
            day.year, day.month, day.day, 12, tzinfo=timezone.utc
        )  # start-date prices switch on UTC days
        return PricedModel(provider_id, info.id, info, PricePlan(info.get_prices(noon, _price_context(tier))))

    def _find_model_uncached(self, provider_name: str | None, model: str) -> tuple[str, ModelInfo] | None:
        provider = self._provider(provider_name, model)
        if provider is None:
            return None
        info = provider.find_model(model, all_providers=self._providers)
        return None if info is None else (provider.id, info)

    def _provider(self, provider_name: str | None, model: str) -> Provider | None:
        if provider_name is None:
            # No provider on the span: let the model name pick one, as genai-prices itself does.
            for provider in self._providers:
                if provider.model_match is not None and provider.model_match.is_match(model):
                    return provider
            return None
        key = provider_name.strip().lower()
        if key in PROVIDER_IDS:
            provider_id = PROVIDER_IDS[key]
            if provider_id is None:
                return None
            key = provider_id
        return find_provider_by_id(self._providers, key)


def _price_context(tier: str | None) -> PriceContext | None:
    return {"service_tier": tier} if tier else None  # type: ignore[return-value, typeddict-item]


def _depends_on_time_of_day(info: ModelInfo) -> bool:
    constraints = [c.constraint for c in info.prices] if isinstance(info.prices, list) else []
    constraints += [v.constraint for v in info.price_variants or ()]
    return any(isinstance(c, TimeOfDateConstraint) for c in constraints)
