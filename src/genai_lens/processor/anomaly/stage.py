"""The ``anomaly`` stage: flag GenAI calls that are unusual for their key, or failed, cut or filtered.

Measurements (latency, TTFT, input/output tokens, cost) are scored against a robust per-key baseline
(:mod:`.baseline`) before being added to it; categorical flags (:mod:`.categorical`) need no history.
Failed, filtered and empty calls are flagged but kept out of the baselines, whose fast 4xx or zero-token
values would otherwise drag them down. Runs after ``normalize`` and ``cost``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from math import log1p
from pathlib import Path
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAME

from genai_lens.processor.anomaly.baseline import RobustBaseline
from genai_lens.processor.anomaly.categorical import CATEGORICAL_KEYS, categorical_flags
from genai_lens.processor.anomaly.store import BaselineKey, BaselineStore, write_atomically
from genai_lens.processor.cost.usage import ABSENT, GENAI_KEYS, as_count, read_genai
from genai_lens.processor.native_views import view_step
from genai_lens.processor.span_view import SpanView
from genai_lens.processor.stage import (
    NativeStep,
    Stage,
    StageConfigError,
    StageContext,
    reject_unknown_keys,
)
from genai_lens.semconv import GEN_AI_USAGE_COST, GENAI_LENS_ANOMALY_FLAGS, GENAI_LENS_ANOMALY_SCORE
from genai_lens.semconv import GenaiLensAnomalyFlagsValues as Flag

logger = logging.getLogger(__name__)

ANOMALY_METRIC = "genai_lens_anomalies_total"
SNAPSHOT_FILE = "anomaly-baselines.json"
_READ_KEYS = (
    *GENAI_KEYS,  # 0 operation, 1 provider
    GEN_AI_USAGE_INPUT_TOKENS,  # 2
    GEN_AI_USAGE_OUTPUT_TOKENS,  # 3
    *CATEGORICAL_KEYS,  # 4 error type, 5 finish reasons, 6 output messages
    GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,  # 7
    GEN_AI_USAGE_COST,  # 8
    GEN_AI_REQUEST_MODEL,  # 9
    GEN_AI_RESPONSE_MODEL,  # 10
)
"""What the stage reads of every span, in one ``get_many`` (positions noted)."""
# Calls flagged with these are not typical of their key, so they never feed its baselines.
_NOT_BASELINED = frozenset({Flag.ERROR.value, Flag.CONTENT_FILTER.value, Flag.EMPTY_COMPLETION.value})


class _Metric:
    """One measured quantity: its log-space unit (a value is scored as ``log1p(raw * unit)``), its flag
    and whether low is anomalous."""

    __slots__ = ("name", "flag", "unit", "two_sided")

    def __init__(self, name: str, flag: Flag, unit: float, two_sided: bool) -> None:
        self.name, self.flag, self.unit, self.two_sided = name, flag.value, unit, two_sided


LATENCY = _Metric("latency", Flag.LATENCY_OUTLIER, 1e3, False)  # seconds → ms
TTFT = _Metric("ttft", Flag.TTFT_OUTLIER, 1e3, False)
INPUT_TOKENS = _Metric("input_tokens", Flag.INPUT_TOKENS_OUTLIER, 1.0, True)
OUTPUT_TOKENS = _Metric("output_tokens", Flag.OUTPUT_TOKENS_OUTLIER, 1.0, True)
COST = _Metric("cost", Flag.COST_OUTLIER, 1e6, False)  # USD → micro-USD
_METRICS = (LATENCY, TTFT, INPUT_TOKENS, OUTPUT_TOKENS, COST)  # the order a span's values are scored in

DEFAULTS: dict[str, Any] = {
    "max_keys": 10_000,
    "min_samples": 30,
    "threshold": 4.0,
    "alpha": 0.02,
    "snapshot_interval_s": 60.0,
}


class AnomalyStage(Stage):
    """Adds ``genai_lens.anomaly.flags`` (when any) and ``genai_lens.anomaly.score`` to GenAI spans.

    Config: ``max_keys`` (baseline keys kept, LRU, default 10000), ``min_samples`` (values a key's metric
    needs before it can flag, default 30), ``threshold`` (robust z above which a value is an outlier,
    default 4), ``alpha`` (EWMA weight of a new value, default 0.02), ``state_path`` (snapshot file;
    default ``<state_dir>/anomaly-baselines.json`` when the server has a state dir, else none) and
    ``snapshot_interval_s`` (default 60; also written on :meth:`close`).
    """

    name = "anomaly"
    _ALLOWED = {*DEFAULTS, "state_path"}

    def __init__(
        self,
        context: StageContext,
        *,
        max_keys: int = DEFAULTS["max_keys"],
        min_samples: int = DEFAULTS["min_samples"],
        threshold: float = DEFAULTS["threshold"],
        alpha: float = DEFAULTS["alpha"],
        snapshot_interval_s: float = DEFAULTS["snapshot_interval_s"],
        state_path: Path | None = None,
    ) -> None:
        self._stats = context.stats
        self._min_samples = min_samples
        self._threshold = threshold
        self._alpha = alpha
        self._interval = snapshot_interval_s
        self._state_path = state_path
        self._store = BaselineStore(max_keys)
        self._lock = threading.Lock()
        self._dirty = False
        self._stats.describe(ANOMALY_METRIC, "GenAI calls flagged by the anomaly stage, by flag.")
        if state_path is not None:
            self._store.restore(state_path)
        self._last_snapshot = time.monotonic()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], context: StageContext) -> AnomalyStage:
        reject_unknown_keys(cls.name, config, cls._ALLOWED)
        values = {**DEFAULTS, **{k: v for k, v in config.items() if k != "state_path"}}
        _check_int(values, "max_keys", 1)
        _check_int(values, "min_samples", 3)
        _check_number(values, "threshold", low=0.0, low_open=True)
        _check_number(values, "alpha", low=0.0, low_open=True, high=1.0)
        _check_number(values, "snapshot_interval_s", low=0.0, low_open=True)
        state_path = _state_path(config.get("state_path"), context)
        return cls(context, state_path=state_path, **values)

    @property
    def store(self) -> BaselineStore:
        return self._store

    def process_batch(self, spans: Sequence[SpanView]) -> None:
        services: dict[int, str] = {}
        counts: dict[str, int] = {}
        with self._lock:  # once per batch: the baselines are only shared with the snapshot writer
            for span, values in read_genai(spans, _READ_KEYS):  # one read of everything it needs
                self._process(span, values, services, counts)
        self._count(counts)
        if self._state_path is not None and time.monotonic() - self._last_snapshot >= self._interval:
            self.snapshot()

    def process_span(self, span: SpanView) -> None:
        self.process_batch([span])

    def native_step(self) -> NativeStep | None:
        """This stage's own ``process_batch`` over native span views (Python logic, native attributes)."""
        return view_step(self)

    def _process(
        self, span: SpanView, values: tuple[Any, ...], services: dict[int, str], counts: dict[str, int]
    ) -> None:
        """Flag and score one GenAI span (``values``: its ``_READ_KEYS``); the caller holds the lock and
        counts the flags."""
        operation, _, input_value, output_value, error_type, reasons, messages, ttft, cost, _, _ = values
        input_tokens = as_count(input_value)
        output_tokens = as_count(output_value)
        if error_type is ABSENT:
            error_type = None
        flags = categorical_flags(span, operation, output_tokens, error_type, reasons, messages)
        score = 0.0
        if not flags or _NOT_BASELINED.isdisjoint(flags):
            duration = span.duration_s  # 0 means the span carried no usable end time
            measured = (  # raw values in the order of _METRICS; None: not measured
                duration if duration > 0 else None,
                float(ttft) if ttft is not ABSENT and _non_negative(ttft) else None,
                input_tokens,
                output_tokens,
                float(cost) if cost is not ABSENT and _non_negative(cost) else None,
            )
            score = self._score_and_learn(_key(span, values, services), measured, flags)
        if flags:
            span.set(GENAI_LENS_ANOMALY_FLAGS, flags)
            for flag in flags:
                counts[flag] = counts.get(flag, 0) + 1
        span.set(GENAI_LENS_ANOMALY_SCORE, score)

    def _count(self, counts: dict[str, int]) -> None:
        for flag, count in counts.items():
            self._stats.add(ANOMALY_METRIC, float(count), flag=flag)

    def _score_and_learn(
        self, key: BaselineKey, measured: tuple[float | int | None, ...], flags: list[str]
    ) -> float:
        """Score each measured value against its baseline, then add it; returns the largest outlier z
        (0 if none)."""
        score = 0.0
        threshold, alpha, min_samples = self._threshold, self._alpha, self._min_samples
        baselines = self._store.baselines(key)
        for metric, raw in zip(_METRICS, measured, strict=True):
            if raw is None:
                continue
            baseline = baselines.get(metric.name)
            if baseline is None:
                baseline = baselines[metric.name] = RobustBaseline()
            z = baseline.score_and_add(log1p(raw * metric.unit), alpha, min_samples)
            if z is not None:
                distance = abs(z) if metric.two_sided else z
                if distance > threshold:
                    flags.append(metric.flag)
                    score = max(score, distance)
        self._dirty = True
        return score

    def snapshot(self) -> None:
        """Write the baselines to ``state_path`` now (if set and changed); failures are logged, not raised."""
        if self._state_path is None:
            return
        with self._lock:
            self._last_snapshot = time.monotonic()
            if not self._dirty:
                return
            payload = self._store.encode()
            self._dirty = False
        try:
            write_atomically(self._state_path, payload)
        except OSError as exc:
            self._dirty = True
            logger.warning("anomaly: cannot write baseline snapshot %s (%s)", self._state_path, exc)

    def close(self) -> None:
        self.snapshot()


