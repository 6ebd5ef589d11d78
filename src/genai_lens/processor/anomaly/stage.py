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
from pathlib import Path
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
)
from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAME

from genai_lens.processor.anomaly.baseline import RobustBaseline
from genai_lens.processor.anomaly.categorical import categorical_flags
from genai_lens.processor.anomaly.store import BaselineKey, BaselineStore, write_atomically
from genai_lens.processor.cost.usage import as_count, is_genai_span, read_usage
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
# Calls flagged with these are not typical of their key, so they never feed its baselines.
_NOT_BASELINED = frozenset({Flag.ERROR.value, Flag.CONTENT_FILTER.value, Flag.EMPTY_COMPLETION.value})


class _Metric:
    """One measured quantity: how to read it, its log-space unit, its flag and whether low is anomalous."""

    __slots__ = ("name", "flag", "unit", "two_sided")

    def __init__(self, name: str, flag: Flag, unit: float, two_sided: bool) -> None:
        self.name, self.flag, self.unit, self.two_sided = name, flag.value, unit, two_sided

    def log_value(self, raw: float) -> float:
        return math.log1p(raw * self.unit)


LATENCY = _Metric("latency", Flag.LATENCY_OUTLIER, 1e3, False)  # seconds → ms
TTFT = _Metric("ttft", Flag.TTFT_OUTLIER, 1e3, False)
INPUT_TOKENS = _Metric("input_tokens", Flag.INPUT_TOKENS_OUTLIER, 1.0, True)
OUTPUT_TOKENS = _Metric("output_tokens", Flag.OUTPUT_TOKENS_OUTLIER, 1.0, True)
COST = _Metric("cost", Flag.COST_OUTLIER, 1e6, False)  # USD → micro-USD

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
            for span in spans:
                if is_genai_span(span):
                    self._process(span, services, counts)
        self._count(counts)
        if self._state_path is not None and time.monotonic() - self._last_snapshot >= self._interval:
            self.snapshot()

    def process_span(self, span: SpanView) -> None:
        self.process_batch([span])

    def native_step(self) -> NativeStep | None:
        """This stage's own ``process_batch`` over native span views (Python logic, native attributes)."""
        return view_step(self)

    def _process(self, span: SpanView, services: dict[int, str], counts: dict[str, int]) -> None:
        """Flag and score one GenAI span; the caller holds the lock and counts the flags."""
        usage = read_usage(span)
        flags = categorical_flags(span, usage.output_tokens)
        measured: list[tuple[_Metric, float]] = []
        duration = span.duration_s
        if duration > 0:  # 0 means the span carried no usable end time
            measured.append((LATENCY, LATENCY.log_value(duration)))
        if GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in span:
            ttft = span.get(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
            if _non_negative(ttft):
                measured.append((TTFT, TTFT.log_value(float(ttft))))  # type: ignore[arg-type]
        if usage.input_tokens is not None:
            measured.append((INPUT_TOKENS, INPUT_TOKENS.log_value(usage.input_tokens)))
        if usage.output_tokens is not None:
            measured.append((OUTPUT_TOKENS, OUTPUT_TOKENS.log_value(usage.output_tokens)))
        if GEN_AI_USAGE_COST in span:
            cost = span.get(GEN_AI_USAGE_COST)
            if _non_negative(cost):
                measured.append((COST, COST.log_value(float(cost))))  # type: ignore[arg-type]
        score = 0.0
        if not _NOT_BASELINED.intersection(flags):
            score = self._score_and_learn(_key(span, services), measured, flags)
        if flags:
            span.set(GENAI_LENS_ANOMALY_FLAGS, flags)
            for flag in flags:
                counts[flag] = counts.get(flag, 0) + 1
        span.set(GENAI_LENS_ANOMALY_SCORE, score)

    def _count(self, counts: dict[str, int]) -> None:
        for flag, count in counts.items():
            self._stats.add(ANOMALY_METRIC, float(count), flag=flag)

    def _score_and_learn(
        self, key: BaselineKey, measured: list[tuple[_Metric, float]], flags: list[str]
    ) -> float:
        """Score each value against its baseline, then add it; returns the largest outlier z (0 if none)."""
        score = 0.0
        threshold = self._threshold
        baselines = self._store.baselines(key)
        for metric, value in measured:
            baseline = baselines.get(metric.name)
            if baseline is None:
                baseline = baselines[metric.name] = RobustBaseline()
            z = baseline.score_and_add(value, self._alpha, self._min_samples)
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


def _key(span: SpanView, services: dict[int, str]) -> BaselineKey:
    """The span's baseline key; ``service.name`` is read once per resource of the batch (``services``)."""
    resource_id = span.resource_key
    service = services.get(resource_id)
    if service is None:
        service = services[resource_id] = _text(span.resource_get(SERVICE_NAME))
    return (
        service,
        _text(span.get(GEN_AI_PROVIDER_NAME)),
        _text(span.get(GEN_AI_REQUEST_MODEL)),
        _text(span.get(GEN_AI_RESPONSE_MODEL)),
        _text(span.get(GEN_AI_OPERATION_NAME)),
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
