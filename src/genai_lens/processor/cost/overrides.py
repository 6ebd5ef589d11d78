"""The user's own prices (self-hosted or custom models), read from a YAML file at start-up.

Format (all prices in USD per million tokens)::

    prices:
      - model: llama3.2:1b          # matched case-insensitively against the response, then request model
        provider: ollama            # optional: only for spans with this gen_ai.provider.name
        input_mtok: 0.05
        output_mtok: 0.10
        cache_read_mtok: 0.01       # optional; without it cache reads are billed as input
        cache_write_mtok: 0.06      # optional; without it cache writes are billed as input
        valid_from: 2026-01-01      # optional UTC date or datetime; the newest entry started by the call wins

An entry with a provider beats one without. Any problem in the file fails start-up with a message naming
the file, the entry and the field, so a typo never silently falls back to the public table.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from genai_prices.types import ModelPrice

from genai_lens.processor.cost.breakdown import PricePlan
from genai_lens.processor.stage import StageConfigError

_ENTRY_KEYS = {
    "model",
    "provider",
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "valid_from",
}
_REQUIRED_PRICES = ("input_mtok", "output_mtok")
_OPTIONAL_PRICES = ("cache_read_mtok", "cache_write_mtok")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class OverridePrice:
    """One entry of the file, already validated."""

    model: str
    provider: str | None
    plan: PricePlan
    valid_from: datetime


class PriceOverrides:
    """Entries indexed by model name, newest ``valid_from`` first."""

    def __init__(self, entries: list[OverridePrice], version: str) -> None:
        self.version = version
        self._by_model: dict[str, list[OverridePrice]] = {}
        for entry in sorted(entries, key=lambda e: e.valid_from, reverse=True):
            self._by_model.setdefault(entry.model, []).append(entry)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_model.values())

    def find(self, provider: str | None, model: str, when: datetime) -> OverridePrice | None:
        candidates = self._by_model.get(model.lower())
        if not candidates:
            return None
        provider = provider.lower() if provider else None
        fallback: OverridePrice | None = None
        for entry in candidates:
            if entry.valid_from > when:
                continue
            if entry.provider is not None and entry.provider == provider:
                return entry
            if entry.provider is None and fallback is None:
                fallback = entry
        return fallback

    @classmethod
    def load(cls, path: str | Path, stage: str = "cost") -> PriceOverrides:
        path = Path(path)
        where = f"processor '{stage}': overrides_file {str(path)!r}"
        try:
            raw_bytes = path.read_bytes()
        except OSError as exc:
            raise StageConfigError(f"{where}: cannot be read ({exc.strerror or exc})") from exc
        try:
            document = yaml.safe_load(raw_bytes)
        except yaml.YAMLError as exc:
            raise StageConfigError(f"{where}: is not valid YAML ({exc})") from exc
        if not isinstance(document, Mapping) or set(document) != {"prices"}:
            raise StageConfigError(
                f"{where}: must be a mapping with exactly one key 'prices' (a list of entries)"
            )
        items = document["prices"]
        if not isinstance(items, list):
            raise StageConfigError(f"{where}: 'prices' must be a list of entries")
        entries = [_entry(item, f"{where}: prices[{i}]") for i, item in enumerate(items)]
        seen: set[tuple[str, str | None, datetime]] = set()
        for i, entry in enumerate(entries):
            key = (entry.model, entry.provider, entry.valid_from)
            if key in seen:
                raise StageConfigError(
                    f"{where}: prices[{i}] repeats model {entry.model!r}, "
                    f"provider {entry.provider!r} and valid_from of an earlier entry"
                )
            seen.add(key)
        version = f"overrides {path.name} sha256:{hashlib.sha256(raw_bytes).hexdigest()[:12]}"
        return cls(entries, version)


def _entry(item: Any, where: str) -> OverridePrice:
    if not isinstance(item, Mapping):
        raise StageConfigError(f"{where}: must be a mapping with model, input_mtok and output_mtok")
    unknown = sorted(set(map(str, item)) - _ENTRY_KEYS)
    if unknown:
        raise StageConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ENTRY_KEYS))}"
        )
    model = item.get("model")
    if not isinstance(model, str) or not model.strip():
        raise StageConfigError(f"{where}: 'model' must be a non-empty string")
    provider = item.get("provider")
    if provider is not None and (not isinstance(provider, str) or not provider.strip()):
        raise StageConfigError(f"{where}: 'provider' must be a non-empty string when given")
    prices: dict[str, Decimal] = {}
    for name in _REQUIRED_PRICES + _OPTIONAL_PRICES:
        if name not in item:
            if name in _REQUIRED_PRICES:
                raise StageConfigError(f"{where}: missing {name!r} (USD per million tokens)")
            continue
        prices[name] = _price(item[name], f"{where}: {name!r}")
    return OverridePrice(
        model=model.strip().lower(),
        provider=provider.strip().lower() if provider else None,
        plan=PricePlan(ModelPrice(**prices)),
        valid_from=_valid_from(item.get("valid_from"), where),
    )


def _price(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise StageConfigError(
            f"{where} must be a non-negative number (USD per million tokens), got {value!r}"
        )
    return Decimal(str(value))


def _valid_from(value: Any, where: str) -> datetime:
    if value is None:
        return _EPOCH
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise StageConfigError(
        f"{where}: 'valid_from' must be an ISO date or datetime (UTC when no offset), got {value!r}"
    )