def _key(span: SpanView, values: tuple[Any, ...], services: dict[int, str]) -> BaselineKey:
    """The span's baseline key; ``service.name`` is read once per resource of the batch (``services``)."""
    resource_id = span.resource_key
    service = services.get(resource_id)
    if service is None:
        service = services[resource_id] = _text(span.resource_get(SERVICE_NAME))
    operation, provider, request_model, response_model = values[0], values[1], values[9], values[10]
    return (  # _text of each, spelled out: this runs for every GenAI span
        service,
        provider if isinstance(provider, str) else "",
        request_model if isinstance(request_model, str) else "",
        response_model if isinstance(response_model, str) else "",
        operation if isinstance(operation, str) else "",
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _non_negative(value: object) -> bool:
    return as_count(value) is not None  # finite, non-negative, not bool


def _check_int(values: dict[str, Any], key: str, low: int) -> None:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise StageConfigError(f"processor 'anomaly': {key} must be an integer >= {low}, got {value!r}")


def _check_number(
    values: dict[str, Any], key: str, *, low: float, low_open: bool = False, high: float | None = None
) -> None:
    value = values[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (high is None or value <= high)
    if not ok:
        bounds = f"> {low}" if low_open else f">= {low}"
        if high is not None:
            bounds += f" and <= {high}"
        raise StageConfigError(f"processor 'anomaly': {key} must be a number {bounds}, got {value!r}")
    values[key] = float(value)


def _state_path(value: object, context: StageContext) -> Path | None:
    if value is None:
        return None if context.state_dir is None else Path(context.state_dir) / SNAPSHOT_FILE
    if not isinstance(value, str) or not value.strip():
        raise StageConfigError(f"processor 'anomaly': state_path must be a file path, got {value!r}")
    path = Path(value).expanduser()
    if path.is_dir():
        raise StageConfigError(f"processor 'anomaly': state_path {value!r} is a directory; give a file path")
    return path
