"""A robust streaming baseline of one measurement (latency, TTFT, tokens, cost) for one key.

Values are compared in log space (``log1p`` of ms, tokens or micro-USD), where latency and token counts
are close to normal, so a z-score means the same thing for every metric.

Why this estimator: it must be O(1) per span with a few floats of state (thousands of keys, snapshotted to
disk) and robust to the very outliers it is meant to flag.

* Warm-up: the first ``min_samples`` values are kept and the baseline starts at their **median and MAD**,
  so a few early outliers cannot set it.
* Afterwards, a **Huber-clipped EWMA**: the residual is clipped to ±``CLIP`` scales before it moves the
  centre, and the squared residual is clipped the same way before it moves the variance. One outlier moves
  the centre by at most ``alpha * CLIP`` scales, while a real, lasting shift (a slower model version) is
  still followed within a few dozen calls because every clipped step points the same way.
* The scale never drops below ``MIN_LOG_SCALE`` (10 %), so a key whose history is constant (a templated
  prompt) does not flag a one-token change.

Callers score a value *before* adding it, so a value is never judged against a baseline that contains it.
"""

from __future__ import annotations

import math
from statistics import median

_sqrt = math.sqrt

CLIP = 3.0
MIN_LOG_SCALE = 0.1
_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


class RobustBaseline:
    """Centre and scale of a stream of log-values; see the module docstring."""

    __slots__ = ("count", "center", "variance", "warmup")

    def __init__(self) -> None:
        self.count = 0
        self.center = 0.0
        self.variance = 0.0
        self.warmup: list[float] | None = []

    def z_score(self, value: float, min_samples: int) -> float | None:
        """How many scales ``value`` lies above the centre; ``None`` while the baseline is warming up."""
        if self.warmup is not None or self.count < min_samples:
            return None
        return (value - self.center) / max(math.sqrt(self.variance), MIN_LOG_SCALE)

    def score_and_add(self, value: float, alpha: float, min_samples: int) -> float | None:
        """:meth:`z_score` of ``value``, then :meth:`add` it, with the scale computed once (hot path).

        ``max``/``min`` are spelled as the comparisons they make (same result for every float, NaN
        included), which halves the time of a call made for every measurement of every GenAI span.
        """
        warmup = self.warmup
        if warmup is not None:
            self._warm_up(warmup, value, min_samples)
            return None  # no score while warming up
        scale = _sqrt(self.variance)
        if MIN_LOG_SCALE > scale:  # max(sqrt(variance), MIN_LOG_SCALE)
            scale = MIN_LOG_SCALE
        residual = value - self.center
        count = self.count
        self.count = count + 1
        limit = CLIP * scale
        clipped = -limit if -limit > residual else residual  # min(max(residual, -limit), limit)
        if limit < clipped:
            clipped = limit
        self.center += alpha * clipped
        self.variance = (1.0 - alpha) * self.variance + alpha * clipped * clipped
        return residual / scale if count >= min_samples else None

    def add(self, value: float, alpha: float, min_samples: int) -> None:
        self.score_and_add(value, alpha, min_samples)

    def _warm_up(self, warmup: list[float], value: float, min_samples: int) -> None:
        self.count += 1
        warmup.append(value)
        if len(warmup) >= min_samples:
            self._start(warmup)

    def _start(self, values: list[float]) -> None:
        center = median(values)
        mad = median(abs(v - center) for v in values) * _MAD_TO_SIGMA
        self.center = center
        self.variance = mad * mad
        self.warmup = None

    # -- snapshot --------------------------------------------------------------------------------
    def to_state(self) -> list[object]:
        return [self.count, self.center, self.variance, self.warmup]

    @classmethod
    def from_state(cls, state: object) -> RobustBaseline:
        """Rebuild from :meth:`to_state`; ``ValueError`` on anything malformed."""
        if not isinstance(state, list) or len(state) != 4:
            raise ValueError("baseline state must be [count, center, variance, warmup]")
        count, center, variance, warmup = state
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("baseline count must be a non-negative integer")
        if not _finite(center) or not _finite(variance) or variance < 0:
            raise ValueError("baseline center/variance must be finite numbers, variance >= 0")
        if warmup is not None and (not isinstance(warmup, list) or not all(_finite(v) for v in warmup)):
            raise ValueError("baseline warmup must be null or a list of finite numbers")
        baseline = cls()
        baseline.count = count
        baseline.center = float(center)
        baseline.variance = float(variance)
        baseline.warmup = None if warmup is None else [float(v) for v in warmup]
        return baseline


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
